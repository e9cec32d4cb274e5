"""detect-secrets over many files on every core: batches of files, each scanned by its own
isolated process (``python -I``, :func:`tokyo_cli.safety.isolation.tool_env`), at most one per CPU
at a time, all within the analyzer's one deadline.

detect-secrets keeps its settings in a process-global singleton and is pure Python (one
core per process), so threads would gain nothing; processes scan side by side. A worker
gets its files' contents on stdin (tokyo writes no copy of them), writes each one it scans
to a temporary directory at its repository path (file-type rules apply) and prints one JSON
line per file as soon as that file is done, so a batch stopped at the deadline still gives
what it finished: :func:`scan_files` returns the files it scanned and the ones it did not
(with why), never silently fewer. With ``prefilter``, the worker first asks
:class:`~tokyo_cli.analyzers.secrets_prefilter.SecretsPrefilter` (loaded from tokyo's own
file, built from the same plugins) and scans only the files a plugin may match: for a large
change that work is spread over the cores instead of holding tokyo's own process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tokyo_cli.analyzers import secrets_prefilter
from tokyo_cli.analyzers.common import cpu_count, inside, split_by_size
from tokyo_cli.safety.isolation import tool_env

# One batch per worker, of about equal bytes: each worker start costs ~0.3 s of CPU (Python
# and detect-secrets' imports), and a worker stopped at the deadline still gives what it
# finished. Measured on benchmarks/bench_audit.py's 4,000 files: 8 batches took 4.2 s of
# CPU, ~2.4 s of it start-up. No batch smaller than MIN_BATCH files.
MIN_BATCH = 25

# Runs as ``python -I -c WORKER``: only detect-secrets, the standard library and, with
# "prefilter", tokyo's secrets_prefilter.py loaded by its path (it imports nothing else of
# tokyo). Input on stdin: {"root": directory to write into, "files": [[repository path,
# content], ...], "plugins": [plugin class name, ...], "prefilter": path or null}; content
# is the file's bytes decoded as UTF-8 with surrogateescape (any bytes survive the trip).
# Output: one line per file, [index, [[line, secret type, secret value], ...]]; the value
# only travels over this pipe, for the parent's check that it was masked.
WORKER = r"""
import importlib.util, json, os, sys
from detect_secrets.core.scan import scan_file
from detect_secrets.settings import get_plugins, transient_settings
job = json.load(sys.stdin)
with transient_settings({"plugins_used": [{"name": n} for n in job["plugins"]]}):
    prefilter = None
    if job["prefilter"]:
        spec = importlib.util.spec_from_file_location("tokyo_secrets_prefilter", job["prefilter"])
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        prefilter = module.SecretsPrefilter.for_plugins(get_plugins())
    for i, (rel, text) in enumerate(job["files"]):
        data = text.encode("utf-8", "surrogateescape")
        found = []
        if prefilter is None or prefilter.may_hold(rel, data):
            path = os.path.join(job["root"], rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as handle:
                handle.write(data)
            found = [[int(s.line_number or 0), str(s.type), str(getattr(s, "secret_value", "") or "")]
                     for s in scan_file(path)]
            os.unlink(path)
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
    files: Mapping[str, bytes],
    plugins: Sequence[str],
    *,
    deadline: float,
    workers: int | None = None,
    prefilter: bool = False,
) -> PoolScan:
    """Scan ``files`` (repository path -> content) with detect-secrets' ``plugins`` (class
    names), by up to ``workers`` processes at once (default: the CPU count; 1: one process
    for all), until ``deadline`` (a ``time.monotonic()`` value); with ``prefilter``, only
    the files :class:`~tokyo_cli.analyzers.secrets_prefilter.SecretsPrefilter` keeps are
    scanned (the rest count as scanned, nothing found). A path that would leave the
    scratch directory is skipped. Never raises: a worker that crashes or cannot start
    leaves its files in ``missed``."""
    workers = max(1, workers or cpu_count())
    out = PoolScan()
    with tempfile.TemporaryDirectory(prefix="tokyo-secrets-run-") as tmp:
        cwd, home, root = Path(tmp) / "cwd", Path(tmp) / "home", Path(tmp).resolve() / "files"
        for directory in (cwd, home, root):
            directory.mkdir()
        rels = [rel for rel in files if inside(str(root), rel) is not None]
        batches = split_by_size(rels, min(workers, -(-len(rels) // MIN_BATCH)), lambda rel: len(files[rel]))
        env = tool_env(home)
        job = {
            "root": str(root),
            "plugins": list(plugins),
            "prefilter": secrets_prefilter.__file__ if prefilter else None,
        }

        def run(batch: list[str]) -> None:
            contents = [[rel, files[rel].decode("utf-8", "surrogateescape")] for rel in batch]
            _scan_batch(json.dumps({**job, "files": contents}).encode(), batch, deadline, cwd, env, out)

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tokyo-secrets") as pool:
            list(pool.map(run, batches))
    return out


def _scan_batch(job: bytes, batch: list[str], deadline: float, cwd: Path, env: dict[str, str], out: PoolScan) -> None:
    left = deadline - time.monotonic()
    if left <= 0:
        out.timed_out = True
        out.missed.update(dict.fromkeys(batch, "timed out"))
        return
    reason = ""
    try:
        # The job goes in a file, not a pipe: subprocess writes a pipe 512 bytes at a time,
        # each write giving up the GIL, and with analyzer threads busy that took seconds
        # for the 25 MB of a 10,000-file change (benchmarks/bench_audit.py --scale).
        fd, name = tempfile.mkstemp(prefix="job-", suffix=".json", dir=cwd.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(job)
        with open(name, "rb") as stdin:
            proc = subprocess.run(
                [sys.executable, "-I", "-c", WORKER],
                stdin=stdin,
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
