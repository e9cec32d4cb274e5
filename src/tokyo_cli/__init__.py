"""tokyo-cli: a team of five AI code reviewers for a local git repository.

The library works without the CLI: load a team and workflow (``team``, ``workflow``), collect
a change (``repo``), run it (``review.run_review``) and render it (``report``).
"""

__version__ = "0.1.0"
