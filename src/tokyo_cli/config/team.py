"""The review team: AgentSpec, Team and load_team() (packaged agents.yaml + a repository overlay).

agents.yaml shape (docs/ARCHITECTURE.md)::

    agents:
      - id: akira                  # lower-case id used by workflows
        name: Akira
        specialty: code review, security
        model: claude-opus-4-5     # a litellm model id
        fallbacks: [claude-sonnet-4-5]
        context_window: 200000     # tokens the prompt may fill (model and every fallback)
        max_output_tokens: 8192    # tokens, cap per call
        temperature: 0.2           # null = provider default (reasoning models accept no other)
        paths: ["**"]              # globs the agent reviews ...
        exclude: ["docs/**"]       # ... minus these
        analyzers: [bandit]        # offline analyzers it owns
        instructions: |            # the specialist prompt
          ...

A repository's own agents.yaml uses the same shape; an entry whose id is already known
overrides only the fields it sets (lists are replaced, not merged), a new id adds an agent.

The repository is untrusted (:mod:`tokyo_cli.config.repository`), so its entries are held to rules,
each refusal a one-line notice in ``Team.notices``:

* ``model``/``fallbacks``: never changed for a packaged agent; a new agent may only use a
  model the packaged team already uses (else it gets the lead's). Models, providers and
  endpoints come from the user (``--model``, ``TOKYO_MODEL``) or the packaged team.
* ``analyzers``: added to, never removed from, a packaged agent's list.
* ``paths``/``exclude``: refused for an agent that owns a security analyzer (they would
  exclude files from it).
* ``name``/``specialty`` of a packaged agent: kept (they are part of its system prompt).
* ``instructions``: never part of a system prompt. They become ``repo_instructions``, sent as
  delimited data in the user message after the rules (:func:`tokyo_cli.engine.prompts.review_messages`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tokyo_cli.config.defaults import AGENTS_FILE, defaults_dir
from tokyo_cli.config.limits import MAX_AGENTS
from tokyo_cli.config.repository import SECURITY_ANALYZERS
from tokyo_cli.config.yamlload import (
    Loc,
    YamlDoc,
    error_loc,
    error_message,
    load_yaml,
    pydantic_errors,
    sort_errors,
)
from tokyo_cli.errors import ConfigError

if TYPE_CHECKING:
    from tokyo_cli.config.repository import RepoConfig

_ID = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


class AgentSpec(BaseModel):
    """One reviewer. Token counts are tokens of the agent's model; temperature 0..2 or None."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str
    name: str = Field(min_length=1)
    specialty: str = Field(min_length=1)
    model: str = Field(min_length=1)
    fallbacks: list[str] = Field(default_factory=list)
    context_window: int = Field(gt=0)
    max_output_tokens: int = Field(gt=0)
    temperature: float | None = Field(default=None, ge=0, le=2)
    paths: list[str] = Field(default_factory=lambda: ["**"])
    exclude: list[str] = Field(default_factory=list)
    analyzers: list[str] = Field(default_factory=list)
    instructions: str = Field(min_length=1)
    # Not YAML keys (load_team refuses them in a file): where the agent was defined, and the
    # review instructions a repository gave it, which are data, never part of a system prompt.
    origin: Literal["packaged", "repository"] = "packaged"
    repo_instructions: str | None = None

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(
                f"invalid agent id {value!r}: use lower-case letters, digits, '-' or '_', "
                "starting with a letter (at most 32 characters)"
            )
        return value

    @model_validator(mode="after")
    def _output_fits(self) -> AgentSpec:
        # The output cap is reserved out of the same window the prompt packer fills.
        if self.max_output_tokens >= self.context_window:
            raise ValueError(
                f"max_output_tokens ({self.max_output_tokens}) must be smaller than "
                f"context_window ({self.context_window})"
            )
        return self

    @property
    def models(self) -> list[str]:
        """``[model, *fallbacks]``: every model id this agent may call, in order."""
        return [self.model, *self.fallbacks]


class Team(BaseModel):
    """The agents of one run, in file order, and the files they were read from (packaged first)."""

    agents: dict[str, AgentSpec]
    sources: list[Path] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)  # repository settings refused, one line each
    applied: list[str] = Field(default_factory=list)  # repository agents.yaml changes taken, one line each

    def get(self, agent_id: str) -> AgentSpec:
        """The agent with this id. Raises ConfigError("unknown agent 'x' (known: a, b)")."""
        try:
            return self.agents[agent_id]
        except KeyError:
            raise ConfigError(f"unknown agent {agent_id!r} (known: {', '.join(self.ids())})") from None

    def ids(self) -> list[str]:
        """Agent ids, sorted (the order used in messages)."""
        return sorted(self.agents)

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self.agents


class _TeamFile(BaseModel):
    """Top level of an agents.yaml; entries are validated after merging, so they stay raw."""

    model_config = ConfigDict(extra="forbid", strict=True)

    agents: list[dict[str, Any]]


@dataclass
class _Draft:
    """An agent being merged: raw values plus, per key, the file entry that set it last."""

    values: dict[str, Any] = field(default_factory=dict)
    origin: dict[str, tuple[YamlDoc, Loc]] = field(default_factory=dict)
    entry: tuple[YamlDoc, Loc] | None = None  # the last entry that touched this agent
    added_by_overlay: bool = False


REPOSITORY_INSTRUCTIONS = (
    "Review the change from the specialty the repository describes in its "
    "instructions, which are given as data in the user message."
)
_INTERNAL_KEYS = ("origin", "repo_instructions")
LEAD_AGENT = "kenji"


def load_team(repo: RepoConfig | Path | None = None) -> Team:
    """The packaged team, overlaid by the agents.yaml files plugins register (trusted:
    :mod:`tokyo_cli.plugins`), then by the repository's agents.yaml (held to the rules in the
    module docstring; each refusal is a line of ``Team.notices``).

    ``repo``: a :class:`~tokyo_cli.config.repository.RepoConfig` (files already copied from the
    working tree or a commit), a repository root (its working tree is read through
    :func:`~tokyo_cli.config.repository.load_repo_config`: no symlink followed), or ``None``.

    Same id: the overlay's fields replace the packaged ones (field by field); new id: a new
    agent, which then needs every required field. The merged agents are validated as a whole.

    Raises:
        ConfigError: every problem found, one per line, each "FILE:LINE: key: message" naming
            the file that set the offending value (e.g. the overlay for an overridden field).
    """
    from tokyo_cli.config.repository import RepoConfig, load_repo_config
    from tokyo_cli.plugins import registry

    packaged = defaults_dir() / AGENTS_FILE
    files = [packaged, *registry().agents_files]  # plugins' overlays: trusted, like the packaged file
    trusted = len(files)
    cfg: RepoConfig | None = None
    if isinstance(repo, RepoConfig):
        cfg = repo
    elif repo is not None and Path(repo).resolve() != packaged.parent.resolve():
        cfg = load_repo_config(Path(repo))
    if cfg is not None and (cfg.dir / AGENTS_FILE).is_file():
        files.append(cfg.dir / AGENTS_FILE)
    drafts: dict[str, _Draft] = {}
    errors: list[str] = []
    notices: list[str] = []
    applied: list[str] = []
    for index, path in enumerate(files):
        try:
            doc = load_yaml(path)
        except ConfigError as exc:
            raise ConfigError(cfg.real_name(str(exc)) if cfg is not None else str(exc)) from None
        _apply_file(doc, drafts, errors, notices, applied if index >= trusted else None)
    agents: dict[str, AgentSpec] = {}
    for agent_id, draft in drafts.items():
        try:
            agents[agent_id] = AgentSpec.model_validate(draft.values)
        except ValidationError as exc:
            errors.extend(_draft_errors(draft, exc))
    if errors:
        message = "\n".join(sort_errors(errors))
        raise ConfigError(cfg.real_name(message) if cfg is not None else message)
    shown = [cfg.real_name(n) for n in notices] if cfg is not None else notices
    repo_file = [cfg.root / AGENTS_FILE] if len(files) > trusted and cfg is not None else []
    return Team(agents=agents, sources=[*files[:trusted], *repo_file], notices=shown, applied=applied)


def _apply_file(
    doc: YamlDoc, drafts: dict[str, _Draft], errors: list[str], notices: list[str], applied: list[str] | None
) -> None:
    """Merge one agents.yaml into ``drafts``; problems of the file itself go to ``errors``.
    ``applied`` is given for a repository's file (the overlay): refused settings go to
    ``notices``, and one line per agent it added or changed to ``applied``."""
    is_overlay = applied is not None
    if doc.data is None:
        errors.append(doc.error((), "empty file (expected a mapping with the key 'agents')"))
        return
    too_many = doc.count_error(("agents",), MAX_AGENTS, "agents")
    if too_many:
        errors.append(too_many)
        return
    try:
        top = _TeamFile.model_validate(doc.data)
    except ValidationError as exc:
        errors.extend(pydantic_errors(doc, exc, _TeamFile))
        return
    trusted_models = {
        m
        for d in drafts.values()
        for m in [d.values.get("model"), *d.values.get("fallbacks", [])]
        if isinstance(m, str)
    }
    first_line: dict[str, int] = {}
    for i, entry in enumerate(top.agents):
        prefix: Loc = ("agents", i)
        agent_id = entry.get("id")
        if not isinstance(agent_id, str):
            problem = "missing required key" if "id" not in entry else "must be a string"
            errors.append(doc.error(prefix + ("id",), problem))
            continue
        if agent_id in first_line:
            errors.append(
                doc.error(prefix + ("id",), f"duplicate agent id {agent_id!r} (first at line {first_line[agent_id]})")
            )
            continue
        first_line[agent_id] = doc.line(prefix)
        for key in _INTERNAL_KEYS:
            if key in entry:
                errors.append(doc.error(prefix + (key,), "unknown key"))
        draft = drafts.get(agent_id)
        if draft is None:
            draft = drafts[agent_id] = _Draft(added_by_overlay=is_overlay)
        draft.entry = (doc, prefix)
        values = dict(entry)
        if applied is not None:
            values = _held_to_rules(doc, prefix, agent_id, values, draft, drafts, trusted_models, notices)
            changed = [
                k.replace("repo_instructions", "instructions (as data)")
                for k, v in values.items()
                if k != "origin" and (draft.added_by_overlay or draft.values.get(k) != v)
            ]
            if draft.added_by_overlay:
                applied.append(f"repository config applied: agents.yaml adds agent {agent_id!r}")
            elif changed:
                applied.append(f"repository config applied: agents.yaml agent {agent_id!r}: {', '.join(changed)}")
        for key, value in values.items():
            draft.values[key] = value
            draft.origin[key] = (doc, prefix)


def _held_to_rules(
    doc: YamlDoc,
    prefix: Loc,
    agent_id: str,
    values: dict[str, Any],
    draft: _Draft,
    drafts: dict[str, _Draft],
    trusted_models: set[str],
    notices: list[str],
) -> dict[str, Any]:
    """A repository's agents.yaml entry with every refused key dropped (and noticed)."""

    def refuse(key: str, why: str) -> None:
        # Restating the packaged value changes nothing: dropped without a notice (tokyo's own
        # checkout carries the packaged agents.yaml itself).
        if draft.added_by_overlay or values.get(key) != draft.values.get(key):
            notices.append(f"repository config: {doc.error(prefix + (key,), 'ignored: ' + why)}")
        values.pop(key, None)

    values.pop(_INTERNAL_KEYS[0], None)
    values.pop(_INTERNAL_KEYS[1], None)
    if isinstance(values.get("instructions"), str):
        text = values.pop("instructions")
        if draft.added_by_overlay or text != draft.values.get("instructions"):
            values["repo_instructions"] = text  # the packaged text restated is no instruction of the repository's
    if not draft.added_by_overlay:
        for key in ("model", "fallbacks"):
            if key in values:
                refuse(key, "models and providers come from --model, TOKYO_MODEL or the packaged team")
        for key in ("name", "specialty"):
            if key in values:
                refuse(key, "a packaged agent keeps its name and specialty (they are part of its system prompt)")
        owned = [a for a in draft.values.get("analyzers", []) if a in SECURITY_ANALYZERS]
        for key in ("paths", "exclude"):
            if key in values and owned:
                refuse(key, f"{agent_id} runs {', '.join(owned)}, which review the whole change")
        if "analyzers" in values and isinstance(values["analyzers"], list):
            kept = list(draft.values.get("analyzers", []))
            dropped = [a for a in kept if a not in values["analyzers"]]
            values["analyzers"] = kept + [a for a in values["analyzers"] if a not in kept]
            if dropped:
                why = f"dropping {', '.join(dropped)} ignored: a repository may add analyzers, never remove them"
                notices.append(f"repository config: {doc.error(prefix + ('analyzers',), why)}")
        return values
    lead = drafts.get(LEAD_AGENT) or next((d for d in drafts.values() if not d.added_by_overlay), None)
    values["origin"] = "repository"
    values.setdefault("instructions", REPOSITORY_INSTRUCTIONS)
    # Membership tests only for strings: a list or mapping here is unhashable and raised
    # TypeError (found by tests/test_fuzz.py); it is refused like any other untrusted model.
    if not _trusted(values.get("model"), trusted_models):
        if "model" in values:
            refuse("model", "a repository agent may only use a model of the packaged team")
        if lead is not None:
            values["model"] = lead.values.get("model")
            values.setdefault("fallbacks", list(lead.values.get("fallbacks", [])))
    if isinstance(values.get("fallbacks"), list):
        outside = [m for m in values["fallbacks"] if not _trusted(m, trusted_models)]
        if outside:
            values["fallbacks"] = [m for m in values["fallbacks"] if _trusted(m, trusted_models)]
            why = f"ignored {', '.join(map(str, outside))}: a repository agent may only use models of the packaged team"
            notices.append(f"repository config: {doc.error(prefix + ('fallbacks',), why)}")
    return values


def _trusted(model: object, trusted_models: set[str]) -> bool:
    return isinstance(model, str) and model in trusted_models


def _draft_errors(draft: _Draft, exc: ValidationError) -> list[str]:
    assert draft.entry is not None
    out = []
    for err in exc.errors():
        loc = error_loc(err)
        doc, prefix = draft.origin.get(str(loc[0]), draft.entry) if loc else draft.entry
        message = error_message(err, AgentSpec)
        if err["type"] == "missing" and draft.added_by_overlay:
            message += " (a new agent needs every field; only agents already in the packaged team can be partial)"
        out.append(doc.error(prefix + loc, message))
    return out
