"""How long the action's install step takes, cold and warm (issue: "a warm job installs in
under 30 s").

Runs the commands of action.yml's "Install tokyo with pinned dependencies" step — a new
venv, ``pip install --require-hashes --no-deps -r requirements/action.txt``, then tokyo
itself with ``--no-deps --no-build-isolation`` — twice against one pip cache directory:

* cold: the cache directory is empty (a job whose ``actions/cache`` key missed);
* warm: the cache holds what the cold run downloaded and built (a job whose key hit).

Like a hosted runner, pip sees only the package index (``--index-url``, PyPI by default):
this machine's pip configuration (local wheel directories, extra indexes) is switched off
with ``PIP_CONFIG_FILE=/dev/null``. Prints seconds for each run, the cache size in MB and
the number of distributions installed.

Usage::

    python benchmarks/bench_install.py [--index-url URL] [--python python3.12]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def install(python: str, venv: Path, cache: Path, index_url: str) -> float:
    """The action's install commands into a new ``venv``; returns wall seconds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_CACHE_DIR=str(cache), PIP_INDEX_URL=index_url,
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    start = time.perf_counter()
    subprocess.run([python, "-m", "venv", str(venv)], check=True, env=env)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--quiet"]
    subprocess.run([*pip, "install", "--require-hashes", "--no-deps", "-r", str(ROOT / "requirements" / "action.txt")],
                   check=True, env=env)
    subprocess.run([*pip, "install", "--no-deps", "--no-build-isolation", str(ROOT)], check=True, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-url", default="https://pypi.org/simple")
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tokyo-bench-install-") as tmp:
        cache = Path(tmp) / "pip-cache"
        cold = install(args.python, Path(tmp) / "venv-cold", cache, args.index_url)
        cache_mb = _size_mb(cache)
        shutil.rmtree(Path(tmp) / "venv-cold")
        warm = install(args.python, Path(tmp) / "venv-warm", cache, args.index_url)
        listed = subprocess.run([str(Path(tmp) / "venv-warm" / "bin" / "python"), "-m", "pip", "list",
                                 "--format=freeze"], capture_output=True, text=True, check=True).stdout
        count = len(listed.splitlines())
    print(f"install, cold cache : {cold:6.1f} s")
    print(f"install, warm cache : {warm:6.1f} s   (target < 30 s)")
    print(f"pip cache           : {cache_mb:6.1f} MB")
    print(f"distributions       : {count}")


if __name__ == "__main__":
    main()
