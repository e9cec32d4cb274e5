"""Reading the reviewed working tree without ever leaving it through a symlink.

The reviewed repository is hostile input (docs/ARCHITECTURE.md, "Trust boundaries"): a committed
symlink ``notes.txt -> /home/me/.aws/credentials`` (or a symlinked directory ``docs ->
/etc``) must never be followed, or the target's bytes would reach prompts, reports and the
history. Every function here takes the repository root and a ``/``-separated relative path,
refuses paths that are absolute or contain ``..``/``.``/empty parts, and never follows a
symlink, neither the last part nor any parent directory below the root:

* on POSIX each directory is opened relative to its parent with ``O_NOFOLLOW`` and the file
  with ``O_NOFOLLOW`` (no window between a check and the open);
* elsewhere (Windows) every part is ``lstat``-ed first (symlinks and junctions refused) and
  the file's resolved path must still lie under the root.

A symlink is an entry of its own: :func:`is_symlink` says so (for the link or a symlinked
parent), and :func:`read` returns ``None`` for it, like for a missing file, a directory, a
FIFO or a device.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
# Component-wise opening needs dir_fd support and O_NOFOLLOW/O_DIRECTORY (POSIX).
_AT = bool(_NOFOLLOW and _DIRECTORY and os.open in os.supports_dir_fd and os.stat in os.supports_dir_fd)
_REPARSE = getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0x400)


def parts_of(rel: str) -> list[str] | None:
    """The components of the relative path ``rel``; ``None`` when it is empty, absolute, or
    has an empty, ``.`` or ``..`` part (or, on Windows, a drive, ``\\`` or ``:``)."""
    if not rel or rel.startswith("/"):
        return None
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return None
    if sys.platform == "win32" and any("\\" in p or ":" in p for p in parts):
        return None
    return parts


def lstat(root: Path, rel: str) -> os.stat_result | None:
    """``lstat`` of ``root/rel`` (a symlink is reported as the link), or ``None`` when it does
    not exist, ``rel`` is not a clean relative path, or a parent below ``root`` is not a real
    directory (a symlink to one included)."""
    parts = parts_of(rel)
    if parts is None:
        return None
    if not _AT:
        return _lstat_portable(root, parts)
    try:
        dfd = _open_parent(root, parts)
    except OSError:
        return None
    try:
        return os.stat(parts[-1], dir_fd=dfd, follow_symlinks=False)
    except OSError:
        return None
    finally:
        os.close(dfd)


def is_symlink(root: Path, rel: str) -> bool:
    """True when ``root/rel`` is a symlink or lies below a symlinked directory of the tree."""
    parts = parts_of(rel)
    if parts is None:
        return False
    here = root
    for part in parts:
        here = here / part
        try:
            st = os.lstat(here)
        except OSError:
            return False
        if _is_link(st):
            return True
        if not stat.S_ISDIR(st.st_mode):
            return False
    return False


def read(root: Path, rel: str) -> bytes | None:
    """Bytes of the regular file ``root/rel``; ``None`` for a symlink (or a path through a
    symlinked directory), a directory, a special file, a missing file or a path that is not
    clean."""
    parts = parts_of(rel)
    if parts is None:
        return None
    if not _AT:
        return _read_portable(root, parts)
    try:
        dfd = _open_parent(root, parts)
    except OSError:
        return None
    try:
        fd = os.open(parts[-1], os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC, dir_fd=dfd)
    except OSError:
        return None
    finally:
        os.close(dfd)
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            return None
        return fh.read()


def _open_parent(root: Path, parts: list[str]) -> int:
    """A descriptor of ``root/parts[:-1]``, each directory opened without following a link.
    Raises OSError (ELOOP/ENOTDIR for a symlinked directory, ENOENT, ...)."""
    dfd = os.open(root, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    try:
        for part in parts[:-1]:
            nfd = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=dfd)
            os.close(dfd)
            dfd = nfd
    except OSError:
        os.close(dfd)
        raise
    return dfd


def _is_link(st: os.stat_result) -> bool:
    attrs = getattr(st, "st_file_attributes", 0)
    return stat.S_ISLNK(st.st_mode) or bool(attrs & _REPARSE)


def _lstat_portable(root: Path, parts: list[str]) -> os.stat_result | None:
    here = root
    for part in parts[:-1]:
        here = here / part
        try:
            st = os.lstat(here)
        except OSError:
            return None
        if _is_link(st) or not stat.S_ISDIR(st.st_mode):
            return None
    try:
        return os.lstat(here / parts[-1])
    except OSError:
        return None


def _read_portable(root: Path, parts: list[str]) -> bytes | None:
    st = _lstat_portable(root, parts)
    if st is None or _is_link(st) or not stat.S_ISREG(st.st_mode):
        return None
    full = root.joinpath(*parts)
    try:
        if not Path(os.path.realpath(full)).is_relative_to(Path(os.path.realpath(root))):
            return None
        with open(full, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return None
            return fh.read()
    except OSError:
        return None
