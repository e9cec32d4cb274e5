"""How long the action's install step takes, cold and warm (issue: "a warm job installs in
under 30 s").

Runs the commands of action.yml's "Install tokyo with pinned dependencies" step:

* cold (the wheel cache missed): a new venv, ``pip download --require-hashes --no-deps`` of
  requirements/action.txt into an empty wheelhouse, then the install from it;
* warm (the cache hit): a new venv and the install from the wheelhouse the cold run filled,
  ``--no-index``: no network at all.

The install is ``pip install --no-compile --no-index --find-links WHEELHOUSE
--require-hashes --no-deps -r requirements/action.txt``, then tokyo itself with
``--no-deps --no-build-isolation``. Like a hosted runner, pip sees only the package index
(``--index-url``, PyPI by default): this machine's pip configuration is switched off with
``PIP_CONFIG_FILE=/dev/null``. Prints wall and CPU seconds (user+sys of pip's processes) for
each, the wheelhouse size and the number of distributions installed. CPU seconds are what
to compare on a busy machine; wall is what a job waits.

Usage::

    python benchmarks/bench_install.py [--index-url URL] [--python python3.12]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "action.txt"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def install(python: str, venv: Path, wheelhouse: Path, index_url: str, *, hit: bool) -> tuple[float, float]:
    """The action's install commands into a new ``venv``; ``(wall s, CPU s)``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL=index_url, PIP_DISABLE_PIP_VERSION_CHECK="1")
    start, cpu = time.perf_counter(), _cpu()
    subprocess.run([python, "-m", "venv", str(venv)], check=True, env=env)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--quiet"]
    if not hit:
        subprocess.run(
            [*pip, "download", "--require-hashes", "--no-deps", "--dest", str(wheelhouse), "-r", str(LOCK)],
            check=True,
            env=env,
        )
    subprocess.run(
        [
            *pip,
            "install",
            "--no-compile",
            "--no-index",
            "--find-links",
            str(wheelhouse),
            "--require-hashes",
            "--no-deps",
            "-r",
            str(LOCK),
        ],
        check=True,
        env=env,
    )
    subprocess.run(
        [*pip, "install", "--no-compile", "--no-index", "--no-deps", "--no-build-isolation", str(ROOT)],
        check=True,
        env=env,
    )
    return time.perf_counter() - start, _cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--index-url", default="https://pypi.org/simple")
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tokyo-bench-install-") as tmp:
        wheelhouse = Path(tmp) / "wheelhouse"
        cold = install(args.python, Path(tmp) / "venv-cold", wheelhouse, args.index_url, hit=False)
        size_mb = sum(p.stat().st_size for p in wheelhouse.iterdir()) / 1e6
        files = len(list(wheelhouse.iterdir()))
        shutil.rmtree(Path(tmp) / "venv-cold")
        warm = install(args.python, Path(tmp) / "venv-warm", wheelhouse, args.index_url, hit=True)
        listed = subprocess.run(
            [str(Path(tmp) / "venv-warm" / "bin" / "python"), "-m", "pip", "list", "--format=freeze"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    print(f"load average        : {os.getloadavg()[0]:.1f} (2-core machine: wall is inflated when > 2)")
    print(f"install, cache miss : {cold[0]:6.1f} s wall, {cold[1]:6.1f} s CPU")
    print(f"install, cache hit  : {warm[0]:6.1f} s wall, {warm[1]:6.1f} s CPU   (target < 30 s)")
    print(f"wheelhouse          : {size_mb:6.1f} MB, {files} files")
    print(f"distributions       : {len(listed.splitlines())}")


if __name__ == "__main__":
    main()
