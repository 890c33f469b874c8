"""The write queue of cluster mode: the WriteJournal of every node, in PostgreSQL.

A change is acknowledged once its transaction committed: its ``write_queue`` row and the
move of its ``revision_heads`` row are in it together. The head moves only from the
revision the change was planned on (``JournalEntry.base_revision``), so of two nodes that
planned revision N+1 of one assembly, the second finds no row to move and is refused with
:class:`ChangedElsewhere` (its node catches up and plans again, or answers 409).

Sequence numbers come from the one row of ``write_queue_head`` when the transaction is
about to commit; that row stays locked until the commit, so numbers are gapless and in
commit order, and every commit notifies ``assembly_changes`` with its last number. One
writer thread per node commits everything submitted meanwhile in one transaction (a group
commit, as the embedded journal does).

A flush stamps the changes it wrote (``flushed_at``) instead of deleting them, so a node
that is behind still reads them in order; stamped changes older than the retention are
purged. Which node flushes is decided by an advisory lock (:meth:`flush_turn`).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

from psycopg_pool import ConnectionPool

from ...clock import utc_iso, utc_now
from ...types import Domain
from ..errors import ChangedElsewhere
from ..journal import JournalClosed, JournalEntry
from ..models import AssemblyRecord
from .errors import translated
from .migrations import LOCK_NAMESPACE
from .schema_v1 import DOMAIN_SCHEMAS

log = logging.getLogger("assembly_engine.write_queue")

CHANGES_CHANNEL = "assembly_changes"  # payload: the last seq of a commit
FLUSHED_CHANNEL = "assembly_flushed"  # payload: the domain flushed
RELOAD_CHANNEL = "assembly_reload"  # payload: a domain rewritten without the queue (official sync)
FLUSH_LOCK_KEY = 2  # pg_try_advisory_lock(LOCK_NAMESPACE, FLUSH_LOCK_KEY): one flushing node
MAX_BATCH = 256
DEFAULT_RETENTION_SECONDS = 3600.0

_COLUMNS = "seq, op, record_json, created_at, note, action, actor"
_STOP = object()


def _entry(row: Sequence[Any]) -> JournalEntry:
    seq, op, record_json, created_at, note, action, actor = row[:7]
    record = AssemblyRecord.from_json(json.loads(record_json))
    return JournalEntry(int(seq), op, record, created_at, note, action, actor)


def _row_json(entry: JournalEntry) -> str:
    return json.dumps(entry.record.to_json(), separators=(",", ":"))


class PostgresWriteQueue:
    def __init__(self, pool: ConnectionPool, *, retention_seconds: float = DEFAULT_RETENTION_SECONDS) -> None:
        self._pool = pool
        self.retention_seconds = retention_seconds
        self._queue: queue.Queue[object] = queue.Queue()
        self._closed = False
        self._writer = threading.Thread(target=self._run, name="write-queue", daemon=True)
        self._writer.start()

    # -- appending ---------------------------------------------------------------------
    def next_seq(self) -> int:
        """0: a shared queue numbers a change when it commits (``submit``'s result)."""
        return 0

    def submit(self, entry: JournalEntry) -> Future[int]:
        """Queue an entry for the next group commit; the future gives its sequence number
        once it is committed, or raises why not (ChangedElsewhere, Unavailable, …)."""
        if self._closed:
            raise JournalClosed("the write queue is closed; the engine is shutting down")
        future: Future[int] = Future()
        self._queue.put((entry, future))
        return future

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch: list[tuple[JournalEntry, Future[int]]] = []
            markers: list[Future[int]] = []
            stop_after = False
            item: object = first
            while True:
                if item is _STOP:
                    stop_after = True
                    break
                if isinstance(item, Future):
                    markers.append(item)  # wait_idle: answered once the batch before it is done
                else:
                    batch.append(item)  # type: ignore[arg-type]
                if len(batch) >= MAX_BATCH:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._commit(batch)
            for marker in markers:
                marker.set_result(0)
            if stop_after:
                return

    def _commit(self, batch: list[tuple[JournalEntry, Future[int]]]) -> None:
        try:
            accepted, refused = self._write(batch)
        except BaseException as exc:  # noqa: BLE001 - every waiter must hear about it
            log.error("queueing %d change(s) failed: %s", len(batch), exc)
            for _, future in batch:
                future.set_exception(exc)
            return
        for future, error in refused:
            future.set_exception(error)
        for future, seq in accepted:
            future.set_result(seq)

    def _write(
        self, batch: list[tuple[JournalEntry, Future[int]]]
    ) -> tuple[list[tuple[Future[int], int]], list[tuple[Future[int], ChangedElsewhere]]]:
        refused: list[tuple[Future[int], ChangedElsewhere]] = []
        moved: list[tuple[JournalEntry, Future[int]]] = []
        with translated("queueing a change"), self._pool.connection() as conn, conn.transaction():
            for entry, future in batch:
                problem = self._move_head(conn, entry)
                if problem is None:
                    moved.append((entry, future))
                else:
                    refused.append((future, ChangedElsewhere(entry.assembly_guid, problem)))
            if not moved:
                return [], refused
            (last,) = conn.execute(
                "UPDATE write_queue_head SET last_seq = last_seq + %s RETURNING last_seq", (len(moved),)
            ).fetchone()  # type: ignore[misc]
            first = int(last) - len(moved) + 1
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO write_queue (seq, op, domain, assembly_guid, record_json, created_at,"
                    " note, action, actor) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [
                        (
                            first + i,
                            e.op,
                            e.record.domain.value,
                            e.assembly_guid,
                            _row_json(e),
                            e.created_at,
                            e.note,
                            e.action,
                            e.actor,
                        )
                        for i, (e, _) in enumerate(moved)
                    ],
                )
            conn.execute("SELECT pg_notify(%s, %s)", (CHANGES_CHANNEL, str(last)))
        return [(future, first + i) for i, (_, future) in enumerate(moved)], refused

    def _move_head(self, conn: Any, entry: JournalEntry) -> str | None:
        """Move the assembly's head as the change says; None, or why it cannot move."""
        domain, guid, revision = entry.record.domain.value, entry.assembly_guid, entry.record.revision
        if entry.base_revision is None:  # a create: nothing live may hold the id
            moved = conn.execute(
                "INSERT INTO revision_heads (domain, assembly_guid, revision) VALUES (%s, %s, %s) "
                "ON CONFLICT (assembly_guid) DO UPDATE SET domain = EXCLUDED.domain, "
                "revision = EXCLUDED.revision, deleted = FALSE WHERE revision_heads.deleted RETURNING 1",
                (domain, guid, revision),
            ).fetchone()
            return None if moved is not None else self._why(conn, entry)
        deleted = entry.op == "delete"
        update = (
            "UPDATE revision_heads SET revision = %s, deleted = %s WHERE domain = %s AND assembly_guid = %s "
            "AND NOT deleted AND revision = %s RETURNING 1"
        )
        params = (revision, deleted, domain, guid, entry.base_revision)
        if conn.execute(update, params).fetchone() is not None:
            return None
        if self._adopt_row(conn, entry.record.domain, guid) and conn.execute(update, params).fetchone():
            return None
        return self._why(conn, entry)

    @staticmethod
    def _adopt_row(conn: Any, domain: Domain, guid: str) -> bool:
        """An assembly written to its domain table without the queue (official sync, a
        seeded community, a migrated library) has no head yet: its row is the head."""
        adopted = conn.execute(
            f"INSERT INTO revision_heads (domain, assembly_guid, revision) "
            f"SELECT %s, assembly_guid, revision FROM {DOMAIN_SCHEMAS[domain]}.assemblies "
            f"WHERE assembly_guid = %s ON CONFLICT DO NOTHING RETURNING 1",
            (domain.value, guid),
        ).fetchone()
        return adopted is not None

    @staticmethod
    def _why(conn: Any, entry: JournalEntry) -> str:
        guid = entry.assembly_guid
        heads = conn.execute(
            "SELECT domain, revision, deleted FROM revision_heads WHERE assembly_guid = %s AND NOT deleted",
            (guid,),
        ).fetchall()
        if not heads:
            return f"Assembly {guid} was deleted through another engine node meanwhile; nothing was changed."
        domain, revision, _ = heads[0]
        if entry.base_revision is None:
            return (
                f"An assembly with id {guid} was created in the {domain} domain through another engine node."
            )
        return (
            f"Assembly {guid} was changed through another engine node: you changed revision "
            f"{entry.base_revision}, the current revision is {revision}. "
            "Reload it and apply your change again."
        )

    def adopt_domain_rows(self, domain: Domain) -> None:
        """Make ``domain``'s table rows the heads of every assembly with no queued change
        (after official sync rebuilt the table, or a library was copied in)."""
        schema = DOMAIN_SCHEMAS[domain]
        with (
            translated("recording the assemblies' revisions"),
            self._pool.connection() as conn,
            conn.transaction(),
        ):
            conn.execute(
                "DELETE FROM revision_heads h WHERE domain = %s AND NOT EXISTS (SELECT 1 FROM write_queue q "
                "WHERE q.assembly_guid = h.assembly_guid AND q.flushed_at IS NULL)",
                (domain.value,),
            )
            conn.execute(
                f"INSERT INTO revision_heads (domain, assembly_guid, revision) "
                f"SELECT %s, assembly_guid, revision FROM {schema}.assemblies ON CONFLICT DO NOTHING",
                (domain.value,),
            )

    def announce_reload(self, domain: Domain) -> None:
        """Tell every node that ``domain``'s table was rewritten outside the queue."""
        with translated("telling the other nodes"), self._pool.connection() as conn:
            conn.execute("SELECT pg_notify(%s, %s)", (RELOAD_CHANNEL, domain.value))

    # -- reading -----------------------------------------------------------------------
    def pending(self) -> list[JournalEntry]:
        """Every change not flushed yet, in sequence order (replayed at hydration)."""
        self.wait_idle()
        with translated("reading the write queue"), self._pool.connection() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM write_queue WHERE flushed_at IS NULL ORDER BY seq"
            ).fetchall()
        return [_entry(row) for row in rows]

    def depth(self) -> int:
        self.wait_idle()
        with translated("reading the write queue"), self._pool.connection() as conn:
            (count,) = conn.execute("SELECT COUNT(*) FROM write_queue WHERE flushed_at IS NULL").fetchone()  # type: ignore[misc]
        return int(count)

    def referenced_payloads(self) -> set[str]:
        return {e.record.payload.payload_guid for e in self.pending()}

    def last_seq(self) -> int:
        """The number of the last committed change."""
        with translated("reading the write queue"), self._pool.connection() as conn:
            (last,) = conn.execute("SELECT last_seq FROM write_queue_head").fetchone()  # type: ignore[misc]
        return int(last)

    def changes_after(self, seq: int, limit: int = 1000) -> list[tuple[JournalEntry, str | None]]:
        """The committed changes after ``seq`` in order, each with when it was flushed."""
        with translated("reading the write queue"), self._pool.connection() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS}, flushed_at FROM write_queue WHERE seq > %s ORDER BY seq LIMIT %s",
                (seq, limit),
            ).fetchall()
        return [(_entry(row), row[7]) for row in rows]

    def flushed(self, seqs: Sequence[int]) -> dict[int, str]:
        """Of ``seqs``, those flushed meanwhile (by any node) and when; purged ones count
        as flushed (only flushed changes are purged)."""
        if not seqs:
            return {}
        with translated("reading the write queue"), self._pool.connection() as conn:
            found: dict[int, str | None] = dict(
                conn.execute(
                    "SELECT seq, flushed_at FROM write_queue WHERE seq = ANY(%s)", (list(seqs),)
                ).fetchall()
            )
        now = utc_now()
        return {seq: found.get(seq) or now for seq in seqs if found.get(seq, now) is not None}

    # -- flushing ----------------------------------------------------------------------
    def discard(self, persisted: list[tuple[str, int]]) -> None:
        """Stamp the changes now in their domain tables ((guid, up-to seq)), purge those
        flushed longer ago than the retention, and tell the other nodes."""
        if not persisted:
            return
        stamp = utc_now()
        cutoff = utc_iso(time.time() - self.retention_seconds)
        with translated("recording a flush"), self._pool.connection() as conn, conn.transaction():
            with conn.cursor() as cur:
                cur.executemany(
                    "UPDATE write_queue SET flushed_at = %s "
                    "WHERE assembly_guid = %s AND seq <= %s AND flushed_at IS NULL",
                    [(stamp, guid, seq) for guid, seq in persisted],
                )
            # Never the newest change: a node's catch-up must always find where it stands.
            conn.execute(
                "DELETE FROM write_queue WHERE flushed_at < %s "
                "AND seq < (SELECT last_seq FROM write_queue_head)",
                (cutoff,),
            )
            conn.execute("SELECT pg_notify(%s, %s)", (FLUSHED_CHANNEL, "flushed"))

    @contextmanager
    def flush_turn(self) -> Iterator[bool]:
        """Whether this node may flush now: one node at a time, by an advisory lock held
        for the block (a node that dies lets it go with its connection)."""
        with translated("taking the flush lock"), self._pool.connection() as conn:
            (got,) = conn.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", (LOCK_NAMESPACE, FLUSH_LOCK_KEY)
            ).fetchone()  # type: ignore[misc]
            try:
                yield bool(got)
            finally:
                if got and not conn.closed and not conn.broken:
                    conn.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_NAMESPACE, FLUSH_LOCK_KEY))

    def record_flush(self, domain: Domain, last_flush: str | None, last_error: str | None) -> None:
        with translated("recording a flush"), self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO flush_state (domain, last_flush, last_error) VALUES (%s, %s, %s) "
                "ON CONFLICT (domain) DO UPDATE SET last_flush = COALESCE(EXCLUDED.last_flush, "
                "flush_state.last_flush), last_error = EXCLUDED.last_error",
                (domain.value, last_flush, last_error),
            )

    def flush_states(self) -> dict[Domain, tuple[str | None, str | None]]:
        with translated("reading the flush state"), self._pool.connection() as conn:
            rows = conn.execute("SELECT domain, last_flush, last_error FROM flush_state").fetchall()
        return {Domain(d): (last_flush, last_error) for d, last_flush, last_error in rows}

    # -- lifetime ----------------------------------------------------------------------
    def wait_idle(self) -> None:
        """Block until everything submitted so far is committed or refused."""
        if self._closed:
            return
        done: Future[int] = Future()
        self._queue.put(done)
        done.result()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._writer.join()
