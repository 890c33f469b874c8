"""The official library's signature and upstream counts, as health and /metrics report them.

Counting walks every official record (a third of a 100,000-assembly library: ~0.4 s of
the engine's time, during which other requests wait for the interpreter), and the list
page asks for health on every visit. The counts change only with the records or with a
new signature judgement, so they are kept until the cache's generation or the trust
object changes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assembly_engine.domain.types import Domain
from assembly_engine.services.assemblies.upstream_choice import upstream_counts
from assembly_engine.storage.cache.assembly_cache import AssemblyCache
from assembly_engine.storage.contract.signatures import OfficialTrust


@dataclass(frozen=True)
class OfficialCounts:
    """``signatures``: OfficialTrust.summary's answer; ``upstream``: records per upstream state."""

    signatures: dict[str, Any]
    upstream: dict[str, int]


@dataclass(frozen=True)
class _Kept:
    generation: int
    trust: OfficialTrust
    counts: OfficialCounts


class OfficialSummary:
    def __init__(self, cache: Callable[[], AssemblyCache], trust: Callable[[], OfficialTrust]) -> None:
        self._cache = cache
        self._trust = trust
        self._kept: _Kept | None = None
        self._lock = threading.Lock()  # one walk at a time: concurrent askers wait for it

    def counts(self) -> OfficialCounts:
        cache = self._cache()
        with self._lock:
            generation = cache.generation  # read first: a change during the walk counts again
            trust = self._trust()
            kept = self._kept
            if kept is not None and kept.generation == generation and kept.trust is trust:
                return kept.counts
            records = [a.record for a in cache.items(Domain.OFFICIAL)]
            counts = OfficialCounts(signatures=trust.summary(records), upstream=upstream_counts(records))
            self._kept = _Kept(generation, trust, counts)
            return counts
