"""``tokyo eval``: score a workflow on a labelled corpus (docs/EVAL.md)."""

from __future__ import annotations

import json
import sys
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import typer

from tokyo_cli.cli.common import DbOption, console, settings_for, warn_plugins
from tokyo_cli.safety.textsafe import clean_text

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tokyo_cli.engine.evaluation import CaseResult, Counts, EvalReport, Scores

HELP = """Measure a workflow on a labelled corpus: precision, recall and F1 per agent,
category and CWE, and TPR-FPR per category.

CORPUS is a directory with corpus.yaml (format: docs/EVAL.md) or a packaged corpus:
security (Python web code, 13 CWEs, vulnerable cases and safe look-alikes) or seeded (the
analyzer benchmark's seeded bugs, every agent).

  tokyo eval security -w security              offline unless a provider key is set
  tokyo eval security --baseline bandit        plain `bandit -r` scored alongside
  tokyo eval ./my-corpus --model gpt-4o-mini --max-cost 2 --min-f1 0.6

Each case is reviewed like `tokyo review --base main` (nothing is saved to history; the
response cache is used). Exit codes: 0 scored, gates met; 1 a --min-f1/--min-recall gate
failed; 2 a malformed corpus or a label outside its change; 3 the run failed.
"""


class EvalFormat(str, Enum):
    terminal = "terminal"
    json = "json"


def eval_command(
    corpus: Annotated[str, typer.Argument(help="Corpus directory, or a packaged corpus name (security, seeded).")],
    workflow: Annotated[
        str | None, typer.Option("--workflow", "-w", help="Workflow name or YAML file. [default: review]")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="litellm model id for every agent (or TOKYO_MODEL).")
    ] = None,
    api_base: Annotated[
        str | None, typer.Option("--api-base", metavar="URL", help="OpenAI-compatible server for all calls.")
    ] = None,
    offline: Annotated[bool | None, typer.Option("--offline", help="Analyzers only; no provider calls.")] = None,
    max_cost: Annotated[
        float | None,
        typer.Option("--max-cost", metavar="USD", min=0, help="Hard cost cap for the whole corpus."),
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Ignore stored answers; call the models.")] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, max=64, help="Cases reviewed at the same time.")] = 4,
    agent: Annotated[
        list[str] | None,
        typer.Option("--agent", metavar="ID", help="Score only this agent's findings (repeatable)."),
    ] = None,
    case: Annotated[
        list[str] | None, typer.Option("--case", metavar="NAME", help="Only this case (repeatable).")
    ] = None,
    baseline: Annotated[
        str | None, typer.Option("--baseline", metavar="TOOL", help="Also score plain `bandit -r` (bandit).")
    ] = None,
    fmt: Annotated[EvalFormat, typer.Option("--format", "-f", help="Output format.")] = EvalFormat.terminal,
    min_f1: Annotated[
        float | None, typer.Option("--min-f1", metavar="X", min=0, max=1, help="Exit 1 when overall F1 < X.")
    ] = None,
    min_recall: Annotated[
        float | None, typer.Option("--min-recall", metavar="X", min=0, max=1, help="Exit 1 when recall < X.")
    ] = None,
    db: DbOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
) -> int:
    from tokyo_cli.engine.evaluation import EvalOptions, gate_failures, load_corpus, run_eval

    if baseline is not None and baseline != "bandit":
        from tokyo_cli.errors import ConfigError

        raise ConfigError(f"--baseline: unknown tool {baseline!r} (supported: bandit)")
    loaded = load_corpus(corpus)
    warn_plugins()
    settings = settings_for(
        workflow=workflow,
        model=model,
        api_base=api_base,
        offline=offline,
        db=db,
        max_cost=max_cost,
        cache=False if no_cache else None,
    )
    from tokyo_cli.engine.early import start_import_early

    start_import_early(settings)
    err = sys.stderr

    def progress(done: int, total: int, r: CaseResult) -> None:
        if quiet:
            return
        note = f" ({r.error})" if r.error else ""
        err.write(
            f"[{done}/{total}] {clean_text(r.name)}: {r.tp} TP, {len(r.false_positives)} FP, {r.fn} FN "
            f"({r.seconds:.1f} s){note}\n"
        )
        err.flush()

    report = run_eval(
        loaded,
        settings,
        EvalOptions(jobs=jobs, agents=list(agent or []), baseline=baseline, only_cases=list(case or [])),
        progress,
    )
    if fmt is EvalFormat.json:
        sys.stdout.write(json.dumps(report.as_dict(), indent=2) + "\n")
    else:
        render_terminal(report)
    failures = gate_failures(report, min_f1, min_recall)
    for line in failures:
        err.write(f"tokyo: gate failed: {line}\n")
    return 1 if failures else 0


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _counts_table(title: str, rows: Mapping[str, Counts], first: str) -> object:
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    t.add_column(first)
    for col in ("TP", "FP", "FN", "precision", "recall", "F1"):
        t.add_column(col, justify="right")
    for key, c in rows.items():
        t.add_row(key, str(c.tp), str(c.fp), str(c.fn), _pct(c.precision), _pct(c.recall), _pct(c.f1))
    return t


def render_terminal(report: EvalReport) -> None:
    from rich.table import Table

    from tokyo_cli.engine.evaluation import corpus_stats

    out = console()
    data = report.as_dict()["corpus"]
    mode = "offline (analyzers only)" if report.offline else "with models"
    out.print(
        f"corpus {report.corpus.name} (v{data['version']}, {data['format']}): {data['cases']} cases, "
        f"{data['vulnerable_cases']} vulnerable, {data['safe_cases']} safe, {data['labels']} labels; "
        f"workflow {report.workflow}, {mode}; {report.seconds:.1f} s, ${report.cost_usd:.4f}"
    )
    s = report.tokyo
    out.print(_counts_table("tokyo: overall", {"all": s.overall}, ""))
    out.print(_counts_table("tokyo: per agent", s.by_agent, "agent"))
    out.print(_counts_table("tokyo: per category", s.by_category, "category"))
    out.print(_counts_table("tokyo: per CWE", s.by_cwe, "CWE"))
    systems: list[tuple[str, Scores]] = [("tokyo", s)] + ([("bandit", report.baseline)] if report.baseline else [])
    if any(sc.rates_by_category for _, sc in systems):
        unit = "file" if report.corpus.format == "files" else "case"
        t = Table(title=f"TPR - FPR per category ({unit}s)", title_justify="left")
        t.add_column("category")
        t.add_column("vuln", justify="right")
        t.add_column("safe", justify="right")
        for name, _ in systems:
            for col in ("TPR", "FPR", "TPR-FPR"):
                t.add_column(f"{name} {col}", justify="right")
        stats = corpus_stats(report.corpus)
        keys = list(dict.fromkeys(k for _, sc in systems for k in sc.rates_by_category))
        for key in keys:
            row = [key, str(stats.get(key, {}).get("vulnerable", 0)), str(stats.get(key, {}).get("safe", 0))]
            for _, sc in systems:
                r = sc.rates_by_category.get(key)
                if r is None:
                    row += ["-", "-", "-"]
                else:
                    row += [_pct(r.tpr), _pct(r.fpr), _pct((r.tpr or 0.0) - (r.fpr or 0.0))]
            t.add_row(*row)
        out.print(t)
    if report.baseline is not None:
        b = report.baseline
        t = Table(title="per CWE: tokyo vs plain bandit", title_justify="left")
        t.add_column("CWE")
        for name in ("tokyo", "bandit"):
            for col in ("TP", "FP", "FN", "P", "R", "F1"):
                t.add_column(f"{name} {col}", justify="right")
        keys = list(dict.fromkeys([*s.by_cwe, *b.by_cwe]))
        from tokyo_cli.engine.evaluation import Counts

        for key in [*keys, "all"]:
            row = [key]
            for sc in (s, b):
                c = sc.overall if key == "all" else sc.by_cwe.get(key, Counts())
                row += [str(c.tp), str(c.fp), str(c.fn), _pct(c.precision), _pct(c.recall), _pct(c.f1)]
            t.add_row(*row)
        out.print(t)
    for note in report.notices:
        console(stderr=True).print(f"[yellow]note:[/] {note}")
