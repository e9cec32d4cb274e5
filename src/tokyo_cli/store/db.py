"""Opening the history database: location, pragmas, migration guard, error translation.

Several tokyo processes may use one database at once (a TUI, a pre-commit hook, a CI job),
so the connection runs in WAL mode with a 10 s busy timeout, writers take the write lock up
front (``BEGIN IMMEDIATE``, see :func:`write_transaction`), and the first-open migrations run
under an exclusive lock on a sibling ``<db>.lock`` file.

A database this tokyo does not understand is refused before anything is written to it
(:class:`~tokyo_cli.errors.StoreConfigError`, exit code 2): one whose schema is newer
(a migration this tokyo does not know, see :func:`check_schema`), or one that lacks a column
this tokyo's migrations made. So is a location that cannot hold a database file (a path
under a regular file, a directory).

Every sqlite failure leaves this package as a :class:`~tokyo_cli.errors.StoreError` with one
line that names the file and says what to do; never a traceback.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import weakref
from collections.abc import Iterator
from pathlib import Path

from sqlite_utils import Database, Migrations

from tokyo_cli.config.userconfig import HISTORY_FILE, default_history_path
from tokyo_cli.errors import StoreConfigError, StoreError
from tokyo_cli.store.migrations import MIGRATIONS, migration_names

BUSY_TIMEOUT_S = 10.0
"""Seconds a connection waits for another process's lock before giving up."""

DB_FILENAME = HISTORY_FILE


def default_db_path() -> Path:
    """``$TOKYO_HOME/history.db``, else ``platformdirs.user_data_dir("tokyo")/history.db``
    (:func:`tokyo_cli.config.userconfig.default_history_path`)."""
    return default_history_path()


def describe_error(exc: BaseException, path: Path | str) -> str:
    """One user-facing line for a sqlite or OS error on the database at ``path``."""
    text = str(exc)
    low = text.lower()
    if "database or disk is full" in low or "disk full" in low:
        return f"history database {path}: disk is full; free some space and run again"
    if "file is not a database" in low or "malformed" in low:
        return (
            f"history database {path} is corrupt or not a SQLite database; "
            "move it aside (tokyo creates a new one) or pass --db PATH"
        )
    if "database is locked" in low or "database is busy" in low:
        return f"history database {path} is locked by another process; try again"
    if "readonly" in low or "read-only" in low:
        return f"history database {path} is read-only; check its permissions or pass --db PATH"
    if "unable to open" in low:
        return (
            f"cannot open history database {path}: the directory is missing or not writable; "
            "set TOKYO_HOME or pass --db PATH"
        )
    if isinstance(exc, OSError) and exc.strerror:
        return f"history database {path}: {exc.strerror}"
    return f"history database {path}: {text}"


@contextlib.contextmanager
def translate_errors(path: Path | str) -> Iterator[None]:
    """Re-raise ``sqlite3.Error`` and ``OSError`` as a one-line :class:`StoreError`."""
    try:
        yield
    except StoreError:
        raise
    except (sqlite3.Error, OSError) as exc:
        raise StoreError(describe_error(exc, path)) from None


def db_path(db: Database) -> str:
    """The file behind ``db`` (for messages); ``":memory:"`` for an in-memory database."""
    for _seq, name, file in db.conn.execute("PRAGMA database_list"):
        if name == "main":
            return file or ":memory:"
    return "?"


@contextlib.contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """One atomic write: ``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on any exception).

    IMMEDIATE takes the write lock at the start, waiting up to the busy timeout; a deferred
    transaction that reads first and writes later can instead fail at once with "database
    is locked" under WAL when another process committed in between. sqlite-utils writes made
    inside become savepoints of this transaction instead of committing on their own.

    Raises:
        StoreError: locked for longer than the busy timeout, disk full, read-only file...
    """
    path = db_path(db)
    with translate_errors(path):
        db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
        with translate_errors(path):
            db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise


@contextlib.contextmanager
def _file_lock(lock_path: Path) -> Iterator[None]:
    """Exclusive advisory lock on ``lock_path`` for the duration of the block (blocking)."""
    with open(lock_path, "a+b") as handle:
        try:
            import fcntl
        except ImportError:  # Windows: msvcrt locks a byte range instead.
            import msvcrt

            while True:
                try:
                    msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)  # type: ignore[attr-defined]
                    break
                except OSError:  # LK_LOCK gives up after ~10 s; keep waiting like flock.
                    continue
            try:
                yield
            finally:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def check_schema(db: Database, path: Path | str, migrations: Migrations = MIGRATIONS) -> None:
    """Refuse a database written by a newer tokyo; read-only (nothing is written).

    A schema version is the number of migrations of the ``tokyo`` set applied to a database
    (:data:`~tokyo_cli.store.migrations.MIGRATIONS`; this tokyo's is their count). A newer
    tokyo records migrations this one does not know — a column added, renamed or dropped —
    and reading or writing its tables could fail half-way or lose data.

    Raises:
        StoreConfigError: a migration this tokyo does not know has been applied; the message
            names the database's schema version and this tokyo's.
    """
    from tokyo_cli import __version__

    known = migration_names(migrations)
    with translate_errors(path):
        applied = [m.name for m in migrations.applied(db)]
    unknown = [name for name in applied if name not in known]
    if unknown:
        raise StoreConfigError(
            f"history database {path} has schema version {len(applied)}, newer than tokyo {__version__} "
            f"understands (schema version {len(known)}; unknown migration {', '.join(unknown)}): "
            "upgrade tokyo, or pass --db PATH for another database; it was not changed"
        )


@functools.cache
def _expected_columns(migrations: Migrations) -> dict[str, frozenset[str]]:
    """Table -> columns after every migration of ``migrations`` (built once, in memory)."""
    db = Database(memory=True, execute_plugins=False)
    migrations.apply(db)
    tables = [t for t in db.table_names() if not t.startswith(("_", "findings_fts"))]
    return {t: frozenset(c.name for c in db[t].columns) for t in tables}


def check_columns(db: Database, path: Path | str, migrations: Migrations = MIGRATIONS) -> None:
    """Refuse a database that lacks a table or column this tokyo's migrations create (a schema
    changed outside them): reading it would fail half-way. Read-only.

    Raises:
        StoreConfigError: names the first missing column and this tokyo's schema version.
    """
    with translate_errors(path):
        for table, columns in _expected_columns(migrations).items():
            have = {row[1] for row in db.execute(f'PRAGMA table_info("{table}")').fetchall()}
            missing = sorted(columns - have)
            if missing:
                what = f"table {table}" if not have else f"column {table}.{missing[0]}"
                raise StoreConfigError(
                    f"history database {path} does not match schema version {len(migration_names(migrations))} "
                    f"of this tokyo: {what} is missing (changed by another tool, or by a newer tokyo); "
                    "pass --db PATH for another database; it was not changed"
                )


def _needs_setup(db: Database, migrations: Migrations) -> bool:
    return db.journal_mode != "wal" or bool(migrations.pending(db))


def ensure_schema(db: Database, path: Path, migrations: Migrations = MIGRATIONS) -> None:
    """Switch ``db`` to WAL and apply pending migrations, at most one process at a time.

    The cheap check runs without the lock (the common case: nothing to do); when work is
    due, the ``<path>.lock`` file lock is taken and the check repeated, because another
    process may have finished the same work while this one waited.

    Raises:
        StoreConfigError: the schema is newer than ``migrations`` know, or lacks one of their
            columns (:func:`check_schema`, :func:`check_columns`); a newer schema is refused
            before anything is written.
    """
    check_schema(db, path, migrations)
    if _needs_setup(db, migrations):
        with _file_lock(path.with_name(path.name + ".lock")):
            check_schema(db, path, migrations)  # a newer tokyo may have migrated it meanwhile
            if db.journal_mode != "wal":
                db.enable_wal()
            if migrations.pending(db):
                migrations.apply(db)
    check_columns(db, path, migrations)


def _check_location(target: Path) -> None:
    """Refuse a path that can never be a database file: a directory, or one under a regular
    file (``TOKYO_HOME`` or ``--db`` pointing at a file), before creating anything.

    Raises:
        StoreConfigError: one line naming the path and what to set instead.
    """
    if target.is_dir():
        raise StoreConfigError(f"history database {target} is a directory; pass a file path with --db")
    for parent in target.parents:
        if parent.exists():
            if not parent.is_dir():
                home = os.environ.get("TOKYO_HOME")
                if home and target == default_db_path():
                    where = "is a file" if parent == target.parent else f"is under a file ({parent})"
                    raise StoreConfigError(
                        f"TOKYO_HOME {where}, not a directory, so it cannot hold the history database "
                        f"{target}; set TOKYO_HOME to a directory (tokyo creates it) or pass --db PATH"
                    )
                raise StoreConfigError(
                    f"history database {target}: {parent} is a file, not a directory; pass --db PATH"
                )
            return


def open_db(path: Path | str | None = None) -> Database:
    """Open (creating if needed) the history database and bring its schema up to date.

    Args:
        path: the database file; ``None`` means :func:`default_db_path`. Parent
            directories are created.

    Returns:
        A sqlite-utils ``Database`` in WAL mode, ``busy_timeout`` 10 000 ms, foreign keys ON,
        with every migration of :data:`~tokyo_cli.store.migrations.MIGRATIONS` applied. The
        caller closes it (``db.close()`` or ``with open_db() as db:``).

    Raises:
        StoreConfigError: (exit code 2) a path under a regular file or a directory, or a
            schema newer than this tokyo (see :func:`ensure_schema`); nothing is written.
        StoreError: one line for an unwritable directory, a full disk, a corrupt or
            non-SQLite file, or a lock held longer than the busy timeout.
    """
    target = Path(path).expanduser() if path is not None else default_db_path()
    _check_location(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise StoreError(
            f"cannot create the directory for history database {target}: {reason}; set TOKYO_HOME or pass --db PATH"
        ) from None
    conn: sqlite3.Connection | None = None
    try:
        with translate_errors(target):
            conn = sqlite3.connect(str(target), timeout=BUSY_TIMEOUT_S, factory=_Connection)
            # No third-party sqlite-utils plugins on tokyo's connection: loading them scans
            # every installed package's entry points (~50 ms per process) for nothing we use.
            db = Database(conn, execute_plugins=False)
            # Python's connect(timeout=) already sets it; the pragma makes it explicit.
            db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            db.execute("PRAGMA foreign_keys = ON")
            ensure_schema(db, target)
    except BaseException:
        if conn is not None:
            conn.close()
        raise
    _opened.add(conn)
    return db


class _Connection(sqlite3.Connection):
    """sqlite3's connection, weakly referenceable (the base class is not)."""


# Every connection open_db made: a Database may be dropped while its connection lives on.
_opened: weakref.WeakSet[sqlite3.Connection] = weakref.WeakSet()


def close_all() -> int:
    """Close every history database :func:`open_db` opened that is still open; returns how
    many it closed. For a process that leaves with ``os._exit`` (no interpreter teardown):
    committed data is already durable in the WAL, and closing lets SQLite checkpoint it into
    the database file and remove the ``-wal`` file, as a normal exit would. Never raises."""
    closed = 0
    for conn in list(_opened):
        try:
            if conn.in_transaction:  # never expected: save_run commits; a normal exit would roll back too
                conn.rollback()
            conn.close()
            closed += 1
        except sqlite3.Error:  # already closed, or closing failed: nothing more to save
            pass
        _opened.discard(conn)
    return closed
