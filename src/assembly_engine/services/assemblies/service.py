"""The assembly use cases, shared by the API and the CLI.

Every use case takes a :class:`Caller`, asks the policy about the domain it will actually
write (the existing record's domain for updates and deletes, the target for clones and
imports), and writes exactly one audit entry: success, denied or failed.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ...clock import utc_now
from ...persistence.cache import (
    AssemblyExists,
    AssemblyNotFound,
    CacheError,
    ChangeBusy,
    StaleRevision,
)
from ...persistence.databases import DatabaseBusy, SchemaError
from ...persistence.errors import STORAGE_FAILURES, failure_reason
from ...persistence.models import AssemblyRecord, CachedAssembly, PayloadContent, PayloadRef
from ...persistence.payloads import PayloadCorrupt, PayloadError, PayloadMissing
from ...persistence.runtime import OfficialSyncRefused, StorageRuntime
from ...types import DATABASE_FILES, KIND_TYPES, AssemblyKind, Domain, Integrity
from ..audit import AuditLog, Outcome
from ..auth import policy
from ..caller import Auditor, Caller
from ..errors import (
    Busy,
    Conflict,
    IntegrityProblem,
    InvalidInput,
    NotAnAssemblyDocument,
    NotFound,
    ServiceError,
    StorageUnavailable,
    TooLarge,
)
from ..request_bodies import json_problem
from .formats import ImportedAssembly, InvalidDocument, NotAnAssembly, export_value, import_value
from .inputs import AssemblyChanges, CloneRequest, NewAssembly
from .legacy import DocumentTooLarge, record_fields
from .listing import Listing
from .payload_codec import PayloadInputError, PayloadTooLarge, content_from_api, content_to_api
from .views import queue_view, record_view

log = logging.getLogger("assembly_engine.assemblies")

# Why an official sync from staging can fail without it being the engine's fault.
_SYNC_FAILURES: tuple[type[BaseException], ...] = (SchemaError, PayloadError, *STORAGE_FAILURES)


# Concurrent writers of a batch import: enough to fill the journal's group commits.
BATCH_WORKERS = 32


@dataclass(frozen=True)
class ImportItem:
    """One document of a batch import (``problem``: why its request part was unusable)."""

    document: Any
    file_name: str | None = None
    script: bytes | None = None
    problem: str | None = None


def export_file_name(display_name: str) -> str:
    """A download name safe on every file system: letters, digits, ``-_.`` and spaces."""
    cleaned = "".join(c if c.isalnum() or c in "-_. " else "_" for c in display_name).strip(" .")
    return (cleaned[:100] or "assembly") + ".json"


def check_variables(metadata: dict[str, Any] | None) -> None:
    """``metadata.variables``, when given, is a list of objects with unique, non-blank
    names; a refusal names the row (1-based, as the editor shows it)."""
    variables = (metadata or {}).get("variables")
    if variables is None:
        return
    if not isinstance(variables, list):
        raise InvalidInput("metadata.variables must be a list of variable objects.")
    first_row: dict[str, int] = {}
    for index, variable in enumerate(variables):
        where = f"metadata.variables[{index}] (variable row {index + 1})"
        if not isinstance(variable, dict):
            raise InvalidInput(f"{where} must be an object with at least a name.")
        name = variable.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput(f"{where} has no name: every variable needs a name.")
        key = name.strip()
        if key in first_row:
            raise InvalidInput(
                f"{where} is named {key!r} like row {first_row[key] + 1}: variable names must be unique."
            )
        first_row[key] = index


def check_kind_type(kind: AssemblyKind, assembly_type: str) -> None:
    allowed = KIND_TYPES[kind]
    if assembly_type not in {t.value for t in allowed}:
        names = ", ".join(sorted(t.value for t in allowed))
        raise InvalidInput(
            f"assembly_type '{assembly_type}' does not fit assembly_kind '{kind.value}' "
            f"(use one of: {names})."
        )


class AssemblyService:
    def __init__(
        self,
        storage: StorageRuntime,
        audit: AuditLog,
        *,
        lock_retry_seconds: float,
        import_max_bytes: int = 32 * 1024 * 1024,
        auditor: Auditor | None = None,
    ) -> None:
        self.storage = storage
        self.cache = storage.cache
        self.payloads = storage.payloads
        # One Auditor per engine, so anonymous refusals are counted together (caller.py).
        self._auditor = auditor or Auditor(audit)
        # A change's success entry is recorded from its journal note once it is durable, and
        # at start for changes a crash left unaudited.
        self.cache.on_durable_note = self._auditor.record_note
        self._auditor.recover(self.cache.replayed_notes)
        self.cache.replayed_notes = []
        self.lock_retry_seconds = lock_retry_seconds
        self.import_max_bytes = import_max_bytes
        self.listing = Listing(self.cache, self._auditor)

    @contextmanager
    def _audited(
        self, caller: Caller, action: str, *, domain: Domain | None = None, guid: str | None = None
    ) -> Iterator[None]:
        """Audit a failure of the enclosed work (successes are recorded by the caller)."""
        try:
            yield
        except (NotFound, InvalidInput):
            raise
        except ServiceError as exc:
            self._auditor.record(caller, action, Outcome.FAILED, domain=domain, guid=guid, detail=exc.message)
            raise

    # -- reads -------------------------------------------------------------------------
    def _existing_for(self, caller: Caller, action: str, guid: str) -> CachedAssembly:
        """The assembly a write targets — after checking the caller is signed in, so an
        anonymous caller learns nothing about which ids exist."""
        self._auditor.require(policy.may_read(caller.actor), caller, action, guid=guid)
        return self._existing(guid)

    def _existing(self, guid: str) -> CachedAssembly:
        found = self.cache.get(guid)
        if found is None:
            raise NotFound(f"No assembly with id {guid} exists (it may have been deleted).")
        return found

    def _require_whole_row(self, item: CachedAssembly) -> None:
        """Refuse to show, copy or rewrite a record whose stored row is damaged.

        The list still shows such a record (with what could be read), so it can be found
        and deleted; a detail, export, clone or update would present or persist the repaired
        stand-in values as if they were the stored ones.
        """
        problem = item.record.row_problem
        if problem is not None:
            raise IntegrityProblem(
                f"Assembly {item.assembly_guid} cannot be read: its row in "
                f"{DATABASE_FILES[item.domain]} is damaged ({problem[:500]}). Restore the row "
                "from a backup, fix it with the sqlite3 shell, re-import the assembly over it, "
                "or delete it."
            )

    def read_content(self, item: CachedAssembly) -> PayloadContent:
        """Resolve an assembly to its verified content (the one way runners get content)."""
        ref = item.record.payload
        try:
            return self.payloads.read(ref.payload_guid, ref.checksum or None)
        except (PayloadMissing, PayloadCorrupt) as exc:
            status = Integrity.MISSING if isinstance(exc, PayloadMissing) else Integrity.CORRUPT
            self.cache.set_integrity(item.assembly_guid, status, payload_guid=ref.payload_guid)
            raise IntegrityProblem(
                f"Assembly '{item.record.display_name}' ({item.assembly_guid}) cannot be read: "
                f"its payload is {status.value} ({exc}). Restore the payload folder from a backup, "
                "or re-import the assembly."
            ) from None

    def resolve_payload(self, guid: str) -> PayloadContent:
        return self.read_content(self._existing(guid))

    def get(self, caller: Caller, guid: str) -> dict[str, Any]:
        self._auditor.require(policy.may_read(caller.actor), caller, "assembly.read", guid=guid)
        item = self._existing(guid)
        self._require_whole_row(item)
        content = self.read_content(item)
        view = record_view(self.cache.get(guid) or item, include_payload_guid=caller.is_admin)
        view["payload"] = content_to_api(content)
        return view

    def attachment(self, caller: Caller, guid: str, file_name: str) -> tuple[bytes, str]:
        self._auditor.require(policy.may_read(caller.actor), caller, "assembly.read", guid=guid)
        content = self.read_content(self._existing(guid))
        for f in content.files:
            if f.file_name == file_name:
                return f.data, f.mime_type
        raise NotFound(f"Assembly {guid} has no attached file named '{file_name}'.")

    # -- writes ------------------------------------------------------------------------
    def _store_content(self, content: PayloadContent) -> PayloadRef:
        try:
            return self.payloads.write_new(content)
        except PayloadError as exc:  # an unsafe attachment name, for one
            raise InvalidInput(str(exc)) from None
        except OSError as exc:
            raise StorageUnavailable(
                f"The payload could not be written to disk ({exc.strerror or exc}); nothing was "
                "changed. Free disk space or fix permissions of the Payloads folder, then retry."
            ) from None

    def _drop_payload(self, ref: PayloadRef | None) -> None:
        if ref is not None:
            try:
                self.payloads.delete(ref.payload_guid)
            except OSError as exc:
                log.warning("could not remove unused payload %s: %s", ref.payload_guid, exc)

    def _commit(self, write: Callable[[], CachedAssembly], new_ref: PayloadRef | None) -> CachedAssembly:
        """Run a cache mutation; on any refusal remove the payload folder it would have used."""
        try:
            return write()
        except (StaleRevision, AssemblyExists) as exc:
            self._drop_payload(new_ref)
            raise Conflict(str(exc)) from None
        except AssemblyNotFound as exc:
            self._drop_payload(new_ref)
            raise NotFound(str(exc)) from None
        except ChangeBusy as exc:
            self._drop_payload(new_ref)
            raise Busy(str(exc), retry_after=5) from None
        except CacheError as exc:
            self._drop_payload(new_ref)
            raise InvalidInput(str(exc)) from None
        except DatabaseBusy:
            self._drop_payload(new_ref)
            raise Busy(
                "The change was not made: the engine's journal stayed locked by another "
                "process. Retry in a few seconds.",
                retry_after=5,
            ) from None
        except STORAGE_FAILURES as exc:  # disk full, read-only, I/O error
            self._drop_payload(new_ref)
            raise StorageUnavailable(
                f"The change could not be made durable ({failure_reason(exc)}); nothing was "
                "changed. Free disk space or check the engine home, then retry."
            ) from None
        except BaseException:
            self._drop_payload(new_ref)
            raise

    def _content(
        self,
        payload: dict[str, Any],
        kind: AssemblyKind,
        assembly_type: str,
        previous: PayloadContent | None = None,
    ) -> PayloadContent:
        try:
            return content_from_api(payload, kind, assembly_type, previous)
        except PayloadTooLarge as exc:
            raise TooLarge(str(exc)) from None
        except PayloadInputError as exc:
            raise InvalidInput(str(exc)) from None

    def _insert(
        self,
        caller: Caller,
        action: str,
        domain: Domain,
        content: PayloadContent,
        build: Callable[[PayloadRef, str], AssemblyRecord],
        *,
        guid: str | None = None,
        detail: str | None = None,
    ) -> CachedAssembly:
        """Store new content, build the record around it and queue its creation (audited)."""
        guid = guid or uuid.uuid4().hex
        with self._audited(caller, action, domain=domain, guid=guid):
            ref = self._store_content(content)
            record = build(ref, utc_now())
            note = self._auditor.note(
                caller, action, domain=domain, guid=guid, detail=detail or record.display_name
            )
            return self._commit(
                lambda: self.cache.create(
                    record, note=lambda _: note, action=action.removeprefix("assembly.")
                ),
                ref,
            )

    def create(self, caller: Caller, new: NewAssembly) -> dict[str, Any]:
        self._auditor.require(
            policy.may_write(caller.actor, new.domain), caller, "assembly.create", domain=new.domain
        )
        check_kind_type(new.assembly_kind, new.assembly_type)
        check_variables(new.metadata)
        content = self._content(new.payload, new.assembly_kind, new.assembly_type)
        guid = uuid.uuid4().hex

        def build(ref: PayloadRef, now: str) -> AssemblyRecord:
            return AssemblyRecord(
                assembly_guid=guid,
                domain=new.domain,
                display_name=new.display_name,
                assembly_kind=new.assembly_kind,
                assembly_type=new.assembly_type,
                payload=ref,
                summary=new.summary,
                category=new.category,
                version=new.version,
                metadata_json=json.dumps(new.metadata, ensure_ascii=False),
                tags_json=json.dumps(new.tags, ensure_ascii=False),
                created_at=now,
                updated_at=now,
                created_by=caller.username,
                updated_by=caller.username,
            )

        created = self._insert(caller, "assembly.create", new.domain, content, build, guid=guid)
        return record_view(created, include_payload_guid=caller.is_admin)

    def update(
        self, caller: Caller, guid: str, changes: AssemblyChanges, *, expected_revision: int | None = None
    ) -> dict[str, Any]:
        current = self._existing_for(caller, "assembly.update", guid)
        domain = current.domain
        self._auditor.require(
            policy.may_write(caller.actor, domain), caller, "assembly.update", domain=domain, guid=guid
        )
        if changes.domain is not None and changes.domain is not domain:
            raise InvalidInput(
                f"An update cannot move an assembly from {domain.value} to {changes.domain.value}; "
                "clone it into the other domain instead."
            )
        revision = expected_revision if expected_revision is not None else changes.expected_revision
        kind = current.record.assembly_kind
        new_type = changes.assembly_type or current.record.assembly_type or ""
        check_kind_type(kind, new_type)
        check_variables(changes.metadata)
        with self._audited(caller, "assembly.update", domain=domain, guid=guid):
            self._require_whole_row(current)
            if revision is not None and revision != current.record.revision:
                raise Conflict(str(StaleRevision(guid, revision, current.record.revision)))
            new_ref: PayloadRef | None = None
            type_changed = new_type != current.record.assembly_type
            if changes.payload is not None or type_changed:
                previous = self.read_content(current)
                content = self._content(changes.payload or {}, kind, new_type, previous)
                if content != previous:
                    new_ref = self._store_content(content)
            updates: dict[str, Any] = {
                "updated_at": utc_now(),
                "updated_by": caller.username,
                "assembly_type": new_type,
            }
            for name in ("display_name", "summary", "category", "version"):
                if name in changes.model_fields_set:
                    value = getattr(changes, name)
                    if name == "display_name" and value is None:
                        raise InvalidInput("display_name cannot be empty.")
                    updates[name] = value
            if changes.tags is not None:
                updates["tags_json"] = json.dumps(changes.tags, ensure_ascii=False)

            def change(record: AssemblyRecord) -> AssemblyRecord:
                fields = dict(updates)
                if changes.metadata is not None:
                    merged = record.metadata
                    for key, value in changes.metadata.items():
                        if value is None:
                            merged.pop(key, None)
                        else:
                            merged[key] = value
                    fields["metadata_json"] = json.dumps(merged, ensure_ascii=False)
                if new_ref is not None:
                    fields["payload"] = new_ref
                return record.evolve(**fields)

            def note(record: AssemblyRecord) -> str:
                return self._auditor.note(
                    caller, "assembly.update", domain=domain, guid=guid, detail=f"revision {record.revision}"
                )

            updated = self._commit(
                lambda: self.cache.update(guid, change, expected_revision=revision, note=note), new_ref
            )
        return record_view(updated, include_payload_guid=caller.is_admin)

    def delete(self, caller: Caller, guid: str, *, expected_revision: int | None = None) -> dict[str, Any]:
        current = self._existing_for(caller, "assembly.delete", guid)
        domain = current.domain
        self._auditor.require(
            policy.may_write(caller.actor, domain), caller, "assembly.delete", domain=domain, guid=guid
        )
        note = self._auditor.note(
            caller, "assembly.delete", domain=domain, guid=guid, detail=current.record.display_name
        )
        with self._audited(caller, "assembly.delete", domain=domain, guid=guid):
            deleted = self._commit(
                lambda: self.cache.delete(
                    guid, expected_revision=expected_revision, note=lambda _: note, actor=caller.username
                ),
                None,
            )
        return {
            "assembly_guid": guid,
            "source": domain.value,
            "status": "queued_delete",
            "is_dirty": deleted.state.is_dirty,
        }

    def clone(self, caller: Caller, guid: str, request: CloneRequest) -> dict[str, Any]:
        source = self._existing_for(caller, "assembly.clone", guid)
        target = request.target_domain
        self._auditor.require(
            policy.may_write(caller.actor, target), caller, "assembly.clone", domain=target, guid=guid
        )
        self._require_whole_row(source)
        content = self.read_content(source)
        name = request.display_name or source.record.display_name
        if request.display_name is None and target is source.domain:
            name = f"{name} (copy)"

        clone_guid = uuid.uuid4().hex

        def build(ref: PayloadRef, now: str) -> AssemblyRecord:
            return source.record.evolve(
                assembly_guid=clone_guid,
                domain=target,
                display_name=name[:200],
                payload=ref,
                revision=1,
                created_at=now,
                updated_at=now,
                created_by=caller.username,
                updated_by=caller.username,
            )

        created = self._insert(
            caller,
            "assembly.clone",
            target,
            content,
            build,
            guid=clone_guid,
            detail=f"cloned from {source.domain.value}: {source.record.display_name}",
        )
        return record_view(created, include_payload_guid=caller.is_admin)

    # -- legacy documents --------------------------------------------------------------
    def import_document(
        self,
        caller: Caller,
        document: Any,
        domain: Domain = Domain.USER,
        *,
        file_name: str | None = None,
        script: bytes | None = None,
        as_new: bool = False,
    ) -> tuple[dict[str, Any], bool]:
        """Import a legacy document; returns (record, created).

        Always a new assembly in ``domain``, unless the document names (in its
        ``assembly_engine`` block) an existing assembly of that same domain that the caller
        may write: then that assembly is replaced in place. A document naming an assembly
        the caller may not write never touches it — it becomes a new assembly.
        """
        self._auditor.require(
            policy.may_write(caller.actor, domain), caller, "assembly.import", domain=domain
        )
        imported = self.parse_import(caller, document, domain, file_name=file_name, script=script)
        if as_new:
            imported = dataclasses.replace(imported, source_assembly_guid=None)
        return self._import_parsed(caller, imported, domain)

    def dry_run_import(
        self,
        caller: Caller,
        document: Any,
        domain: Domain = Domain.USER,
        *,
        file_name: str | None = None,
        script: bytes | None = None,
        as_new: bool = False,
    ) -> dict[str, Any]:
        """What importing ``document`` would create (the same parser), creating nothing."""
        self._auditor.require(
            policy.may_write(caller.actor, domain), caller, "assembly.import", domain=domain
        )
        imported = self.parse_import(
            caller, document, domain, file_name=file_name, script=script, audit=False
        )
        if as_new:
            imported = dataclasses.replace(imported, source_assembly_guid=None)
        return self.preview(caller, imported, domain)

    def parse_import(
        self,
        caller: Caller,
        document: Any,
        domain: Domain,
        *,
        file_name: str | None = None,
        script: bytes | None = None,
        audit: bool = True,
    ) -> ImportedAssembly:
        """Validate a document for import (nothing is written; a refusal is audited unless
        ``audit`` is false, as for a dry run, which changes nothing)."""
        size = (
            len(document)
            if isinstance(document, (str, bytes))
            else len(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode())
        )
        size += len(script or b"")
        if size > self.import_max_bytes:
            raise TooLarge(
                f"The document is {size} bytes, over the import limit of "
                f"{self.import_max_bytes} bytes (ENGINE_IMPORT_MAX_BYTES)."
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
        problem = json_problem(
            {
                "name": imported.display_name,
                "description": imported.summary,
                "category": imported.category,
                "metadata": imported.metadata,
                "tags": imported.tags,
                "version": imported.version,
            },
            "document",
        )
        if problem is not None:
            raise InvalidInput(f"{problem}.")
        return imported

    def _import_parsed(
        self, caller: Caller, imported: ImportedAssembly, domain: Domain
    ) -> tuple[dict[str, Any], bool]:
        metadata_json = json.dumps(imported.metadata, ensure_ascii=False)
        tags_json = json.dumps(imported.tags, ensure_ascii=False)
        existing = self.cache.get(imported.source_assembly_guid or "")
        if (
            existing is not None
            and existing.domain is domain
            and policy.may_write(caller.actor, domain).allowed
        ):
            return self._replace_from_import(caller, existing, imported, metadata_json, tags_json), False

        new_guid = uuid.uuid4().hex

        def build(ref: PayloadRef, now: str) -> AssemblyRecord:
            return AssemblyRecord(
                assembly_guid=new_guid,
                domain=domain,
                display_name=imported.display_name,
                assembly_kind=imported.assembly_kind,
                assembly_type=imported.assembly_type,
                payload=ref,
                summary=imported.summary,
                category=imported.category,
                version=imported.version,
                metadata_json=metadata_json,
                tags_json=tags_json,
                created_at=now,
                updated_at=now,
                created_by=caller.username,
                updated_by=caller.username,
            )

        created = self._insert(
            caller,
            "assembly.import",
            domain,
            imported.content,
            build,
            guid=new_guid,
            detail=imported.display_name,
        )
        return record_view(created, include_payload_guid=caller.is_admin), True

    def import_batch(
        self, caller: Caller, items: list[ImportItem], domain: Domain = Domain.USER, *, dry_run: bool = False
    ) -> dict[str, Any]:
        """Import many documents: every one validated, then all written at once.

        The payload folders are written and the creates submitted concurrently, so the
        journal makes them durable in group commits (and the audit log's fsyncs are shared
        the same way: one entry per imported assembly). Each document gets its own result;
        one refused document never stops the others. ``dry_run`` validates and answers what
        would be created, writing nothing.
        """
        self._auditor.require(
            policy.may_write(caller.actor, domain), caller, "assembly.import", domain=domain
        )
        results: list[dict[str, Any] | None] = [None] * len(items)
        parsed: list[tuple[int, ImportedAssembly]] = []

        def validate(item: ImportItem) -> ImportedAssembly | ServiceError:
            try:
                if item.problem is not None:
                    if not dry_run:
                        self._auditor.record(
                            caller,
                            "assembly.import",
                            Outcome.FAILED,
                            domain=domain,
                            detail=item.problem[:300],
                        )
                    raise InvalidInput(item.problem)
                return self.parse_import(
                    caller,
                    item.document,
                    domain,
                    file_name=item.file_name,
                    script=item.script,
                    audit=not dry_run,
                )
            except ServiceError as exc:
                return exc

        # Concurrently, so the audit entries of refused documents share fsyncs (group
        # commit) instead of syncing the log once per document.
        workers = max(1, min(BATCH_WORKERS, len(items)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="import-check") as pool:
            checked = list(pool.map(validate, items))
        for index, outcome in enumerate(checked):
            if isinstance(outcome, ServiceError):
                results[index] = {
                    "index": index,
                    "status": "failed",
                    "error": outcome.code,
                    "message": outcome.message,
                }
            else:
                parsed.append((index, outcome))
        if dry_run:
            for index, imported in parsed:
                results[index] = {
                    "index": index,
                    "status": "valid",
                    "would_create": self.preview(caller, imported, domain),
                }
        elif parsed:
            workers = max(1, min(BATCH_WORKERS, len(parsed)))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="import") as pool:
                futures = [
                    (index, pool.submit(self._import_parsed, caller, imported, domain))
                    for index, imported in parsed
                ]
                for index, future in futures:
                    try:
                        record, created = future.result()
                    except ServiceError as exc:
                        results[index] = {
                            "index": index,
                            "status": "failed",
                            "error": exc.code,
                            "message": exc.message,
                        }
                    else:
                        results[index] = {
                            "index": index,
                            "status": "imported" if created else "replaced",
                            "assembly_guid": record["assembly_guid"],
                            "display_name": record["display_name"],
                            "assembly_kind": record["assembly_kind"],
                        }
        done = [r for r in results if r is not None]
        counts = {
            status: sum(1 for r in done if r["status"] == status)
            for status in ("imported", "replaced", "valid", "failed")
        }
        return {"dry_run": dry_run, **counts, "results": done}

    def preview(self, caller: Caller, imported: ImportedAssembly, domain: Domain) -> dict[str, Any]:
        """The record and payload an import would create (or replace), without creating it."""
        existing = self.cache.get(imported.source_assembly_guid or "")
        replaces = (
            existing.assembly_guid
            if existing is not None
            and existing.domain is domain
            and policy.may_write(caller.actor, domain).allowed
            else None
        )
        return {
            "display_name": imported.display_name,
            "summary": imported.summary,
            "category": imported.category,
            "assembly_kind": imported.assembly_kind.value,
            "assembly_type": imported.assembly_type,
            "version": imported.version,
            "source": domain.value,
            "metadata": imported.metadata,
            "tags": imported.tags,
            "payload": content_to_api(imported.content, include_data=True),
            "replaces": replaces,
        }

    def _replace_from_import(
        self,
        caller: Caller,
        existing: CachedAssembly,
        imported: ImportedAssembly,
        metadata_json: str,
        tags_json: str,
    ) -> dict[str, Any]:
        guid, domain = existing.assembly_guid, existing.domain
        with self._audited(caller, "assembly.import", domain=domain, guid=guid):
            ref = self._store_content(imported.content)

            def change(record: AssemblyRecord) -> AssemblyRecord:
                return record.evolve(
                    display_name=imported.display_name,
                    summary=imported.summary,
                    category=imported.category,
                    assembly_kind=imported.assembly_kind,
                    assembly_type=imported.assembly_type,
                    version=imported.version,
                    metadata_json=metadata_json,
                    tags_json=tags_json,
                    payload=ref,
                    updated_at=utc_now(),
                    updated_by=caller.username,
                    load_problem=None,  # every column is replaced: the row is whole again
                )

            note = self._auditor.note(
                caller,
                "assembly.import",
                domain=domain,
                guid=guid,
                detail=f"replaced in place: {imported.display_name}",
            )
            updated = self._commit(
                lambda: self.cache.update(guid, change, note=lambda _: note, action="import"), ref
            )
        return record_view(updated, include_payload_guid=caller.is_admin)

    def export(self, caller: Caller, guid: str) -> tuple[dict[str, Any], str]:
        """The legacy document of an assembly and a safe download file name."""
        self._auditor.require(policy.may_export(caller.actor), caller, "assembly.export", guid=guid)
        item = self._existing_for(caller, "assembly.export", guid)
        with self._audited(caller, "assembly.export", domain=item.domain, guid=guid):
            self._require_whole_row(item)
            content = self.read_content(item)
        record = item.record
        document = export_value(**record_fields(record, content))
        self._auditor.record(
            caller,
            "assembly.export",
            Outcome.SUCCESS,
            domain=item.domain,
            guid=guid,
            detail=record.display_name,
        )
        return document, export_file_name(record.display_name)

    # -- queue -------------------------------------------------------------------------
    def queue(self, caller: Caller) -> dict[str, Any]:
        self._auditor.require(policy.may_read(caller.actor), caller, "queue.read")
        return queue_view(self.cache.queue_status())

    def flush(self, caller: Caller, domain: Domain | None) -> dict[str, Any]:
        self._auditor.require(policy.may_flush(caller.actor), caller, "flush", domain=domain)
        results = self.cache.flush_now(domain, budget_seconds=self.lock_retry_seconds)
        summary = {
            r.domain.value: {
                "persisted": r.persisted,
                "error": r.error,
                "refused": [{"assembly_guid": g, "error": e} for g, e in r.refused],
            }
            for r in results
        }
        busy = [r for r in results if r.busy]
        failed = [r for r in results if not r.ok]
        if failed:
            names = ", ".join(r.domain.value for r in failed)
            detail = f"could not write {names}: {failed[0].error}"
            self._auditor.record(caller, "flush", Outcome.FAILED, domain=domain, detail=detail)
            if busy:
                raise Busy(
                    f"The {names} database stayed locked by another process; the changes are "
                    "still queued and will be written automatically. Retry in a few seconds.",
                    retry_after=max(1, int(self.lock_retry_seconds)),
                )
            raise StorageUnavailable(
                f"Writing {names} failed ({failed[0].error}); the changes "
                "are still queued and will be retried."
            )
        self._auditor.record(
            caller,
            "flush",
            Outcome.SUCCESS,
            domain=domain,
            detail=", ".join(f"{k}={v['persisted']}" for k, v in summary.items()),
        )
        return {"results": summary, "queue": queue_view(self.cache.queue_status())}

    def sync_official(self, caller: Caller) -> dict[str, Any]:
        self._auditor.require(
            policy.may_sync_official(caller.actor), caller, "official.sync", domain=Domain.OFFICIAL
        )
        try:
            report = self.storage.resync_official()
        except (OfficialSyncRefused, DatabaseBusy, ChangeBusy) as exc:
            self._auditor.record(
                caller, "official.sync", Outcome.FAILED, domain=Domain.OFFICIAL, detail=str(exc)
            )
            raise Busy(str(exc), retry_after=max(1, int(self.lock_retry_seconds))) from None
        except _SYNC_FAILURES as exc:
            message = (
                f"The official library could not be synced from staging ({exc}); the "
                "runtime copy was left as it was. Fix the staging copy, then retry."
            )
            self._auditor.record(
                caller, "official.sync", Outcome.FAILED, domain=Domain.OFFICIAL, detail=message
            )
            raise StorageUnavailable(message) from None
        self._auditor.record(
            caller,
            "official.sync",
            Outcome.SUCCESS,
            domain=Domain.OFFICIAL,
            detail=f"staging={report.staging_count} runtime={report.runtime_count}",
        )
        return report.as_dict()
