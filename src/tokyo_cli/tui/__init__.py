"""The Textual TUI: watch a review live (``tokyo review --tui``) and browse history (``tokyo tui``).

Layout: ``app.py`` (the App and app-wide actions), ``services.py`` (what the app is given),
``launch.py`` (real services, used by the CLI), ``hunks.py`` (diff excerpts), ``statsdata.py``
(stats queries), ``screens/`` (one module per screen), ``widgets/``, and ``tokyo.tcss``. The run
state folded from engine events is ``tokyo_cli.engine.runview``, shared with the rich progress
display. Only the CLI imports this package, and only inside the command that opens the TUI.
"""
