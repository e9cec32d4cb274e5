"""Settings: flags > environment (``TOKYO_*``) > ``[tool.tokyo]`` in the reviewed repo's pyproject.

Example ``pyproject.toml``::

    [tool.tokyo]
    workflow = "security"
    fail_on = "medium"
    timeout = 60

``api_base`` is deliberately *not* read from the reviewed repository: the repository is
untrusted input (a pull request could point it at a server that collects your code and key).
It comes from ``--api-base`` or ``TOKYO_API_BASE`` only.
"""

from __future__ import annotations

import tomllib
from contextvars import ContextVar
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

_PYPROJECT: ContextVar[Path | None] = ContextVar("tokyo_pyproject", default=None)
_UNTRUSTED_KEYS = frozenset({"api_base", "db", "home"})


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
    timeout: float = Field(default=120.0, gt=0, description="Per provider call, seconds.")
    retries: int = Field(default=2, ge=0, le=10, description="Retries per call on 429/5xx.")
    max_concurrency: int = Field(default=8, ge=1, le=256, description="Calls in flight per provider.")
    max_file_bytes: int = Field(default=1_000_000, gt=0, description="Larger files are not sent.")
    analyzer_timeout: float = Field(default=60.0, gt=0, description="Per analyzer, seconds.")
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
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _PYPROJECT.get()
        if path is not None:
            sources.append(_RepoPyprojectSource(settings_cls, path))
        return tuple(sources)

    def db_path(self) -> Path | None:
        """The history database path: ``db``, else ``home/history.db``, else None (default)."""
        if self.db is not None:
            return self.db
        if self.home is not None:
            return self.home / "history.db"
        return None


class _RepoPyprojectSource(PydanticBaseSettingsSource):
    """``[tool.tokyo]`` of the reviewed repo, minus the keys an untrusted repo may not set.

    Raises:
        ConfigError: the file is not valid TOML (names the file).
    """

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls)
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read [tool.tokyo]: {exc}") from None
        table = doc.get("tool", {}).get("tokyo", {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [tool.tokyo] must be a table")
        self._data = {
            k.replace("-", "_"): v for k, v in table.items() if k.replace("-", "_") not in _UNTRUSTED_KEYS
        }

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._data.items() if k in self.settings_cls.model_fields}


def load_settings(repo_root: Path | None = None, **overrides: Any) -> Settings:
    """Build Settings for a run over ``repo_root``.

    ``overrides`` are CLI flags; ``None`` values mean "not given" and fall through to the
    environment and then to ``repo_root/pyproject.toml`` ``[tool.tokyo]``.

    Raises:
        ConfigError: a value is invalid (names the setting and where it came from) or the
            pyproject.toml cannot be parsed.
    """
    pyproject = repo_root / "pyproject.toml" if repo_root is not None else None
    token = _PYPROJECT.set(pyproject if pyproject is not None and pyproject.is_file() else None)
    try:
        given = {k: v for k, v in overrides.items() if v is not None}
        return Settings(**given)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "settings"
        raise ConfigError(
            f"invalid setting {key}: {err['msg']} (from a flag, TOKYO_{key.upper()} or "
            f"[tool.tokyo] in pyproject.toml)"
        ) from None
    finally:
        _PYPROJECT.reset(token)
