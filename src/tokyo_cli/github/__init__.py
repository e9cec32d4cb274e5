"""GitHub integration: the Action's event context, a REST client, and review publishing.

An edge package (like ``cli/``): it imports the core, never the other way round.

* :mod:`~tokyo_cli.github.context` — the pull request and runner environment, from
  ``GITHUB_EVENT_PATH`` and friends; job outputs, job summary and workflow commands;
* :mod:`~tokyo_cli.github.client` — :class:`GitHubClient` over httpx, with GitHub's rate-limit
  rules and Link-header pagination;
* :mod:`~tokyo_cli.github.comments` — Markdown for inline comments, the review body and the
  sticky summary comment, with hidden markers and GitHub's 65,536-character limit;
* :mod:`~tokyo_cli.github.publish` — plan and post one review plus the summary comment;
* :mod:`~tokyo_cli.github.action` — ``tokyo review --github`` from event to exit code.
"""
