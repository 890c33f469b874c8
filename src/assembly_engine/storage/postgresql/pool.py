"""Connection pools on a PostgreSQL URL, and the one connection migrations run on.

Every connection names the engine in ``application_name`` (so ``pg_stat_activity`` shows
which node holds what), is checked before it is handed out (a connection the server
dropped, say across a PostgreSQL restart, is replaced instead of failing a request; see
:func:`check_idle_connection`), and gives up connecting after ``connect_timeout``
seconds. An unreachable server is reported as :class:`DatabaseUnreachable` with libpq's
reason and the URL without its password.
"""

from __future__ import annotations

import select
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from assembly_engine.database_url import redact, validate_database_url
from assembly_engine.storage.contract.errors import Unavailable
from assembly_engine.storage.postgresql.migrations import migrate

APPLICATION_NAME = "assembly-engine"


# While PostgreSQL is known to be away, a request waits this long for a connection instead
# of the pool's full timeout, so writes are refused (503) quickly, not after many seconds.
FAST_FAIL_SECONDS = 0.5
# How long the direct check of a server that gave no connection in time may take (libpq
# counts at least 2 s; a refused connection fails at once).
PROBE_CONNECT_SECONDS = 2


def check_idle_connection(conn: psycopg.Connection) -> None:
    """Raise if ``conn`` is no longer usable, without a round trip while it looks sound.

    A server that closed the connection (a restart, an administrator's kill) leaves its
    socket readable at end of file, so only a readable socket (that, or a notice waiting)
    costs the pool's full check, a round trip to the server; a quiet one is handed out as
    it is. A request otherwise paid that round trip on every checkout."""
    if conn.closed or conn.broken:
        raise psycopg.OperationalError("the connection is closed")
    readable, _, _ = select.select([conn.fileno()], [], [], 0)
    if readable:
        ConnectionPool.check_connection(conn)


class DatabaseUnreachable(Unavailable):
    """PostgreSQL could not be reached or refused the sign-in; the message says why."""


class EnginePool(ConnectionPool):
    """A pool that notices a lost server quickly and remembers it: until a connection
    works again, asking for one gives up after FAST_FAIL_SECONDS (the pool keeps
    reconnecting meanwhile)."""

    unreachable_since: float | None = None

    @contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection]:
        conn = self._checkout(timeout)
        try:
            with conn:
                yield conn
        except psycopg.OperationalError:
            if conn.broken:
                self._lost()
            raise
        else:
            self.unreachable_since = None
        finally:
            self.putconn(conn)

    def _checkout(self, timeout: float | None) -> psycopg.Connection:
        if timeout is None and self.unreachable_since is None:
            # Believed up: a free connection comes at once. If none comes within
            # FAST_FAIL_SECONDS, ask the server directly before waiting any longer, so the
            # first request after PostgreSQL went away is refused in about a second too.
            try:
                return self.getconn(timeout=FAST_FAIL_SECONDS)
            except PoolTimeout:
                if _reason(str(self.conninfo), PROBE_CONNECT_SECONDS):
                    self._lost()
                    raise
            timeout = max(0.0, self.timeout - FAST_FAIL_SECONDS)  # only busy: wait on
        elif timeout is None:
            timeout = FAST_FAIL_SECONDS
        try:
            return self.getconn(timeout=timeout)
        except PoolTimeout:
            self._lost()
            raise

    def _lost(self) -> None:
        self.unreachable_since = self.unreachable_since or time.monotonic()


def _reason(url: str, connect_timeout: int) -> str:
    """Why a connection fails right now (libpq's words), or '' if it now succeeds."""
    try:
        psycopg.connect(url, connect_timeout=connect_timeout, application_name=APPLICATION_NAME).close()
    except psycopg.Error as exc:
        return str(exc).strip()
    return ""


def connect(url: str, *, connect_timeout: int = 10, autocommit: bool = True) -> psycopg.Connection:
    """One connection (migrations, maintenance), outside any pool."""
    validate_database_url(url)
    try:
        return psycopg.connect(
            url, connect_timeout=connect_timeout, autocommit=autocommit, application_name=APPLICATION_NAME
        )
    except psycopg.OperationalError as exc:
        reason = str(exc).strip()
        raise DatabaseUnreachable(f"PostgreSQL at {redact(url)} could not be reached: {reason}") from None


def create_pool(
    url: str,
    *,
    min_size: int = 1,
    max_size: int = 8,
    timeout: float = 10.0,
    connect_timeout: int = 10,
    name: str = APPLICATION_NAME,
) -> EnginePool:
    """An open pool with ``min_size`` connections made; waits at most ``timeout`` seconds
    for them, and for a free connection when all ``max_size`` are busy."""
    validate_database_url(url)
    pool = EnginePool(
        url,
        min_size=min_size,
        max_size=max_size,
        timeout=timeout,
        name=name,
        open=False,
        check=check_idle_connection,
        kwargs={"connect_timeout": connect_timeout, "application_name": APPLICATION_NAME},
    )
    try:
        pool.open(wait=True, timeout=timeout)
    except PoolTimeout:
        pool.close()
        reason = _reason(url, connect_timeout) or "it did not answer in time"
        raise DatabaseUnreachable(
            f"PostgreSQL at {redact(url)} could not be reached within {timeout:.0f}s: {reason}"
        ) from None
    return pool


def migrate_database(url: str, *, lock_wait_seconds: float = 120.0) -> list[int]:
    """Bring the database at ``url`` to this engine's schema; the versions applied."""
    with connect(url) as conn:
        return migrate(conn, lock_wait_seconds=lock_wait_seconds)
