"""Which official records a sync takes from a new staging copy, and which it keeps
(Docs/official-library.md, "Upgrades"): a sync never loses a local edit.

Per assembly, with ``base`` the vendor checksum its record last took (contract/upstream.py):
the vendor's copy unchanged since ``base`` keeps the local record; a local record unchanged
since ``base`` follows the vendor silently; both changed keeps the local record current,
stores the vendor's as a revision and flags ``update_available``; an assembly no longer
staged stays, flagged ``removed_upstream``.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from assembly_engine.domain.clock import utc_now
from assembly_engine.domain.types import Domain
from assembly_engine.storage.contract.history import HistoryWrite, RevisionRow
from assembly_engine.storage.contract.interfaces import DomainStore
from assembly_engine.storage.contract.models import (
    COLUMNS,
    PAYLOAD_GUID_COLUMN,
    REVISION_COLUMN,
    AssemblyRecord,
)
from assembly_engine.storage.contract.upstream import (
    UpstreamNote,
    UpstreamState,
    vendor_checksum,
    with_note,
)

SYNC_ACTION = "official_sync"  # a revision the sync made current
UPSTREAM_ACTION = "upstream"  # a vendor version kept aside for an admin to take or leave
_UPDATED_AT = COLUMNS.index("updated_at")


@dataclass
class Upgrade:
    """What official holds after the sync, its history, and the staged records whose
    payloads the runtime needs (current ones and vendor versions kept as revisions)."""

    records: list[AssemblyRecord] = field(default_factory=list)
    history: HistoryWrite = field(default_factory=HistoryWrite)
    from_staging: list[AssemblyRecord] = field(default_factory=list)

    def _count(self, state: UpstreamState) -> int:
        return sum(1 for r in self.records if (n := UpstreamNote.of(r)) is not None and n.state is state)

    @property
    def removed_upstream(self) -> int:
        return self._count(UpstreamState.REMOVED_UPSTREAM)

    @property
    def update_available(self) -> int:
        return self._count(UpstreamState.UPDATE_AVAILABLE)


def _kept(row: tuple[Any, ...], action: str, at: str) -> RevisionRow:
    return (
        row[0],
        int(row[REVISION_COLUMN]),
        action,
        json.dumps(list(row), ensure_ascii=False),
        row[PAYLOAD_GUID_COLUMN],
        at,
    )


def plan_upgrade(
    staged: Sequence[AssemblyRecord],
    previous_rows: Sequence[tuple[Any, ...]],
    runtime_db: DomainStore,
    queued: Collection[str] = frozenset(),
) -> Upgrade:
    """The records official gets from ``staged`` over ``previous_rows``, and the history.

    A GUID with a change still in the journal (``queued``; a crash came between the runtime
    commit and the staging mirror) is left exactly as staged: renumbering it would make the
    replay take the acknowledged change for an older one and skip it, and the replay, not
    the sync, makes its next revision (the journaled record is the local edit; it wins)."""
    if not runtime_db.history:
        return Upgrade(list(staged), HistoryWrite(), list(staged))
    now = utc_now()
    before = {row[0]: row for row in previous_rows}
    last = runtime_db.last_revisions()
    deleted = {d[0] for d in runtime_db.deletions()}
    out = Upgrade()
    revisions: list[RevisionRow] = []

    def next_revision(guid: str, *floors: int) -> int:
        number = max((last.get(guid, 0), *floors)) + 1
        last[guid] = number
        return number

    for vendor in staged:
        guid = vendor.assembly_guid
        old = before.get(guid)
        if guid in queued:
            out.records.append(vendor)
            out.from_staging.append(vendor)
            continue
        vendor_sum = vendor_checksum(vendor)
        if old is None:  # new here (or back from the trash): the vendor's, as shipped
            highest = last.get(guid, 0)
            taken = vendor.evolve(revision=max(vendor.revision, highest + 1)) if highest else vendor
            last[guid] = taken.revision
            taken = with_note(taken, UpstreamNote(base=vendor_sum, base_revision=taken.revision))
            out.records.append(taken)
            out.from_staging.append(taken)
            revisions.append(_kept(taken.to_row(), SYNC_ACTION, now))
            continue
        local = AssemblyRecord.from_row(old, Domain.OFFICIAL)
        local_sum = vendor_checksum(local)
        note = UpstreamNote.of(local)
        if vendor_sum == local_sum:
            # The same content on both sides: most often staging is the mirror of this very
            # record (Dev Mode edits are mirrored), so the base and any flag stay as they are.
            first = UpstreamNote(vendor_sum, local.revision)  # a record synced before notes existed
            out.records.append(local if note is not None else with_note(local, first))
            if vendor.payload.payload_guid == local.payload.payload_guid:
                out.from_staging.append(vendor)  # its folder is checked (and repaired) as before
            continue
        if note is not None and note.state is UpstreamState.UPDATE_AVAILABLE and note.checksum == vendor_sum:
            out.records.append(local)  # flagged for this very vendor version already
            continue
        base, base_revision = (
            (note.base, note.base_revision)
            if note is not None and note.base
            else _base_from_history(local, runtime_db)
        )
        if vendor_sum == base:  # the vendor did not change it: the local edit stays
            settled = UpstreamNote(base, base_revision)
            if note is not None and note.state is not UpstreamState.CURRENT:
                out.records.append(
                    _flagged(local, settled, next_revision(guid, local.revision), revisions, now)
                )
            else:
                out.records.append(with_note(local, settled) if note is None else local)
            continue
        revisions.append(_kept(old, "baseline", old[_UPDATED_AT]))
        if local_sum == base:  # not changed here: follow the vendor silently
            number = next_revision(guid, local.revision)
            taken = with_note(vendor.evolve(revision=number), UpstreamNote(vendor_sum, number))
            out.records.append(taken)
            out.from_staging.append(taken)
            revisions.append(_kept(taken.to_row(), SYNC_ACTION, now))
            continue
        # changed on both sides: the local record stays current, the vendor's is kept aside
        aside_number = next_revision(guid, local.revision)
        aside = with_note(vendor.evolve(revision=aside_number), UpstreamNote(vendor_sum, aside_number))
        out.from_staging.append(aside)
        revisions.append(_kept(aside.to_row(), UPSTREAM_ACTION, now))
        flag = UpstreamNote(base, base_revision, UpstreamState.UPDATE_AVAILABLE, aside_number, vendor_sum)
        out.records.append(_flagged(local, flag, next_revision(guid), revisions, now))
    staged_guids = {r.assembly_guid for r in staged}
    for guid, old in before.items():
        if guid in staged_guids or guid in queued:
            continue
        local = AssemblyRecord.from_row(old, Domain.OFFICIAL)
        note = UpstreamNote.of(local)
        if note is not None and note.state is UpstreamState.REMOVED_UPSTREAM:
            out.records.append(local)
            continue
        base, base_revision = (
            (note.base, note.base_revision)
            if note is not None and note.base
            else (vendor_checksum(local), None)
        )
        revisions.append(_kept(old, "baseline", old[_UPDATED_AT]))
        dropped = UpstreamNote(base, base_revision, UpstreamState.REMOVED_UPSTREAM)
        out.records.append(_flagged(local, dropped, next_revision(guid, local.revision), revisions, now))
    out.history = HistoryWrite(revisions, (), sorted(staged_guids & deleted))
    return out


def _flagged(
    local: AssemblyRecord, note: UpstreamNote, number: int, revisions: list[RevisionRow], now: str
) -> AssemblyRecord:
    """``local`` with a new upstream note as a new revision (its content unchanged)."""
    flagged = with_note(local.evolve(revision=number), note)
    revisions.append(_kept(flagged.to_row(), SYNC_ACTION, now))
    return flagged


def _base_from_history(local: AssemblyRecord, runtime_db: DomainStore) -> tuple[str, int | None]:
    """The vendor version of a record synced before the engine kept notes: the newest
    revision an official sync made current; without one, the record as it is (the vendor's
    as far as anyone can tell)."""
    for kept in sorted(runtime_db.revisions(local.assembly_guid), key=lambda r: r.revision, reverse=True):
        if kept.action == SYNC_ACTION:
            return vendor_checksum(kept.record(Domain.OFFICIAL)), kept.revision
    return vendor_checksum(local), None
