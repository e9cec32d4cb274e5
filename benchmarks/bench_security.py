"""Security review time on a large tree: ``tokyo review --all --offline -w security`` (Akira:
bandit + semgrep taint analysis + detect-secrets, no model) against plain ``bandit -r`` over
the same files.

The tree: N (default 3,000) small Flask-style modules in a git repository, from a handful of
templates (views reading ``request``, SQL helpers, file downloads, background jobs, plain
utilities); about one module in ten carries a real source -> sink flow. Both commands run
once, cold, with the same interpreter's tools; the script prints both wall times and the
ratio. Target (issue 15): tokyo < 3x bandit.

Run: ``.venv/bin/python benchmarks/bench_security.py [N]``.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VIEW = '''\
"""Views for the {name} resource."""
import sqlite3

from flask import Blueprint, jsonify, request

bp = Blueprint("{name}", __name__)


def _db():
    return sqlite3.connect("app.db")


@bp.route("/{name}/<int:item_id>")
def show_{name}(item_id):
    cur = _db().cursor()
    cur.execute("SELECT * FROM {name} WHERE id = ?", (item_id,))
    row = cur.fetchone()
    return jsonify(dict(zip([c[0] for c in cur.description], row or ())))


@bp.route("/{name}", methods=["POST"])
def create_{name}():
    payload = request.get_json(silent=True) or {{}}
    title = str(payload.get("title", ""))[:200]
    cur = _db().cursor()
    cur.execute("INSERT INTO {name} (title) VALUES (?)", (title,))
    return jsonify(id=cur.lastrowid), 201
'''
VULN_VIEW = '''\
"""Search for {name} (legacy)."""
import os
import sqlite3

from flask import Blueprint, redirect, request

bp = Blueprint("{name}_search", __name__)


def _query(term):
    return "SELECT * FROM {name} WHERE title LIKE '%" + term + "%'"


@bp.route("/{name}/search")
def search_{name}():
    term = request.args.get("q", "")
    cur = sqlite3.connect("app.db").cursor()
    cur.execute(_query(term))
    return str(cur.fetchall())


@bp.route("/{name}/export")
def export_{name}():
    fmt = request.args.get("format", "csv")
    os.system("export-tool --format " + fmt)
    return redirect(request.args.get("next", "/"))
'''
FILES = '''\
"""Downloads of {name} attachments."""
import os

from flask import abort, request, send_from_directory
from werkzeug.utils import secure_filename

ROOT = os.environ.get("{upper}_ROOT", "/srv/{name}")


def attachment_{name}():
    name = secure_filename(request.args.get("file", ""))
    if not name:
        abort(404)
    return send_from_directory(ROOT, name)
'''
JOB = '''\
"""Background job: refresh {name} statistics."""
import json
import logging
import time

log = logging.getLogger(__name__)


class {cls}Job:
    interval = {interval}

    def __init__(self, store):
        self.store = store
        self.last = 0.0

    def due(self, now=None):
        return (now or time.time()) - self.last >= self.interval

    def run(self):
        stats = {{"count": len(self.store), "at": time.time()}}
        log.info("refreshed {name}: %s", json.dumps(stats))
        self.last = stats["at"]
        return stats
'''
UTIL = '''\
"""Helpers for {name}."""
from __future__ import annotations


def slug_{name}(text: str) -> str:
    return "-".join(part for part in text.lower().split() if part)


def chunks_{name}(items: list[int], size: int = {interval}) -> list[list[int]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def total_{name}(values: dict[str, float]) -> float:
    return round(sum(v for v in values.values() if v > 0), 2)
'''
TEMPLATES = [(VIEW, 4), (FILES, 2), (JOB, 2), (UTIL, 2)]


def build_tree(root: Path, n: int, seed: int = 15) -> int:
    """Write ``n`` modules under ``root/app`` and commit them; the number of vulnerable ones."""
    rng = random.Random(seed)
    weighted = [t for t, w in TEMPLATES for _ in range(w)]
    vulnerable = 0
    for i in range(n):
        name = f"item{i}"
        package = root / "app" / f"pkg{i // 100}"
        package.mkdir(parents=True, exist_ok=True)
        if rng.random() < 0.1:
            template = VULN_VIEW
            vulnerable += 1
        else:
            template = rng.choice(weighted)
        text = template.format(name=name, upper=name.upper(), cls=name.capitalize(), interval=rng.randint(5, 120))
        (package / f"{name}.py").write_text(text, encoding="utf-8")
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.name", "bench"],
        ["config", "user.email", "bench@example.com"],
        ["config", "commit.gpgsign", "false"],
        ["add", "-A"],
        ["commit", "-q", "-m", "tree"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    return vulnerable


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, env=env, check=False)
    return time.perf_counter() - start, proc.returncode


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else 3000
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="tokyo-bench-security-") as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        vulnerable = build_tree(root, n)
        env = {**os.environ, "TOKYO_HOME": str(Path(tmp) / "home")}
        bandit_s, bandit_rc = timed(
            [
                sys.executable,
                "-m",
                "bandit",
                "-q",
                "-f",
                "json",
                "-o",
                str(Path(tmp) / "bandit.json"),
                "-r",
                str(root / "app"),
            ],
            env,
        )
        tokyo_s, tokyo_rc = timed(
            [
                str(bin_dir / "tokyo"),
                "review",
                str(root),
                "--all",
                "--offline",
                "-w",
                "security",
                "--format",
                "json",
                "--output",
                str(Path(tmp) / "tokyo.json"),
            ],
            env,
        )
        report = (Path(tmp) / "tokyo.json").read_text(encoding="utf-8") if (Path(tmp) / "tokyo.json").exists() else ""
    print(f"tree: {n} Python modules ({vulnerable} with a seeded source -> sink flow), {os.cpu_count()} CPUs")
    print(f"bandit -r:                                   {bandit_s:7.1f} s (exit {bandit_rc})")
    print(f"tokyo review --all --offline -w security:    {tokyo_s:7.1f} s (exit {tokyo_rc})")
    print(f"ratio: {tokyo_s / bandit_s:.2f}x bandit (target < 3x)")
    if report:
        import json

        data = json.loads(report)
        rules: dict[str, int] = {}
        for f in data.get("findings", []):
            tool = str(f.get("rule") or "model").split(":")[0]
            rules[tool] = rules.get(tool, 0) + 1
        print(f"findings by tool (after merging): {rules}")
        for step in data.get("steps", []):
            for run in step.get("analyzers", []):
                print(
                    f"  {run['name']}: {run['seconds']:.1f} s, {run['findings']} findings, "
                    f"error: {run['error']}, not analyzed: {len(run['not_analyzed'])}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
