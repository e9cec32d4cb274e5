"""Step outputs and the job summary for runs that post nothing: the action's ``audit`` mode
(a whole-tree review, or one shard of it) and ``merge`` mode (``tokyo merge``).

``--step-outputs`` on ``tokyo review`` and ``tokyo merge`` calls :func:`publish_step`: the same
output names the pull-request mode sets (``run-id``, ``status``, ``findings``, one per
severity, ``blocking``, ``sarif-written``, ``head-sha``), and the Markdown report in the job
summary. Outside Actions (no ``GITHUB_OUTPUT``) nothing is written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from tokyo_cli.github.context import StepFiles, append_step_summary, set_outputs
from tokyo_cli.results import RunResult


def publish_step(result: RunResult, *, sarif_written: bool, env: Mapping[str, str] | None = None) -> None:
    """Write ``result``'s step outputs and its Markdown report to the job summary (see the
    module docstring); ``sarif_written`` says whether this step wrote a SARIF file."""
    from tokyo_cli.report.markdown import render_markdown

    files = StepFiles.from_env(os.environ if env is None else env)
    set_outputs(
        files,
        {
            "run-id": "" if result.run_id is None else result.run_id,
            "status": result.status,
            "findings": len(result.findings),
            **result.severity_counts(),
            "blocking": len(result.blocking()),
            "posted": "false",
            "sarif-written": "true" if sarif_written else "false",
            "head-sha": result.head_sha or "",
        },
    )
    append_step_summary(files, render_markdown(result))


__all__ = ["publish_step"]
