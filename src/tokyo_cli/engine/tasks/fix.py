"""``task: fix`` and ``tokyo fix``: a minimal patch for a finding.

For each chosen finding, :func:`propose` first tries an analyzer's known safe rewrite
(:func:`offline_patch`: ``yaml.load(x)`` -> ``yaml.safe_load(x)`` for bandit B506; an
unpinned action is *not* rewritten: tokyo knows no action's commit SHA offline), else asks
the agent for a unified diff (:class:`FixOutput`, validated with pydantic; the usual repair
retry for an unusable reply). The patch is then checked (:mod:`tokyo_cli.engine.tasks.patches`:
safety refusals, then ``git apply --check``); a patch that does not apply gets one repair
call with git's message, then the finding is left without a patch, with the reason.

The code shown to the model is the file around the finding (the whole file up to
:data:`WHOLE_FILE_LINES` lines, else :data:`WINDOW_LINES` lines each side), numbered, masked
and delimited as data — from the changeset for a workflow step, from the working tree
(never through a symlink) for ``tokyo fix``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from tokyo_cli.config.team import AgentSpec
from tokyo_cli.engine.prompts import delimit, repair_messages, task_messages
from tokyo_cli.engine.tasks.patches import MAX_PATCH_BYTES, unified_diff
from tokyo_cli.findings import Finding, MaskedReply, cut_text
from tokyo_cli.git.diff import split_lines
from tokyo_cli.safety.masking import mask_secrets

if TYPE_CHECKING:
    from tokyo_cli.engine.calls import ChunkCaller
    from tokyo_cli.results import StepResult

WHOLE_FILE_LINES = 400
WINDOW_LINES = 60

FIX_TASK = """\
You fix one finding that a reviewer raised, with the smallest change that removes the problem:
no refactoring, no unrelated edits, no new files. Keep the code's style and indentation.
"""

FIX_CONTRACT = """\
Reply with ONE JSON object and nothing else, in exactly this shape:
{"patch": "--- a/src/app.py\\n+++ b/src/app.py\\n@@ -41,3 +41,3 @@\\n context\\n-old line\\n+new line\\n context\\n",
 "explanation": "One sentence: what the patch changes and why it fixes the finding."}
Rules:
- patch is a unified diff (as `git diff` prints it) against the file exactly as shown, with
  a/ and b/ prefixes, correct @@ line numbers and three lines of context; it only edits
  existing lines of existing files.
- The code is shown with its line number and " | " at the left of each line: leave those out
  of the patch.
"""


class FixOutput(MaskedReply):
    """The JSON object a fix call returns."""

    patch: str = Field(min_length=1, max_length=MAX_PATCH_BYTES)
    explanation: str = Field(default="", max_length=2_000)

    @field_validator("explanation", mode="before")
    @classmethod
    def _cut(cls, v: object) -> object:
        return cut_text(v, 2_000)

    @field_validator("patch", mode="before")
    @classmethod
    def _patch(cls, v: object) -> object:
        if isinstance(v, str) and v.strip().startswith("```"):  # a fenced diff: take its body
            body = v.strip().split("\n", 1)[1] if "\n" in v.strip() else ""
            v = body.rsplit("```", 1)[0]
        return v if not isinstance(v, str) or v.endswith("\n") else v + "\n"


@dataclass
class FixProposal:
    """The outcome for one finding: a checked ``patch`` (from ``source``), or ``error``."""

    finding: Finding
    patch: str | None = None
    source: Literal["analyzer", "model"] | None = None
    explanation: str = ""
    error: str | None = None


_YAML_LOAD = re.compile(r"\byaml\.load\(")
_LOADER_ARG = re.compile(r",\s*Loader\s*=\s*(?:yaml\.)?(?:Unsafe|Full)?Loader\s*(?=\))")


def offline_patch(finding: Finding, content: str) -> str | None:
    """An analyzer's known safe rewrite of ``finding`` as a patch, or ``None``.

    Known: bandit B506 (``yaml.load`` without a safe loader): ``yaml.load(x)`` and
    ``yaml.load(x, Loader=yaml.Loader)`` on the finding's line become ``yaml.safe_load(x)``
    (only when the line holds exactly one ``yaml.load(``).
    """
    if finding.rule != "bandit:B506":
        return None
    line_no = finding.line or finding.file_line
    lines = content.splitlines(keepends=True)
    if not line_no or not 1 <= line_no <= len(lines):
        return None
    line = lines[line_no - 1]
    if len(_YAML_LOAD.findall(line)) != 1:
        return None
    fixed = _LOADER_ARG.sub("", _YAML_LOAD.sub("yaml.safe_load(", line))
    if "Loader" in fixed:  # a loader argument we do not recognise: leave it to a person
        return None
    new = "".join([*lines[: line_no - 1], fixed, *lines[line_no:]])
    return unified_diff(finding.path, content, new) or None


def fix_messages(agent: AgentSpec, finding: Finding, content: str) -> list[dict[str, str]]:
    """Messages for one fix call: the finding and the code around it (numbered), as data."""
    lines = split_lines(content)
    line = finding.line or finding.file_line or 1
    if len(lines) <= WHOLE_FILE_LINES:
        first, last = 1, len(lines)
    else:
        first, last = max(1, line - WINDOW_LINES), min(len(lines), (finding.end_line or line) + WINDOW_LINES)
    width = len(str(last))
    code = "\n".join(f"{n:>{width}} | {lines[n - 1]}" for n in range(first, last + 1))
    code, _ = mask_secrets(code)
    about = json.dumps(
        {
            "path": finding.path,
            "location": finding.location,
            "severity": finding.severity.value,
            "category": finding.category,
            "title": finding.title,
            "body": finding.body[:2000],
            "rule": finding.rule,
            "suggestion": finding.suggestion,
        },
        indent=1,
        ensure_ascii=False,
    )
    about, _ = mask_secrets(about)
    shown = "the whole file" if (first, last) == (1, len(lines)) else f"lines {first}-{last}"
    user = ["The finding to fix:", delimit(about), f"{finding.path}, {shown}:", delimit(code)]
    return task_messages(agent, FIX_TASK, FIX_CONTRACT, user)


def _bytes(messages: list[dict[str, str]]) -> int:
    return sum(len(m["content"].encode()) for m in messages)


async def propose(
    finding: Finding,
    content: str,
    check: Callable[[str], str | None],
    *,
    caller: ChunkCaller | None,
    res: StepResult | None,
    agent: AgentSpec | None,
    models: tuple[str, list[str]] | None,
    index: int = 1,
    total: int = 1,
    size: Callable[[list[dict[str, str]]], int] | None = None,
) -> FixProposal:
    """A checked patch for ``finding`` whose file text is ``content``: the analyzer's rewrite
    when there is one, else the agent's (one repair call when git refuses the first patch).
    ``check(patch)`` says why a patch does not apply (``None``: it does); ``size(messages)``
    is a prompt's size in tokens for the cost cap (default: its UTF-8 bytes, an upper bound).
    Never raises for a provider failure: :class:`FixProposal.error` says what went wrong."""
    from tokyo_cli.engine.calls import CallFailed

    known = offline_patch(finding, content)
    if known is not None and check(known) is None:
        return FixProposal(finding, patch=known, source="analyzer", explanation="the analyzer's safe rewrite")
    if caller is None or res is None or agent is None or models is None:
        return FixProposal(finding, error="no known rewrite, and no model to ask (offline)")
    messages = fix_messages(agent, finding, content)
    size = size or _bytes
    problem = ""
    for attempt in (1, 2):
        try:
            out: FixOutput = await caller.call(
                res, agent, models, messages, index, total, size(messages), schema=FixOutput
            )
        except CallFailed as exc:
            return FixProposal(finding, error=f"the fix call failed: {exc}")
        problem = check(out.patch) or ""
        if not problem:
            return FixProposal(finding, patch=out.patch, source="model", explanation=out.explanation.strip())
        if attempt == 1:
            messages = repair_messages(messages, out.patch, f"the patch does not apply: {problem}")
    return FixProposal(finding, error=f"the patch does not apply: {problem}")
