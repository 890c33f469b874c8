"""What became of a commit whose connection was lost while COMMIT was under way.

The server may have committed the transaction before the connection went, or not; the
client cannot tell from the failure. :func:`settle` asks on a later connection until it
gets an answer or the deadline passes, so a request is answered with what really happened
instead of a guess.

``pg_xact_status`` of the transaction's id says when the outcome is decided (no longer
``in progress``), but not by itself what it was: a crash that lost the transaction before
its id reached the log lets PostgreSQL hand the same id out again, and then reports the
newcomer's ``committed`` (or "in the future" until then). So the caller's ``landed``
check, of rows only that transaction wrote, says whether it committed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool

from assembly_engine.storage.postgresql.errors import CONNECTION_FAILURES

log = logging.getLogger("assembly_engine.write_queue")

# How long a request whose commit is in doubt waits for PostgreSQL to say what happened.
SETTLE_SECONDS = 15.0
RETRY_SECONDS = 0.25


def settle(
    pool: ConnectionPool,
    xid: str,
    landed: Callable[[Any], bool],
    *,
    deadline_seconds: float = SETTLE_SECONDS,
) -> bool | None:
    """Whether transaction ``xid`` committed, once it is no longer in progress: what
    ``landed(connection)`` finds. None if PostgreSQL could not be asked before the deadline."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        try:
            with pool.connection(timeout=max(0.1, min(2.0, deadline - time.monotonic()))) as conn:
                try:
                    row = conn.execute("SELECT pg_xact_status(%s::xid8)", (xid,)).fetchone()
                    status = row[0] if row else None
                except pg_errors.InvalidParameterValue:
                    # "in the future": a crash lost the id before it reached the log.
                    conn.rollback()
                    status = "lost in a crash"
                if status != "in progress":
                    committed = landed(conn)
                    log.warning(
                        "a commit in doubt (transaction %s, status %s) turned out %s",
                        xid,
                        status or "unknowable",
                        "committed" if committed else "not made",
                    )
                    return committed
        except CONNECTION_FAILURES:
            pass
        if time.monotonic() >= deadline:
            return None
        time.sleep(RETRY_SECONDS)
