"""The review team: AgentSpec, Team and load_team() (packaged agents.yaml + a repository overlay).

agents.yaml shape (DESIGN.md)::

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
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tokyo_cli.errors import ConfigError
from tokyo_cli.yamlload import (
    Loc,
    YamlDoc,
    error_loc,
    error_message,
    load_yaml,
    pydantic_errors,
    sort_errors,
)

AGENTS_FILE = "agents.yaml"
_PACKAGE_DIR = Path(__file__).resolve().parent
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


def defaults_dir() -> Path:
    """The directory holding the packaged agents.yaml and workflows/.

    An installed wheel carries them as ``tokyo_cli/defaults/`` (hatch force-include of the
    repository-root files, see pyproject.toml); an editable or source checkout has no such
    directory, so the repository root (two levels above this package: ``src/tokyo_cli``) is
    used — one source of truth either way.

    Raises:
        ConfigError: neither location holds an agents.yaml (a broken installation).
    """
    packaged = _PACKAGE_DIR / "defaults"
    if (packaged / AGENTS_FILE).is_file():
        return packaged
    root = _PACKAGE_DIR.parents[1]
    if (root / AGENTS_FILE).is_file() and (root / "pyproject.toml").is_file():
        return root
    raise ConfigError(
        f"packaged defaults not found (looked in {packaged} and {root}): reinstall tokyo-cli"
    )


@dataclass
class _Draft:
    """An agent being merged: raw values plus, per key, the file entry that set it last."""

    values: dict[str, Any] = field(default_factory=dict)
    origin: dict[str, tuple[YamlDoc, Loc]] = field(default_factory=dict)
    entry: tuple[YamlDoc, Loc] | None = None  # the last entry that touched this agent
    added_by_overlay: bool = False


def load_team(repo_root: Path | None = None) -> Team:
    """The packaged team, overlaid by ``repo_root/agents.yaml`` when that file exists.

    Same id: the overlay's fields replace the packaged ones (field by field); new id: a new
    agent, which then needs every required field. The merged agents are validated as a whole.

    Raises:
        ConfigError: every problem found, one per line, each "FILE:LINE: key: message" naming
            the file that set the offending value (e.g. the overlay for an overridden field).
    """
    packaged = defaults_dir() / AGENTS_FILE
    files = [packaged]
    if repo_root is not None:
        overlay = Path(repo_root) / AGENTS_FILE
        if overlay.is_file() and overlay.resolve() != packaged.resolve():
            files.append(overlay)
    drafts: dict[str, _Draft] = {}
    errors: list[str] = []
    for index, path in enumerate(files):
        _apply_file(load_yaml(path), drafts, errors, is_overlay=index > 0)
    agents: dict[str, AgentSpec] = {}
    for agent_id, draft in drafts.items():
        try:
            agents[agent_id] = AgentSpec.model_validate(draft.values)
        except ValidationError as exc:
            errors.extend(_draft_errors(draft, exc))
    if errors:
        raise ConfigError("\n".join(sort_errors(errors)))
    return Team(agents=agents, sources=files)


def _apply_file(doc: YamlDoc, drafts: dict[str, _Draft], errors: list[str], *, is_overlay: bool) -> None:
    """Merge one agents.yaml into ``drafts``; problems of the file itself go to ``errors``."""
    if doc.data is None:
        errors.append(doc.error((), "empty file (expected a mapping with the key 'agents')"))
        return
    try:
        top = _TeamFile.model_validate(doc.data)
    except ValidationError as exc:
        errors.extend(pydantic_errors(doc, exc, _TeamFile))
        return
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
        draft = drafts.get(agent_id)
        if draft is None:
            draft = drafts[agent_id] = _Draft(added_by_overlay=is_overlay)
        draft.entry = (doc, prefix)
        for key, value in entry.items():
            draft.values[key] = value
            draft.origin[key] = (doc, prefix)


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
