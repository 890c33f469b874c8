"""The password throttle's counters in PostgreSQL, shared by every node (schema_v1's
``login_throttle`` and ``login_throttle_in_flight``).

* One transaction per call. The counters a call touches are locked (``FOR UPDATE``, in key
  order, so two calls cannot deadlock) before they are read, and the in-flight checks are
  counted after that, so checks begun on node A and on node B are counted one after the
  other: a burst spread over the nodes is cut off at the limit like a burst on one node.
* Times are the database's clock (``clock_timestamp()``), the one clock every node shares.
* A check in flight is a row of its own: one left behind by a node that died mid-check
  stops counting after IN_FLIGHT_SECONDS and is pruned.
* A counter's row is named by its kind and a SHA-256 of its key: keys hold typed user
  names, which may be long or hold text PostgreSQL cannot store.
* Quiet counters (no lockout running, no failure within the window) hold nothing a check
  needs: each node deletes them (as it begins a check, at most every PRUNE_EVERY_SECONDS),
  which bounds the table.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from assembly_engine.storage.cache.throttle_counters import ThrottleCounter
from assembly_engine.storage.contract.throttle import Begun, Lockout, Refusal
from assembly_engine.storage.postgresql.errors import translated

IN_FLIGHT_SECONDS = 60.0  # far longer than a check takes (the hashing wait is 5 s)
PRUNE_EVERY_SECONDS = 60.0

_NOW = "SELECT extract(epoch FROM clock_timestamp())::float8 + %s"
_LOCK_TIMEOUT = "SET LOCAL lock_timeout = '10s'"
_ENSURE = (
    "INSERT INTO login_throttle (counter_key) SELECT k FROM unnest(%s::text[]) AS k ORDER BY k "
    "ON CONFLICT DO NOTHING"
)
_LOCK = "SELECT 1 FROM login_throttle WHERE counter_key = ANY(%s) ORDER BY counter_key FOR UPDATE"
_READ = """
    SELECT t.counter_key, t.failures, t.lockouts, t.locked_until, t.last_failure,
           (SELECT count(*) FROM login_throttle_in_flight AS f
            WHERE f.counter_key = t.counter_key AND f.started_at > %s)
    FROM login_throttle AS t WHERE t.counter_key = ANY(%s)
"""
_END = "DELETE FROM login_throttle_in_flight WHERE attempt_id = %s AND counter_key = ANY(%s)"
# SKIP LOCKED: a counter some call holds is in use, not quiet; the next prune gets it.
_PRUNE_COUNTERS = """
    DELETE FROM login_throttle WHERE counter_key IN (
        SELECT counter_key FROM login_throttle
        WHERE locked_until <= %(now)s AND (last_failure IS NULL OR last_failure <= %(now)s - %(window)s)
          AND counter_key <> ALL(%(keys)s)
        FOR UPDATE SKIP LOCKED)
"""
_PRUNE_IN_FLIGHT = "DELETE FROM login_throttle_in_flight WHERE started_at <= %s"


def _row_key(key: str) -> str:
    kind, _, rest = key.partition(":")
    return f"{kind}:{hashlib.sha256(rest.encode('utf-8', 'surrogatepass')).hexdigest()}"


def _row_keys(keys: Sequence[str]) -> list[str]:
    return [_row_key(key) for key in keys]


class PostgresThrottleStore:
    """The throttle's counters of the whole cluster, on one node's connection pool.
    ``offset`` (seconds added to the database's clock) lets tests move time forward;
    ``prune_every``: seconds between this node's prunes."""

    def __init__(
        self,
        pool: ConnectionPool,
        *,
        offset: Callable[[], float] = lambda: 0.0,
        prune_every: float = PRUNE_EVERY_SECONDS,
    ) -> None:
        self._pool = pool
        self._offset = offset
        self._prune_every = prune_every
        self._pruned_at = float("-inf")

    def begin(self, keys: Sequence[str], window: float, refusal: Refusal) -> Begun:
        with translated("counting a password check"), self._pool.connection() as conn, conn.transaction():
            now, counters = self._locked(conn, keys)
            counts = {key: counter.count(now, window) for key, counter in counters.items()}
            refused = refusal(counts)
            if refused > 0:
                return Begun(None, refused, counts)
            attempt = uuid.uuid4().hex
            conn.execute(
                "INSERT INTO login_throttle_in_flight (attempt_id, counter_key, started_at) "
                "SELECT %s, k, %s FROM unnest(%s::text[]) AS k",
                (attempt, now, _row_keys(keys)),
            )
            if time.monotonic() - self._pruned_at >= self._prune_every:
                self._pruned_at = time.monotonic()
                conn.execute(_PRUNE_COUNTERS, {"now": now, "window": window, "keys": _row_keys(keys)})
                conn.execute(_PRUNE_IN_FLIGHT, (now - IN_FLIGHT_SECONDS,))
        return Begun(attempt, 0.0, counts)

    def fail(self, attempt: str, keys: Sequence[str], window: float, lockout: Lockout) -> float:
        wait = 0.0
        with (
            translated("counting a failed password check"),
            self._pool.connection() as conn,
            conn.transaction(),
        ):
            conn.execute(_END, (attempt, _row_keys(keys)))
            now, counters = self._locked(conn, keys)
            for key, counter in counters.items():
                wait = max(wait, counter.fail(key, now, window, lockout))
                conn.execute(
                    "UPDATE login_throttle SET failures = %s, lockouts = %s, locked_until = %s, "
                    "last_failure = %s WHERE counter_key = %s",
                    (
                        counter.failures,
                        counter.lockouts,
                        counter.locked_until,
                        counter.last_failure,
                        _row_key(key),
                    ),
                )
        return wait

    def succeed(self, attempt: str, keys: Sequence[str], clear: Sequence[str]) -> None:
        with translated("ending a password check"), self._pool.connection() as conn, conn.transaction():
            conn.execute(_END, (attempt, _row_keys(keys)))
            # Other checks of a cleared pair stay counted: in flight is a table of its own.
            conn.execute("DELETE FROM login_throttle WHERE counter_key = ANY(%s)", (_row_keys(clear),))

    def withdraw(self, attempt: str, keys: Sequence[str]) -> None:
        with translated("ending a password check"), self._pool.connection() as conn:
            conn.execute(_END, (attempt, _row_keys(keys)))

    def clear(self) -> None:
        with (
            translated("clearing the password throttle"),
            self._pool.connection() as conn,
            conn.transaction(),
        ):
            conn.execute("DELETE FROM login_throttle_in_flight")
            conn.execute("DELETE FROM login_throttle")

    def _locked(
        self, conn: psycopg.Connection[Any], keys: Sequence[str]
    ) -> tuple[float, dict[str, ThrottleCounter]]:
        """Lock the keys' counters (made when missing); the time, then each counter with
        its checks in flight, read after the locks are held."""
        named = {_row_key(key): key for key in keys}
        ordered = sorted(named)
        conn.execute(_LOCK_TIMEOUT)
        while True:  # again if another node's prune deleted a counter between the two
            conn.execute(_ENSURE, (ordered,))
            if len(conn.execute(_LOCK, (ordered,)).fetchall()) == len(ordered):
                break
        row = conn.execute(_NOW, (self._offset(),)).fetchone()
        assert row is not None
        now = float(row[0])
        counters = {}
        for row_key, failures, lockouts, locked_until, last_failure, in_flight in conn.execute(
            _READ, (now - IN_FLIGHT_SECONDS, ordered)
        ):
            counters[named[row_key]] = ThrottleCounter(
                list(failures),
                lockouts,
                locked_until,
                float("-inf") if last_failure is None else last_failure,
                in_flight,
            )
        return now, counters
