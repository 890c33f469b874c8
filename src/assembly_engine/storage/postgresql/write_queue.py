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
commit, as the embedded journal does). Once the services hand it a :class:`CommitAudit`,
each change's audit entry is chained in that same transaction: a change and its entry
commit together or not at all, so no entry waits for a recovery after a crash.

A commit whose connection is lost while COMMIT is under way may have happened or not.
The writer does not guess: a resolver asks PostgreSQL once it is reachable again (is the
transaction still in progress; does the queue hold its rows at their seqs), and answers the
waiting requests with what really happened (see :mod:`.commit_doubt`). If PostgreSQL cannot
be asked in time, the answer is :class:`OutcomeUnknown`, and the change's payload stays.

A flush stamps the changes it wrote (``flushed_at``) instead of deleting them, so a node
that is behind still reads them in order; stamped changes older than the retention are
purged. Which node flushes is decided by an advisory lock (:meth:`flush_turn`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from psycopg_pool import ConnectionPool

from assembly_engine.domain.clock import utc_iso, utc_now
from assembly_engine.domain.types import Domain
from assembly_engine.storage.contract.errors import (
    Busy,
    ChangedElsewhere,
    OutcomeUnknown,
    StorageFailed,
    Unavailable,
)
from assembly_engine.storage.contract.events import StorageEvents
from assembly_engine.storage.contract.interfaces import CommitAudit
from assembly_engine.storage.contract.journal_entry import JournalClosed, JournalEntry
from assembly_engine.storage.contract.models import AssemblyRecord
from assembly_engine.storage.group_commit import GroupCommitWriter
from assembly_engine.storage.postgresql.audit_store import append_chained
from assembly_engine.storage.postgresql.commit_doubt import SETTLE_SECONDS, settle
from assembly_engine.storage.postgresql.errors import RETRY_AFTER_SECONDS, translated, unavailable
from assembly_engine.storage.postgresql.migrations import LOCK_NAMESPACE
from assembly_engine.storage.postgresql.revision_heads import move_heads
from assembly_engine.storage.postgresql.schema_v1 import DOMAIN_SCHEMAS

log = logging.getLogger("assembly_engine.write_queue")

CHANGES_CHANNEL = "assembly_changes"  # payload: the last seq of a commit
FLUSHED_CHANNEL = "assembly_flushed"  # payload: the domain flushed
RELOAD_CHANNEL = "assembly_reload"  # payload: a domain rewritten without the queue (official sync)
FLUSH_LOCK_KEY = 2  # pg_try_advisory_lock(LOCK_NAMESPACE, FLUSH_LOCK_KEY): one flushing node
MAX_BATCH = 256
DEFAULT_RETENTION_SECONDS = 3600.0

_COLUMNS = "seq, op, record_json, created_at, note, action, actor"


def _entry(row: Sequence[Any]) -> JournalEntry:
    seq, op, record_json, created_at, note, action, actor = row[:7]
    record = AssemblyRecord.from_json(json.loads(record_json))
    return JournalEntry(int(seq), op, record, created_at, note, action, actor)


def _row_json(entry: JournalEntry) -> str:
    return json.dumps(entry.record.to_json(), separators=(",", ":"))


def queue_holds(conn: Any, changes: Sequence[tuple[JournalEntry, int]]) -> bool:
    """Whether the queue holds each of ``changes`` at its seq: the proof that the
    transaction which queued them committed (after a crash, another change may have taken
    the same seq, with a record of its own)."""
    seqs = [seq for _, seq in changes]
    stored: dict[int, str] = dict(
        conn.execute("SELECT seq, record_json FROM write_queue WHERE seq = ANY(%s)", (seqs,)).fetchall()
    )
    return all(stored.get(seq) == _row_json(entry) for entry, seq in changes)


def _answer_idle(done: Future[int]) -> None:
    done.set_result(0)


@dataclass
class _Queued:
    """One submitted change, waiting for a group commit."""

    entry: JournalEntry
    future: Future[int]
    audit: dict[str, Any] | None  # its audit entry's fields, chained in the same commit


@dataclass
class _Outcome:
    """What one transaction did: the changes it queued (with their seqs) and refused."""

    accepted: list[tuple[_Queued, int]] = field(default_factory=list)
    refused: list[tuple[_Queued, ChangedElsewhere]] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)  # the audit entries it chained


class _InDoubt(Exception):
    """The connection was lost while COMMIT was under way: ``outcome`` happened or nothing."""

    def __init__(self, xid: str, outcome: _Outcome, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.xid, self.outcome, self.cause = xid, outcome, cause


class PostgresWriteQueue:
    def __init__(
        self,
        pool: ConnectionPool,
        *,
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
        settle_seconds: float = SETTLE_SECONDS,
    ) -> None:
        self._pool = pool
        self.retention_seconds = retention_seconds
        self.settle_seconds = settle_seconds  # how long a commit in doubt may take to settle
        self._audit: CommitAudit | None = None
        # The seq ranges this node committed, oldest first, so its change feed need not
        # read back its own changes (skip_own), and the range being committed right now.
        self._own: deque[tuple[int, int]] = deque()
        self._committing: tuple[int, int] | None = None
        self._own_changed = threading.Condition()
        self._doubts: list[threading.Thread] = []  # commits in doubt being settled
        self.events = StorageEvents()  # monitoring counts group commits (services/metrics.py)
        self._writer: GroupCommitWriter[_Queued, Future[int]] = GroupCommitWriter(
            self._commit, _answer_idle, max_batch=MAX_BATCH, name="write-queue"
        )
        self._writer.start()

    # -- appending ---------------------------------------------------------------------
    def audit_in_commit(self, audit: CommitAudit) -> bool:
        """True: from now on each change's audit entry is chained in the change's commit."""
        self._audit = audit
        return True

    def next_seq(self) -> int:
        """0: a shared queue numbers a change when it commits (``submit``'s result)."""
        return 0

    def submit(self, entry: JournalEntry) -> Future[int]:
        """Queue an entry for the next group commit; the future gives its sequence number
        once it is committed, or raises why not (ChangedElsewhere, Unavailable, …)."""
        if self._writer.closed:
            raise JournalClosed("the write queue is closed; the engine is shutting down")
        audit = self._audit.note_fields(entry.note) if self._audit and entry.note else None
        future: Future[int] = Future()
        self._writer.put(_Queued(entry, future, audit))
        return future

    def _commit(self, batch: list[_Queued]) -> None:
        """Commit ``batch`` and answer every waiter, whatever happens."""
        try:
            outcome = self._write(batch)
        except BaseException as exc:  # noqa: BLE001 - every waiter must hear about it
            self._commit_ended(None)
            self._refuse(batch, exc)
            return
        self._commit_ended((outcome.accepted[0][1], outcome.accepted[-1][1]) if outcome.accepted else None)
        if outcome.accepted:
            self.events.group_committed(len(outcome.accepted))
        self._answer(outcome)

    def _commit_ended(self, seqs: tuple[int, int] | None) -> None:
        """The commit under way ended; ``seqs``: the range it committed, if it did."""
        with self._own_changed:
            if seqs is not None:
                self._own.append(seqs)
            self._committing = None
            self._own_changed.notify_all()

    def _refuse(self, batch: list[_Queued], exc: BaseException) -> None:
        if isinstance(exc, _InDoubt):
            # Asked on a thread of its own: later changes still fail fast meanwhile.
            resolver = threading.Thread(target=self._settle, args=(exc,), name="write-queue-doubt")
            resolver.daemon = True
            self._doubts.append(resolver)
            resolver.start()
        elif isinstance(exc, (Unavailable, Busy, StorageFailed)):  # the whole batch's fate
            log.error("queueing %d change(s) failed: %s", len(batch), exc)
            self._fail(batch, exc)
        elif len(batch) > 1:  # perhaps one change's text: the others must not share its fate
            for one in batch:
                self._commit([one])
        else:
            log.error("queueing a change failed: %s", exc)
            self._fail(batch, exc)

    def _answer(self, outcome: _Outcome) -> None:
        if self._audit is not None:
            for entry in outcome.entries:
                try:
                    self._audit.announce(entry)
                except Exception:  # noqa: BLE001 - the changes are committed: answer them
                    log.exception("announcing an audit entry failed")
        for queued, error in outcome.refused:
            queued.future.set_exception(error)
        for queued, seq in outcome.accepted:
            queued.future.set_result(seq)

    @staticmethod
    def _fail(batch: list[_Queued], exc: BaseException) -> None:
        for queued in batch:
            queued.future.set_exception(exc)

    def _settle(self, doubt: _InDoubt) -> None:
        accepted = [(queued.entry, seq) for queued, seq in doubt.outcome.accepted]
        try:
            committed = settle(
                self._pool,
                doubt.xid,
                lambda conn: queue_holds(conn, accepted),
                deadline_seconds=self.settle_seconds,
            )
        except Exception:  # noqa: BLE001 - every waiter must be answered
            log.exception("settling a commit in doubt (transaction %s) failed", doubt.xid)
            committed = None
        if committed:
            self._answer(doubt.outcome)  # not recorded as own: the feed reads them back
            return
        for queued, refusal in doubt.outcome.refused:  # refused either way
            queued.future.set_exception(refusal)
        error: Unavailable
        if committed is False:
            error = unavailable("committing a change", doubt.cause)
        else:
            error = OutcomeUnknown(
                "PostgreSQL went away while the change was being committed, and it could not "
                f"be asked within {self.settle_seconds:.0f}s whether the commit happened: the change "
                "may or may not have been made. Reload the assembly before you repeat it.",
                retry_after=RETRY_AFTER_SECONDS,
            )
        self._fail([queued for queued, _ in doubt.outcome.accepted], error)

    def _write(self, batch: list[_Queued]) -> _Outcome:
        outcome = _Outcome()
        xid: str | None = None
        committing = False
        try:
            with translated("queueing a change"), self._pool.connection() as conn:
                with conn.transaction():
                    moved = []
                    problems = move_heads(conn, [queued.entry for queued in batch])
                    for queued, problem in zip(batch, problems, strict=True):
                        if problem is None:
                            moved.append(queued)
                        else:
                            refusal = ChangedElsewhere(queued.entry.assembly_guid, problem)
                            outcome.refused.append((queued, refusal))
                    if not moved:
                        return outcome
                    last, xid = conn.execute(
                        "UPDATE write_queue_head SET last_seq = last_seq + %s "
                        "RETURNING last_seq, pg_current_xact_id()::text",
                        (len(moved),),
                    ).fetchone()  # type: ignore[misc]  # always one row
                    first = int(last) - len(moved) + 1
                    outcome.accepted = [(queued, first + i) for i, queued in enumerate(moved)]
                    self._insert(conn, outcome.accepted)
                    audited = [queued.audit for queued in moved if queued.audit is not None]
                    if audited:
                        outcome.entries = append_chained(conn, audited)
                    conn.execute("SELECT pg_notify(%s, %s)", (CHANGES_CHANNEL, str(last)))
                    with self._own_changed:  # the feed waits for the outcome (skip_own)
                        self._committing = (first, int(last))
                    committing = True  # what fails from here on is the COMMIT itself
        except Unavailable as exc:
            if committing and xid is not None:
                raise _InDoubt(xid, outcome, exc.__cause__ or exc) from exc
            raise
        return outcome

    @staticmethod
    def _insert(conn: Any, accepted: list[tuple[_Queued, int]]) -> None:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO write_queue (seq, op, domain, assembly_guid, record_json, created_at,"
                " note, action, actor) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        seq,
                        q.entry.op,
                        q.entry.record.domain.value,
                        q.entry.assembly_guid,
                        _row_json(q.entry),
                        q.entry.created_at,
                        q.entry.note,
                        q.entry.action,
                        q.entry.actor,
                    )
                    for q, seq in accepted
                ],
            )

    def skip_own(self, applied: int, known_last: int | None = None) -> int:
        """The last seq of the unbroken run of this node's own commits right after
        ``applied`` (``applied`` itself if the next change is another node's). A commit of
        this node's that may hold ``known_last`` is waited for (its notification can come
        before the writer knows it committed)."""
        with self._own_changed:
            if known_last is not None:
                self._own_changed.wait_for(
                    lambda: self._committing is None or self._committing[0] > known_last, timeout=1.0
                )
            while self._own and self._own[0][1] <= applied:
                self._own.popleft()
            while self._own and self._own[0][0] == applied + 1:
                applied = self._own.popleft()[1]
        return applied

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
            (count,) = conn.execute("SELECT COUNT(*) FROM write_queue WHERE flushed_at IS NULL").fetchone()  # type: ignore[misc]  # always one row
        return int(count)

    def referenced_payloads(self) -> set[str]:
        return {e.record.payload.payload_guid for e in self.pending()}

    def last_seq(self) -> int:
        """The number of the last committed change."""
        with translated("reading the write queue"), self._pool.connection() as conn:
            (last,) = conn.execute("SELECT last_seq FROM write_queue_head").fetchone()  # type: ignore[misc]  # always one row
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
            ).fetchone()  # type: ignore[misc]  # always one row
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
        """Block until everything submitted so far is committed or refused (a commit in
        doubt once PostgreSQL said what became of it)."""
        if self._writer.closed:
            return
        done: Future[int] = Future()
        self._writer.put_barrier(done)  # answered once the batch before it is done
        done.result()
        self._join_doubts()

    def _join_doubts(self) -> None:
        for resolver in list(self._doubts):
            resolver.join()
        self._doubts[:] = [resolver for resolver in self._doubts if resolver.is_alive()]

    def close(self) -> None:
        self._writer.close()
        self._join_doubts()
