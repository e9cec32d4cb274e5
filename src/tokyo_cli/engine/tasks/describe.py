"""``task: describe``: a pull-request walkthrough — what the change does, a file table, risk
areas and a suggested title and description.

The file table is always the changeset's own, computed here without a model
(:func:`offline_walkthrough`): every changed file with its status (added, modified, deleted,
renamed, with the old path), ``+``/``-`` lines as ``git diff --numstat`` counts them (0/0 for
a binary file), language, whether it is a test, and why tokyo does not review it when it does
not. Offline that is the whole walkthrough, with a deterministic overview, title and risk
areas. With a model, one call (the file table plus as much of the diff as fits the agent's
window, masked and delimited as data) returns :class:`DescribeOutput` (validated with pydantic,
one repair retry in :mod:`tokyo_cli.engine.calls`), which :func:`merge_reply` lays over it: the
model's overview, title, description, risk areas and one-line summaries of files that are in
the table — it never adds, drops or renames a file, nor changes a count.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tokyo_cli.analyzers.common import is_test_path
from tokyo_cli.config.team import AgentSpec
from tokyo_cli.engine.prompts import delimit, render_file, task_messages
from tokyo_cli.findings import MaskedReply, cut_text, lenient_list
from tokyo_cli.git.pathrules import glob_match
from tokyo_cli.results import FileRow, Walkthrough
from tokyo_cli.safety.masking import mask_secrets

if TYPE_CHECKING:
    from tokyo_cli.engine.packing import Chunk
    from tokyo_cli.git.repo import Changeset

LARGE_FILE_LINES = 300
"""Changed lines (added + removed) from which a file is a risk area of its own."""
MAX_RISKS = 20
RISKY_GLOBS = {
    "CI and release automation": (".github/**", ".gitlab-ci.yml", "Jenkinsfile", "action.yml", "action.yaml"),
    "dependencies": (
        "requirements*.txt",
        "requirements/**",
        "pyproject.toml",
        "setup.py",
        "setup.cfg",
        "poetry.lock",
        "uv.lock",
        "package.json",
        "package-lock.json",
        "go.mod",
        "Cargo.toml",
    ),
    "containers": ("Dockerfile", "*.dockerfile", "docker-compose*.yml", "compose*.yaml"),
    "database migrations": ("**/migrations/**", "**/alembic/**"),
    "authentication and secrets": ("**/auth/**", "*auth*.py", "**/security/**", "*secret*", "*.pem", "*.key"),
}
"""Areas whose changes deserve a second look whatever the diff says (offline risk areas)."""


class FileNote(BaseModel):
    """A model's one-line summary of one file."""

    model_config = ConfigDict(extra="ignore")

    path: str = Field(min_length=1, max_length=1000)
    summary: str = Field(default="", max_length=500)

    @field_validator("summary", mode="before")
    @classmethod
    def _cut(cls, v: object) -> object:
        return cut_text(v, 500)


class DescribeOutput(MaskedReply):
    """The JSON object a describe call returns."""

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    overview: str = Field(min_length=1, max_length=5_000)
    files: list[FileNote] = Field(default_factory=list)
    risk_areas: list[str] = Field(default_factory=list)

    @field_validator("files", mode="before")
    @classmethod
    def _files(cls, v: object) -> object:
        return lenient_list(FileNote, v, 2_000)

    @field_validator("risk_areas", mode="before")
    @classmethod
    def _risks(cls, v: object) -> object:
        return [r[:300] for r in v[:MAX_RISKS] if isinstance(r, str) and r.strip()] if isinstance(v, list) else []

    @field_validator("title", "description", "overview", mode="before")
    @classmethod
    def _truncate(cls, v: object, info: object) -> object:
        return cut_text(v, {"title": 200, "overview": 5_000}.get(getattr(info, "field_name", ""), 10_000))


DESCRIBE_CONTRACT = """\
Reply with ONE JSON object and nothing else, in exactly this shape:
{"title": "A pull request title, under 72 characters",
 "description": "A pull request description in Markdown: what changed and why, how to test.",
 "overview": "Two to four sentences: what this change does, for a reviewer.",
 "files": [{"path": "src/app.py", "summary": "one line: what changed in this file"}],
 "risk_areas": ["short phrases: what a reviewer should look at closely, and why"]}
Rules:
- path is a file path exactly as listed in the file table.
- Describe only what the change shows; do not invent motives or behaviour you cannot see.
"""

DESCRIBE_TASK = """\
You write the walkthrough of a change for the people who will review it: what it does, a
one-line summary per file, the risk areas, and a suggested title and description. Do not
review it for defects; other agents do that.
"""


def file_rows(changes: Changeset) -> list[FileRow]:
    """The file table, in diff order: every changed file, reviewed or not."""
    return [
        FileRow(
            path=f.path,
            old_path=f.old_path,
            status=f.status,
            added=f.additions,
            removed=f.deletions,
            language=f.language,
            test=is_test_path(f.path),
            skipped=f.skipped,
        )
        for f in changes.files
    ]


def offline_walkthrough(changes: Changeset) -> Walkthrough:
    """The deterministic walkthrough of ``changes``: file table, counts, languages, renames,
    tests touched, risk areas from paths and sizes, and a title from the common directory."""
    rows = file_rows(changes)
    statuses = Counter(r.status for r in rows)
    languages = Counter(r.language or "other" for r in rows)
    tests = [r.path for r in rows if r.test]
    added, removed = sum(r.added for r in rows), sum(r.removed for r in rows)
    parts = [f"{n} {s}" for s in ("added", "modified", "renamed", "deleted") if (n := statuses.get(s))]
    overview = [f"{_n(len(rows), 'file')} changed (+{added} -{removed}): {', '.join(parts) or 'none'}."]
    if languages:
        overview.append("Languages: " + ", ".join(f"{lang} ({n})" for lang, n in languages.most_common()) + ".")
    renamed = [r for r in rows if r.status == "renamed"]
    if renamed:
        overview.append(
            "Moved or renamed: "
            + ", ".join(f"{r.old_path} -> {r.path}" for r in renamed[:10])
            + (f" and {len(renamed) - 10} more" if len(renamed) > 10 else "")
            + "."
        )
    overview.append(f"Tests touched: {len(tests)} file(s)." if tests else "No test file is touched.")
    return Walkthrough(
        title=_title(rows),
        description="\n".join(overview),
        overview=" ".join(overview),
        files=rows,
        risk_areas=_risks(rows),
        tests_touched=tests,
        source="offline",
    )


def _n(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _title(rows: Sequence[FileRow]) -> str:
    if not rows:
        return "Empty change"
    if len(rows) == 1:
        verb = {"added": "Add", "deleted": "Remove", "renamed": "Move", "modified": "Update"}[rows[0].status]
        return f"{verb} {rows[0].path}"[:200]
    dirs = [r.path.split("/")[:-1] for r in rows]
    common: list[str] = []
    for level in zip(*dirs):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    where = "/".join(common) or "the repository"
    return f"Update {where} ({len(rows)} files)"[:200]


def _risks(rows: Sequence[FileRow]) -> list[str]:
    risks: list[str] = []
    for area, globs in RISKY_GLOBS.items():
        hit = [r.path for r in rows if glob_match(r.path, globs)]
        if hit:
            risks.append(f"{area}: {', '.join(hit[:5])}" + (f" and {len(hit) - 5} more" if len(hit) > 5 else ""))
    for r in rows:
        if r.added + r.removed >= LARGE_FILE_LINES:
            risks.append(f"large change: {r.path} (+{r.added} -{r.removed})")
    deleted = [r.path for r in rows if r.status == "deleted"]
    if deleted:
        risks.append(
            f"deleted files: {', '.join(deleted[:5])}" + (f" and {len(deleted) - 5} more" if len(deleted) > 5 else "")
        )
    source = [r for r in rows if not r.test and r.language == "python" and r.status != "deleted"]
    if source and not any(r.test for r in rows):
        risks.append("Python code changes without a test change")
    return risks[:MAX_RISKS]


MAX_TABLE_ROWS = 2_000
"""Files listed to the model; a bigger change is described from its first ones (the table
the walkthrough shows is always complete)."""


def table_text(walkthrough: Walkthrough) -> str:
    """The file table as the describe prompt shows it: JSON rows, at most MAX_TABLE_ROWS."""
    keys = {"path", "old_path", "status", "added", "removed", "language", "test"}
    rows = [r.model_dump(include=keys) for r in walkthrough.files[:MAX_TABLE_ROWS]]
    more = len(walkthrough.files) - MAX_TABLE_ROWS
    return json.dumps(rows, ensure_ascii=False) + (f"\n(and {more} more files)" if more > 0 else "")


def describe_messages(
    agent: AgentSpec,
    walkthrough: Walkthrough,
    chunk: Chunk | None,
    *,
    target_description: str,
    step_instructions: str | None = None,
    repo_instructions: str | None = None,
) -> list[dict[str, str]]:
    """Messages for the describe call: the file table (every file) and the diff of the files
    in ``chunk`` (what fits the agent's window), masked and delimited as data."""
    table, _ = mask_secrets(table_text(walkthrough))
    shown = chunk.paths if chunk is not None else []
    diff, _ = mask_secrets("\n\n".join(render_file(f, hunks) for f, hunks in chunk.parts) if chunk else "")
    user = [f"Change under review: {target_description}.", "File table (every changed file):", delimit(table)]
    if shown:
        left = len(walkthrough.files) - len(shown)
        more = f" ({left} more file(s) did not fit; describe them from the table)" if left > 0 else ""
        user += [f"The diff{more}; each line's new-file line number is at the left:", delimit(diff)]
    return task_messages(
        agent,
        DESCRIBE_TASK,
        DESCRIBE_CONTRACT,
        user,
        step_instructions=step_instructions,
        repo_instructions=repo_instructions,
    )


def merge_reply(base: Walkthrough, reply: DescribeOutput, agent: str) -> Walkthrough:
    """``base`` (the deterministic walkthrough) with the model's prose: overview, title,
    description, risk areas, and summaries of files in the table (other paths are ignored)."""
    notes = {n.path.strip(): n.summary.strip() for n in reply.files}
    rows = [r.model_copy(update={"summary": notes.get(r.path, "")}) for r in base.files]
    return base.model_copy(
        update={
            "title": reply.title.strip(),
            "description": reply.description.strip() or base.description,
            "overview": reply.overview.strip(),
            "files": rows,
            "risk_areas": reply.risk_areas or base.risk_areas,
            "source": "model",
            "agent": agent,
        }
    )
