"""One domain's rows and version history in PostgreSQL: the cluster's DomainStore.

The same observable behaviour as the embedded DomainDatabase (storage/sqlite/databases.py),
over the domain's schema of schema_v1 (``<schema>.assemblies``, ``.revisions``,
``.deleted_assemblies``). Two things are stricter, because several nodes share the rows:

* A write never moves a row back: an upsert only replaces a row whose revision is not
  higher, and a delete only removes the revision it deleted (a node flushing stale data
  after another node wrote a newer revision changes nothing). Replaying a write is a
  no-op, like on SQLite (a crash between a flush and the queue's cleanup replays it).
* A lock another transaction holds is waited for at most the write's budget
  (``lock_timeout``), then the write fails as :class:`Busy`; ``on_lock_wait`` is called
  when the wait begins, as SQLite's retries do.

Only ``official`` carries a content stamp (``official.content_stamp``, erased by a
trigger on any change to the rows): official sync is the one user of stamps.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from psycopg import Connection, errors
from psycopg_pool import ConnectionPool

from assembly_engine.domain.types import Domain
from assembly_engine.storage.contract.errors import SchemaError
from assembly_engine.storage.contract.history import HistoryWrite
from assembly_engine.storage.contract.models import COLUMNS, AssemblyRecord
from assembly_engine.storage.formats.history_rows import HistoryReads, stored_revisions
from assembly_engine.storage.postgresql.errors import translated
from assembly_engine.storage.postgresql.migrations import MIGRATIONS, applied_versions
from assembly_engine.storage.postgresql.schema_v1 import DOMAIN_SCHEMAS

log = logging.getLogger("assembly_engine.postgresql.domain_store")

# How long a write waits for a lock before it says it is waiting (on_lock_wait) and goes
# on waiting for the rest of its budget.
LOCK_PROBE_SECONDS = 0.05
DEFAULT_LOCK_BUDGET_SECONDS = 10.0

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_INTEGER_COLUMNS = tuple(COLUMNS.index(c) for c in ("version", "revision", "payload_size_bytes"))


def check_integers(rows: Iterable[Sequence[Any]], positions: Sequence[int], what: str) -> None:
    """Refuse, as SQLite does (OverflowError), a whole number beyond signed 64 bits: the
    columns are BIGINT like SQLite's INTEGER (larger numbers live only inside JSON text)."""
    for row in rows:
        for index in positions:
            value = row[index]
            if type(value) is int and not _INT64_MIN <= value <= _INT64_MAX:
                raise OverflowError(f"Python int too large to convert to a 64-bit integer ({what})")


class PostgresDomainStore(HistoryReads):
    """The rows of one domain with their history: the PostgreSQL DomainStore."""

    history = True  # the cluster's domains always keep version history

    def __init__(
        self,
        pool: ConnectionPool,
        domain: Domain,
        *,
        lock_budget_seconds: float = DEFAULT_LOCK_BUDGET_SECONDS,
    ) -> None:
        self.domain = domain
        self.schema = DOMAIN_SCHEMAS[domain]
        self._table_prefix = f"{self.schema}."
        self._placeholder = "%s"
        self.lock_budget_seconds = lock_budget_seconds
        self._pool = pool
        s = self.schema
        columns = ", ".join(COLUMNS)
        values = ", ".join(["%s"] * len(COLUMNS))
        updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])
        self._select_all = f"SELECT {columns} FROM {s}.assemblies"
        self._upsert = (
            f"INSERT INTO {s}.assemblies ({columns}) VALUES ({values}) "
            f"ON CONFLICT (assembly_guid) DO UPDATE SET {updates}"
        )
        self._upsert_forward = self._upsert + f" WHERE {s}.assemblies.revision <= excluded.revision"
        # A delete without a known revision (no history given) removes whatever is there.
        self._delete = (
            f"DELETE FROM {s}.assemblies WHERE assembly_guid = %s AND revision <= COALESCE(%s, revision)"
        )
        self._insert_revision = (
            f"INSERT INTO {s}.revisions (assembly_guid, revision, action, row_json, payload_guid, "
            "recorded_at, metadata_hash) VALUES (%s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (assembly_guid, revision) DO NOTHING"
        )
        self._insert_metadata = (
            f"INSERT INTO {s}.revision_metadata (hash, metadata_json) VALUES (%s, %s) "
            "ON CONFLICT (hash) DO NOTHING"
        )
        self._insert_deletion = (
            f"INSERT INTO {s}.deleted_assemblies (assembly_guid, revision, deleted_at, deleted_by, "
            "row_json) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (assembly_guid) DO UPDATE SET "
            "revision = excluded.revision, deleted_at = excluded.deleted_at, "
            "deleted_by = excluded.deleted_by, row_json = excluded.row_json "
            f"WHERE {s}.deleted_assemblies.revision <= excluded.revision"
        )
        self._forget_deletion = f"DELETE FROM {s}.deleted_assemblies WHERE assembly_guid = %s"

    # -- reading ---------------------------------------------------------------------------
    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with translated(f"reading {self.schema}"), self._pool.connection() as conn:
            return conn.execute(sql, params).fetchall()

    def load_rows(self) -> list[tuple[Any, ...]]:
        """The raw rows in ``COLUMNS`` order."""
        return self._read(self._select_all)

    def load(self) -> list[AssemblyRecord]:
        return [AssemblyRecord.from_row(row, self.domain) for row in self.load_rows()]

    def count(self) -> int:
        return int(self._read(f"SELECT COUNT(*) FROM {self.schema}.assemblies")[0][0])

    # -- writing ---------------------------------------------------------------------------
    def _attempt(self, work: Callable[[Connection[Any]], None], lock_seconds: float) -> None:
        with self._pool.connection() as conn, conn.transaction():
            # 0 would mean "wait forever" to PostgreSQL
            conn.execute(
                "SELECT set_config('lock_timeout', %s, true)", (f"{max(1, int(lock_seconds * 1000))}ms",)
            )
            work(conn)

    def _in_transaction(
        self,
        work: Callable[[Connection[Any]], None],
        what: str,
        budget_seconds: float | None = None,
        on_lock_wait: Callable[[], None] | None = None,
    ) -> None:
        """Run ``work`` in one transaction that waits at most ``budget_seconds`` for locks
        (then Busy); nothing of it stays if it fails."""
        budget = self.lock_budget_seconds if budget_seconds is None else budget_seconds
        started = time.monotonic()
        with translated(what):
            try:
                self._attempt(work, min(budget, LOCK_PROBE_SECONDS))
                return
            except errors.LockNotAvailable:
                if budget <= LOCK_PROBE_SECONDS:
                    raise
            log.warning("%s: waiting for a lock another transaction holds", what)
            if on_lock_wait is not None:
                on_lock_wait()
            self._attempt(work, budget - (time.monotonic() - started))

    def write(
        self,
        upsert_rows: Sequence[tuple[Any, ...]],
        deletes: Iterable[str],
        budget_seconds: float | None = None,
        on_lock_wait: Callable[[], None] | None = None,
        history: HistoryWrite | None = None,
    ) -> None:
        """Upsert ``upsert_rows`` (``AssemblyRecord.to_row()``) and delete ``deletes`` with
        their ``history``, in one transaction; rows never go back to a lower revision."""
        rows = [tuple(row) for row in upsert_rows]
        check_integers(rows, _INTEGER_COLUMNS, "an assemblies row")
        deleted_revision = {d[0]: d[1] for d in history.deletions} if history is not None else {}
        delete_rows = [(guid, deleted_revision.get(guid)) for guid in deletes]

        def work(conn: Connection[Any]) -> None:
            with conn.cursor() as cur:
                if rows:
                    cur.executemany(self._upsert_forward, rows)
                if delete_rows:
                    cur.executemany(self._delete, delete_rows)
                if history is not None:
                    self._write_history(cur, history)

        self._in_transaction(work, f"writing {self.schema}", budget_seconds, on_lock_wait)

    def _write_history(self, cur: Any, history: HistoryWrite) -> None:
        check_integers(history.revisions, (1,), "a revision")
        for sql, rows in history.batches(self._insert_revision, self._forget_deletion, self._insert_deletion):
            if sql is self._insert_revision:
                rows = self._stored_revisions(cur, rows)
            cur.executemany(sql, rows)

    def _stored_revisions(self, cur: Any, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """The revision rows as stored: large metadata goes to revision_metadata, once."""
        stored, shared = stored_revisions(rows)
        if shared:
            cur.executemany(self._insert_metadata, sorted(shared.items()))
        return stored

    def replace_all(
        self,
        records: Sequence[AssemblyRecord],
        *,
        stamp: str | None = None,
        history: HistoryWrite | None = None,
    ) -> None:
        """Purge the rows and insert ``records`` in one transaction (official sync), with
        the ``history`` of the change; ``stamp`` is remembered with exactly this content."""
        rows = [r.to_row() for r in records]
        check_integers(rows, _INTEGER_COLUMNS, "an assemblies row")
        if stamp is not None:
            self._require_stamp()

        def purge_and_fill(conn: Connection[Any]) -> None:
            # Writers wait (readers do not) until the new rows are committed.
            conn.execute(f"LOCK TABLE {self.schema}.assemblies IN EXCLUSIVE MODE")
            with conn.cursor() as cur:
                cur.execute(f"DELETE FROM {self.schema}.assemblies")
                if rows:
                    cur.executemany(self._upsert, rows)
                if history is not None:
                    self._write_history(cur, history)
            if stamp is not None:
                self._set_stamp(conn, stamp)

        self._in_transaction(purge_and_fill, f"rebuilding {self.schema}")

    # -- the content stamp -----------------------------------------------------------------
    def _require_stamp(self) -> None:
        if self.domain is not Domain.OFFICIAL:
            raise ValueError(f"only the official domain keeps a content stamp, not {self.domain.value}")

    def stamp(self) -> str | None:
        if self.domain is not Domain.OFFICIAL:
            return None  # never stamped, like an embedded database without the table
        rows = self._read("SELECT value FROM official.content_stamp")
        return None if not rows else str(rows[0][0])

    def set_stamp(self, stamp: str) -> None:
        """Stamp the current rows (which the caller knows to be what ``stamp`` stands for)."""
        self._require_stamp()
        self._in_transaction(lambda conn: self._set_stamp(conn, stamp), "stamping official")

    @staticmethod
    def _set_stamp(conn: Connection[Any], stamp: str) -> None:
        conn.execute("DELETE FROM official.content_stamp")
        conn.execute("INSERT INTO official.content_stamp (value) VALUES (%s)", (stamp,))

    # -- version history -------------------------------------------------------------------
    def prune_history(
        self, *, keep: int | None, deleted_before: str | None, live: Callable[[str], bool]
    ) -> tuple[int, int, set[str]]:
        """Apply retention in one transaction: keep the newest ``keep`` revisions of each
        assembly (None: all), and purge assemblies deleted before ``deleted_before`` (None:
        none) with all their revisions, unless ``live`` says the GUID is in use again.
        Returns (revisions removed, deleted assemblies purged, their payloads)."""
        s = self.schema
        result: list[Any] = [0, 0, set()]

        def prune(conn: Connection[Any]) -> None:
            payloads: set[str] = set()
            purged = 0
            if deleted_before is not None:
                old = [
                    g
                    for (g,) in conn.execute(
                        f"SELECT assembly_guid FROM {s}.deleted_assemblies WHERE deleted_at < %s",
                        (deleted_before,),
                    )
                    if not live(g)
                ]
                if old:
                    gone = conn.execute(
                        f"DELETE FROM {s}.revisions WHERE assembly_guid = ANY(%s) RETURNING payload_guid",
                        (old,),
                    )
                    payloads.update(p for (p,) in gone)
                    conn.execute(f"DELETE FROM {s}.deleted_assemblies WHERE assembly_guid = ANY(%s)", (old,))
                purged = len(old)
            removed = 0
            if keep is not None:
                doomed = conn.execute(
                    f"DELETE FROM {s}.revisions AS r USING ("
                    " SELECT assembly_guid, revision, ROW_NUMBER() OVER ("
                    f"  PARTITION BY assembly_guid ORDER BY revision DESC) AS newer FROM {s}.revisions"
                    ") AS ranked WHERE ranked.newer > %s AND r.assembly_guid = ranked.assembly_guid "
                    "AND r.revision = ranked.revision RETURNING r.payload_guid",
                    (keep,),
                ).fetchall()
                payloads.update(p for (p,) in doomed)
                removed = len(doomed)
            if removed or purged:  # shared metadata no kept revision names any more
                conn.execute(
                    f"DELETE FROM {s}.revision_metadata AS m WHERE NOT EXISTS ("
                    f"SELECT 1 FROM {s}.revisions AS r WHERE r.metadata_hash = m.hash)"
                )
            result[:] = [removed, purged, payloads]

        self._in_transaction(prune, f"pruning the history of {s}")
        return result[0], result[1], result[2]

    def close(self) -> None:
        """Nothing to release: the pool belongs to the node, not to one store."""


class PostgresDomainStores:
    """The three domain stores of one cluster database, shaped like DomainDatabases."""

    def __init__(
        self,
        pool: ConnectionPool,
        domains: Iterable[Domain] = tuple(Domain),
        *,
        lock_budget_seconds: float = DEFAULT_LOCK_BUDGET_SECONDS,
    ) -> None:
        self._pool = pool
        self._stores = {
            d: PostgresDomainStore(pool, d, lock_budget_seconds=lock_budget_seconds) for d in domains
        }

    def __getitem__(self, domain: Domain) -> PostgresDomainStore:
        return self._stores[domain]

    def __iter__(self) -> Iterator[PostgresDomainStore]:
        return iter(self._stores.values())

    def validate_all(self) -> dict[Domain, list[str]]:
        """Check that the database is at this engine's schema (the nodes migrate it, never
        this); SchemaError names what differs. No columns are ever added here: {d: []}."""
        with translated("checking the cluster schema"), self._pool.connection() as conn:
            problem = schema_problem(conn)
        if problem is not None:
            raise SchemaError(problem)
        return {d: [] for d in self._stores}

    def close(self) -> None:
        for store in self._stores.values():
            store.close()


def schema_problem(conn: Connection[Any]) -> str | None:
    """Why the database is not at this engine's schema, or None when it is."""
    applied = applied_versions(conn)
    expected = {m.version: m.checksum for m in MIGRATIONS}
    if applied == expected:
        return None
    missing = sorted(set(expected) - set(applied))
    if missing:
        return f"the cluster database lacks schema migration(s) {missing}: start a node to migrate it"
    newer = sorted(set(applied) - set(expected))
    if newer:
        return f"the cluster database has schema version {newer[-1]}, newer than this engine knows"
    return "the cluster database's applied migrations differ from this engine's"
