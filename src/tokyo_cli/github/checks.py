"""A check run with annotations: the findings on the pull request's "Files changed" tab and in
its checks, for tokens that may write checks (``permissions: checks: write``).

Optional (action input ``check-run``, variable ``TOKYO_CHECK_RUN``): the review and summary
comment already carry the findings; a check run adds annotations on any line of the head
commit (not only diff lines) and a pass/fail the branch protection can require.

Limits, from GitHub's REST reference ("Create a check run", API version 2022-11-28):
``output.annotations`` holds at most 50 per request — more are added with "Update a check
run", 50 at a time — and ``output.summary`` at most 65,535 characters. tokyo sends at most
:data:`MAX_ANNOTATIONS` annotations, most important first; the summary says how many more
the report has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tokyo_cli.findings import Finding, Severity
from tokyo_cli.results import RunResult

CHECK_NAME = "tokyo review"
PER_REQUEST = 50  # "Create a check run": output.annotations maxItems 50
MAX_ANNOTATIONS = 500  # 10 requests
MAX_SUMMARY = 65_535
_LEVEL = {Severity.CRITICAL: "failure", Severity.HIGH: "failure", Severity.MEDIUM: "warning"}


@dataclass
class CheckRunOutcome:
    """What posting the check run did: ``check_run_id``/``url`` when created, ``annotations``
    sent, ``error`` (text) when a request failed, ``forbidden`` when the token may not write
    checks."""

    check_run_id: int | None = None
    url: str | None = None
    annotations: int = 0
    error: str | None = None
    forbidden: bool = False


def annotation(f: Finding) -> dict[str, Any]:
    """One check-run annotation for a finding: ``failure`` for critical and high,
    ``warning`` for medium, ``notice`` below. A finding without a line points at line 1
    (GitHub requires ``start_line``); lines are the head commit's, on or off the diff."""
    from tokyo_cli.github.action import finding_text
    from tokyo_cli.report import clean_text, one_line

    start = f.line or f.file_line or 1
    end = f.end_line if f.end_line and f.end_line >= start and f.line else start
    return {
        "path": f.path,
        "start_line": start,
        "end_line": end,
        "annotation_level": _LEVEL.get(f.severity, "notice"),
        "title": one_line(clean_text(f"tokyo {f.severity.value}: {f.title}"))[:255],
        "message": one_line(clean_text(finding_text(f)))[:4000],
    }


def check_run_requests(
    result: RunResult, head_sha: str, *, details_url: str | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(create, updates)``: the "Create a check run" body (completed, with the first 50
    annotations) and one "Update a check run" body per further 50.

    ``conclusion`` is ``failure`` when a finding is at or above the run's ``fail_on`` (the
    step's exit code 1), ``neutral`` for a partial or failed run without one, else
    ``success``. Dismissed findings and those below the display threshold are left out.
    """
    from tokyo_cli.policy import rank_key
    from tokyo_cli.report import shown_findings

    shown, _ = shown_findings(result)
    ranked = sorted((f for f in shown if f.status != "dismissed"), key=rank_key)
    notes = [annotation(f) for f in ranked[:MAX_ANNOTATIONS]]
    blocking = [f for f in result.blocking() if f.status != "dismissed"]
    conclusion = "failure" if blocking else ("success" if result.status == "completed" else "neutral")
    counts = ", ".join(f"{n} {sev}" for sev, n in result.severity_counts().items() if n) or "no findings"
    title = f"{len(blocking)} blocking finding(s)" if blocking else f"{len(ranked)} finding(s), none blocking"
    summary = (
        f"tokyo review ({result.status}): {counts}; fail-on {result.fail_on.value}.\n\n"
        f"{len(notes)} annotation(s) on the head commit"
    )
    if len(ranked) > len(notes):
        summary += f"; {len(ranked) - len(notes)} more finding(s) are in the job summary and the SARIF file"
    summary = summary[:MAX_SUMMARY]
    output = {"title": title, "summary": summary}
    create: dict[str, Any] = {
        "name": CHECK_NAME,
        "head_sha": head_sha,
        "status": "completed",
        "conclusion": conclusion,
        "output": {**output, "annotations": notes[:PER_REQUEST]},
    }
    if details_url:
        create["details_url"] = details_url
    updates = [
        {"output": {**output, "annotations": notes[i : i + PER_REQUEST]}}
        for i in range(PER_REQUEST, len(notes), PER_REQUEST)
    ]
    return create, updates


def post_check_run(
    client: Any, owner: str, repo: str, result: RunResult, head_sha: str, *, details_url: str | None = None
) -> CheckRunOutcome:
    """Create the check run and add the remaining annotations. Never raises for a GitHub
    failure: the outcome's ``error`` says what failed (``forbidden`` for a token without
    ``checks: write``), and the annotations sent so far stay."""
    from tokyo_cli.github.client import GitHubError

    out = CheckRunOutcome()
    create, updates = check_run_requests(result, head_sha, details_url=details_url)
    try:
        made = client.create_check_run(owner, repo, create)
        out.check_run_id, out.url = int(made["id"]), made.get("html_url")
        out.annotations = len(create["output"]["annotations"])
        for body in updates:
            client.update_check_run(owner, repo, out.check_run_id, body)
            out.annotations += len(body["output"]["annotations"])
    except GitHubError as exc:
        out.error, out.forbidden = str(exc), exc.forbidden
    except (KeyError, TypeError, ValueError):
        out.error = "GitHub API: the created check run has no id"
    return out
