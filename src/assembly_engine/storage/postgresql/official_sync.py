"""Official sync when several nodes boot on one cluster database: one node at a time.

Each booting node runs the same official sync as an embedded engine (staging folder ->
the shared ``official`` rows and payloads), but inside an advisory lock: the first node
rebuilds official and stamps it with the staging copy's identity; a node that booted at
the same moment waits, then finds that stamp and only checks that every payload is there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from psycopg_pool import ConnectionPool

from assembly_engine.storage.contract.errors import Busy
from assembly_engine.storage.contract.interfaces import DomainStore, PayloadStore
from assembly_engine.storage.contract.reports import SyncReport
from assembly_engine.storage.official.sync import sync_official
from assembly_engine.storage.postgresql.errors import translated
from assembly_engine.storage.postgresql.migrations import LOCK_NAMESPACE

# pg_advisory_lock(LOCK_NAMESPACE, OFFICIAL_SYNC_LOCK_KEY): one node syncs official at a
# time (1 is the migrations' key, 2 the flush's).
OFFICIAL_SYNC_LOCK_KEY = 3
DEFAULT_WAIT_SECONDS = 300.0


@contextmanager
def official_sync_lock(pool: ConnectionPool, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> Iterator[None]:
    """Hold the cluster's official-sync lock (a session lock on one pooled connection,
    released at the end, or by PostgreSQL if the node dies); Busy after ``wait_seconds``."""
    with pool.connection() as conn:
        try:
            with translated("waiting for another node's official sync"), conn.transaction():
                conn.execute(
                    "SELECT set_config('lock_timeout', %s, true)", (f"{max(1, int(wait_seconds * 1000))}ms",)
                )
                conn.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_NAMESPACE, OFFICIAL_SYNC_LOCK_KEY))
        except Busy:
            raise Busy(
                f"Another node kept syncing the official library for over {wait_seconds:g}s; "
                "pg_locks shows which session holds the lock."
            ) from None
        try:
            yield
        finally:
            if not conn.closed and not conn.broken:
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_NAMESPACE, OFFICIAL_SYNC_LOCK_KEY))
                conn.commit()


def sync_official_once(
    pool: ConnectionPool,
    staging_root: Path,
    runtime_db: DomainStore,
    runtime_payloads: PayloadStore,
    *,
    keep_payloads: set[str] | frozenset[str] = frozenset(),
    quick: bool = True,
    present_payloads: set[str] | frozenset[str] = frozenset(),
    queued: set[str] | frozenset[str] = frozenset(),
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
) -> SyncReport:
    """:func:`sync_official` under the cluster's lock: of nodes booting at once, the first
    rebuilds official, the others find its stamp (``report.reused``) and rebuild nothing.
    Pass ``present_payloads`` (the payload store's listing), or a node that finds the
    stamp re-checks every official payload."""
    with official_sync_lock(pool, wait_seconds):
        return sync_official(
            staging_root,
            runtime_db,
            runtime_payloads,
            keep_payloads=keep_payloads,
            quick=quick,
            present_payloads=present_payloads,
            queued=queued,
        )
