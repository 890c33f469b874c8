"""The three domain databases: reading and writing rows and their version history.

Connections and their retries are sqlite_connection.py's; the table layout and its
migrations are domain_schema.py's. Both are re-exported here, where callers have always
found them.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from assembly_engine.domain.types import DATABASE_FILES, Domain
from assembly_engine.storage.contract.errors import DatabaseBusy, SchemaError
from assembly_engine.storage.contract.history import HistoryWrite
from assembly_engine.storage.contract.models import COLUMNS, AssemblyRecord
from assembly_engine.storage.files import failpoints
from assembly_engine.storage.formats.history_rows import HistoryReads, stored_revisions
from assembly_engine.storage.sqlite.connection import ConnectionOptions, connect, immediate, with_retry
from assembly_engine.storage.sqlite.domain_schema import (
    SCHEMA_VERSION,
    STAMP_SCHEMA,
    create_history_schema,
    create_schema,
    table_columns,
    validate_and_migrate,
)

__all__ = [  # what callers import from here, including the re-exports
    "COLUMNS",
    "SCHEMA_VERSION",
    "ConnectionOptions",
    "DatabaseBusy",
    "DomainDatabase",
    "DomainDatabases",
    "SchemaError",
    "connect",
    "create_schema",
    "finish_interrupted_write",
    "read_staging",
    "table_columns",
    "with_retry",
    "write_changes",
]

log = logging.getLogger("assembly_engine.databases")


SELECT_ALL = f"SELECT {', '.join(COLUMNS)} FROM assemblies"
UPSERT = (
    f"INSERT INTO assemblies ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
    "ON CONFLICT(assembly_guid) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])
)
DELETE = "DELETE FROM assemblies WHERE assembly_guid = ?"


def finish_interrupted_write(path: Path) -> None:
    """Roll back a write to a rollback-journal database that a crash cut short.

    A kill while the staging mirror commits leaves ``<name>-journal`` behind ("hot"). A
    read-only connection cannot roll it back and fails, so the first reader opens the file
    read-write once: SQLite then restores the pages the journal holds."""
    if not (path.exists() and path.with_name(path.name + "-journal").exists()):
        return
    try:
        conn = sqlite3.connect(str(path), isolation_level=None)
        try:
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise SchemaError(
            f"{path}: a write to it was interrupted (a crash left {path.name}-journal) and it "
            f"could not be rolled back ({exc}); make the folder writable for the engine so "
            "it can finish the rollback, or restore the file from version control."
        ) from None
    log.warning("%s: rolled back a write a crash had interrupted", path)


def read_staging(path: Path, domain: Domain) -> list[AssemblyRecord]:
    """Read a staging database without writing to it (not even a WAL switch), once any
    write a crash interrupted is rolled back."""
    finish_interrupted_write(path)
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        columns = table_columns(conn, "assemblies")
        missing = [c for c in COLUMNS if c not in columns]
        if missing:
            raise SchemaError(
                f"{path}: the staging library lacks the column(s) {', '.join(missing)}; "
                "rebuild it with `make official-library`."
            )
        return read_records(conn, domain)
    finally:
        conn.close()


def read_records(conn: sqlite3.Connection, domain: Domain) -> list[AssemblyRecord]:
    return [AssemblyRecord.from_row(row, domain) for row in conn.execute(SELECT_ALL)]


INSERT_REVISION = (
    "INSERT OR IGNORE INTO revisions (assembly_guid, revision, action, row_json, "
    "payload_guid, recorded_at, metadata_hash) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
INSERT_METADATA = "INSERT OR IGNORE INTO revision_metadata (hash, metadata_json) VALUES (?, ?)"
# Shared metadata no kept revision names any more (after retention removed revisions).
FORGET_UNUSED_METADATA = (
    "DELETE FROM revision_metadata WHERE hash NOT IN "
    "(SELECT metadata_hash FROM revisions WHERE metadata_hash IS NOT NULL)"
)
INSERT_DELETION = (
    "INSERT OR REPLACE INTO deleted_assemblies (assembly_guid, revision, deleted_at, "
    "deleted_by, row_json) VALUES (?, ?, ?, ?, ?)"
)
FORGET_DELETION = "DELETE FROM deleted_assemblies WHERE assembly_guid = ?"


def _write_history(conn: sqlite3.Connection, history: HistoryWrite) -> None:
    for sql, rows in history.batches(INSERT_REVISION, FORGET_DELETION, INSERT_DELETION):
        if sql is INSERT_REVISION:
            rows = _stored_revisions(conn, rows)
        conn.executemany(sql, rows)


def _stored_revisions(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The revision rows as stored: large metadata goes to revision_metadata, once."""
    stored, shared = stored_revisions(rows)
    conn.executemany(INSERT_METADATA, sorted(shared.items()))
    return stored


def write_changes(
    conn: sqlite3.Connection,
    upsert_rows: Sequence[tuple[Any, ...]],
    deletes: Iterable[str],
    path: Path | None = None,
    history: HistoryWrite | None = None,
) -> None:
    """Apply upserts (rows in ``COLUMNS`` order), deletes and their ``history`` in ONE
    transaction (``path``, the database's file, lets a crash test stop the engine inside
    this commit). A revision already recorded is left as it is (a replayed journal entry
    writes the same revision again)."""
    with immediate(conn):
        if upsert_rows:
            conn.executemany(UPSERT, upsert_rows)
        delete_rows = [(guid,) for guid in deletes]
        if delete_rows:
            conn.executemany(DELETE, delete_rows)
        if history is not None:
            _write_history(conn, history)
        if path is not None:
            failpoints.reached("before-commit", path)


class DomainDatabase(HistoryReads):
    """One domain database: a single connection guarded by a lock."""

    def __init__(
        self, domain: Domain, path: Path, options: ConnectionOptions, *, history: bool = False
    ) -> None:
        self.domain = domain
        self.path = path
        self.options = options
        self.history = history  # keeps version history (runtime databases)
        self._lock = threading.Lock()
        self._conn = connect(path, options)

    def validate(self) -> list[str]:
        if self.options.read_only:  # nothing may be written: the layout must be current already
            self._check_layout()
            return []
        with self._lock:
            added = validate_and_migrate(self._conn, self.path)
            if self.history:
                with_retry(
                    lambda: create_history_schema(self._conn),
                    what=f"adding history tables to {self.path.name}",
                    budget_seconds=30.0,
                )
            return added

    def _check_layout(self) -> None:
        with self._lock:
            columns = table_columns(self._conn, "assemblies")
            tables = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = [c for c in COLUMNS if c not in columns]
        if self.history and not {"revisions", "revision_metadata", "deleted_assemblies"} <= tables:
            missing.append("the history tables")
        if missing:
            raise SchemaError(
                f"{self.path}: read-only start: the file needs a schema migration "
                f"({', '.join(missing)} missing), which cannot be written on a full disk"
            )

    # -- version history -------------------------------------------------------------
    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return with_retry(
                lambda: self._conn.execute(sql, params).fetchall(),
                what=f"reading {self.path.name}",
                budget_seconds=self.options.retry_seconds,
            )

    def prune_history(
        self, *, keep: int | None, deleted_before: str | None, live: Callable[[str], bool]
    ) -> tuple[int, int, set[str]]:
        """Apply retention in one transaction: keep the newest ``keep`` revisions of each
        assembly (None: all), and purge assemblies deleted before ``deleted_before`` (None:
        none) with all their revisions, unless ``live`` says the GUID is in use again.
        Returns (revisions removed, deleted assemblies purged, their payload folders)."""
        if not self.history:
            return 0, 0, set()
        result: list[Any] = [0, 0, set()]

        def prune() -> None:
            conn = self._conn
            payloads: set[str] = set()
            purged = 0
            if deleted_before is not None:
                old = [
                    g
                    for (g,) in conn.execute(
                        "SELECT assembly_guid FROM deleted_assemblies WHERE deleted_at < ?", (deleted_before,)
                    )
                    if not live(g)
                ]
                for guid in old:
                    payloads.update(
                        p
                        for (p,) in conn.execute(
                            "SELECT payload_guid FROM revisions WHERE assembly_guid = ?", (guid,)
                        )
                    )
                    conn.execute("DELETE FROM revisions WHERE assembly_guid = ?", (guid,))
                    conn.execute(FORGET_DELETION, (guid,))
                purged = len(old)
            removed = 0
            if keep is not None:
                doomed = conn.execute(
                    "SELECT assembly_guid, revision, payload_guid FROM ("
                    " SELECT assembly_guid, revision, payload_guid, ROW_NUMBER() OVER ("
                    "  PARTITION BY assembly_guid ORDER BY revision DESC) AS newer FROM revisions"
                    ") WHERE newer > ?",
                    (keep,),
                ).fetchall()
                conn.executemany(
                    "DELETE FROM revisions WHERE assembly_guid = ? AND revision = ?",
                    [(g, r) for g, r, _ in doomed],
                )
                payloads.update(p for _, _, p in doomed)
                removed = len(doomed)
            if removed or purged:
                conn.execute(FORGET_UNUSED_METADATA)
            result[:] = [removed, purged, payloads]

        self._in_transaction(prune, f"pruning the history of {self.path.name}")
        return result[0], result[1], result[2]

    def load(self) -> list[AssemblyRecord]:
        with self._lock:
            return with_retry(
                lambda: read_records(self._conn, self.domain),
                what=f"reading {self.path.name}",
                budget_seconds=self.options.retry_seconds,
            )

    def load_rows(self) -> list[tuple[Any, ...]]:
        """The raw rows (``COLUMNS`` order), for comparisons that need no records."""
        with self._lock:
            return with_retry(
                lambda: self._conn.execute(SELECT_ALL).fetchall(),
                what=f"reading {self.path.name}",
                budget_seconds=self.options.retry_seconds,
            )

    def write(
        self,
        upsert_rows: Sequence[tuple[Any, ...]],
        deletes: Iterable[str],
        budget_seconds: float | None = None,
        on_lock_wait: Callable[[], None] | None = None,
        history: HistoryWrite | None = None,
    ) -> None:
        """Upsert ``upsert_rows`` (``AssemblyRecord.to_row()``) and delete ``deletes``, with
        their ``history`` (ignored by a database that keeps none) in the same transaction."""
        deletes = list(deletes)
        history = history if self.history else None
        with self._lock:
            with_retry(
                lambda: write_changes(self._conn, upsert_rows, deletes, self.path, history),
                what=f"writing {self.path.name}",
                budget_seconds=self.options.retry_seconds if budget_seconds is None else budget_seconds,
                on_wait=on_lock_wait,
            )

    def replace_all(
        self,
        records: Sequence[AssemblyRecord],
        *,
        stamp: str | None = None,
        history: HistoryWrite | None = None,
    ) -> None:
        """Purge the table and insert ``records`` in one transaction (official sync), with
        the ``history`` of the change (the history tables themselves are never purged).

        ``stamp`` is remembered with exactly this content (see :meth:`stamp`)."""

        def purge_and_fill() -> None:
            self._conn.execute("DELETE FROM assemblies")
            self._conn.executemany(UPSERT, [r.to_row() for r in records])
            if history is not None and self.history:
                _write_history(self._conn, history)
            if stamp is not None:
                self._set_stamp(stamp)
            failpoints.reached("official-sync", self.path)  # a crash test's kill inside the sync

        self._in_transaction(purge_and_fill, f"rebuilding {self.path.name}")

    def _in_transaction(self, work: Callable[[], None], what: str) -> None:
        """Run ``work`` in one write transaction (BEGIN IMMEDIATE ... COMMIT), retried
        while the database is busy; nothing of it stays if it fails."""

        def attempt() -> None:
            with immediate(self._conn):
                work()

        with self._lock:
            with_retry(attempt, what=what, budget_seconds=self.options.retry_seconds)

    # A content stamp is a value stored next to the table's rows that any later change to
    # the rows erases (triggers, so it holds even for a hand edit with the sqlite3 shell).
    # A reader that finds the stamp it expects knows the rows are exactly what was stamped.
    def stamp(self) -> str | None:
        with self._lock:
            try:
                row = self._conn.execute("SELECT value FROM content_stamp").fetchone()
            except sqlite3.OperationalError:  # never stamped: no table yet
                return None
            return None if row is None else str(row[0])

    def set_stamp(self, stamp: str) -> None:
        """Stamp the current rows (which the caller knows to be what ``stamp`` stands for)."""
        self._in_transaction(lambda: self._set_stamp(stamp), f"stamping {self.path.name}")

    def _set_stamp(self, stamp: str) -> None:
        for statement in STAMP_SCHEMA:
            self._conn.execute(statement)
        self._conn.execute("DELETE FROM content_stamp")
        self._conn.execute("INSERT INTO content_stamp (value) VALUES (?)", (stamp,))

    def count(self) -> int:
        with self._lock:
            row = self._conn.execute("SELECT COUNT(*) FROM assemblies").fetchone()
            return int(row[0])

    def checkpoint(self) -> None:
        with self._lock:
            try:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.OperationalError as exc:
                log.info("%s: checkpoint skipped (%s)", self.path.name, exc)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class DomainDatabases:
    """The three domain databases of one root (runtime or staging)."""

    def __init__(
        self,
        root: Path,
        options: ConnectionOptions,
        domains: Iterable[Domain] = tuple(Domain),
        *,
        history: bool = True,
    ) -> None:
        self.root = root
        self.options = options
        self._dbs = {
            d: DomainDatabase(d, root / DATABASE_FILES[d], options, history=history) for d in domains
        }

    def __getitem__(self, domain: Domain) -> DomainDatabase:
        return self._dbs[domain]

    def __iter__(self) -> Iterator[DomainDatabase]:
        return iter(self._dbs.values())

    def validate_all(self) -> dict[Domain, list[str]]:
        return {d: db.validate() for d, db in self._dbs.items()}

    def close(self) -> None:
        for db in self._dbs.values():
            db.close()
