"""Importing one document: validate it, then create a new assembly or replace one in place.

A document replaces an existing assembly only when its ``assembly_engine`` block names one
of the target domain that the caller may write; otherwise it becomes a new assembly.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from assembly_engine import input_limits as limits
from assembly_engine.domain.description import description
from assembly_engine.domain.types import Domain
from assembly_engine.services.answers.imports import WouldCreate
from assembly_engine.services.answers.records import AssemblyView, payload_with_data
from assembly_engine.services.assemblies.changes import Changes
from assembly_engine.services.assemblies.content import Contents
from assembly_engine.services.assemblies.formats import (
    ImportedAssembly,
    InvalidDocument,
    NotAnAssembly,
    import_value,
)
from assembly_engine.services.assemblies.legacy import DocumentTooLarge
from assembly_engine.services.assemblies.records import Details, next_revision
from assembly_engine.services.audit import Outcome
from assembly_engine.services.auth import policy
from assembly_engine.services.caller import Caller
from assembly_engine.services.errors import InvalidInput, NotAnAssemblyDocument, TooLarge
from assembly_engine.services.request_bodies import json_problem
from assembly_engine.storage.contract.models import AssemblyRecord, CachedAssembly


def require_storable(imported: ImportedAssembly, where: str) -> None:
    """Refuse what an import (of a document, or of a library folder's item) could not store:
    values JSON cannot hold, metadata over its limit, too many attachments."""
    problem = json_problem(
        {
            "name": imported.display_name,
            "description": imported.summary,
            "category": imported.category,
            "metadata": imported.metadata,
            "tags": imported.tags,
            "version": imported.version,
        },
        where,
    ) or limits.metadata_size_problem(imported.metadata, f"{where} metadata")
    if problem is not None:
        raise InvalidInput(f"{problem}.")
    Contents.require_file_count(imported.content)


@dataclass(frozen=True)
class ImportSource:
    """What one import request sends: a document (or a plain script's bytes and file
    name), and ``as_new``: never replace the assembly the document names."""

    document: Any
    file_name: str | None = None
    script: bytes | None = None
    as_new: bool = False


class Importing:
    def __init__(self, changes: Changes, *, max_bytes: int) -> None:
        self.changes = changes
        self._auditor = changes.auditor
        self._cache = changes.cache
        self.max_bytes = max_bytes

    def source(
        self, caller: Caller, source: ImportSource, domain: Domain, *, audit: bool = True
    ) -> ImportedAssembly:
        """The import ``source`` asks for into ``domain``, refused (audited) for a caller
        who may not import there, then parsed as :meth:`parse` does."""
        self.require(caller, domain)
        return self.parse(
            caller,
            source.document,
            domain,
            file_name=source.file_name,
            script=source.script,
            audit=audit,
            as_new=source.as_new,
        )

    def require(self, caller: Caller, domain: Domain) -> None:
        """Refuse (audited) a caller who may not import into ``domain``."""
        self._auditor.require(
            policy.may_write(caller.actor, domain), caller, "assembly.import", domain=domain
        )

    def parse(
        self,
        caller: Caller,
        document: Any,
        domain: Domain,
        *,
        file_name: str | None = None,
        script: bytes | None = None,
        audit: bool = True,
        as_new: bool = False,
    ) -> ImportedAssembly:
        """Validate a document for import (nothing is written; a refusal is audited unless
        ``audit`` is false, as for a dry run, which changes nothing). ``as_new``: the
        import never replaces the assembly the document names."""
        size = (
            len(document)
            if isinstance(document, (str, bytes))
            else len(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode())
        )
        size += len(script or b"")
        if size > self.max_bytes:
            raise TooLarge(
                f"The document is {size} bytes, over the import limit of "
                f"{self.max_bytes} bytes (ENGINE_IMPORT_MAX_BYTES)."
            )
        try:
            imported = import_value(document, file_name=file_name, script=script)
        except (InvalidDocument, RecursionError) as exc:
            message = (
                str(exc)
                if isinstance(exc, InvalidDocument)
                else ("The document is nested too deeply to be an assembly document.")
            )
            if audit:
                self._auditor.record(
                    caller, "assembly.import", Outcome.FAILED, domain=domain, detail=message[:300]
                )
            if isinstance(exc, DocumentTooLarge):
                raise TooLarge(message) from None
            if isinstance(exc, NotAnAssembly):
                raise NotAnAssemblyDocument(message) from None
            raise InvalidInput(message) from None
        require_storable(imported, "document")
        return dataclasses.replace(imported, source_assembly_guid=None) if as_new else imported

    def _replaces(self, caller: Caller, imported: ImportedAssembly, domain: Domain) -> CachedAssembly | None:
        """The assembly the document names, if it is of ``domain`` and the caller may write it."""
        existing = self._cache.get(imported.source_assembly_guid or "")
        if (
            existing is not None
            and existing.domain is domain
            and policy.may_write(caller.actor, domain).allowed
        ):
            return existing
        return None

    def preview(self, caller: Caller, imported: ImportedAssembly, domain: Domain) -> WouldCreate:
        """The record and payload an import would create (or replace), without creating it."""
        replaces = self._replaces(caller, imported, domain)
        return WouldCreate.built(
            **description(imported),
            source=domain,
            metadata=imported.metadata,
            tags=imported.tags,
            payload=payload_with_data(imported.content),
            replaces=replaces.assembly_guid if replaces is not None else None,
        )

    def write(self, caller: Caller, imported: ImportedAssembly, domain: Domain) -> tuple[AssemblyView, bool]:
        """Create (or replace) the assembly of a validated document; returns (record, created)."""
        details = Details.given(imported)
        existing = self._replaces(caller, imported, domain)
        if existing is not None:
            return self._replace(caller, existing, imported, details), False
        created = self.changes.insert(
            caller, "assembly.import", domain, imported.content, details, detail=imported.display_name
        )
        return AssemblyView.of(created, admin=caller.is_admin), True

    def _replace(
        self, caller: Caller, existing: CachedAssembly, imported: ImportedAssembly, details: Details
    ) -> AssemblyView:
        guid, domain = existing.assembly_guid, existing.domain
        with (
            self.changes.audited(caller, "assembly.import", domain=domain, guid=guid),
            self.changes.new_payload(domain, imported.content) as ref,
        ):
            assert ref is not None  # content was given

            def change(record: AssemblyRecord) -> AssemblyRecord:
                # Every column is replaced, so the row is whole again (Details.given has no
                # load problem).
                return next_revision(record, details, ref, author=caller.username)

            updated = self.changes.update(
                caller,
                "assembly.import",
                existing,
                change,
                lambda _: f"replaced in place: {imported.display_name}",
            )
        return AssemblyView.of(updated, admin=caller.is_admin)
