"""Per-path review instructions (``path_instructions``), as a workflow or the repository's
``[tool.tokyo]`` gives them: the entry's shape and its limits."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MAX_PATH_INSTRUCTIONS = 50
"""Entries of ``path_instructions`` per workflow (and per repository configuration)."""
MAX_PATH_INSTRUCTION_CHARS = 2_000
"""Characters of one entry's instructions."""


class PathInstruction(BaseModel):
    """Review instructions for files matching ``path`` (a glob, :func:`tokyo_cli.git.pathrules.glob_match`).

    Appended to the review prompts of chunks that hold a matching file, as delimited data in
    the user message (:func:`tokyo_cli.engine.prompts.path_notes`): they never change the output
    contract, the model or where a request goes.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    path: str = Field(min_length=1, max_length=500)
    instructions: str = Field(min_length=1, max_length=MAX_PATH_INSTRUCTION_CHARS)
