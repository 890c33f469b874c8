"""Session rows reused for a moment, so a node does not ask PostgreSQL on every request.

Every request resolves its session, and Dev Mode reads the same row again; on a cluster
node each read is a round trip to PostgreSQL made on the request's thread (the list's fast
lane runs on the event loop itself), which made reads several times slower than on the
embedded storage (benchmark 9f). A row read here is reused for ``ttl`` seconds (1 by
default). Any change this node makes to users or sessions empties the cache at once; a
change made through another node (a revocation, Dev Mode switched, a user disabled) is
seen here at most ``ttl`` seconds later. Expiry is still compared with the clock on every
request, so a session or Dev Mode never outlives its end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from assembly_engine.storage.contract.engine_records import SessionRow
from assembly_engine.storage.contract.interfaces import EngineStore

DEFAULT_TTL_SECONDS = 1.0
MAX_ROWS = 10_000

# EngineStore methods that change users or sessions: each empties the cache first.
_WRITES = frozenset(
    {
        "insert_user",
        "update_user",
        "set_password_hash",
        "delete_user",
        "insert_session",
        "revoke_session",
        "revoke_user_sessions",
        "purge_sessions",
        "set_dev_mode",
        "clear_expired_dev_mode",
    }
)


class SessionRowCache:
    """An EngineStore that reuses ``get_session`` answers briefly; everything else is the
    wrapped store's."""

    def __init__(
        self,
        store: EngineStore,
        ttl: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._rows: dict[str, tuple[float, SessionRow]] = {}

    def get_session(self, token_hash: str) -> SessionRow | None:
        now = self._clock()
        with self._lock:
            cached = self._rows.get(token_hash)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        row = self._store.get_session(token_hash)
        with self._lock:
            if row is None:
                self._rows.pop(token_hash, None)  # unknown tokens are not kept: no flood fills it
            else:
                if len(self._rows) >= MAX_ROWS:
                    self._rows.clear()
                self._rows[token_hash] = (now, row)
        return row

    def forget(self) -> None:
        with self._lock:
            self._rows.clear()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if name not in _WRITES:
            return attribute

        def write(*args: Any, **kwargs: Any) -> Any:
            self.forget()
            try:
                return attribute(*args, **kwargs)
            finally:
                self.forget()  # a lookup made meanwhile may hold the old row

        return write
