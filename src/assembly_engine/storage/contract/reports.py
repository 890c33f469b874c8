"""What storage reports back from a check or a sweep, alike for every backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assembly_engine.domain.types import Domain
from assembly_engine.storage.contract.signatures import OfficialTrust


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of a verification.

    ``entries`` counts the entries found good before the first problem (all of them when
    ``ok``). ``first_bad_line`` is 1-based; it may be one past the last line when entries
    were cut off the end. ``problem`` is a sentence a person can act on.
    """

    ok: bool
    entries: int
    first_bad_line: int | None = None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class OrphanSweep:
    """What a payload store's ``sweep_orphans`` found, by name, each list sorted."""

    orphans: tuple[str, ...]  # unreferenced payloads past the grace period
    recent: tuple[str, ...]  # unreferenced but younger: may belong to a write in progress
    stale_temp: tuple[str, ...]  # leftovers of interrupted writes, past the grace period
    removed: tuple[str, ...]  # what was deleted (only with ``remove``)


@dataclass(frozen=True, slots=True)
class SweepScope:
    """What one ``sweep_orphans`` judges, and whether it removes what it finds."""

    # Unreferenced entries younger than this are only reported: a write may be in progress.
    grace_seconds: float = 0.0
    remove: bool = False  # delete the orphans and stale temp entries (else only report)
    # The GUIDs to judge, listed before the references were gathered (one written in
    # between is then neither listed nor judged); None: every one the store holds.
    listed: set[str] | frozenset[str] | None = None


REPORT_ONLY = SweepScope()


@dataclass
class SyncReport:
    staging_count: int
    runtime_count: int
    payloads_copied: int = 0
    payloads_removed: int = 0
    problems: list[str] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list, repr=False)  # what official now holds
    reused: bool = False  # the runtime rows carried staging's stamp: only payloads were checked
    trust: OfficialTrust | None = field(default=None, repr=False)  # the signature state after it
    # Upgrades (official/upgrade.py): records kept although the vendor dropped them, and
    # records whose local edit was kept over a new vendor version.
    removed_upstream: int = 0
    update_available: int = 0

    @property
    def matches(self) -> bool:
        return self.staging_count + self.removed_upstream == self.runtime_count and not self.problems

    def as_dict(self) -> dict[str, object]:
        return {
            "staging_count": self.staging_count,
            "runtime_count": self.runtime_count,
            "payloads_copied": self.payloads_copied,
            "payloads_removed": self.payloads_removed,
            "problems": list(self.problems),
            "matches": self.matches,
            "removed_upstream": self.removed_upstream,
            "update_available": self.update_available,
            "signatures": {
                "refused": self.trust.refused,
                "signed_by": self.trust.signed_by,
                "problems": list(self.trust.problems),
            }
            if self.trust is not None
            else None,
        }


OUTCOMES = frozenset({"success", "denied", "failed"})


@dataclass(frozen=True, slots=True)
class PayloadReference:
    """One place that points at a payload: ``where`` is cache, database, history or journal."""

    where: str
    assembly_guid: str
    display_name: str
    domain: Domain
    payload_guid: str
    checksum: str | None


@dataclass(frozen=True)
class PruneReport:
    revisions_removed: int = 0
    deleted_purged: int = 0
    payloads_removed: list[str] = field(default_factory=list)
