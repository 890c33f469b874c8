"""What became of a commit whose connection was lost while COMMIT was under way.

The server may have committed the transaction before the connection went, or not; the
client cannot tell from the failure. PostgreSQL can: ``pg_xact_status`` of the
transaction's id (read inside it with ``pg_current_xact_id()``) says ``committed`` or
``aborted`` on any later connection. :func:`settle` asks until it gets an answer or the
deadline passes, so a request is answered with what really happened instead of a guess.
"""

from __future__ import annotations

import logging
import time

from psycopg_pool import ConnectionPool

from assembly_engine.storage.postgresql.errors import CONNECTION_FAILURES

log = logging.getLogger("assembly_engine.write_queue")

# How long a request whose commit is in doubt waits for PostgreSQL to say what happened.
SETTLE_SECONDS = 15.0
RETRY_SECONDS = 0.25


def settle(pool: ConnectionPool, xid: str, *, deadline_seconds: float = SETTLE_SECONDS) -> bool | None:
    """Whether transaction ``xid`` committed: True or False once PostgreSQL says so, None
    if it could not be asked before the deadline."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        try:
            with pool.connection(timeout=max(0.1, min(2.0, deadline - time.monotonic()))) as conn:
                row = conn.execute("SELECT pg_xact_status(%s::xid8)", (xid,)).fetchone()
            status = row[0] if row else None
            if status != "in progress":
                log.warning("a commit in doubt (transaction %s) turned out %s", xid, status or "unknowable")
                # NULL: too old to tell (it cannot be, a moment after the commit).
                return None if status is None else status == "committed"
        except CONNECTION_FAILURES:
            pass
        if time.monotonic() >= deadline:
            return None
        time.sleep(RETRY_SECONDS)
