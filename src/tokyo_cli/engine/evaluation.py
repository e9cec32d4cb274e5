"""``tokyo eval``: run a workflow over a labelled corpus and score what it finds.

The corpus format, the matching rule and the scores are documented in docs/EVAL.md. In
short: a corpus is a directory with ``corpus.yaml`` (``version: 1``). Case corpora hold one
directory per case — a git change (``base/`` + ``head/`` trees, or ``base/`` +
``change.patch``) and ``expected.yaml`` listing the findings that must be found. File-level
corpora hold a tree of files and a CSV ``file,category,is_vulnerable,cwe``, scored per file.

Every case becomes a temporary git repository (base committed on ``main``, head on a branch)
reviewed with ``--base main`` through :func:`tokyo_cli.engine.review.prepare_review` and
:func:`tokyo_cli.engine.review.run_review`: the same machinery as ``tokyo review`` (analyzers,
models, response cache, cost cap), nothing stored in history. This module prints nothing
and imports no typer or rich; ``cli/eval.py`` renders the :class:`EvalReport`.
"""

from __future__ import annotations

import asyncio
import csv
import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokyo_cli.errors import ConfigError
from tokyo_cli.findings import Finding

CORPUS_VERSION = 1
PACKAGED = Path(__file__).resolve().parents[1] / "eval_corpora"  # src/tokyo_cli/eval_corpora
_CWE_TEXT = re.compile(r"\bCWE-(\d+)\b")
_GIT_ID = [
    "-c",
    "user.name=tokyo-eval",
    "-c",
    "user.email=eval@tokyo.invalid",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "init.defaultBranch=main",
]


class CorpusError(ConfigError):
    """A malformed corpus or case (exit 2)."""


# ----------------------------------------------------------------------------- corpus


@dataclass
class Label:
    """One expected finding. ``start``/``end`` ``None``: any line of ``path`` (file level).
    ``vulnerable`` is False only for the safe rows of a file-level CSV."""

    path: str
    start: int | None = None
    end: int | None = None
    cwe: int | None = None
    category: str | None = None
    agent: str | None = None
    vulnerable: bool = True

    def describe(self) -> str:
        where = (
            self.path
            if self.start is None
            else (
                f"{self.path}:{self.start}"
                if self.end in (None, self.start)
                else f"{self.path}:{self.start}-{self.end}"
            )
        )
        what = [f"CWE-{self.cwe}"] if self.cwe is not None else []
        what += [self.category] if self.category else []
        what += [f"agent {self.agent}"] if self.agent else []
        return f"{where} ({', '.join(what)})" if what else where


@dataclass
class Case:
    """One change to review, or (file-level corpora) the whole tree as one change."""

    name: str
    base: Path | None
    head: Path | None = None
    patch: Path | None = None
    labels: list[Label] = field(default_factory=list)
    cwe: int | None = None  # what a clean case is a look-alike of (per-CWE false positive rate)
    category: str | None = None
    per_file: bool = False  # a file-level corpus: scored per file


@dataclass
class Corpus:
    root: Path
    name: str
    format: str  # "cases" | "files"
    cases: list[Case]
    equivalences: dict[int, int] = field(default_factory=dict)  # CWE -> its class representative

    def canon(self, cwe: int) -> int:
        return self.equivalences.get(cwe, cwe)


def packaged_corpora() -> list[str]:
    """Names of the corpora shipped with tokyo (``tokyo eval NAME``)."""
    if not PACKAGED.is_dir():
        return []
    return sorted(p.name for p in PACKAGED.iterdir() if (p / "corpus.yaml").is_file())


def resolve_corpus(spec: str) -> Path:
    """A corpus directory from a path, or the name of a packaged corpus."""
    path = Path(spec)
    if (path / "corpus.yaml").is_file():
        return path.resolve()
    if "/" not in spec and (PACKAGED / spec / "corpus.yaml").is_file():
        return PACKAGED / spec
    names = ", ".join(packaged_corpora()) or "none"
    raise CorpusError(f"no corpus at {spec} (a directory with corpus.yaml, or a packaged corpus: {names})")


def _yaml(path: Path) -> Any:
    import yaml

    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CorpusError(f"cannot read {path}: {exc}") from None


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise CorpusError(f"{what}: expected a number, got {value!r}")
    if isinstance(value, str):
        value = value.strip().upper().removeprefix("CWE-")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise CorpusError(f"{what}: expected a number, got {value!r}") from None


def _equivalences(raw: Any, where: Path) -> dict[int, int]:
    """``[[95, 94], ...]`` (each group equivalent; the first is the representative)."""
    out: dict[int, int] = {}
    for group in raw or []:
        if not isinstance(group, list) or len(group) < 2:
            raise CorpusError(f"{where}: equivalences: each entry is a list of two or more CWE ids")
        ids = [_int(g, f"{where}: equivalences") for g in group]
        rep = out.get(ids[0], ids[0])
        for i in ids:
            out[i] = rep
    return out


def parse_label(raw: Any, where: str) -> Label:
    if not isinstance(raw, dict) or not isinstance(raw.get("path"), str) or not raw["path"].strip():
        raise CorpusError(f"{where}: each expected finding needs a path")
    start = end = None
    if raw.get("lines") is not None:
        lines = raw["lines"]
        if not isinstance(lines, list) or len(lines) != 2:
            raise CorpusError(f"{where}: lines: [start, end]")
        start, end = _int(lines[0], f"{where}: lines"), _int(lines[1], f"{where}: lines")
        if end < start:
            raise CorpusError(f"{where}: lines: end {end} before start {start}")
    elif raw.get("line") is not None:
        start = end = _int(raw["line"], f"{where}: line")
    cwe = _int(raw["cwe"], f"{where}: cwe") if raw.get("cwe") is not None else None
    category = str(raw["category"]).strip().lower() if raw.get("category") else None
    agent = str(raw["agent"]).strip().lower() if raw.get("agent") else None
    return Label(path=raw["path"].strip(), start=start, end=end, cwe=cwe, category=category, agent=agent)


def load_corpus(spec: str | Path) -> Corpus:
    """Read a corpus (a path or a packaged name); raises CorpusError naming what is wrong."""
    root = resolve_corpus(str(spec))
    meta = _yaml(root / "corpus.yaml")
    if not isinstance(meta, dict):
        raise CorpusError(f"{root / 'corpus.yaml'}: expected a mapping")
    if meta.get("version") != CORPUS_VERSION:
        raise CorpusError(
            f"{root / 'corpus.yaml'}: version {meta.get('version')!r} is not supported "
            f"(this tokyo reads version {CORPUS_VERSION})"
        )
    eq = _equivalences(meta.get("equivalences"), root / "corpus.yaml")
    fmt = str(meta.get("format", "cases"))
    name = str(meta.get("name") or root.name)
    if fmt == "files":
        return Corpus(root, name, fmt, [_files_case(root, meta)], eq)
    if fmt != "cases":
        raise CorpusError(f"{root / 'corpus.yaml'}: format must be 'cases' or 'files', not {fmt!r}")
    shared = root / str(meta["base"]) if meta.get("base") else None
    if shared is not None and not shared.is_dir():
        raise CorpusError(f"{root / 'corpus.yaml'}: base {meta['base']!r} is not a directory")
    cases = []
    for d in sorted(p for p in root.iterdir() if p.is_dir() and (p / "expected.yaml").is_file()):
        cases.append(_case(d, shared))
    if not cases:
        raise CorpusError(f"{root}: no cases (directories with expected.yaml)")
    return Corpus(root, name, fmt, cases, eq)


def _case(d: Path, shared: Path | None) -> Case:
    where = f"case {d.name}"
    data = _yaml(d / "expected.yaml")
    if isinstance(data, list):
        data = {"expected": data}
    if not isinstance(data, dict) or not isinstance(data.get("expected"), list):
        raise CorpusError(f"{where}: expected.yaml needs 'expected: [...]' (empty for a clean case)")
    labels = [parse_label(item, f"{where}: expected[{i}]") for i, item in enumerate(data["expected"])]
    base = d / "base" if (d / "base").is_dir() else shared
    head = d / "head" if (d / "head").is_dir() else None
    patch = d / "change.patch" if (d / "change.patch").is_file() else None
    if (head is None) == (patch is None):
        raise CorpusError(f"{where}: needs exactly one of head/ and change.patch")
    cwe = _int(data["cwe"], f"{where}: cwe") if data.get("cwe") is not None else None
    category = str(data["category"]).strip().lower() if data.get("category") else None
    return Case(d.name, base, head, patch, labels, cwe, category)


def _files_case(root: Path, meta: dict[str, Any]) -> Case:
    tree = root / str(meta.get("tree", "tree"))
    table = root / str(meta.get("labels", "labels.csv"))
    if not tree.is_dir() or not table.is_file():
        raise CorpusError(
            f"{root / 'corpus.yaml'}: a file-level corpus needs its tree ({tree.name}/) and labels ({table.name})"
        )
    labels = []
    with table.open(encoding="utf-8", newline="") as fh:
        for n, row in enumerate(csv.DictReader(fh), 2):
            where = f"{table.name}:{n}"
            path = (row.get("file") or "").strip()
            if not path or not (tree / path).is_file():
                raise CorpusError(f"{where}: no file {path!r} under {tree.name}/")
            vuln = (row.get("is_vulnerable") or "").strip().lower()
            if vuln not in ("true", "false", "1", "0", "yes", "no"):
                raise CorpusError(f"{where}: is_vulnerable must be true or false")
            cwe = _int(row["cwe"], f"{where}: cwe") if (row.get("cwe") or "").strip() else None
            category = (row.get("category") or "").strip().lower() or None
            if cwe is None and category is None:
                raise CorpusError(f"{where}: a row needs a cwe or a category")
            labels.append(Label(path=path, cwe=cwe, category=category, vulnerable=vuln in ("true", "1", "yes")))
    return Case(root.name, None, head=tree, labels=labels, per_file=True)


# ----------------------------------------------------------------------------- matching


def finding_cwes(finding: Finding) -> list[int]:
    """``finding.cwe``; when empty, the ``CWE-n`` references of its rule, title and body
    (bandit's findings cite ``CWE-78`` in the body)."""
    if getattr(finding, "cwe", None):
        return list(finding.cwe)
    text = " ".join(t for t in (finding.rule or "", finding.title, finding.body) if t)
    return sorted({int(m) for m in _CWE_TEXT.findall(text)})


def matches(label: Label, finding: Finding, canon: Callable[[int], int]) -> bool:
    """docs/EVAL.md "Matching": same file; a line in the label's range (any line for a
    file-level label); CWE equal after equivalences, else (label without CWE) category equal;
    the agent, when the label names one."""
    if finding.path != label.path:
        return False
    if label.start is not None:
        if finding.line is None:
            return False
        lo, hi = finding.line, max(finding.end_line or finding.line, finding.line)
        if hi < label.start or lo > (label.end or label.start):
            return False
    if label.agent is not None and label.agent not in (finding.agents or [finding.agent]):
        return False
    if label.cwe is not None:
        return canon(label.cwe) in {canon(c) for c in finding_cwes(finding)}
    if label.category is not None:
        return finding.category.strip().lower() == label.category
    return True


@dataclass
class CaseResult:
    name: str
    labels: list[Label]
    found: list[Finding]
    matched: list[bool]  # per label
    false_positives: list[Finding]
    seconds: float = 0.0
    error: str | None = None
    cost_usd: float = 0.0
    case: Case | None = None

    @property
    def tp(self) -> int:
        return sum(1 for lab, m in zip(self.labels, self.matched) if m and lab.vulnerable)

    @property
    def fn(self) -> int:
        return sum(1 for lab, m in zip(self.labels, self.matched) if not m and lab.vulnerable)


def score_case(case: Case, found: list[Finding], canon: Callable[[int], int]) -> CaseResult:
    """A finding matching a (vulnerable) label is a true positive for it; one matching none
    is a false positive; a label no finding matches is a false negative. Several findings
    on one label count once. Safe rows of a file-level CSV are no labels to find: a finding
    on such a file is a false positive like any other unmatched one."""
    vulnerable = [lab for lab in case.labels if lab.vulnerable]
    matched = [any(matches(lab, f, canon) for f in found) for lab in case.labels]
    fps = [f for f in found if not any(matches(lab, f, canon) for lab in vulnerable)]
    return CaseResult(case.name, case.labels, found, matched, fps, case=case)


# ----------------------------------------------------------------------------- scores


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": _r(self.precision),
            "recall": _r(self.recall),
            "f1": _r(self.f1),
        }


@dataclass
class Rates:
    """Per-unit (file, or case) detection: a vulnerable unit is flagged when its label is
    found; a safe unit when a finding of its CWE/category sits on it."""

    vulnerable: int = 0
    flagged_vulnerable: int = 0
    safe: int = 0
    flagged_safe: int = 0

    @property
    def tpr(self) -> float | None:
        return self.flagged_vulnerable / self.vulnerable if self.vulnerable else None

    @property
    def fpr(self) -> float | None:
        return self.flagged_safe / self.safe if self.safe else None

    def as_dict(self) -> dict[str, Any]:
        tpr, fpr = self.tpr, self.fpr
        return {
            "vulnerable": self.vulnerable,
            "flagged_vulnerable": self.flagged_vulnerable,
            "safe": self.safe,
            "flagged_safe": self.flagged_safe,
            "tpr": _r(tpr),
            "fpr": _r(fpr),
            "tpr_minus_fpr": _r((tpr or 0.0) - (fpr or 0.0)) if tpr is not None or fpr is not None else None,
        }


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


NONE_KEY = "-"


@dataclass
class Scores:
    overall: Counts
    by_agent: dict[str, Counts]
    by_category: dict[str, Counts]
    by_cwe: dict[str, Counts]
    rates_by_category: dict[str, Rates]  # key: "CWE-n" when the label has one, else the category
    cases: list[CaseResult]

    def as_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.as_dict(),
            "by_agent": {k: v.as_dict() for k, v in self.by_agent.items()},
            "by_category": {k: v.as_dict() for k, v in self.by_category.items()},
            "by_cwe": {k: v.as_dict() for k, v in self.by_cwe.items()},
            "rates_by_category": {k: v.as_dict() for k, v in self.rates_by_category.items()},
            "cases": [_case_dict(c) for c in self.cases],
        }


def _case_dict(c: CaseResult) -> dict[str, Any]:
    return {
        "name": c.name,
        "tp": c.tp,
        "fp": len(c.false_positives),
        "fn": c.fn,
        "seconds": round(c.seconds, 2),
        "error": c.error,
        "missed": [lab.describe() for lab, m in zip(c.labels, c.matched) if not m and lab.vulnerable],
        "false_positives": [
            {
                "location": f.location,
                "agent": f.agent,
                "rule": f.rule,
                "category": f.category,
                "cwe": finding_cwes(f),
                "title": f.title,
            }
            for f in c.false_positives
        ],
    }


def _cwe_key(cwe: int | None, canon: Callable[[int], int]) -> str:
    return NONE_KEY if cwe is None else f"CWE-{canon(cwe)}"


def aggregate(results: list[CaseResult], canon: Callable[[int], int]) -> Scores:
    """Totals per agent, category and CWE (findings' own agent/category/CWE for false
    positives; the label's, else the matching finding's, for true positives and misses)."""
    overall = Counts()
    by_agent: dict[str, Counts] = {}
    by_cat: dict[str, Counts] = {}
    by_cwe: dict[str, Counts] = {}
    rates: dict[str, Rates] = {}

    def bump(table: dict[str, Counts], key: str, attr: str) -> None:
        c = table.setdefault(key, Counts())
        setattr(c, attr, getattr(c, attr) + 1)

    for res in results:
        for lab, hit in zip(res.labels, res.matched):
            if not lab.vulnerable:
                continue
            attr = "tp" if hit else "fn"
            overall.tp += hit
            overall.fn += not hit
            who = lab.agent
            cat = lab.category
            if hit and (who is None or cat is None):
                first = next(f for f in res.found if matches(lab, f, canon))
                who, cat = who or first.agent, cat or first.category.strip().lower()
            bump(by_agent, who or NONE_KEY, attr)
            bump(by_cat, cat or ("security" if lab.cwe is not None else NONE_KEY), attr)
            bump(by_cwe, _cwe_key(lab.cwe, canon), attr)
        for f in res.false_positives:
            overall.fp += 1
            bump(by_agent, f.agent, "fp")
            bump(by_cat, f.category.strip().lower() or NONE_KEY, "fp")
            cwes = sorted({canon(c) for c in finding_cwes(f)})
            for c in cwes or [None]:  # type: ignore[list-item]
                bump(by_cwe, _cwe_key(c, canon), "fp")
        _rates(res, canon, rates)
    return Scores(overall, _sorted(by_agent), _sorted(by_cat), _sorted(by_cwe), _sorted(rates), results)


def _sorted(d: dict[str, Any]) -> dict[str, Any]:
    def key(k: str) -> tuple[int, int, str]:
        m = re.fullmatch(r"CWE-(\d+)", k)
        return (k == NONE_KEY, int(m.group(1)) if m else 0, k)

    return {k: d[k] for k in sorted(d, key=key)}


def _unit_key(cwe: int | None, category: str | None, canon: Callable[[int], int]) -> str | None:
    if cwe is not None:
        return f"CWE-{canon(cwe)}"
    return category


def _flags(f: Finding, key: str, canon: Callable[[int], int]) -> bool:
    if key.startswith("CWE-"):
        return int(key[4:]) in {canon(c) for c in finding_cwes(f)}
    return f.category.strip().lower() == key


def _rates(res: CaseResult, canon: Callable[[int], int], rates: dict[str, Rates]) -> None:
    """Per file for a file-level corpus, else per case."""
    case = res.case
    if case is not None and case.per_file:
        for lab, hit in zip(res.labels, res.matched):
            key = _unit_key(lab.cwe, lab.category, canon)
            if key is None:
                continue
            r = rates.setdefault(key, Rates())
            if lab.vulnerable:
                r.vulnerable += 1
                r.flagged_vulnerable += hit
            else:
                r.safe += 1
                r.flagged_safe += any(f.path == lab.path and _flags(f, key, canon) for f in res.found)
        return
    vulnerable = [lab for lab in res.labels if lab.vulnerable]
    if vulnerable:
        for key in {_unit_key(lab.cwe, lab.category, canon) for lab in vulnerable} - {None}:
            r = rates.setdefault(key, Rates())  # type: ignore[arg-type]
            r.vulnerable += 1
            r.flagged_vulnerable += any(
                m for lab, m in zip(res.labels, res.matched) if _unit_key(lab.cwe, lab.category, canon) == key
            )
    elif case is not None:
        key = _unit_key(case.cwe, case.category, canon)
        if key is not None:
            r = rates.setdefault(key, Rates())
            r.safe += 1
            r.flagged_safe += any(_flags(f, key, canon) for f in res.found)


# ----------------------------------------------------------------------------- running


def _git(root: Path, *args: str) -> str:
    import os

    # Fixed author, committer and dates: the same case gives the same commit ids on every run,
    # so the prompts (which name the merge-base) and the response cache keys repeat.
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "tokyo-eval",
        "GIT_AUTHOR_EMAIL": "eval@tokyo.invalid",
        "GIT_COMMITTER_NAME": "tokyo-eval",
        "GIT_COMMITTER_EMAIL": "eval@tokyo.invalid",
        "GIT_AUTHOR_DATE": "2000-01-01T00:00:00+0000",
        "GIT_COMMITTER_DATE": "2000-01-01T00:00:00+0000",
    }
    proc = subprocess.run(["git", *_GIT_ID, *args], cwd=root, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise CorpusError(f"git {args[0]} failed in {root.name}: {proc.stderr.strip().splitlines()[-1:]}")
    return proc.stdout


def _copy_tree(src: Path, dst: Path) -> None:
    for p in sorted(src.rglob("*")):
        rel = p.relative_to(src)
        if ".git" in rel.parts:
            continue
        target = dst / rel
        if p.is_symlink():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(p.readlink())
        elif p.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, target)


def build_repo(case: Case, root: Path) -> Path:
    """The case as a git repository: base committed on ``main``, head on branch ``head``
    (checked out)."""
    root.mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    if case.base is not None:
        _copy_tree(case.base, root)
    (root / ".tokyo-eval-base").write_text("base\n", encoding="utf-8")  # main is never an empty commit
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "base")
    _git(root, "checkout", "-q", "-b", "head")
    if case.patch is not None:
        _git(root, "apply", "--whitespace=nowarn", str(case.patch.resolve()))
    else:
        assert case.head is not None
        for p in sorted(root.iterdir()):
            if p.name in (".git", ".tokyo-eval-base"):
                continue
            shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
        _copy_tree(case.head, root)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "--allow-empty", "-m", "head")
    return root


def check_labels(case: Case, changeset: Any) -> None:
    """Every label must sit on the change: its file changed (a line label: not deleted, and
    at least one added line of the head version in its range). Raises CorpusError."""
    files = {f.path: f for f in changeset.files}
    for lab in case.labels:
        change = files.get(lab.path)
        if change is not None and change.status == "deleted" and lab.start is not None:
            raise CorpusError(f"case {case.name}: label {lab.describe()} is on a file the change deletes")
        if change is None:
            if lab.vulnerable or lab.start is not None:
                raise CorpusError(f"case {case.name}: label {lab.describe()} is on a file the change does not touch")
            continue
        if lab.start is None:
            continue
        if not any(n in change.added_lines for n in range(lab.start, (lab.end or lab.start) + 1)):
            raise CorpusError(
                f"case {case.name}: label {lab.describe()} is outside the change "
                "(no added line of the head version there)"
            )


@dataclass
class EvalOptions:
    jobs: int = 4
    agents: list[str] = field(default_factory=list)  # score only these agents' findings (empty: all)
    baseline: str | None = None  # "bandit"
    only_cases: list[str] = field(default_factory=list)


@dataclass
class EvalReport:
    corpus: Corpus
    workflow: str
    offline: bool
    tokyo: Scores
    baseline: Scores | None = None
    seconds: float = 0.0
    cost_usd: float = 0.0
    notices: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        vulnerable = sum(1 for c in self.corpus.cases if any(lab.vulnerable for lab in c.labels))
        out: dict[str, Any] = {
            "corpus": {
                "name": self.corpus.name,
                "path": str(self.corpus.root),
                "format": self.corpus.format,
                "version": CORPUS_VERSION,
                "cases": len(self.corpus.cases),
                "vulnerable_cases": vulnerable,
                "safe_cases": len(self.corpus.cases) - vulnerable,
                "labels": sum(1 for c in self.corpus.cases for lab in c.labels if lab.vulnerable),
            },
            "workflow": self.workflow,
            "offline": self.offline,
            "seconds": round(self.seconds, 1),
            "cost_usd": round(self.cost_usd, 6),
            "notices": self.notices,
            "tokyo": self.tokyo.as_dict(),
        }
        if self.baseline is not None:
            out["baseline"] = {"tool": "bandit", **self.baseline.as_dict()}
        return out


Progress = Callable[[int, int, CaseResult], None]


def run_eval(corpus: Corpus, settings: Any, options: EvalOptions, progress: Progress | None = None) -> EvalReport:
    """Review every case of ``corpus`` (at most ``options.jobs`` at a time) and score it.

    All repositories are built and their labels checked before any review starts, so a
    malformed case fails fast. One cost cap (``settings.max_cost``) spans the whole corpus.

    Raises:
        CorpusError: a case cannot be built, or a label sits outside its change (exit 2).
    """
    from tokyo_cli.engine.review import ReviewRequest, make_budget, prepare_review

    cases = [c for c in corpus.cases if not options.only_cases or c.name in options.only_cases]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tokyo-eval-") as tmp:
        prepared = []
        for i, case in enumerate(cases):
            repo = build_repo(case, Path(tmp) / f"{i:04d}")
            prep = prepare_review(ReviewRequest(repo=repo, base="main"), settings)
            check_labels(case, prep.changeset)
            prepared.append(prep)
        # --max-cost caps the whole corpus (one Budget, one event loop); without it each case
        # keeps its workflow's own per-run budget.
        budget = make_budget(prepared[0], settings) if prepared and settings.max_cost is not None else None
        results = asyncio.run(_review_all(cases, prepared, settings, options, budget, corpus.canon, progress))
        baseline = None
        if options.baseline == "bandit":
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:  # one bandit process each
                found = list(pool.map(lambda p: bandit_findings(p.root), prepared))
            base_results = [score_case(c, f, corpus.canon) for c, f in zip(cases, found)]
            baseline = aggregate(base_results, corpus.canon)
    notices = []
    if budget is not None and budget.refused:
        notices.append(f"cost cap ${budget.max_cost_usd:.2f} reached: {budget.refused} call(s) not started")
    errors = [r for r in results if r.error]
    if errors:
        notices.append(f"{len(errors)} case(s) had failed steps: " + ", ".join(r.name for r in errors[:10]))
    return EvalReport(
        corpus,
        prepared[0].workflow.name if prepared else settings.workflow,
        bool(settings.offline),
        aggregate(results, corpus.canon),
        baseline,
        time.perf_counter() - started,
        sum(r.cost_usd for r in results),
        notices,
    )


async def _review_all(
    cases: list[Case],
    prepared: list[Any],
    settings: Any,
    options: EvalOptions,
    budget: Any,
    canon: Callable[[int], int],
    progress: Progress | None,
) -> list[CaseResult]:
    from tokyo_cli.engine.review import run_review

    gate = asyncio.Semaphore(max(1, options.jobs))
    done = 0

    async def one(case: Case, prep: Any) -> CaseResult:
        nonlocal done
        async with gate:
            t0 = time.perf_counter()
            outcome = await run_review(prep, settings, store=False, budget=budget)
            result = outcome.result
            found = [f for f in result.findings if not options.agents or f.agent in options.agents]
            res = score_case(case, found, canon)
            res.seconds = time.perf_counter() - t0
            res.cost_usd = result.cost_usd or 0.0
            failed = [s for s in result.steps if s.status in ("partial", "failed")]
            if failed:
                res.error = "; ".join(f"{s.step_id}: {s.status}" for s in failed)
        done += 1
        if progress is not None:
            progress(done, len(cases), res)
        return res

    return list(await asyncio.gather(*(one(c, p) for c, p in zip(cases, prepared))))


# ----------------------------------------------------------------------------- baseline


def bandit_findings(tree: Path, timeout_s: float = 120) -> list[Finding]:
    """Plain ``bandit -r`` (default tests and settings) over the head tree, as findings
    carrying bandit's ``issue_cwe``."""
    from tokyo_cli.findings import Severity
    from tokyo_cli.safety.isolation import python_command, run_isolated

    proc = run_isolated([*python_command("bandit"), "-f", "json", "-q", "-r", str(tree.resolve())], timeout_s=timeout_s)
    try:
        report = json.loads(proc.stdout.decode("utf-8", errors="replace") or "{}")
    except json.JSONDecodeError:
        raise ConfigError(
            f"bandit produced no report: {proc.stderr.decode(errors='replace')[-300:]}", exit_code=3
        ) from None
    out = []
    prefix = str(tree.resolve()) + "/"
    for r in report.get("results", []):
        path = str(r.get("filename", "")).removeprefix(prefix)
        cwe = (r.get("issue_cwe") or {}).get("id")
        out.append(
            Finding(
                path=path,
                line=int(r.get("line_number") or 0) or None,
                severity=Severity.LOW,
                category="security",
                title=str(r.get("issue_text", ""))[:200],
                agent="bandit",
                source="analyzer",
                rule=f"bandit:{r.get('test_id')}",
                cwe=[int(cwe)] if cwe else [],
            )
        )
    return out


def gate_failures(report: EvalReport, min_f1: float | None, min_recall: float | None) -> list[str]:
    """The ``--min-f1`` / ``--min-recall`` gates that failed (overall scores of tokyo)."""
    out = []
    o = report.tokyo.overall
    if min_f1 is not None and (o.f1 or 0.0) < min_f1:
        out.append(f"F1 {o.f1 or 0.0:.3f} is below --min-f1 {min_f1}")
    if min_recall is not None and (o.recall or 0.0) < min_recall:
        out.append(f"recall {o.recall or 0.0:.3f} is below --min-recall {min_recall}")
    return out


def corpus_stats(corpus: Corpus) -> dict[str, dict[str, int]]:
    """Per CWE (or category): vulnerable and safe units (cases, or files for a CSV corpus)."""
    stats: dict[str, dict[str, int]] = {}
    for case in corpus.cases:
        units: Iterable[tuple[str | None, bool]]
        if corpus.format == "files":
            units = [(_unit_key(lab.cwe, lab.category, corpus.canon), lab.vulnerable) for lab in case.labels]
        elif any(lab.vulnerable for lab in case.labels):
            units = {(_unit_key(lab.cwe, lab.category, corpus.canon), True) for lab in case.labels}
        else:
            units = [(_unit_key(case.cwe, case.category, corpus.canon), False)]
        for key, vuln in units:
            s = stats.setdefault(key or NONE_KEY, {"vulnerable": 0, "safe": 0})
            s["vulnerable" if vuln else "safe"] += 1
    return _sorted(stats)
