"""Callers already worked out from a session row, reused while that row is the store's answer.

Every request resolves its session: hash the token, read the row, judge it, read it again
for Dev Mode, build the caller. The stores answer ``get_session`` from memory with the very
same row object until something changes it (SQLite: any write to engine.db; cluster mode:
any change this node makes, or the row's short reuse time, storage/postgresql/session_cache.py),
so a caller worked out from a row stays right while the store still hands out that object
and the clock has not reached the next moment the row's own judgement changes: its expiry,
the end of its Dev Mode, or the next ``last_seen`` touch. A sign-out, revocation, password
reset or disabled account is a write, which gives a new row (or none), so it takes effect on
the next request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

from assembly_engine.services.auth.sessions import Session
from assembly_engine.services.caller import Caller
from assembly_engine.storage.contract.engine_records import SessionRow

MAX_KEPT = 10_000  # sessions; all forgotten at once past it (a flood of tokens cannot pin memory)


@dataclass(frozen=True)
class Resolved:
    row: SessionRow  # the store's answer the caller was worked out from (compared by identity)
    session: Session
    caller: Caller
    fresh_until: float  # the clock reading from which the row must be judged again


class ResolvedSessions:
    def __init__(self) -> None:
        self._kept: dict[str, Resolved] = {}
        self._lock = threading.Lock()

    def get(
        self, token_hash: str, row: SessionRow | None, now: float, address: str | None
    ) -> Resolved | None:
        """The kept caller for this row, with ``address``; None when it must be worked out."""
        kept = self._kept.get(token_hash)
        if kept is None or kept.row is not row or now >= kept.fresh_until:
            return None
        if kept.caller.address != address:
            kept = replace(kept, caller=replace(kept.caller, address=address))
            self._kept[token_hash] = kept
        return kept

    def keep(self, resolved: Resolved) -> None:
        with self._lock:
            if len(self._kept) >= MAX_KEPT:
                self._kept.clear()
            self._kept[resolved.session.token_hash] = resolved

    def forget(self, token_hash: str) -> None:
        self._kept.pop(token_hash, None)
