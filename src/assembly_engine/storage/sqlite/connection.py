"""SQLite connections to the engine's databases: pragmas, and retries on a lock.

Every connection uses WAL, ``busy_timeout``, ``foreign_keys=ON`` and, unless turned off,
SQLite's shared cache (``cache=shared``). Shared cache turns some lock conflicts into
``SQLITE_LOCKED``, which ``busy_timeout`` does not retry, so every write goes through
:func:`with_retry`, which retries both ``SQLITE_BUSY`` and ``SQLITE_LOCKED`` with backoff.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from assembly_engine.storage.contract.errors import DatabaseBusy
from assembly_engine.storage.sqlite.read_only_open import open_read_only

log = logging.getLogger("assembly_engine.databases")

T = TypeVar("T")

SQLITE_BUSY = 5
SQLITE_LOCKED = 6


@dataclass(frozen=True)
class ConnectionOptions:
    shared_cache: bool = True
    busy_timeout_ms: int = 5000
    synchronous: str = "FULL"
    retry_seconds: float = 10.0
    wal: bool = True  # the staging copy is kept in rollback-journal mode: one file for git
    read_only: bool = False  # the read-only boot on a full disk: open, never create or write


def is_lock_error(exc: BaseException) -> bool:
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in (SQLITE_BUSY, SQLITE_LOCKED)
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def with_retry(
    operation: Callable[[], T],
    *,
    what: str,
    budget_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
    on_wait: Callable[[], None] | None = None,
) -> T:
    """Run ``operation``; on SQLITE_BUSY/SQLITE_LOCKED retry with jittered backoff.
    ``on_wait`` is called once, when the first retry begins (so a stall can be shown)."""
    started = time.monotonic()
    delay = 0.01
    attempt = 0
    while True:
        try:
            return operation()
        except sqlite3.OperationalError as exc:
            if not is_lock_error(exc):
                raise
            waited = time.monotonic() - started
            if waited >= budget_seconds:
                raise DatabaseBusy(what, waited) from exc
            attempt += 1
            if attempt == 1 and on_wait is not None:
                on_wait()
            if attempt in (1, 10, 100):
                log.warning("%s: database locked (%s); retrying", what, exc)
            sleep(min(delay * (0.5 + random.random()), max(0.0, budget_seconds - waited)))
            delay = min(delay * 2, 0.5)


def connect(path: Path, options: ConnectionOptions) -> sqlite3.Connection:
    """Open one connection with the engine's pragmas (creates the file when missing)."""
    if options.read_only:
        return open_read_only(path, timeout_seconds=options.busy_timeout_ms / 1000)
    path.parent.mkdir(parents=True, exist_ok=True)
    uri = path.resolve().as_uri() + ("?cache=shared" if options.shared_cache else "")
    conn = sqlite3.connect(
        uri,
        uri=True,
        timeout=options.busy_timeout_ms / 1000,
        check_same_thread=False,
        isolation_level=None,  # we issue BEGIN/COMMIT ourselves
    )
    conn.execute(f"PRAGMA busy_timeout = {int(options.busy_timeout_ms)}")
    journal_mode = "WAL" if options.wal else "DELETE"
    with_retry(
        lambda: conn.execute(f"PRAGMA journal_mode = {journal_mode}"),
        what=f"opening {path.name}",
        budget_seconds=options.retry_seconds,
    )
    synchronous = options.synchronous.upper()
    if synchronous not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise ValueError(f"ENGINE_SQLITE_SYNCHRONOUS must be OFF/NORMAL/FULL/EXTRA, not {synchronous}")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction taken up front (BEGIN IMMEDIATE), so a read-then-write inside
    it cannot be overtaken by another writer; committed at the end, rolled back on any
    failure, a failed COMMIT (SQLITE_BUSY) included: no transaction is ever left open."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
