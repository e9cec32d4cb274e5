"""Settings: flags > environment (``TOKYO_*``) > defaults. The user's, never the repository's.

The reviewed repository is untrusted input: a pull request could point ``api_base`` at a
server that collects your code and key, pick the models, lower ``fail_on`` or shorten the
analyzers' time limit. So nothing here is read from it. What a repository's own
``[tool.tokyo]`` may still say (a workflow name, a stricter ``fail_on``) is read and checked
by :mod:`tokyo_cli.config.repository`, and applied by :func:`tokyo_cli.engine.review.prepare_review` only
where no flag or ``TOKYO_*`` variable gave the value (``Settings.model_fields_set``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from tokyo_cli.errors import ConfigError
from tokyo_cli.findings import Severity



class Settings(BaseSettings):
    """Every knob of a run. Units: seconds for times, bytes for sizes, USD for money."""

    model_config = SettingsConfigDict(
        env_prefix="TOKYO_",
        extra="ignore",
    )

    home: Path | None = Field(default=None, description="Directory for history.db (TOKYO_HOME).")
    db: Path | None = Field(default=None, description="History database path; overrides home.")
    workflow: str = Field(default="review", description="Workflow name or YAML path.")
    model: str | None = Field(default=None, description="litellm model id for every agent.")
    api_base: str | None = Field(default=None, description="OpenAI-compatible server URL.")
    offline: bool = Field(default=False, description="Analyzers only; no provider calls.")
    fail_on: Severity | None = Field(default=None, description="Overrides the workflow's.")
    min_severity: Severity | None = Field(
        default=None, description="Show findings at or above it (terminal, Markdown, GitHub); overrides the workflow's.")
    timeout: float = Field(default=120.0, gt=0, description="Per provider call, seconds.")
    retries: int = Field(default=2, ge=0, le=10, description="Retries per call on 429/5xx.")
    max_concurrency: int = Field(default=8, ge=1, le=256, description="Calls in flight per provider.")
    max_file_bytes: int = Field(default=1_000_000, gt=0, description="Larger files are not sent.")
    analyzer_timeout: float = Field(default=60.0, gt=0, description="Per analyzer, seconds per 1,000 files.")
    max_cost: float | None = Field(default=None, ge=0, description="Hard cap per run, USD.")
    unknown_call_usd: float = Field(default=0.05, ge=0, description="Cap accounting per call of an unpriced model, USD.")
    cache: bool = Field(default=True, description="Reuse stored answers for identical prompts.")
    max_chunk_tokens: int = Field(default=60_000, ge=1_000, description="Diff tokens per call, at most.")
    breaker_threshold: int = Field(default=5, ge=1, description="Consecutive failures that stop a provider.")
    debug: bool = Field(default=False, description="Tracebacks on errors (TOKYO_DEBUG=1).")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # No dotenv source: a .env file in the reviewed repository must never configure tokyo.
        return (init_settings, env_settings)

    def db_path(self) -> Path | None:
        """The history database path: ``db``, else ``home/history.db``, else None (default)."""
        if self.db is not None:
            return self.db
        if self.home is not None:
            return self.home / "history.db"
        return None


def load_settings(**overrides: Any) -> Settings:
    """Build Settings from flags and the environment.

    ``overrides`` are CLI flags; ``None`` values mean "not given" and fall through to the
    environment (``TOKYO_*``), then the defaults. Fields given either way are in
    ``model_fields_set``.

    Raises:
        ConfigError: a value is invalid (names the setting and where it came from).
    """
    try:
        given = {k: v for k, v in overrides.items() if v is not None}
        return Settings(**given)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "settings"
        raise ConfigError(
            f"invalid setting {key}: {err['msg']} (from a flag or TOKYO_{key.upper()})"
        ) from None
