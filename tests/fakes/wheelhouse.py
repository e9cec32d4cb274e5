"""A wheelhouse without the network: the distributions installed in this interpreter's
environment, packed back into wheels.

The pre-commit tests need every dependency of tokyo as a wheel (pre-commit builds the hook's
environment with ``pip install .``). Fetching them from the package index made the suite
depend on the network; every one of them is already installed here (``pip install -e
'.[test]'``), so each installed distribution is packed back into a wheel from the files its
``RECORD`` lists (the wheel format, PEP 427 / the binary distribution format spec):

* files under site-packages keep their paths; the ``.dist-info`` directory is written with
  a fresh ``RECORD`` (sha256 and size of each packed file) and without what an installer
  adds (``INSTALLER``, ``REQUESTED``, ``direct_url.json``);
* files installed in the environment's ``bin/`` (``../../../bin/x``) are left out when they
  are the distribution's console entry points (pip writes those again from
  ``entry_points.txt``), else packed as ``<name>-<version>.data/scripts/x`` with an
  absolute ``#!`` line turned back into ``#!python`` (pip points it at the new
  environment's interpreter); other files outside site-packages (man pages, shared data)
  are left out;
* each file keeps its permission bits (``semgrep-core`` stays executable);
* the wheel's tags are the ``Tag:`` lines of the installed ``WHEEL`` file, compressed
  (``py2.py3-none-any``).

A distribution installed without a ``WHEEL`` file (an editable or legacy install) is
skipped: tokyo itself is built by pre-commit from the hook repository.

The ``wheelhouse`` fixture (session scope) packs it once per test run for every module that
installs tokyo somewhere new (the pre-commit hook tests, the fresh-venv test), under an
exclusive lock, so pytest-xdist workers share one copy instead of packing it twice.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import io
import os
import platform
import re
import sys
import sysconfig
import time
import zipfile
from collections.abc import Collection, Iterator
from configparser import ConfigParser
from pathlib import Path

import pytest

_INSTALLER_FILES = {"INSTALLER", "REQUESTED", "direct_url.json", "RECORD"}


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _console_scripts(dist_info: Path) -> set[str]:
    path = dist_info / "entry_points.txt"
    if not path.exists():
        return set()
    parser = ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(encoding="utf-8"))
    return {
        name
        for section in ("console_scripts", "gui_scripts")
        if parser.has_section(section)
        for name in parser.options(section)
    }


def repack(dist_info: Path, dest: Path) -> Path | None:
    """Pack the distribution of ``dist_info`` (``<site-packages>/<name>-<version>.dist-info``)
    into a wheel in ``dest``; its path, or None when it has no ``WHEEL`` or ``RECORD``."""
    wheel_meta, record = dist_info / "WHEEL", dist_info / "RECORD"
    if not wheel_meta.exists() or not record.exists():
        return None
    site = dist_info.parent
    name, version = dist_info.name[: -len(".dist-info")].rsplit("-", 1)
    tags = [
        line.split(":", 1)[1].strip().split("-")
        for line in wheel_meta.read_text().splitlines()
        if line.startswith("Tag:")
    ] or [["py3", "none", "any"]]
    # The compressed tag set (PEP 425): each part's values joined with dots.
    tag = "-".join(".".join(dict.fromkeys(t[i] for t in tags)) for i in range(3))
    scripts = _console_scripts(dist_info)
    bin_dir = Path(sysconfig.get_path("scripts")).resolve()
    out = dest / f"{re.sub(r'[-_.]+', '_', name)}-{version}-{tag}.whl"
    rows: list[tuple[str, str, str]] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:

        def add(arcname: str, data: bytes, mode: int = 0o644) -> None:
            info = zipfile.ZipInfo(arcname, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | (mode & 0o777)) << 16  # keeps executables executable
            zf.writestr(info, data)
            rows.append((arcname, _digest(data), str(len(data))))

        for row in csv.reader(io.StringIO(record.read_text(encoding="utf-8"))):
            if not row:
                continue
            rel = row[0]
            source = (site / rel).resolve()
            if rel.startswith(f"{dist_info.name}/") and rel.split("/", 1)[1] in _INSTALLER_FILES:
                continue
            if "__pycache__" in rel.split("/") or not source.is_file():
                continue
            if rel.startswith("../"):
                script = Path(rel).name
                if script in scripts or source.parent != bin_dir:
                    continue
                data = source.read_bytes()
                if data.startswith(b"#!") and b"python" in data.split(b"\n", 1)[0]:
                    data = b"#!python" + data[data.index(b"\n") :]
                add(f"{name}-{version}.data/scripts/{script}", data, 0o755)
                continue
            add(rel, source.read_bytes(), source.stat().st_mode)
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerows(rows)
        writer.writerow((f"{dist_info.name}/RECORD", "", ""))
        zf.writestr(f"{dist_info.name}/RECORD", buf.getvalue())
    return out


def installed_wheelhouse(site_packages: Path, dest: Path, *, skip: Collection[str] = ()) -> list[Path]:
    """Every distribution installed in ``site_packages`` with a ``WHEEL`` file, packed into
    ``dest`` (``skip``: distribution names, normalized, left out)."""
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for dist_info in sorted(site_packages.glob("*.dist-info")):
        name = re.sub(r"[-_.]+", "-", dist_info.name[: -len(".dist-info")].rsplit("-", 1)[0]).lower()
        if name in skip:
            continue
        wheel = repack(dist_info, dest)
        if wheel is not None:
            out.append(wheel)
    return out


def cached_wheelhouse(cache_dir: Path | None, scratch: Path) -> tuple[Path, str | None]:
    """Wheels of every distribution installed in this interpreter's environment except
    tokyo-cli (its dependencies and its build backend, hatchling, come with ``pip install -e
    '.[test]'``), packed by :func:`installed_wheelhouse`: no network. Kept in ``cache_dir``
    (pytest's cache, keyed by the installed distributions) when given, else in ``scratch``.

    Returns the directory and a line saying how long packing took (``None`` when it was
    already packed).
    """
    site = Path(sysconfig.get_path("purelib"))
    installed = sorted(p.name for p in site.glob("*.dist-info"))
    key = hashlib.sha256("\n".join([sys.version, platform.platform(), *installed]).encode()).hexdigest()[:16]
    home = cache_dir / f"tokyo-hook-wheels-{key}" if cache_dir is not None else scratch / "wheels"
    home.mkdir(parents=True, exist_ok=True)
    # Another process (an xdist worker) may be packing the same directory: wait for it. A
    # packing that died left no COMPLETE and is done again (zip files are rewritten whole).
    with _exclusive(home.parent / f"{home.name}.lock"):
        if (home / "COMPLETE").exists():
            return home, None
        started = time.monotonic()
        wheels = installed_wheelhouse(site, home, skip={"tokyo-cli"})
        (home / "COMPLETE").write_text("ok\n")
    return home, (
        f"wheelhouse: {len(wheels)} installed distributions packed in {time.monotonic() - started:.1f} s "
        f"(no network; kept in {home})"
    )


@contextlib.contextmanager
def _exclusive(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_file`` (POSIX; elsewhere no lock: one process)."""
    try:
        import fcntl
    except ImportError:  # Windows: xdist's workers would pack side by side; CI runs Linux
        yield
        return
    with open(lock_file, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def wheelhouse(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory of :func:`cached_wheelhouse`: in pytest's cache (``.pytest_cache``) when
    the cache plugin is on, else in this run's base temporary directory — the one xdist's
    workers share (``getbasetemp().parent``) — so it is packed once per run at most."""
    from fakes.offline import say

    cache = getattr(request.config, "cache", None)
    if cache is not None:
        where = cache.mkdir("tokyo-wheels")
    else:
        base = tmp_path_factory.getbasetemp()
        where = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    home, note = cached_wheelhouse(where, where)
    if note:
        say(request, note, prefix="wheelhouse")
    return home
