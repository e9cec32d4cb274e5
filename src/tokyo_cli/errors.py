"""Errors the CLI boundary turns into one clear line and an exit code.

Exit codes are the constants below, the README's table in code. A finished run's code is
:meth:`tokyo_cli.results.RunResult.exit_code`; an error's is its ``exit_code``.
"""

from __future__ import annotations

EXIT_CLEAN = 0
"""Nothing at or above ``fail_on``."""
EXIT_FINDINGS = 1
"""Findings at or above ``fail_on``, also when some steps failed (the run is ``partial``)."""
EXIT_USAGE = 2
"""Usage or configuration error: nothing ran (or nothing was written)."""
EXIT_FAILED = 3
"""Nothing usable came back: every step failed and no analyzer finding exists."""
EXIT_NOT_SAVED = 4
"""The run was not saved to history (or, with ``--github``, the review not posted); the
report still printed."""
EXIT_INTERRUPTED = 130
"""Interrupted (Ctrl-C); what had finished is stored, as a ``cancelled`` run."""


class TokyoError(Exception):
    """A known, user-facing error: printed as one line on stderr, never with a traceback.

    Attributes:
        exit_code: the process exit code the CLI returns for it (2 unless a subclass says).
    """

    exit_code: int = 2

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def message(self) -> str:
        return str(self)


class ConfigError(TokyoError):
    """Malformed agents.yaml, workflow or settings. Message names file, line and key."""


class RepoError(TokyoError):
    """Not a git repository, an unknown ref, or a change that cannot be read."""


class ProviderError(TokyoError):
    """A model provider failed for good (after retries and fallbacks): timeout, auth, HTTP."""

    exit_code = 3


class BudgetExceeded(ProviderError):
    """A call was not started because it could push the run over its cost cap."""


class RunFailed(TokyoError):
    """No step of the run produced a usable result."""

    exit_code = 3


class StoreError(TokyoError):
    """The history database cannot be opened or written (permissions, full disk, corrupt)."""

    exit_code = 3


class StoreConfigError(StoreError):
    """The history database is unusable as configured, so tokyo refuses before any work and
    writes nothing: its location cannot be a file (``TOKYO_HOME`` or ``--db`` under a regular
    file, or a directory), or its schema is newer than this tokyo. Exit code 2."""

    exit_code = EXIT_USAGE
