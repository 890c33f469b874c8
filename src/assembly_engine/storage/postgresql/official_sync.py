"""The cluster's official-sync lock: one node at a time syncs the official library.

A booting node takes it for its whole official sync (node.boot_official_sync), and a
running node for a sync asked for while it runs (official/resync.py): of
nodes booting at once, the first rebuilds official and records which staging copy it
synced; the others wait, then find that copy synced and rebuild nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from psycopg_pool import ConnectionPool

from assembly_engine.storage.contract.errors import Busy
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
