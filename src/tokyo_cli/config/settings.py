"""Settings: flags > environment (``TOKYO_*``) > user config file > defaults. The user's, never
the repository's.

The user config file (:mod:`tokyo_cli.config.userconfig`: ``config.toml`` in the platform's user
config directory, or the file ``TOKYO_CONFIG`` names) holds the same keys as the ``TOKYO_*``
variables, lower-case, at the top level; it is the user's own file, so every key is trusted.

The reviewed repository is untrusted input: a pull request could point ``api_base`` at a
server that collects your code and key, pick the models, lower ``fail_on`` or shorten the
analyzers' time limit. So nothing here is read from it. What a repository's own
``.tokyo.toml`` or ``[tool.tokyo]`` may still say (a workflow name, a stricter ``fail_on``) is
read and checked by :mod:`tokyo_cli.config.repository`, and applied by
:func:`tokyo_cli.engine.review.load_review_config` only where no flag or ``TOKYO_*`` variable gave the
value (:meth:`Settings.origin`); it does win over the user config file, which holds the
user's defaults for every repository (the README's "Configuration" section has the table).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from tokyo_cli.config.userconfig import load_user_config, user_config_path
from tokyo_cli.errors import ConfigError
from tokyo_cli.findings import Severity

Origin = Literal["flag", "env", "user config", "default"]


class Settings(BaseSettings):
    """Every knob of a run. Units: seconds for times, bytes for sizes, USD for money, tokens
    for windows and caps."""

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
        default=None, description="Show findings at or above it (terminal, Markdown, GitHub); overrides the workflow's."
    )
    timeout: float = Field(default=120.0, gt=0, description="Per provider call, seconds.")
    retries: int = Field(default=2, ge=0, le=10, description="Retries per call on 429/5xx.")
    max_concurrency: int = Field(default=8, ge=1, le=256, description="Calls in flight per provider.")
    max_file_bytes: int = Field(default=1_000_000, gt=0, description="Larger files are not sent.")
    analyzer_timeout: float = Field(default=60.0, gt=0, description="Per analyzer, seconds per 1,000 files.")
    max_cost: float | None = Field(default=None, ge=0, description="Hard cap per run, USD.")
    unknown_call_usd: float = Field(
        default=0.05, ge=0, description="Cap accounting per call of an unpriced model, USD."
    )
    cache: bool = Field(default=True, description="Reuse stored answers for identical prompts.")
    max_chunk_tokens: int = Field(default=60_000, ge=1_000, description="Diff tokens per call, at most.")
    context_window: int | None = Field(
        default=None,
        ge=2_048,
        description="Tokens of the model's context window (with --model, for a model "
        "litellm's map does not know); replaces every agent's.",
    )
    max_output_tokens: int | None = Field(
        default=None, ge=16, description="Tokens per reply; replaces every agent's cap."
    )
    breaker_threshold: int = Field(default=5, ge=1, description="Consecutive failures that stop a provider.")
    debug: bool = Field(default=False, description="Tracebacks on errors (TOKYO_DEBUG=1).")
    callbacks: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="litellm callbacks by name, e.g. langfuse (TOKYO_CALLBACKS=a,b)."
    )

    @field_validator("callbacks", mode="before")
    @classmethod
    def _split_names(cls, value: Any) -> Any:
        # TOKYO_CALLBACKS=langfuse,otel: names separated by commas; a list elsewhere.
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value

    _origins: dict[str, Origin] = PrivateAttr(default_factory=dict)

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
        return (init_settings, env_settings, UserConfigSource(settings_cls))

    def db_path(self) -> Path | None:
        """The history database path: ``db``, else ``home/history.db``, else None (default)."""
        if self.db is not None:
            return self.db
        if self.home is not None:
            return self.home / "history.db"
        return None

    def origin(self, name: str) -> Origin:
        """Where setting ``name`` came from: ``"flag"``, ``"env"`` (``TOKYO_*``), ``"user
        config"`` or ``"default"`` (also for Settings built directly, without load_settings)."""
        if self._origins:
            return self._origins.get(name, "default")
        return "flag" if name in self.model_fields_set else "default"

    def given(self, name: str) -> bool:
        """True when a flag or a ``TOKYO_*`` variable set ``name``: the values a repository's
        configuration never replaces."""
        return self.origin(name) in ("flag", "env")


def read_user_config() -> dict[str, Any]:
    """The user config file's settings (:func:`tokyo_cli.config.userconfig.load_user_config`), every
    key checked against the settings.

    Raises:
        ConfigError: what load_user_config raises, or "PATH: unknown setting 'modle' (known: ...)".
    """
    data = load_user_config()
    for key in data:
        if key not in Settings.model_fields:
            known = ", ".join(sorted(Settings.model_fields))
            raise ConfigError(f"{user_config_path()}: unknown setting {key!r} (known: {known})")
    return data


class UserConfigSource(PydanticBaseSettingsSource):
    """pydantic-settings source for the user config file (:func:`read_user_config`), below the
    environment in precedence."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        """Unused: :meth:`__call__` returns the whole file at once."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return read_user_config()


def load_settings(**overrides: Any) -> Settings:
    """Build Settings from flags, the environment and the user config file.

    ``overrides`` are CLI flags; ``None`` values mean "not given" and fall through to the
    environment (``TOKYO_*``), then the user config file, then the defaults.
    :meth:`Settings.origin` tells which source gave each value.

    Raises:
        ConfigError: a value is invalid (names the setting and where it came from), or the user
            config file cannot be read (see :func:`read_user_config`).
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    user = read_user_config()
    env = EnvSettingsSource(Settings)()
    origins: dict[str, Origin] = {}
    for name in Settings.model_fields:
        origins[name] = (
            "flag" if name in given else "env" if name in env else "user config" if name in user else "default"
        )
    try:
        settings = Settings(**given)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "settings"
        where = {
            "flag": "a flag",
            "env": f"TOKYO_{key.upper()}",
            "user config": str(user_config_path()),
            "default": "a flag or TOKYO_" + key.upper(),
        }[origins.get(key, "default")]
        raise ConfigError(f"invalid setting {key}: {err['msg']} (from {where})") from None
    settings._origins = origins
    return settings
