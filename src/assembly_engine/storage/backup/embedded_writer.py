"""Writing the files of an embedded home from any backend's rows: what a cluster backup is.

The files are written by the embedded backend's own classes, so the layout cannot drift
from what an embedded engine boots from.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from assembly_engine.domain.types import Domain
from assembly_engine.storage.contract.engine_records import USER_COLUMNS
from assembly_engine.storage.contract.history import HistoryWrite
from assembly_engine.storage.contract.journal_entry import JournalEntry
from assembly_engine.storage.sqlite.databases import ConnectionOptions, DomainDatabase
from assembly_engine.storage.sqlite.engine_store import SqliteEngineStore
from assembly_engine.storage.sqlite.journal import JOURNAL_FILE, Journal
from assembly_engine.storage.sqlite.payload_folders import PayloadStore as FolderPayloadStore

__all__ = ["JOURNAL_FILE", "FolderPayloadStore", "write_domain", "write_engine_db", "write_journal"]


def pages(path: Path) -> int:
    """Make a written SQLite file self-contained (no WAL) and return its page count, which
    is what an embedded backup reports for each file."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode = DELETE")
        return int(conn.execute("PRAGMA page_count").fetchone()[0])
    finally:
        conn.close()


def write_journal(path: Path, entries: Iterable[JournalEntry]) -> int:
    """A journal holding ``entries`` (the changes still queued); its page count."""
    journal = Journal(path, ConnectionOptions(shared_cache=False))
    try:
        for future in [journal.submit(entry) for entry in entries]:
            future.result()
    finally:
        journal.close()
    return pages(path)


def write_domain(
    domain: Domain, path: Path, rows: Sequence[tuple[Any, ...]], history: HistoryWrite, stamp: str | None
) -> int:
    """A domain database holding ``rows`` and their history; its page count."""
    db = DomainDatabase(domain, path, ConnectionOptions(shared_cache=False, wal=False), history=True)
    try:
        db.validate()
        db.write(rows, [], history=history)
        if stamp is not None:
            db.set_stamp(stamp)  # the rows are the stamped ones: the same snapshot
    finally:
        db.close()
    return pages(path)


def write_engine_db(
    path: Path,
    users: Iterable[Sequence[Any]],
    sessions: Iterable[Sequence[Any]],
    meta: Iterable[tuple[str, bytes]],
) -> int:
    """An engine database with these users, sessions and secrets (rows in the embedded
    column order); its page count."""
    SqliteEngineStore(path).close()  # creates engine.db with its current schema, owner-only
    target = sqlite3.connect(path, isolation_level=None)
    try:
        target.execute("BEGIN IMMEDIATE")
        target.executemany(
            f"INSERT INTO users ({USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            users,
        )
        target.executemany(
            "INSERT INTO sessions (token_hash, username, created_at, expires_at, last_seen, "
            "dev_mode_until, dev_mode_reason, revoked) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            sessions,
        )
        target.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta)
        target.execute("COMMIT")
    finally:
        target.close()
    return pages(path)
