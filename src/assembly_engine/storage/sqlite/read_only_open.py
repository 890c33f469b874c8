"""Opening the engine's SQLite files without writing a byte: the read-only boot on a full
disk (storage/contract/read_only.py).

A WAL database needs its WAL index (``-shm``) even to be read. What SQLite allows, and
what a real full disk showed:

* ``-wal`` missing or empty (the engine stopped cleanly and checkpointed): ``mode=ro``
  alone tries to create ``-shm`` and ``-wal`` and fails ("disk I/O error", leaving empty
  files behind); ``immutable=1`` reads the file as it is, creating nothing. Immutable is
  safe here: the caller holds the home's lock, so nothing else writes the file, and
  there is no WAL content it could miss.
* ``-wal`` with content (a kill, a crash): ``immutable=1`` would ignore the WAL and show
  an older state, so ``mode=ro`` is used; it reads through the existing ``-shm``, whose
  pages are already allocated, so a full disk does not stop it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def has_wal_content(path: Path) -> bool:
    wal = path.with_name(path.name + "-wal")
    try:
        return wal.stat().st_size > 0
    except FileNotFoundError:
        return False


def read_only_uri(path: Path) -> str:
    """The URI that opens ``path`` read-only without creating or changing any file."""
    uri = path.resolve().as_uri() + "?mode=ro"
    return uri if has_wal_content(path) else uri + "&immutable=1"


def open_read_only(path: Path, *, timeout_seconds: float = 5.0) -> sqlite3.Connection:
    """A read-only connection to an existing ``path``; sqlite3.Error when it cannot be read
    (missing file included: read-only never creates one)."""
    if not path.exists():
        raise sqlite3.OperationalError(f"{path.name} does not exist (a read-only start creates nothing)")
    conn = sqlite3.connect(
        read_only_uri(path),
        uri=True,
        timeout=timeout_seconds,
        check_same_thread=False,
        isolation_level=None,
    )
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # reads through the WAL now
    except BaseException:
        conn.close()
        raise
    return conn
