"""Library as code: plan and apply a library folder onto a domain, and render a domain as one.

The CLI reads the folder and sends its items; this module decides, per item, one action
(Docs/library-as-code.md has the rules):

* identity: the sidecar's ``assembly_guid`` (an assembly of the domain), else the path the
  last sync from the same ``source`` recorded in ``metadata.sync``;
* ``unchanged`` when the engine already holds the item, or only the engine changed since
  the last sync; ``update`` when only the file changed; ``conflict`` when both did (the base
  is the revision that sync wrote, ``metadata.sync.revision``); ``create`` for a new item;
  ``archive`` for an assembly this source synced whose file is gone (deleted only with
  ``prune``); ``skip`` with the reason the CLI gave.

Apply writes each item on its own through the normal write path (durable, audited,
history), so an interrupted apply leaves every finished item synced and the next plan
lists only what is left. ``plan_id`` hashes the items and the domain's state; an apply
given one refuses to start when it moved.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from assembly_engine.domain.clock import utc_now
from assembly_engine.domain.types import Domain
from assembly_engine.services.answers.sync import Applied, ItemResult, Plan, PlanItem, PlanSource
from assembly_engine.services.assemblies import library_paths
from assembly_engine.services.assemblies.changes import Changes
from assembly_engine.services.assemblies.editing import Editing
from assembly_engine.services.assemblies.formats import InvalidDocument, library_folder
from assembly_engine.services.assemblies.formats.library_folder import LibraryItem
from assembly_engine.services.assemblies.formats.manifest_layout import UPSTREAM, ManifestLayout
from assembly_engine.services.assemblies.importing import Importing, require_storable
from assembly_engine.services.assemblies.legacy import ImportedAssembly
from assembly_engine.services.assemblies.library_paths import Selection
from assembly_engine.services.assemblies.library_render import SYNC_KEY, LibraryRender, sync_note
from assembly_engine.services.assemblies.plan_cache import KeptPlan, PlanCache, records_state
from assembly_engine.services.assemblies.records import Details, next_revision
from assembly_engine.services.auth import policy
from assembly_engine.services.caller import Caller
from assembly_engine.services.errors import Conflict, EngineError, InvalidInput, TooLarge
from assembly_engine.storage.contract.models import AssemblyRecord, CachedAssembly

APPLY_WAIT_SECONDS = 600.0
WRITERS = (
    32  # concurrent item writes of an apply: enough to fill the journal's group commits (as a batch import)
)


class PlanChanged(Conflict):
    """``apply --plan-id``: the source or the domain moved since that plan."""

    code = "plan_changed"


@dataclass(frozen=True)
class SyncSource:
    """What a plan or apply request says: the items read, and how they were selected."""

    source: str
    commit: str | None
    domain: Domain
    items: tuple[LibraryItem, ...]
    skipped: tuple[tuple[str, str], ...] = ()
    selection: Selection = Selection()
    prune: bool = False
    manifest: ManifestLayout | None = None  # how a Tactical RMM library's manifest is laid out


@dataclass
class Planned:
    path: str
    action: str
    assembly_guid: str | None = None
    reason: str | None = None
    item: LibraryItem | None = None
    current: CachedAssembly | None = None
    checksums: dict[str, str | None] | None = None
    base_revision: int | None = None
    imported: ImportedAssembly | None = None  # checked when planned; apply writes it as is
    # Decided by reading the engine's content (a payload can go missing on disk without a
    # change of its record): a plan with such an item is not kept (plan_cache.py).
    engine_read: bool = False

    def view(self) -> PlanItem:
        optional: dict[str, Any] = {}  # only when known: unset fields stay out of the answer
        if self.checksums is not None:
            optional["checksums"] = self.checksums
        if self.base_revision is not None:
            optional["base_revision"] = self.base_revision
        return PlanItem.built(
            path=self.path,
            action=self.action,
            assembly_guid=self.assembly_guid,
            reason=self.reason,
            **optional,
        )


class LibrarySync:
    def __init__(
        self, changes: Changes, importing: Importing, editing: Editing, rendering: LibraryRender
    ) -> None:
        self._changes = changes
        self._importing = importing
        self._editing = editing
        self._cache = changes.cache
        self._rendering = rendering
        # One apply per (source, domain) at a time: a second one (a retry after the CLI
        # was interrupted while the first still runs) waits, then plans what is left, so
        # the two never create the same item twice.
        self._applying: dict[tuple[str, Domain], threading.Lock] = {}
        self._applying_guard = threading.Lock()
        self.plans = PlanCache()

    # -- planning ----------------------------------------------------------------------
    def plan(self, caller: Caller, request: SyncSource) -> Plan:
        self._require_read(caller, request.domain)
        plan_id, planned = self._plan(request, self._cache.items(request.domain))
        return Plan.built(**self._fields(request, plan_id, planned))

    def _require_read(self, caller: Caller, domain: Domain) -> None:
        self._changes.auditor.require(policy.may_read(caller.actor), caller, "assembly.sync", domain=domain)

    def plan_answer(self, caller: Caller, request: SyncSource, key: str) -> bytes:
        """The plan of ``request`` as the JSON sent, kept under ``key`` (the sha256 of the
        request body) when it can be given again (``cached_plan``)."""
        self._require_read(caller, request.domain)
        generation = self._cache.generation  # read first: a change after it fails the quick check
        records = self._cache.items(request.domain)
        plan_id, planned = self._plan(request, records)
        answer = Plan.built(**self._fields(request, plan_id, planned))
        data = answer.__pydantic_serializer__.to_json(answer, exclude_unset=True)
        if not any(p.engine_read for p in planned):
            self.plans.put(key, KeptPlan(request.domain, records_state(records), generation, data))
        return data

    def cached_plan(self, caller: Caller, key: str) -> bytes | None:
        """The plan answered before for the same request body, while its domain is as it
        was then (else None: plan it again). The caller is checked as for a new plan."""
        kept = self.plans.get(key)
        if kept is None:
            return None
        self._require_read(caller, kept.domain)
        generation = self._cache.generation
        if generation != kept.generation:
            # Something changed somewhere: the plan still holds if its domain's records did not.
            if records_state(self._cache.items(kept.domain)) != kept.records:
                self.plans.discard(key)
                return None
            self.plans.put(key, dataclasses.replace(kept, generation=generation))
        return kept.answer

    def _fields(self, request: SyncSource, plan_id: str, planned: list[Planned]) -> dict[str, Any]:
        """The fields of a plan, which an apply's answer starts with."""
        counts = {a: 0 for a in ("create", "update", "unchanged", "conflict", "archive", "skip")}
        for p in planned:
            counts[p.action] += 1
        return {
            "plan_id": plan_id,
            "source": PlanSource.built(path=request.source, commit=request.commit),
            "domain": request.domain.value,
            "counts": counts,
            "items": [p.view() for p in planned],
        }

    def _plan(self, request: SyncSource, records: list[CachedAssembly]) -> tuple[str, list[Planned]]:
        by_guid = {r.assembly_guid: r for r in records}
        by_path: dict[str, CachedAssembly] = {}
        notes: dict[str, dict[str, Any] | None] = {}  # metadata is decoded once per record
        for r in records:
            note = notes[r.assembly_guid] = sync_note(r)
            if (
                note is not None
                and note.get("source") == request.source
                and isinstance(note.get("path"), str)
            ):
                by_path[note["path"]] = r
        planned: list[Planned] = []
        seen_paths: set[str] = set()
        claimed: set[str] = set()
        for item in request.items:
            seen_paths.add(item.path)
            current = by_guid.get(item.sidecar_guid or "") or by_path.get(item.path)
            if current is not None and current.assembly_guid in claimed:
                planned.append(
                    Planned(
                        item.path, "conflict", current.assembly_guid, "another file names the same assembly"
                    )
                )
                continue
            if current is not None:
                claimed.add(current.assembly_guid)
            planned.append(self._decide(request, item, current, notes))
        for path, r in sorted(by_path.items()):
            if path in seen_paths or request.selection.why_not(path) is not None:
                continue  # still there, or outside this selection: a partial checkout never archives
            planned.append(
                Planned(
                    path,
                    "archive",
                    r.assembly_guid,
                    "gone from the source: deleted by --prune"
                    if request.prune
                    else "gone from the source; kept (--prune deletes it)",
                    current=r,
                )
            )
        planned.extend(Planned(path, "skip", reason=reason) for path, reason in request.skipped)
        planned.sort(key=lambda p: p.path)
        state = {
            "source": request.source,
            "domain": request.domain.value,
            "prune": request.prune,
            "items": sorted((i.path, i.checksum()) for i in request.items),
            "records": sorted((r.assembly_guid, r.record.revision) for r in records),
        }
        return hashlib.sha256(library_folder.canonical(state)).hexdigest(), planned

    def _decide(
        self,
        request: SyncSource,
        item: LibraryItem,
        current: CachedAssembly | None,
        notes: dict[str, dict[str, Any] | None],
    ) -> Planned:
        note = notes.get(current.assembly_guid) if current is not None else None
        planned = self._compare(request, item, current, note)
        if planned.action in ("create", "update") and item.has_content:
            try:
                planned.imported = self._imported(item)  # checked now, not mid-apply
            except EngineError as exc:
                planned.action, planned.reason = "conflict", f"not importable: {exc.message}"
        return planned

    def _compare(
        self,
        request: SyncSource,
        item: LibraryItem,
        current: CachedAssembly | None,
        note: dict[str, Any] | None,
    ) -> Planned:
        source_sum = item.checksum()
        if current is None:
            return Planned(item.path, "create", None, None, item)
        guid = current.assembly_guid
        ours = note is not None and note.get("source") == request.source
        if (
            ours
            and note is not None
            and note.get("base_checksum") == source_sum
            and note.get("revision") == current.record.revision
        ):
            # Neither side changed since the last sync: no need to read the content.
            return Planned(item.path, "unchanged", guid, None, item, current)
        planned = self._compare_content(request, item, current, note)
        planned.engine_read = True
        return planned

    def _compare_content(
        self,
        request: SyncSource,
        item: LibraryItem,
        current: CachedAssembly,
        note: dict[str, Any] | None,
    ) -> Planned:
        source_sum = item.checksum()
        guid = current.assembly_guid
        ours = note is not None and note.get("source") == request.source
        engine = self._rendering.engine_item(current, item.form)
        engine_sum = engine.checksum() if engine is not None else None
        if engine_sum == source_sum:
            return Planned(item.path, "unchanged", guid, None, item, current)
        if note is not None and not ours:
            return Planned(
                item.path,
                "conflict",
                guid,
                f"the assembly was synced from another source ({note.get('source')})",
                item,
                current,
            )
        base_sum = note.get("base_checksum") if ours and note is not None else None
        base_revision = note.get("revision") if ours and note is not None else None
        sums: dict[str, str | None] = {"base": base_sum, "engine": engine_sum, "source": source_sum}
        if base_sum is None:
            # Named by its sidecar but never synced from here: the file says what it is.
            return Planned(
                item.path, "update", guid, "named by its sidecar's assembly_guid", item, current, sums
            )
        source_changed = base_sum != source_sum
        engine_changed = current.record.revision != base_revision
        rev = base_revision if isinstance(base_revision, int) else None
        if source_changed and engine_changed:
            return Planned(
                item.path,
                "conflict",
                guid,
                "changed in the file and in the engine since the last sync",
                item,
                current,
                sums,
                rev,
            )
        if source_changed:
            return Planned(item.path, "update", guid, None, item, current, sums, rev)
        reason = (
            "changed in the engine since the last sync (sync write carries it out)"
            if engine_changed
            else None
        )
        return Planned(item.path, "unchanged", guid, reason, item, current, sums, rev)

    # -- applying ----------------------------------------------------------------------
    def apply(self, caller: Caller, request: SyncSource, *, plan_id: str | None) -> Applied:
        self._importing.require(caller, request.domain)
        with self._applying_guard:
            lock = self._applying.setdefault((request.source, request.domain), threading.Lock())
        if not lock.acquire(timeout=APPLY_WAIT_SECONDS):
            raise Conflict(
                f"Another apply of {request.source} into {request.domain.value} is still running; "
                "nothing was changed. Retry when it is done."
            )
        try:
            return self._apply(caller, request, plan_id)
        finally:
            lock.release()

    def _apply(self, caller: Caller, request: SyncSource, plan_id: str | None) -> Applied:
        current_id, planned = self._plan(request, self._cache.items(request.domain))
        if plan_id is not None and plan_id != current_id:
            raise PlanChanged(
                "The source or the domain changed since that plan: nothing was applied. "
                "Run sync plan again, review it, and apply its new plan_id."
            )
        # Digest-only items are planned but not written: a large library is applied in
        # several requests, each carrying the content of some of its items.
        work = [
            p
            for p in planned
            if (p.action in ("create", "update") and p.item is not None and p.item.has_content)
            or (p.action == "archive" and request.prune)
        ]

        def carry_out(p: Planned) -> ItemResult:
            try:
                guid = self._carry_out(caller, request, p)
                return ItemResult.built(path=p.path, action=p.action, status="done", assembly_guid=guid)
            except EngineError as exc:
                return ItemResult.built(
                    path=p.path,
                    action=p.action,
                    status="failed",
                    assembly_guid=p.assembly_guid,
                    error=exc.code,
                    message=exc.message,
                )

        with self._importing.changes.bulk():  # as an import's writes
            with ThreadPoolExecutor(max_workers=WRITERS, thread_name_prefix="sync") as pool:
                results = list(pool.map(carry_out, work))
        return Applied.built(
            **self._fields(request, current_id, planned),
            results=results,
            done=sum(1 for r in results if r.status == "done"),
            failed=sum(1 for r in results if r.status == "failed"),
        )

    def _note(
        self, request: SyncSource, item: LibraryItem, imported: ImportedAssembly, revision: int
    ) -> dict[str, Any]:
        note: dict[str, Any] = {
            "source": request.source,
            "path": item.path,
            "commit": request.commit,
            "base_checksum": item.checksum(),
            "revision": revision,
            "form": item.form,
            "synced_at": utc_now(),
        }
        # What a write needs to give back the very bytes: a workflow's own formatting (the
        # engine stores its canvas re-serialised), a manifest's order and layout.
        if item.path.endswith(library_paths.WORKFLOW_SUFFIX) and imported.content.main != item.main:
            try:
                note["text"] = item.main.decode("utf-8")
            except UnicodeDecodeError:
                pass  # not UTF-8 text: written back as the stored JSON
        if item.entry is not None:
            note["position"] = item.position
            note["manifest"] = (request.manifest or UPSTREAM).view()
        return note

    def _imported(self, item: LibraryItem) -> ImportedAssembly:
        """The assembly of an item, under the same limits as an import."""
        size = len(item.main) + sum(len(f.data) for f in item.files)
        if size > self._importing.max_bytes:
            raise TooLarge(
                f"{item.path} is {size} bytes, over the import limit of "
                f"{self._importing.max_bytes} bytes (ENGINE_IMPORT_MAX_BYTES)."
            )
        try:
            imported = library_folder.to_imported(item)
        except (InvalidDocument, RecursionError) as exc:
            raise InvalidInput(f"{item.path}: {exc}") from None
        require_storable(imported, item.path)
        return imported

    def _carry_out(self, caller: Caller, request: SyncSource, p: Planned) -> str | None:
        if p.action == "archive":
            assert p.current is not None
            self._editing.delete(caller, p.current.assembly_guid, expected_revision=p.current.record.revision)
            return p.current.assembly_guid
        assert p.item is not None
        item = p.item
        imported = p.imported or self._imported(item)
        domain = request.domain
        if p.action == "create":
            imported = dataclasses.replace(
                imported, metadata={**imported.metadata, SYNC_KEY: self._note(request, item, imported, 1)}
            )
            created = self._changes.insert(
                caller,
                "assembly.import",
                domain,
                imported.content,
                Details.given(imported),
                detail=f"synced from {request.source}: {item.path}",
            )
            return created.assembly_guid
        assert p.current is not None
        existing = p.current
        with (
            self._changes.audited(caller, "assembly.import", domain=domain, guid=existing.assembly_guid),
            # Checked as every save is: refused where the domain blocks errors, checked
            # beside the write elsewhere (Changes.new_payload).
            self._changes.new_payload(domain, imported.content) as ref,
        ):
            assert ref is not None

            def change(record: AssemblyRecord) -> AssemblyRecord:
                # The revision this change becomes (the cache numbers it current + 1).
                note = self._note(request, item, imported, record.revision + 1)
                details = Details.given(
                    dataclasses.replace(imported, metadata={**imported.metadata, SYNC_KEY: note})
                )
                return next_revision(record, details, ref, author=caller.username)

            detail: Callable[[AssemblyRecord], str] = lambda _: f"synced from {request.source}: {item.path}"  # noqa: E731
            self._changes.update(
                caller,
                "assembly.import",
                existing,
                change,
                detail,
                expected_revision=existing.record.revision,
            )
        return existing.assembly_guid
