"""Verify (schema, checksums, missing and orphan payloads) and consistent backups."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from assembly_engine.domain.types import Domain, Integrity
from assembly_engine.services.answers.maintenance import (
    AuditChecked,
    BackedUp,
    OfficialExported,
    PayloadProblem,
    SchemaCheck,
    Verified,
)
from assembly_engine.services.audit import Outcome
from assembly_engine.services.auditor import Auditor
from assembly_engine.services.auth import policy
from assembly_engine.services.caller import Caller
from assembly_engine.storage.contract.interfaces import Maintenance
from assembly_engine.storage.contract.maintenance import BACKUP_LOGS
from assembly_engine.storage.contract.payload_manifest import PayloadError
from assembly_engine.storage.contract.reports import SweepScope
from assembly_engine.storage.runtime import StorageRuntime

log = logging.getLogger("assembly_engine.maintenance")

ORPHAN_GRACE_SECONDS = 60.0


@dataclass
class VerifyReport:
    schema: dict[Domain, SchemaCheck] = field(default_factory=dict)
    checked: int = 0
    missing: list[PayloadProblem] = field(default_factory=list)
    corrupt: list[PayloadProblem] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    recent_unreferenced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    stale_temp: list[str] = field(default_factory=list)  # .tmp-* left by a crash mid-write

    @property
    def ok(self) -> bool:
        schema_ok = all(entry.ok for entry in self.schema.values())
        leftovers = (set(self.orphans) | set(self.stale_temp)) - set(self.removed)
        return schema_ok and not self.missing and not self.corrupt and not leftovers

    def answer(self) -> Verified:
        return Verified.model_construct(
            ok=self.ok,
            schema=self.schema,
            payloads_checked=self.checked,
            missing=self.missing,
            corrupt=self.corrupt,
            orphans=self.orphans,
            recent_unreferenced=self.recent_unreferenced,
            stale_temp=self.stale_temp,
            removed=self.removed,
        )


class MaintenanceService:
    def __init__(self, storage: StorageRuntime, files: Maintenance, auditor: Auditor) -> None:
        self.storage = storage
        self.files = files
        self.auditor = auditor

    # -- verify ------------------------------------------------------------------------
    def verify(
        self, caller: Caller, *, fix: bool = False, grace_seconds: float = ORPHAN_GRACE_SECONDS
    ) -> Verified:
        action = "verify.fix" if fix else "verify"
        decision = policy.may_flush(caller.actor) if fix else policy.may_manage_users(caller.actor)
        self.auditor.require(decision, caller, action)
        report = VerifyReport()
        for domain in Domain:
            schema = self.files.schema(domain)
            report.schema[domain] = SchemaCheck.built(
                file=schema.file,
                ok=schema.ok,
                user_version=schema.user_version,
                missing_columns=list(schema.missing_columns),
            )
        cache = self.storage.cache
        payloads = self.storage.payloads
        with cache.flushes_paused():
            listed = payloads.list_guids()
            checked: dict[tuple[str, str | None], Integrity] = {}
            problems: dict[tuple[str, str], PayloadProblem] = {}  # (assembly, payload) -> entry

            def check(
                where: str, guid: str, name: str, domain: Domain, payload_guid: str, checksum: str | None
            ) -> Integrity:
                """Check one payload reference (each folder and checksum read once)."""
                key = (payload_guid, checksum or None)
                if key not in checked:
                    report.checked += 1
                    try:
                        checked[key] = payloads.check(payload_guid, checksum or None)
                    except PayloadError:
                        checked[key] = Integrity.CORRUPT
                status = checked[key]
                if status is not Integrity.OK:
                    entry = problems.get((guid, payload_guid))
                    if entry is None:
                        entry = problems[(guid, payload_guid)] = PayloadProblem.built(
                            assembly_guid=guid,
                            display_name=name,
                            domain=domain,
                            payload_guid=payload_guid,
                            where=[],
                        )
                        (report.missing if status is Integrity.MISSING else report.corrupt).append(entry)
                    entry.where.append(where)  # built once, then told each place
                return status

            library = self.storage.library_payloads()
            # The cache, and what a restart would load (every database row and queued
            # change), and every kept revision (a restore or an undelete may bring it back).
            for reference in library.references():
                status = check(
                    reference.where,
                    reference.assembly_guid,
                    reference.display_name,
                    reference.domain,
                    reference.payload_guid,
                    reference.checksum,
                )
                if reference.where == "cache":
                    cache.set_integrity(reference.assembly_guid, status, payload_guid=reference.payload_guid)
            referenced = library.referenced()
            sweep = self.files.sweep_orphans(
                referenced, SweepScope(listed=listed, grace_seconds=grace_seconds, remove=fix)
            )
            report.orphans = list(sweep.orphans)
            report.recent_unreferenced = list(sweep.recent)  # may belong to a write in progress
            report.stale_temp = list(sweep.stale_temp)
            report.removed = list(sweep.removed)
        detail = (
            f"checked={report.checked} missing={len(report.missing)} corrupt={len(report.corrupt)} "
            f"orphans={len(report.orphans)} stale_temp={len(report.stale_temp)} "
            f"removed={len(report.removed)}"
        )
        self.auditor.record(caller, action, Outcome.SUCCESS if report.ok else Outcome.FAILED, detail=detail)
        return report.answer()

    # -- audit -------------------------------------------------------------------------
    def verify_audit(self, caller: Caller) -> AuditChecked:
        """Check the audit chain under the log's lock (no entry is half written meanwhile)."""
        self.auditor.require(policy.may_manage_users(caller.actor), caller, "audit.verify")
        result = self.auditor.log.verify()
        return AuditChecked.built(
            ok=result.ok,
            entries=result.entries,
            first_bad_line=result.first_bad_line,
            problem=result.problem,
            path=self.auditor.log.location,
        )

    # -- official staging copy ---------------------------------------------------------
    def export_official(self, caller: Caller, destination: Path) -> OfficialExported:
        """Write the official domain as it stands (every acknowledged change, queued or
        not) as a new staging copy in ``destination``."""
        self.auditor.require(
            policy.may_export_official(caller.actor, local_cli=caller.local_cli), caller, "official.export"
        )
        records = [item.record for item in self.storage.cache.items(Domain.OFFICIAL)]
        count = self.storage.write_staging_copy(destination, records)
        self.auditor.record(caller, "official.export", Outcome.SUCCESS, detail=f"{count} to {destination}")
        return OfficialExported.built(destination=str(destination), assemblies=count)

    # -- backup ------------------------------------------------------------------------
    def backup(self, caller: Caller, destination: Path) -> BackedUp:
        """A consistent snapshot of every database, the payloads and the audit log.

        Flushes are held back meanwhile (writes are still accepted into the journal), so no
        payload folder that a snapshotted row or journal entry points to can be removed
        before it is copied. The journal is copied first: replaying an entry whose change
        is already in a database copy is harmless (replay skips older revisions).
        """
        self.auditor.require(policy.may_backup(caller.actor, local_cli=caller.local_cli), caller, "backup")
        destination = self.files.start_backup(destination)
        started = time.monotonic()
        with self.storage.cache.flushes_paused():
            copied = dict(self.files.copy_stores(destination))
        self.auditor.log.copy_to(destination / BACKUP_LOGS)
        self.files.seal_backup(destination)
        result = BackedUp.built(
            destination=str(destination), copied=copied, seconds=round(time.monotonic() - started, 3)
        )
        self.auditor.record(caller, "backup", Outcome.SUCCESS, detail=f"to {destination}")
        return result
