"""Errors the CLI boundary turns into one clear line and an exit code.

Exit codes (DESIGN.md): 0 clean, 1 findings at/above fail_on, 2 usage or configuration
error, 3 the run failed, 130 interrupted.
"""

from __future__ import annotations


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

    exit_code = 2
