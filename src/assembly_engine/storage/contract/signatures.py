"""What the engine knows of the official library's signature (Docs/official-library.md).

A sync (at boot or on demand) checks the staging copy's ``manifest.sig`` and keeps the
outcome as an ``OfficialTrust``: the signed manifest's entries, which staging assemblies
did not match them, and why the copy was not (fully) trusted. Each official record's
status is then a lookup, never a new check: ``verified`` while its payload checksum and
version are the signed ones, ``modified`` once changed here (or when staging did not match
what was signed), ``unsigned`` without a trusted manifest entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from assembly_engine.storage.contract.errors import IntegrityFailed
from assembly_engine.storage.contract.models import AssemblyRecord
from assembly_engine.storage.contract.record_facts import RecordFacts


class OfficialUntrusted(IntegrityFailed):
    """``require`` refused the staging copy: it is not signed by a trusted key, or does not
    match what was signed. Nothing was synced."""


def untrusted_refusal(trust: OfficialTrust) -> OfficialUntrusted:
    return OfficialUntrusted(
        "The staging copy of the official library was refused (ENGINE_OFFICIAL_SIGNATURES=require): "
        + "; ".join(trust.problems)
        + ". The last good official library keeps serving."
    )


class SignaturePolicy(StrEnum):
    REQUIRE = "require"  # an untrusted staging copy is refused; the last good library stays
    WARN = "warn"  # it is synced, and what fails is marked
    OFF = "off"  # signatures are not checked: every official record is unsigned


class SignatureStatus(StrEnum):
    VERIFIED = "verified"
    MODIFIED = "modified"
    UNSIGNED = "unsigned"


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One official assembly as the vendor signed it."""

    assembly_guid: str
    version: int | None
    payload_checksum: str
    status: str = "active"  # active | deprecated
    replaced_by: str | None = None
    note: str | None = None  # the vendor's word on a deprecated assembly

    def to_json(self) -> dict[str, Any]:
        return {
            "guid": self.assembly_guid,
            "version": self.version,
            "payload_checksum": self.payload_checksum,
            "status": self.status,
            "replaced_by": self.replaced_by,
            "note": self.note,
        }


def _no_entries() -> Mapping[str, ManifestEntry]:
    return MappingProxyType({})


@dataclass(frozen=True)
class OfficialTrust:
    """The signature state of the official library the engine serves."""

    policy: SignaturePolicy
    entries: Mapping[str, ManifestEntry] = field(
        default_factory=_no_entries
    )  # empty unless a trusted key signed them
    signed_by: str | None = None  # the trusted key file that verified the manifest
    tampered: frozenset[str] = field(default_factory=frozenset)  # staged unlike the manifest
    problems: tuple[str, ...] = ()  # why the staging copy is not wholly trusted
    refused: bool = False  # ``require`` refused the staging copy: the last good one serves

    def status_of(self, record: AssemblyRecord) -> SignatureStatus:
        return self._status(record.assembly_guid, record.payload.checksum, record.version)

    def _status(self, guid: str, checksum: str, version: int | None) -> SignatureStatus:
        entry = self.entries.get(guid)
        if entry is None:
            return SignatureStatus.UNSIGNED
        if guid in self.tampered or entry.payload_checksum != checksum or entry.version != version:
            return SignatureStatus.MODIFIED
        return SignatureStatus.VERIFIED

    def counts(self, records: Iterable[RecordFacts]) -> dict[str, int]:
        counted = {status.value: 0 for status in SignatureStatus}
        for facts in records:
            counted[self._status(facts.assembly_guid, facts.payload_checksum, facts.version).value] += 1
        return counted

    def summary(self, records: Iterable[RecordFacts]) -> dict[str, Any]:
        """The health answer's ``official_signatures``."""
        if self.refused:
            state = "refused"
        elif self.problems:
            state = "warning"
        else:
            state = "ok" if self.policy is not SignaturePolicy.OFF else "off"
        return {
            "policy": self.policy.value,
            "state": state,
            "signed_by": self.signed_by,
            "problems": list(self.problems),
            "counts": self.counts(records),
        }
