"""detect-secrets over many files on every core: batches of files, each scanned by its own
isolated process (``python -I``, :func:`tokyo_cli.safety.isolation.tool_env`), at most one per CPU
at a time, all within the analyzer's one deadline.

detect-secrets keeps its settings in a process-global singleton and is pure Python (one
core per process), so threads would gain nothing; processes scan side by side. Each worker
prints one JSON line per file as soon as that file is scanned, so a batch stopped at the
deadline still gives what it finished: :func:`scan_files` returns the files it scanned and
the ones it did not (with why), never silently fewer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tokyo_cli.safety.isolation import tool_env

BATCHES_PER_WORKER = 4  # smaller batches: an even finish, and less left over at a deadline
MIN_BATCH = 25

# Runs as ``python -I -c WORKER``: only detect-secrets and the standard library. Input on
# stdin: {"files": [absolute path, ...], "plugins": [plugin class name, ...]}. Output: one
# line per file, [index, [[line, secret type, secret value], ...]]; the value only travels
# over this pipe, for the parent's check that it was masked.
WORKER = r"""
import json, sys
from detect_secrets.core.scan import scan_file
from detect_secrets.settings import transient_settings
job = json.load(sys.stdin)
with transient_settings({"plugins_used": [{"name": n} for n in job["plugins"]]}):
    for i, path in enumerate(job["files"]):
        found = [[int(s.line_number or 0), str(s.type), str(getattr(s, "secret_value", "") or "")]
                 for s in scan_file(path)]
        sys.stdout.write(json.dumps([i, found]) + "\n")
        sys.stdout.flush()
"""


@dataclass
class PoolScan:
    """What :func:`scan_files` did. ``found``: relative path -> ``(line, secret type, value)``
    for every file scanned (an empty list: scanned, nothing found). ``missed``: relative
    path -> why it was not scanned (``"timed out"``, or a worker's last error line)."""

    found: dict[str, list[tuple[int, str, str]]] = field(default_factory=dict)
    missed: dict[str, str] = field(default_factory=dict)
    timed_out: bool = False


def scan_files(
    base: Path, rels: Sequence[str], plugins: Sequence[str], *, deadline: float, workers: int | None = None
) -> PoolScan:
    """Scan ``base / rel`` for each of ``rels`` with detect-secrets' ``plugins`` (class
    names), by up to ``workers`` processes at once (default: the CPU count), until
    ``deadline`` (a ``time.monotonic()`` value). Never raises: a worker that crashes or
    cannot start leaves its files in ``missed``."""
    workers = max(1, workers or os.cpu_count() or 1)
    size = max(MIN_BATCH, -(-len(rels) // (workers * BATCHES_PER_WORKER)))
    batches = [list(rels[i : i + size]) for i in range(0, len(rels), size)]
    out = PoolScan()
    with tempfile.TemporaryDirectory(prefix="tokyo-secrets-run-") as tmp:
        cwd, home = Path(tmp) / "cwd", Path(tmp) / "home"
        cwd.mkdir()
        home.mkdir()
        env = tool_env(home)

        def run(batch: list[str]) -> None:
            _scan_batch(base, batch, plugins, deadline, cwd, env, out)

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tokyo-secrets") as pool:
            list(pool.map(run, batches))
    return out


def _scan_batch(
    base: Path, batch: list[str], plugins: Sequence[str], deadline: float, cwd: Path, env: dict[str, str], out: PoolScan
) -> None:
    left = deadline - time.monotonic()
    if left <= 0:
        out.timed_out = True
        out.missed.update(dict.fromkeys(batch, "timed out"))
        return
    job = json.dumps({"files": [str(base / rel) for rel in batch], "plugins": list(plugins)}).encode()
    reason = ""
    try:
        proc = subprocess.run(
            [sys.executable, "-I", "-c", WORKER],
            input=job,
            capture_output=True,
            cwd=cwd,
            env=env,
            timeout=left,
            check=False,
        )
        stdout, stderr = proc.stdout, proc.stderr
        if proc.returncode != 0:
            lines = [ln for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
            reason = (
                f"detect-secrets worker failed: {lines[-1] if lines else 'no output'} (exit code {proc.returncode})"
            )
    except subprocess.TimeoutExpired as exc:  # what it printed before the deadline still counts
        stdout, reason = exc.output or b"", "timed out"
        out.timed_out = True
    except OSError as exc:
        stdout, reason = b"", f"detect-secrets worker failed: {exc}"
    for line in stdout.decode("utf-8", "replace").splitlines():
        try:
            index, found = json.loads(line)
        except ValueError:  # a line cut by the kill at the deadline
            continue
        out.found[batch[index]] = [(int(n), str(t), str(v)) for n, t, v in found]
    for rel in batch:
        if rel not in out.found:
            out.missed[rel] = reason or "detect-secrets worker gave no result"
