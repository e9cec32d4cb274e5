"""A generated working-tree change for the review benchmarks (bench_review.py, bench_cold.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

PLAIN_PY = "def f{i}(x):\n    return x + {i}\n"
DOCUMENTED_PY = '"""Module {i}."""\n\n\ndef f{i}(x: int) -> int:\n    """Add {i}."""\n    return x + {i}\n'


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def make_change(repo: Path, files: int, *, python: str = PLAIN_PY) -> None:
    """One commit of ``files`` Python (body ``python``, formatted with ``i``), Markdown and
    YAML files in turn, then each of them modified (ten added lines) in the working tree."""
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "bench@example.com")
    _git(repo, "config", "user.name", "bench")
    kinds = [
        ("src/pkg/mod{}.py", python),
        ("docs/page{}.md", "# Page {i}\n\nText.\n"),
        ("deploy/conf{}.yaml", "name: svc{i}\nreplicas: 1\n"),
    ]
    paths = []
    for i in range(files):
        pattern, body = kinds[i % len(kinds)]
        p = repo / pattern.format(i)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(body.format(i=i))
        paths.append(p)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    for i, p in enumerate(paths):
        p.write_text(
            p.read_text() + "".join(f"More {k}.\n" if p.suffix == ".md" else f"# change {i}.{k}\n" for k in range(10))
        )
