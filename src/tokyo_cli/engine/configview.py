"""The effective configuration of a review, each value with where it came from.

What ``tokyo config show`` prints (and ``tokyo doctor`` can reuse). Precedence, highest first
(the README's "Configuration" section)::

    flag  >  TOKYO_* variable  >  repository (.tokyo.toml, else [tool.tokyo])  >  user config  >  default

The repository row applies only to the keys a repository may set (:data:`REPO_SETTINGS`:
a workflow name, a ``fail_on`` stricter than the workflow's); every other key comes from the
user alone. ``fail_on`` and ``min_severity`` left unset fall back to the workflow's own.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from tokyo_cli.config.settings import Settings
from tokyo_cli.config.userconfig import user_config_path

if TYPE_CHECKING:
    from tokyo_cli.engine.review import ReviewConfig


class ConfigValue(BaseModel):
    """One effective setting. ``source`` is ``"flag"``, ``"env"``, ``"user config"``,
    ``"default"``, ``"repository"`` or ``"workflow"``; ``detail`` says more where it helps (the
    variable, the file, the workflow's name)."""

    name: str
    value: Any = None
    source: str
    detail: str = ""


class RepositoryConfigView(BaseModel):
    """The repository's own configuration as read for a working-tree review: which file held
    its settings (``.tokyo.toml``, ``[tool.tokyo]`` or none), the accepted values, every
    refusal and every override applied, one line each."""

    root: str
    settings_file: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    notices: list[str] = Field(default_factory=list)
    applied: list[str] = Field(default_factory=list)


class ConfigView(BaseModel):
    """``tokyo config show``: the user config file (``user_config``, and whether it exists),
    the repository's configuration (``None`` outside a git repository), and every setting."""

    user_config: str
    user_config_exists: bool
    repository: RepositoryConfigView | None = None
    values: list[ConfigValue]


def effective_config(settings: Settings, root: Path | None, config: ReviewConfig | None = None) -> ConfigView:
    """Every setting of ``settings`` with its source, the repository's settings of ``root``
    (its working tree; ``None``: none) applied as a review would apply them. ``config`` is
    that repository's configuration when the caller has loaded it already (``tokyo doctor``).

    Raises:
        ConfigError: the repository's agents.yaml, workflows or settings file is malformed.
        RepoError: ``root`` cannot be read as a git repository.
    """
    from tokyo_cli.safety.masking import mask_data

    path = user_config_path()
    values = [_value(settings, name) for name in Settings.model_fields]
    repo_view = None
    if root is not None:
        if config is None:
            from tokyo_cli.engine.review import load_review_config

            config = load_review_config(root, settings, None)
        cfg = config.repo
        repo_view = RepositoryConfigView(
            root=str(root),
            settings_file=cfg.settings_file,
            settings={k: getattr(v, "value", v) for k, v in cfg.settings.items()},
            notices=[*cfg.notices, *config.team.notices],
            applied=[*cfg.applied, *config.team.applied],
        )
        by_name = {v.name: v for v in values}
        workflow = config.workflow
        if "workflow" in cfg.taken:
            by_name["workflow"] = ConfigValue(
                name="workflow", value=workflow.name, source="repository", detail=cfg.settings_file or ""
            )
        if not settings.given("fail_on"):
            if "fail_on" in cfg.taken:
                source, detail = "repository", cfg.settings_file or ""
            elif settings.origin("fail_on") == "user config":
                source, detail = "user config", str(path)
            else:
                source, detail = "workflow", workflow.name
            by_name["fail_on"] = ConfigValue(name="fail_on", value=workflow.fail_on.value, source=source, detail=detail)
        if settings.min_severity is None:
            by_name["min_severity"] = ConfigValue(
                name="min_severity", value=workflow.min_severity.value, source="workflow", detail=workflow.name
            )
        values = [by_name[v.name] for v in values]
    view = ConfigView(user_config=str(path), user_config_exists=path.is_file(), repository=repo_view, values=values)
    return mask_data(view)


def _value(settings: Settings, name: str) -> ConfigValue:
    origin = settings.origin(name)
    detail = {"env": f"TOKYO_{name.upper()}", "user config": str(user_config_path())}.get(origin, "")
    value = getattr(settings, name)
    if isinstance(value, Path):
        value = str(value)
    elif hasattr(value, "value"):  # an enum: Severity
        value = value.value
    return ConfigValue(name=name, value=value, source=origin, detail=detail)
