"""The official records' signature and upstream counts that health and metrics report,
made once per cache generation from the records' facts (no record is built for them)."""

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
    generation: int  # the cache's when counted
    trust: OfficialTrust  # the signature state counted against
    signatures: dict[str, Any]  # OfficialTrust.summary
    upstream: dict[str, int]  # upstream_counts


class OfficialCounter:
    """Counts again only when the cache or the signature state changed: a monitor polling
    health would otherwise walk every official record at each poll."""

    def __init__(self, cache: AssemblyCache, trust: Callable[[], OfficialTrust]) -> None:
        self._cache = cache
        self._trust = trust
        self._kept: OfficialCounts | None = None
        self._lock = threading.Lock()  # one count at a time; the others take its result

    def current(self) -> OfficialCounts:
        with self._lock:
            generation = self._cache.generation  # read first: a change meanwhile counts next time
            trust = self._trust()
            kept = self._kept
            if kept is not None and kept.generation == generation and kept.trust is trust:
                return kept
            facts = self._cache.facts(Domain.OFFICIAL)
            kept = OfficialCounts(generation, trust, trust.summary(facts), upstream_counts(facts))
            self._kept = kept
            return kept
