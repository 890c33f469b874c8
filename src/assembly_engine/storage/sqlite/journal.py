"""The write-ahead journal that makes a queued mutation durable before it is acknowledged.

A small SQLite database (``journal.db`` in the runtime root) in WAL mode with
``synchronous=FULL``: a committed append survives kill -9 and power loss. Appends are
group-committed by one writer thread: every caller waiting at the same moment shares one
transaction (one fsync), which is what keeps acknowledged writes fast under concurrency.

Each entry holds the *full* resulting record (or a delete marker), never a diff, so
replaying an entry twice gives the same state: a crash between a flush and the journal's
cleanup is harmless. Large metadata (``SHARED_FROM_BYTES`` or more) is the exception to
copying: it is kept once by SHA-256 in ``journal_metadata``, written in the same commit as
the entries naming it, so 40 small edits of an assembly with 10 MiB of metadata add one
copy, not 40 (issue 23, 5). Reading joins it back: an entry means the whole record still.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from assembly_engine.storage.contract.events import StorageEvents
from assembly_engine.storage.contract.journal_entry import JournalClosed, JournalEntry
from assembly_engine.storage.contract.models import AssemblyRecord
from assembly_engine.storage.contract.shared_metadata import METADATA_COLUMN, SHARED_FROM_BYTES, metadata_hash
from assembly_engine.storage.group_commit import GroupCommitWriter
from assembly_engine.storage.sqlite.connection import immediate
from assembly_engine.storage.sqlite.databases import ConnectionOptions, connect, with_retry

if TYPE_CHECKING:
    pass

log = logging.getLogger("assembly_engine.journal")

JOURNAL_FILE = "journal.db"
MAX_BATCH = 512

CREATE_JOURNAL = """
CREATE TABLE IF NOT EXISTS journal (
    seq           INTEGER PRIMARY KEY,
    op            TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
    domain        TEXT NOT NULL,
    assembly_guid TEXT NOT NULL,
    record_json   TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    note          TEXT,
    action        TEXT,
    actor         TEXT,
    metadata_hash TEXT
)
"""
CREATE_JOURNAL_METADATA = """
CREATE TABLE IF NOT EXISTS journal_metadata (
    hash          TEXT PRIMARY KEY,
    metadata_json TEXT NOT NULL
)
"""
# Large metadata no entry names any more (after a discard).
FORGET_UNUSED_METADATA = (
    "DELETE FROM journal_metadata WHERE hash NOT IN "
    "(SELECT metadata_hash FROM journal WHERE metadata_hash IS NOT NULL)"
)


def _encoded(value: dict[str, Any]) -> str:
    """An entry's record as JSON, built on the writer thread for every entry of a group
    commit: orjson (several times faster), json for what orjson refuses (a lone surrogate,
    a whole number past 64 bits); both read back the same with json.loads."""
    try:
        return orjson.dumps(value).decode("utf-8")
    except orjson.JSONEncodeError:
        return json.dumps(value, separators=(",", ":"))


def stored_form(record: AssemblyRecord) -> tuple[str, str | None, str | None]:
    """``record`` as an entry stores it: its JSON, with large metadata left out (null) and
    named by hash, and that metadata (both None when the record is kept whole)."""
    row = list(record.to_row())
    metadata = row[METADATA_COLUMN]
    if not isinstance(metadata, str) or len(metadata) < SHARED_FROM_BYTES:
        return _encoded(record.to_json()), None, None
    row[METADATA_COLUMN] = None
    whole = {"domain": record.domain.value, "row": row}
    return _encoded(whole), metadata_hash(metadata), metadata


def read_entries(conn: sqlite3.Connection) -> list[JournalEntry]:
    """Every entry of the journal behind ``conn``, in sequence order, whole again."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(journal)")}
    if "metadata_hash" not in columns:  # a journal from before shared metadata
        query = "SELECT seq, op, record_json, created_at, note, action, actor, NULL, NULL FROM journal"
    else:
        query = (
            "SELECT j.seq, j.op, j.record_json, j.created_at, j.note, j.action, j.actor, j.metadata_hash, "
            "m.metadata_json FROM journal AS j LEFT JOIN journal_metadata AS m ON m.hash = j.metadata_hash"
        )
    shared: dict[str, str] = {}  # one string per metadata text, however many entries name it
    entries: list[JournalEntry] = []
    for seq, op, rj, created_at, note, action, actor, hashed, metadata in conn.execute(
        query + " ORDER BY seq"
    ):
        value = json.loads(rj)
        if hashed is not None:
            if metadata is None:
                raise ValueError(
                    f"journal entry {seq} names metadata {hashed} that the journal does not hold"
                )
            value["row"][METADATA_COLUMN] = shared.setdefault(hashed, metadata)
        entries.append(
            JournalEntry(int(seq), op, AssemblyRecord.from_json(value), created_at, note, action, actor)
        )
    return entries


@dataclass(frozen=True)
class _Discard:
    persisted: list[tuple[str, int]]
    done: Future[int] | None = None


class Journal:
    def __init__(self, path: Path, options: ConnectionOptions) -> None:
        self.path = path
        # The journal is the durability promise: always FULL, whatever the domain setting.
        self._options = ConnectionOptions(
            shared_cache=False,
            busy_timeout_ms=options.busy_timeout_ms,
            synchronous="FULL",
            retry_seconds=options.retry_seconds,
        )
        self._conn = connect(path, self._options)
        self._conn.execute(CREATE_JOURNAL)
        self._conn.execute(CREATE_JOURNAL_METADATA)
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(journal)")}
        # journals from before notes, before history, before shared metadata
        for column in ("note", "action", "actor", "metadata_hash"):
            if column not in columns:
                self._conn.execute(f"ALTER TABLE journal ADD COLUMN {column} TEXT")
        # Flushes forget entries by assembly: keep that delete an index lookup per entry.
        self._conn.execute("CREATE INDEX IF NOT EXISTS journal_guid ON journal(assembly_guid, seq)")
        row = self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM journal").fetchone()
        self._next_seq = int(row[0]) + 1
        self._seq_lock = threading.Lock()
        self._conn_lock = threading.Lock()
        self.events = StorageEvents()  # monitoring counts group commits (services/metrics.py)
        self._writer: GroupCommitWriter[tuple[JournalEntry, Future[int]], _Discard] = GroupCommitWriter(
            self._commit, self._handle_discard, max_batch=MAX_BATCH, name="journal-writer"
        )
        self._writer.start()

    # -- appending ---------------------------------------------------------------------
    def audit_in_commit(self, audit: object) -> bool:
        """False: the audit log is a file of its own, so the services record a change's
        entry from its note once the change is durable (and at start, after a crash)."""
        return False

    def next_seq(self) -> int:
        """Reserve the next sequence number (callers do this under their own ordering lock)."""
        with self._seq_lock:
            seq = self._next_seq
            self._next_seq += 1
            return seq

    def submit(self, entry: JournalEntry) -> Future[int]:
        """Queue an entry for the next group commit; the future resolves once it is durable."""
        if self._writer.closed:
            raise JournalClosed("the journal is closed; the engine is shutting down")
        future: Future[int] = Future()
        self._writer.put((entry, future))
        return future

    def _commit(self, batch: list[tuple[JournalEntry, Future[int]]]) -> None:
        rows = []
        metadata: dict[str, str] = {}
        for e, _ in batch:
            record_json, hashed, text = stored_form(e.record)
            if hashed is not None and text is not None:
                metadata[hashed] = text
            rows.append(
                (
                    e.seq,
                    e.op,
                    e.record.domain.value,
                    e.assembly_guid,
                    record_json,
                    e.created_at,
                    e.note,
                    e.action,
                    e.actor,
                    hashed,
                )
            )

        def write() -> None:
            with immediate(self._conn):
                # In the entries' own commit: an entry is never durable without its metadata.
                for hashed, text in metadata.items():
                    if self._conn.execute(
                        "SELECT 1 FROM journal_metadata WHERE hash = ?", (hashed,)
                    ).fetchone():
                        continue  # held already (an earlier edit's): not even bound again
                    self._conn.execute(
                        "INSERT INTO journal_metadata (hash, metadata_json) VALUES (?, ?)", (hashed, text)
                    )
                self._conn.executemany(
                    "INSERT INTO journal (seq, op, domain, assembly_guid, record_json, created_at,"
                    " note, action, actor, metadata_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )

        try:
            with self._conn_lock:
                with_retry(write, what="appending to the journal", budget_seconds=self._options.retry_seconds)
        except BaseException as exc:  # noqa: BLE001 - every waiter must hear about it
            log.error("journal append of %d entries failed: %s", len(batch), exc)
            for _, future in batch:
                future.set_exception(exc)
            return
        self.events.group_committed(len(batch))
        for entry, future in batch:
            future.set_result(entry.seq)

    # -- reading and cleaning ----------------------------------------------------------
    def pending(self) -> list[JournalEntry]:
        """Every entry not yet discarded, in sequence order (used for replay)."""
        self.wait_idle()
        with self._conn_lock:
            return read_entries(self._conn)

    def depth(self) -> int:
        self.wait_idle()
        with self._conn_lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0])

    def referenced_payloads(self) -> set[str]:
        return {e.record.payload.payload_guid for e in self.pending()}

    def discard(self, persisted: list[tuple[str, int]]) -> None:
        """Forget entries that are now in their domain database: (guid, up-to seq).

        Done by the writer thread after the flush returns: until then a crash merely
        replays entries that are already persisted, which changes nothing.
        """
        if persisted:
            self._writer.put_barrier(_Discard(persisted))

    def _discard_now(self, persisted: list[tuple[str, int]]) -> None:
        def delete() -> None:
            with immediate(self._conn):
                self._conn.executemany("DELETE FROM journal WHERE assembly_guid = ? AND seq <= ?", persisted)
                self._conn.execute(FORGET_UNUSED_METADATA)

        try:
            with self._conn_lock:
                with_retry(delete, what="cleaning the journal", budget_seconds=self._options.retry_seconds)
        except Exception as exc:  # noqa: BLE001 - the entries are replayed harmlessly later
            log.warning("journal cleanup failed (replayed harmlessly at the next start): %s", exc)

    def _handle_discard(self, item: _Discard) -> None:
        if item.persisted:
            self._discard_now(item.persisted)
        if item.done is not None:
            item.done.set_result(0)

    def wait_idle(self) -> None:
        """Block until everything queued so far (appends and cleanups) is done."""
        if self._writer.closed:
            return
        done: Future[int] = Future()
        self._writer.put_barrier(_Discard([], done))
        done.result()

    def close(self) -> None:
        if not self._writer.close():
            return
        with self._conn_lock:
            try:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.OperationalError:
                pass
            self._conn.close()
