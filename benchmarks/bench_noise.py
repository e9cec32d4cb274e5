"""Noise benchmark on real code (issue 14, "Findings people trust"): how many findings an
offline ``tokyo review`` raises on changes to mature, well-tested projects that we did not
write, per 1,000 changed lines.

Unlike ``benchmarks/bench_analyzers.py`` (a seeded corpus written to contain no unseeded
problem, so every extra finding is a false positive), these are REAL-CODE numbers: nobody
labelled the findings, so this measures volume (noise), not precision. A healthy offline
review of a routine release of attrs or Flask should say little.

What it does:

1. Release pairs. For each pinned project (``PROJECTS``: attrs 24.1.0 -> 24.2.0 -> 24.3.0,
   Flask 3.0.3 -> 3.1.0, Click 8.1.7 -> 8.1.8) it downloads the sdists (``pip download --no-deps --no-binary
   :all:``; NETWORK, PyPI) into a cache directory (default ``~/.cache/tokyo-bench``, reruns
   reuse it), commits release N on ``main`` of a temporary git repository, writes release
   N+1's tree over it on a branch (files that disappeared are deleted) and commits, then runs
   ``python -m tokyo_cli review --offline --base main --format json`` there, exactly as a
   user would (TOKYO_HOME is a temporary directory, provider keys are removed).
2. This repository's own history: a temporary ``git clone`` of the repository holding this
   script, range ``SELF_BASE...SELF_HEAD`` (pinned, 40 commits ending at the commit the
   "before" numbers were taken from, so before and after review the same input; override
   with ``--self-range``). A range review reads tokyo's own agents.yaml/workflows at the base
   commit as a repository overlay, as it would for a user; the output says when that overlay
   differs from the measured tree's packaged defaults.
3. Whole-tree audit: ``tokyo review --all --offline`` of a repository without tests or
   docstrings, namely Flask 3.1.0's sdist with every test file and docs/ removed and every
   docstring stripped (``ast``-located, removed textually so comments stay). Prints the number
   of findings and the line counts of the terminal report (``tokyo show RUN --format
   terminal``, COLUMNS=200, not a TTY) and of the Markdown report.

Metrics per pair and in total: changed lines (added lines, ``git diff --numstat``), findings
per 1,000 changed lines by agent and by severity, and "yuki+sakura findings at medium or
above per 1,000 changed lines" (Y+S m+). Targets after the precision rework: Y+S m+ <= 2 per
1,000 changed lines; the audit's grouped terminal output at least 5x shorter.

Run (measures whatever ``tokyo_cli`` is importable: the tree used is printed)::

    PYTHONPATH=/tmp/tokyo-before/src nice .venv/bin/python benchmarks/bench_noise.py \
        [--json FILE] [-v] [--keep] [--cache DIR] [--self-range BASE..HEAD] [--no-self] [--no-audit]

``-v`` lists the top rules per target; ``--json FILE`` writes every number as JSON; ``--keep``
keeps the temporary repositories and reports for inspection.
Not part of the test suite (it needs the network the first time and takes minutes).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from pathlib import Path

import tokyo_cli

ROOT = Path(__file__).resolve().parents[1]
PROJECTS: list[tuple[str, list[str]]] = [
    ("attrs", ["24.1.0", "24.2.0", "24.3.0"]),
    ("flask", ["3.0.3", "3.1.0"]),
    ("click", ["8.1.7", "8.1.8"]),
]
AUDIT = ("flask", "3.1.0")
SELF_HEAD = "7a740ca448a0e545a33ff4c038253b63b2af3b34"  # the "before" snapshot of issue 14
SELF_BASE = "f11424ca679f9051522865e0c8c0bdc6670cb31a"  # SELF_HEAD~40
AGENTS = ["akira", "yuki", "hiro", "sakura", "kenji"]
SEVERITIES = ["critical", "high", "medium", "low", "info"]
MEDIUM_UP = {"critical", "high", "medium"}
TEST_NAME = re.compile(r"(^test_.*\.py$|.*_test\.py$|^conftest\.py$)")
KEYS = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GROQ_API_KEY", "GEMINI_API_KEY", "TOKYO_MODEL", "TOKYO_API_BASE")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def measured_tree() -> str:
    """Where tokyo_cli comes from, with its git commit (and "+dirty" for uncommitted src/)."""
    src = Path(tokyo_cli.__file__).resolve().parents[1]
    try:
        rev = git(src, "rev-parse", "--short", "HEAD").strip()
        dirty = git(src, "status", "--porcelain", "--", ".").strip()
        return f"{src} (git {rev}{'+dirty' if dirty else ''})"
    except (subprocess.CalledProcessError, OSError):
        return str(src)


# --- data ---------------------------------------------------------------------------------


def sdist(cache: Path, name: str, version: str) -> Path:
    """The sdist of ``name==version`` from the cache, downloaded first if missing."""

    def found() -> Path | None:
        for p in cache.glob("*.tar.gz"):
            stem = p.name[: -len(".tar.gz")].lower().replace("_", "-")
            if stem == f"{name.lower()}-{version}":
                return p
        return None

    if (hit := found()) is not None:
        return hit
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--no-binary",
            ":all:",
            f"{name}=={version}",
            "-d",
            str(cache),
        ],
        check=True,
        capture_output=True,
    )
    hit = found()
    if hit is None:
        raise SystemExit(f"pip download {name}=={version} gave no .tar.gz in {cache}")
    return hit


def unpack(archive: Path, dest: Path) -> Path:
    """Extract ``archive`` under ``dest``; the sdist's single top-level directory."""
    dest.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, filter="data")
        else:  # pragma: no cover - Python without PEP 706
            tar.extractall(dest)  # noqa: S202 - a pinned PyPI sdist
    (top,) = list(dest.iterdir())
    return top


def replace_tree(repo: Path, source: Path) -> None:
    """Make the working tree of ``repo`` exactly ``source`` (files that disappeared are gone)."""
    for entry in repo.iterdir():
        if entry.name != ".git":
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    shutil.copytree(source, repo, dirs_exist_ok=True, symlinks=True)


def init_repo(repo: Path, tree: Path) -> None:
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "bench@example.com")
    git(repo, "config", "user.name", "bench")
    git(repo, "config", "commit.gpgsign", "false")
    replace_tree(repo, tree)
    git(repo, "add", "-A", "-f")  # the sdist's files are the release, even if its .gitignore says otherwise
    git(repo, "commit", "-q", "--no-verify", "-m", "base")


def pair_repo(work: Path, cache: Path, name: str, old: str, new: str) -> Path:
    trees = work / f"{name}-{old}-{new}-src"
    repo = work / f"{name}-{old}-{new}"
    init_repo(repo, unpack(sdist(cache, name, old), trees / "old"))
    git(repo, "checkout", "-q", "-b", "next")
    replace_tree(repo, unpack(sdist(cache, name, new), trees / "new"))
    git(repo, "add", "-A", "-f")
    git(repo, "commit", "-q", "--no-verify", "-m", f"{name} {new}")
    return repo


def strip_docstrings(text: str) -> str:
    """``text`` without module/class/function docstrings (whole lines removed; a body left
    empty gets ``pass``). Unparseable files are returned unchanged."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text
    lines = text.splitlines(keepends=True)
    drop: set[int] = set()
    passes: dict[int, str] = {}
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        body = node.body
        if not (
            body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            continue
        doc = body[0]
        first, last = doc.lineno, doc.end_lineno or doc.lineno
        head = lines[first - 1][: doc.col_offset]
        tail = lines[last - 1][doc.end_col_offset or 0 :]
        if head.strip() or tail.strip() not in ("", ";"):
            continue  # shares a line with other code: leave it
        drop.update(range(first, last + 1))
        if len(body) == 1:
            passes[first] = head + "pass\n"
    out = [passes.get(n, "") if n in drop else line for n, line in enumerate(lines, 1)]
    result = "".join(out)
    try:
        compile(result, "<stripped>", "exec")
    except SyntaxError:
        return text
    return result


def audit_repo(work: Path, cache: Path) -> tuple[Path, dict[str, int]]:
    """Flask's release tree without tests, docs/ and docstrings, committed."""
    tree = unpack(sdist(cache, *AUDIT), work / "audit-src")
    removed = {"test files": 0, "docstring-stripped .py files": 0}
    shutil.rmtree(tree / "docs", ignore_errors=True)
    for path in sorted(tree.rglob("*"), reverse=True):
        if not path.exists():
            continue
        if path.is_dir() and path.name in ("tests", "test", "testing"):
            removed["test files"] += sum(1 for p in path.rglob("*") if p.is_file())
            shutil.rmtree(path)
        elif path.is_file() and TEST_NAME.match(path.name):
            removed["test files"] += 1
            path.unlink()
    for path in tree.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        stripped = strip_docstrings(text)
        if stripped != text:
            removed["docstring-stripped .py files"] += 1
            path.write_text(stripped, encoding="utf-8")
    repo = work / "audit"
    init_repo(repo, tree)
    return repo, removed


def self_repo(work: Path, source: Path, base: str, head: str) -> Path:
    repo = work / "self"
    subprocess.run(["git", "clone", "-q", str(source), str(repo)], check=True, capture_output=True)
    git(repo, "checkout", "-q", "--detach", head)
    git(repo, "config", "user.email", "bench@example.com")
    git(repo, "config", "user.name", "bench")
    return repo


def overlay_differs(repo: Path, base: str) -> list[str]:
    """Files of tokyo's review config at ``base`` that differ from the measured packaged defaults."""
    from tokyo_cli.config.team import defaults_dir

    packaged = defaults_dir()
    names = ["agents.yaml"] + [f"workflows/{p.name}" for p in sorted((packaged / "workflows").glob("*.y*ml"))]
    listed = set(git(repo, "ls-tree", "-r", "--name-only", base, "--", "agents.yaml", "workflows").split())
    differ = []
    for name in sorted(set(names) | listed):
        try:
            theirs = git(repo, "show", f"{base}:{name}")
        except subprocess.CalledProcessError:
            continue
        ours = packaged / name
        if not ours.is_file() or ours.read_text(encoding="utf-8") != theirs:
            differ.append(name)
    return differ


# --- running tokyo ------------------------------------------------------------------------


def tokyo_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in KEYS}
    src = str(Path(tokyo_cli.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([src, *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])
    env["TOKYO_HOME"] = str(home)
    env["COLUMNS"] = "200"
    env.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    return env


def tokyo(repo: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tokyo_cli", *args], cwd=repo, env=tokyo_env(home), capture_output=True, text=True
    )


def review(repo: Path, home: Path, target: list[str]) -> dict:
    """Run an offline review; its JSON report (raises on a usage/config error or no report)."""
    out = home / "report.json"
    started = time.perf_counter()
    proc = tokyo(repo, home, "review", "--offline", *target, "--format", "json", "--output", str(out), "-q", ".")
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 1) or not out.is_file():
        raise RuntimeError(f"tokyo review {' '.join(target)} in {repo}: exit {proc.returncode}\n{proc.stderr[-2000:]}")
    report = json.loads(out.read_text(encoding="utf-8"))
    report["_wall"] = seconds
    report["_exit"] = proc.returncode
    return report


def added_lines(repo: Path, base: str, head: str = "HEAD") -> int:
    total = 0
    for row in git(repo, "diff", "--numstat", f"{base}...{head}").splitlines():
        added = row.split("\t", 1)[0]
        total += int(added) if added.isdigit() else 0
    return total


def summarize(label: str, report: dict, lines: int) -> dict:
    findings = report["findings"]
    by_agent = Counter(f["agent"] for f in findings)
    by_sev = Counter(f["severity"] for f in findings)
    ys = sum(1 for f in findings if f["agent"] in ("yuki", "sakura") and f["severity"] in MEDIUM_UP)
    errors = sorted(
        {
            f"{s['agent']}/{a['name']}: {a['error']}"
            for s in report["steps"]
            for a in s.get("analyzers", [])
            if a.get("error")
        }
    )
    return {
        "target": label,
        "description": report["run"].get("target_description"),
        "changed_lines": lines,
        "findings": len(findings),
        "by_agent": {a: by_agent.get(a, 0) for a in sorted(set(AGENTS) | set(by_agent))},
        "by_severity": {s: by_sev.get(s, 0) for s in SEVERITIES},
        "by_agent_severity": {
            f"{a}:{s}": n for (a, s), n in sorted(Counter((f["agent"], f["severity"]) for f in findings).items())
        },
        "yuki_sakura_medium_up": ys,
        "rules": dict(Counter(f.get("rule") or "(none)" for f in findings).most_common()),
        "totals": report.get("totals", {}),
        "analyzer_errors": errors,
        "caveats": report["run"].get("caveats", []),
        "notices": report["run"].get("notices", []),
        "status": report["run"].get("status"),
        "exit_code": report["_exit"],
        "seconds": round(report["_wall"], 1),
    }


def per_k(n: int, lines: int) -> float:
    return round(1000 * n / lines, 2) if lines else 0.0


def combine(rows: list[dict]) -> dict:
    total = {
        "target": "TOTAL",
        "changed_lines": sum(r["changed_lines"] for r in rows),
        "findings": sum(r["findings"] for r in rows),
        "yuki_sakura_medium_up": sum(r["yuki_sakura_medium_up"] for r in rows),
        "seconds": round(sum(r["seconds"] for r in rows), 1),
    }
    for key in ("by_agent", "by_severity", "by_agent_severity", "rules"):
        c: Counter[str] = Counter()
        for r in rows:
            c.update(r[key])
        total[key] = dict(c.most_common()) if key == "rules" else dict(c)
    total["by_agent"] = {a: total["by_agent"].get(a, 0) for a in sorted(set(AGENTS) | set(total["by_agent"]))}
    total["by_severity"] = {s: total["by_severity"].get(s, 0) for s in SEVERITIES}
    total["analyzer_errors"] = sorted({e for r in rows for e in r["analyzer_errors"]})
    return total


def add_rates(row: dict) -> dict:
    lines = row["changed_lines"]
    row["per_1k"] = {
        "findings": per_k(row["findings"], lines),
        "by_agent": {a: per_k(n, lines) for a, n in row["by_agent"].items()},
        "by_severity": {s: per_k(n, lines) for s, n in row["by_severity"].items()},
        "yuki_sakura_medium_up": per_k(row["yuki_sakura_medium_up"], lines),
    }
    return row


def audit(work: Path, cache: Path) -> dict:
    repo, removed = audit_repo(work, cache)
    home = work / "home-audit"
    home.mkdir()
    report = review(repo, home, ["--all"])
    run_id = str(report["run"]["id"])
    terminal = tokyo(repo, home, "show", run_id, "--format", "terminal")
    (home / "report.txt").write_text(terminal.stdout, encoding="utf-8")
    md = home / "report.md"
    markdown = tokyo(repo, home, "show", run_id, "--format", "markdown", "--output", str(md))
    if terminal.returncode != 0 or markdown.returncode != 0 or not md.is_file():
        raise RuntimeError(f"tokyo show {run_id}: {terminal.stderr[-1000:]} {markdown.stderr[-1000:]}")
    py_lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in repo.rglob("*.py") if ".git" not in p.parts)
    tracked = git(repo, "ls-files").split()
    findings = report["findings"]
    return {
        "source": f"{AUDIT[0]} {AUDIT[1]} sdist, tests and docs/ removed, docstrings stripped with ast",
        "removed": removed,
        "files": len(tracked),
        "python_lines": py_lines,
        "findings": len(findings),
        "by_agent": dict(Counter(f["agent"] for f in findings).most_common()),
        "by_severity": {s: sum(1 for f in findings if f["severity"] == s) for s in SEVERITIES},
        "rules": dict(Counter(f.get("rule") or "(none)" for f in findings).most_common()),
        "terminal_lines": len(terminal.stdout.splitlines()),
        "markdown_lines": len(md.read_text(encoding="utf-8").splitlines()),
        "json_bytes": len(json.dumps(report)),
        "analyzer_errors": sorted(
            {
                f"{s['agent']}/{a['name']}: {a['error']}"
                for s in report["steps"]
                for a in s.get("analyzers", [])
                if a.get("error")
            }
        ),
        "seconds": round(report["_wall"], 1),
    }


# --- output -------------------------------------------------------------------------------


def table(rows: list[dict]) -> str:
    head = (
        f"{'target':<24} {'lines':>6} {'found':>5} {'/1k':>6} | "
        + " ".join(f"{a:>6}" for a in AGENTS)
        + " | "
        + " ".join(f"{s[:4]:>5}" for s in SEVERITIES)
        + f" | {'Y+S m+':>6}"
    )
    out = [head, "-" * len(head)]
    for r in rows:
        p = r["per_1k"]
        out.append(
            f"{r['target']:<24} {r['changed_lines']:>6} {r['findings']:>5} {p['findings']:>6.1f} | "
            + " ".join(f"{p['by_agent'].get(a, 0):>6.1f}" for a in AGENTS)
            + " | "
            + " ".join(f"{p['by_severity'][s]:>5.1f}" for s in SEVERITIES)
            + f" | {p['yuki_sakura_medium_up']:>6.1f}"
        )
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cache", type=Path, default=Path(os.environ.get("TOKYO_BENCH_CACHE", "~/.cache/tokyo-bench")).expanduser()
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="write every number as JSON to FILE")
    parser.add_argument("-v", "--verbose", action="store_true", help="list the top rules")
    parser.add_argument("--self-repo", type=Path, default=ROOT, help="repository whose history is reviewed")
    parser.add_argument("--self-range", default=f"{SELF_BASE}..{SELF_HEAD}", metavar="BASE..HEAD")
    parser.add_argument("--no-self", action="store_true", help="skip this repository's history")
    parser.add_argument("--no-audit", action="store_true", help="skip the whole-tree audit")
    parser.add_argument("--keep", action="store_true", help="keep the temporary repositories and reports")
    parser.add_argument("--top", type=int, default=10, help="rules listed with -v")
    args = parser.parse_args()

    started = time.perf_counter()
    print(f"tokyo_cli measured: {measured_tree()}")
    print(f"sdist cache: {args.cache}")
    rows: list[dict] = []
    notes: list[str] = []
    keep = tempfile.mkdtemp(prefix="tokyo-noise-") if args.keep else None
    with contextlib.nullcontext(keep) if keep else tempfile.TemporaryDirectory(prefix="tokyo-noise-") as tmp:
        work = Path(tmp)
        for name, versions in PROJECTS:
            for old, new in zip(versions, versions[1:]):
                label = f"{name} {old}->{new}"
                repo = pair_repo(work, args.cache, name, old, new)
                home = work / f"home-{name}-{new}"
                home.mkdir()
                report = review(repo, home, ["--base", "main"])
                rows.append(summarize(label, report, added_lines(repo, "main", "next")))
                print(
                    f"  reviewed {label}: {rows[-1]['findings']} findings in {rows[-1]['seconds']} s", file=sys.stderr
                )
        if not args.no_self:
            base, _, head = args.self_range.partition("..")
            repo = self_repo(work, args.self_repo, base, head)
            home = work / "home-self"
            home.mkdir()
            differ = overlay_differs(repo, base)
            if differ:
                notes.append(
                    f"self-history: the repository overlay at {base[:9]} differs from the measured "
                    f"packaged defaults in {', '.join(differ)} (range reviews apply it)"
                )
            report = review(repo, home, ["--base", base])
            n = len(git(repo, "rev-list", f"{base}..{head}").split())
            rows.append(summarize(f"tokyo {base[:7]}..{head[:7]}", report, added_lines(repo, base, head)))
            rows[-1]["commits"] = n
            print(f"  reviewed tokyo history ({n} commits): {rows[-1]['findings']} findings", file=sys.stderr)
        total = combine(rows)
        audit_result = None if args.no_audit else audit(work, args.cache)
    wall = time.perf_counter() - started

    for r in [*rows, total]:
        add_rates(r)
    print()
    print(
        "Findings per 1,000 changed (added) lines, offline review; Y+S m+ = yuki+sakura at medium or above"
        " (target <= 2)"
    )
    print(table([*rows, total]))
    print(
        f"Y+S m+ per 1k, total: {total['per_1k']['yuki_sakura_medium_up']:.2f} "
        f"({total['yuki_sakura_medium_up']} of {total['findings']} findings, {total['changed_lines']} lines)"
    )
    print("top rules (total): " + ", ".join(f"{k} {v}" for k, v in list(total["rules"].items())[:5]))
    if args.verbose:
        for r in [*rows, total]:
            print(f"\n{r['target']} ({r.get('description') or 'all'}) top rules:")
            for rule, n in list(r["rules"].items())[: args.top]:
                print(f"  {n:>5}  {rule}")
    if audit_result:
        a = audit_result
        print(f"\nWhole-tree audit (review --all --offline): {a['source']}")
        print(
            f"  {a['files']} files, {a['python_lines']} Python lines; findings {a['findings']} "
            f"({', '.join(f'{k} {v}' for k, v in a['by_agent'].items())})"
        )
        print(
            f"  terminal report {a['terminal_lines']} lines (COLUMNS=200), Markdown report {a['markdown_lines']} lines"
            f"  [target after rework: terminal >= 5x shorter]"
        )
        if args.verbose:
            print("  top rules: " + ", ".join(f"{k} {v}" for k, v in list(a["rules"].items())[: args.top]))
    errors = sorted({*total["analyzer_errors"], *(audit_result["analyzer_errors"] if audit_result else [])})
    for e in errors:
        notes.append(f"analyzer error: {e}")
    for r in rows:
        for c in r["caveats"]:
            notes.append(f"{r['target']}: caveat: {c}")
        if r["status"] != "completed":
            notes.append(f"{r['target']}: run status {r['status']}")
    for note in notes:
        print(f"note: {note}")
    if keep:
        print(f"kept: {keep} (repositories, and TOKYO_HOME per target: home-*/report.json, history.db)")
    print(f"wall time {wall:.0f} s")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "measured": measured_tree(),
                    "projects": PROJECTS,
                    "self_range": None if args.no_self else args.self_range,
                    "pairs": rows,
                    "total": total,
                    "audit": audit_result,
                    "notes": notes,
                    "wall_seconds": round(wall, 1),
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
