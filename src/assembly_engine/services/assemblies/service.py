"""The assembly use cases, shared by the API and the CLI: the one object they call.

Every use case takes a :class:`Caller`, asks the policy about the domain it will actually
write (the existing record's domain for updates and deletes, the target for clones and
imports), and writes exactly one audit entry: success, denied or failed. The work is done
by one module per concept (editing, importing, batch_import, exporting, queue_control),
on the shared :class:`Changes`; this class wires them up and answers the reads itself.
"""

from __future__ import annotations

from typing import Any

from assembly_engine.domain.types import Domain
from assembly_engine.services.answers.imports import BatchImport, WouldCreate
from assembly_engine.services.answers.records import AssemblyDetail, AssemblyView, payload_answer
from assembly_engine.services.assemblies.batch_import import ImportItem, import_batch
from assembly_engine.services.assemblies.changes import Changes
from assembly_engine.services.assemblies.content import Contents
from assembly_engine.services.assemblies.editing import Editing
from assembly_engine.services.assemblies.exporting import export
from assembly_engine.services.assemblies.importing import Importing, ImportSource
from assembly_engine.services.assemblies.library_render import LibraryRender
from assembly_engine.services.assemblies.library_sync import LibrarySync
from assembly_engine.services.assemblies.listing import Listing
from assembly_engine.services.assemblies.queue_control import QueueControl
from assembly_engine.services.assemblies.records import require_whole_row
from assembly_engine.services.audit import AuditLog
from assembly_engine.services.auditor import Auditor
from assembly_engine.services.auth import policy
from assembly_engine.services.caller import Caller
from assembly_engine.services.checks.gate import ScriptChecks
from assembly_engine.services.errors import NotFound
from assembly_engine.storage.contract.interfaces import PayloadStore
from assembly_engine.storage.contract.models import CachedAssembly, PayloadContent
from assembly_engine.storage.runtime import StorageRuntime


class AssemblyService:
    def __init__(
        self,
        storage: StorageRuntime,
        audit: AuditLog,
        *,
        lock_retry_seconds: float,
        import_max_bytes: int = 32 * 1024 * 1024,
        auditor: Auditor | None = None,
        checks: ScriptChecks | None = None,
    ) -> None:
        self.storage = storage
        self.cache = storage.cache
        self.payloads: PayloadStore = storage.payloads
        # One Auditor per engine, so anonymous refusals are counted together (caller.py).
        auditor = auditor or Auditor(audit)
        # A change's success entry commits with the change where the journal can do that
        # (cluster mode); otherwise it is recorded from the change's journal note once the
        # change is durable, and at start for changes a crash left unaudited.
        if not storage.journal.audit_in_commit(auditor):
            self.cache.on_durable_note = auditor.record_note
            auditor.recover(self.cache.replayed_notes)
        self.cache.replayed_notes = []
        self.changes = Changes(self.cache, Contents(self.cache, self.payloads), auditor)
        self.changes.checks = self.checks = checks
        self.editing = Editing(self.changes)
        self.importing = Importing(self.changes, max_bytes=import_max_bytes)
        self.library_render = LibraryRender(self.changes)
        self.library_sync = LibrarySync(self.changes, self.importing, self.editing, self.library_render)
        self.queue_control = QueueControl(
            self.cache,
            auditor,
            lock_retry_seconds=lock_retry_seconds,
            resync_official=storage.resync_official,
        )
        self.listing = Listing(self.cache, auditor, lambda: storage.official_trust)
        self.listing.checks = checks

    # -- reads -------------------------------------------------------------------------
    def read_content(self, item: CachedAssembly) -> PayloadContent:
        """Resolve an assembly to its verified content (the one way runners get content)."""
        return self.changes.contents.read(item)

    def resolve_payload(self, guid: str) -> PayloadContent:
        return self.read_content(self.changes.existing(guid))

    def get(self, caller: Caller, guid: str) -> AssemblyDetail:
        self.changes.auditor.require(policy.may_read(caller.actor), caller, "assembly.read", guid=guid)
        item = self.changes.existing(guid)
        require_whole_row(item)
        content = self.read_content(item)
        checked: dict[str, Any] = (
            {"checks": self.checks.summary(content, item.record.payload.payload_guid)}
            if self.checks is not None
            else {}
        )
        return AssemblyDetail.of(
            self.cache.get(guid) or item,
            admin=caller.is_admin,
            trust=self.storage.official_trust,
            payload=payload_answer(content),
            **checked,
        )

    def attachment(self, caller: Caller, guid: str, file_name: str) -> tuple[bytes, str]:
        self.changes.auditor.require(policy.may_read(caller.actor), caller, "assembly.read", guid=guid)
        content = self.read_content(self.changes.existing(guid))
        for f in content.files:
            if f.file_name == file_name:
                return f.data, f.mime_type
        raise NotFound(f"Assembly {guid} has no attached file named '{file_name}'.")

    # -- documents in and out ----------------------------------------------------------
    def import_document(
        self, caller: Caller, source: ImportSource, domain: Domain = Domain.USER
    ) -> tuple[AssemblyView, bool]:
        """Import a legacy document; returns (record, created).

        Always a new assembly in ``domain``, unless the document names (in its
        ``assembly_engine`` block) an existing assembly of that same domain that the caller
        may write: then that assembly is replaced in place. A document naming an assembly
        the caller may not write never touches it — it becomes a new assembly.
        """
        return self.importing.write(caller, self.importing.source(caller, source, domain), domain)

    def dry_run_import(
        self, caller: Caller, source: ImportSource, domain: Domain = Domain.USER
    ) -> WouldCreate:
        """What importing ``source`` would create (the same parser), creating nothing."""
        imported = self.importing.source(caller, source, domain, audit=False)
        return self.importing.preview(caller, imported, domain)

    def import_batch(
        self, caller: Caller, items: list[ImportItem], domain: Domain = Domain.USER, *, dry_run: bool = False
    ) -> BatchImport:
        """Import many documents, each with its own result (batch_import.py)."""
        return import_batch(self.importing, caller, items, domain, dry_run=dry_run)

    def export(self, caller: Caller, guid: str) -> tuple[dict[str, Any], str]:
        """The legacy document of an assembly and a safe download file name."""
        return export(self.changes, caller, guid)
