"""An admin's choice on an official assembly the vendor changed or dropped
(``POST /api/assemblies/{guid}/upstream``; Docs/official-library.md, "Upgrades").

``take_upstream`` makes the vendor's version (kept as a revision by the sync) the next
revision; ``keep_local`` keeps the local record and takes the vendor's version as its new
base, so the next sync of the same copy asks nothing. Both are writes to official (admin
and Dev Mode), audited, with the update's revision check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from assembly_engine.domain.clock import utc_now
from assembly_engine.domain.types import Domain
from assembly_engine.services.answers.records import AssemblyView
from assembly_engine.services.assemblies.history import HistoryService
from assembly_engine.services.assemblies.records import Details, next_revision
from assembly_engine.services.auth import policy
from assembly_engine.services.caller import Caller
from assembly_engine.services.errors import Conflict, InvalidInput, NotFound
from assembly_engine.storage.contract.models import AssemblyRecord
from assembly_engine.storage.contract.record_facts import RecordFacts
from assembly_engine.storage.contract.signatures import OfficialTrust
from assembly_engine.storage.contract.upstream import (
    UpstreamAction,
    UpstreamNote,
    UpstreamState,
    with_note,
)

ACTION = "assembly.upstream"


def upstream_counts(records: Iterable[RecordFacts]) -> dict[str, int]:
    """How many official records wait for an admin's choice, per state (health, status)."""
    counted = {UpstreamState.UPDATE_AVAILABLE.value: 0, UpstreamState.REMOVED_UPSTREAM.value: 0}
    for facts in records:
        if not UpstreamNote.may_wait(facts.metadata_json):
            continue
        note = UpstreamNote.of_metadata_json(facts.metadata_json)
        if note is not None and note.state.value in counted:
            counted[note.state.value] += 1
    return counted


class UpstreamChoice:
    def __init__(self, history: HistoryService, trust: Callable[[], OfficialTrust]) -> None:
        self._history = history
        self._trust = trust
        self._changes = history.changes
        self._auditor = history.changes.auditor

    def resolve(
        self, caller: Caller, guid: str, action: UpstreamAction, *, expected_revision: int | None = None
    ) -> AssemblyView:
        self._auditor.require(policy.may_read(caller.actor), caller, ACTION, guid=guid)
        current = self._changes.existing_for(caller, ACTION, guid)
        domain = current.domain
        self._auditor.require(
            policy.may_write(caller.actor, domain), caller, ACTION, domain=domain, guid=guid
        )
        with self._history.lock, self._changes.audited(caller, ACTION, domain=domain, guid=guid):
            if domain is not Domain.OFFICIAL:
                raise InvalidInput(
                    f"Assembly {guid} is in the {domain.value} domain; only official assemblies "
                    "follow a vendor, so there is no upstream version to take or keep."
                )
            history = self._history.of(guid)
            if history.current is None:
                raise NotFound(f"Assembly {guid} was deleted meanwhile; undelete it first.")
            record = history.current.record
            if expected_revision is not None and expected_revision != record.revision:
                raise Conflict(
                    f"Assembly {guid} was changed by someone else: you looked at revision "
                    f"{expected_revision}, the current revision is {record.revision}. Reload it "
                    "and choose again."
                )
            note = UpstreamNote.of(record)
            if note is None or note.state is UpstreamState.CURRENT:
                raise Conflict(
                    f"Assembly {guid} has no vendor change waiting (upstream state: current): "
                    "there is nothing to take or keep."
                )
            now = utc_now()
            if action is UpstreamAction.KEEP_LOCAL:
                kept = (
                    UpstreamNote(note.checksum, note.revision) if note.checksum else UpstreamNote(note.base)
                )

                def change(old: AssemblyRecord) -> AssemblyRecord:
                    return with_note(old.evolve(updated_at=now, updated_by=caller.username), kept)

                detail = f"kept the local version ({note.state.value})"
            else:
                if note.state is not UpstreamState.UPDATE_AVAILABLE or note.revision is None:
                    raise Conflict(
                        f"Assembly {guid} was removed upstream: the vendor ships no version of it "
                        "to take. Keep it (keep_local) or delete it."
                    )
                vendor = self._history.kept_revision(history, note.revision)
                if vendor is None:
                    raise Conflict(
                        f"The vendor's version of {guid} (revision {note.revision}) is no longer "
                        "in its history (retention removed it); sync the official library again "
                        "to bring it back."
                    )
                self._changes.contents.read(vendor)  # intact, or a clear integrity error
                taken_checksum = note.checksum

                def change(old: AssemblyRecord) -> AssemblyRecord:
                    taken = next_revision(
                        old, Details.of(vendor.record), vendor.record.payload, author=caller.username, now=now
                    )
                    return with_note(taken, UpstreamNote(taken_checksum, old.revision + 1))

                detail = f"took the vendor's version (revision {note.revision})"
            resolved = self._changes.update(
                caller,
                ACTION,
                history.current,
                change,
                lambda new: f"{detail} as revision {new.revision}",
                expected_revision=expected_revision,
            )
        return AssemblyView.of(resolved, admin=caller.is_admin, trust=self._trust())
