"""tokyo-cli: a team of five AI code reviewers for a local git repository.

The library works without the CLI: load a team and workflow (``config.team``,
``config.workflow``), collect a change (``git.repo``), run it (``engine.review.run_review``)
and render it (``report``). The packages and their layers: docs/ARCHITECTURE.md, "Package
layout".
"""

__version__ = "0.1.0"
