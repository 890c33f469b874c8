"""Sync plans answered before, kept as the bytes sent, so planning an unchanged library again
(a CI job plans every commit) is answered without parsing, checking and comparing every item.

A plan is kept under the sha256 of the request body it answered (the engine hashes the
bytes it received, so no caller can name a plan for a body it did not send) together with
the state of the domain it was made from: the records' identities, revisions and payloads
(what a plan without content reads decides by; the same state ``plan_id`` hashes). It is
given again only while that state is the same. Bounded in bytes and in plans, least
recently used first out; each engine node keeps its own, checked against its own cache.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from assembly_engine.domain.types import Domain
from assembly_engine.storage.contract.models import CachedAssembly

MAX_BYTES = 64 * 1024 * 1024  # about forty 10,000-item plans
MAX_PLANS = 256


@dataclass(frozen=True)
class KeptPlan:
    domain: Domain
    records: str  # records_state() of the domain the plan was made from
    generation: int  # the assembly cache's generation then: unchanged means records too
    answer: bytes


def records_state(records: Iterable[CachedAssembly]) -> str:
    """A digest of what a plan depends on in the domain: each live record's guid, revision,
    payload and last change (a change of any of them is a change of the record)."""
    parts = sorted(
        f"{r.record.assembly_guid}:{r.record.revision}:{r.record.payload.payload_guid}:{r.record.updated_at}"
        for r in records
    )
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def body_key(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


class PlanCache:
    def __init__(self, max_bytes: int = MAX_BYTES, max_plans: int = MAX_PLANS) -> None:
        self._max_bytes = max_bytes
        self._max_plans = max_plans
        self._plans: OrderedDict[str, KeptPlan] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._plans

    def get(self, key: str) -> KeptPlan | None:
        with self._lock:
            kept = self._plans.get(key)
            if kept is not None:
                self._plans.move_to_end(key)
            return kept

    def put(self, key: str, kept: KeptPlan) -> None:
        if len(kept.answer) > self._max_bytes // 4:
            return  # one huge plan would push out every other
        with self._lock:
            self._drop(key)
            self._plans[key] = kept
            self._bytes += len(kept.answer)
            while self._bytes > self._max_bytes or len(self._plans) > self._max_plans:
                self._drop(next(iter(self._plans)))

    def discard(self, key: str) -> None:
        with self._lock:
            self._drop(key)

    def _drop(self, key: str) -> None:
        kept = self._plans.pop(key, None)
        if kept is not None:
            self._bytes -= len(kept.answer)

    @property
    def size(self) -> tuple[int, int]:
        """(plans, bytes) kept."""
        with self._lock:
            return len(self._plans), self._bytes
