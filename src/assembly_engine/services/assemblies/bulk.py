"""Bulk actions on selected assemblies: one request, one result per item (Docs/assemblies.md
§7, "Bulk actions").

Each item goes through the use case of its single-item route (policy of the domain it
writes, Dev Mode, script checks, stale revision, one audit entry), so a bulk request can do
nothing a caller could not do one item at a time. A refused item is a result, never the end
of the request.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Literal

from pydantic import Field, ValidationError, model_validator

from assembly_engine import input_limits as limits
from assembly_engine.domain.types import ASSEMBLY_GUID_REGEX, Domain
from assembly_engine.services.answers.records import AssemblyView, BulkDone, BulkItemResult
from assembly_engine.services.assemblies.changes import Changes
from assembly_engine.services.assemblies.editing import Editing
from assembly_engine.services.assemblies.history import HistoryService
from assembly_engine.services.assemblies.inputs import AssemblyChanges, Category, CloneRequest, Tags
from assembly_engine.services.caller import Caller
from assembly_engine.services.errors import EngineError, InvalidInput
from assembly_engine.services.request_bodies import WHOLE, StrictModel

# Items done at the same time: enough to share the journal's group commits, few enough that
# one bulk request leaves threads for everyone else.
BULK_WORKERS = 8

BulkActionName = Literal["delete", "undelete", "set_category", "add_tags", "remove_tags", "clone"]
# The field each action needs besides the items.
_NEEDS: dict[str, str] = {
    "set_category": "category",
    "add_tags": "tags",
    "remove_tags": "tags",
    "clone": "target_domain",
}

AssemblyGuid = Annotated[str, Field(pattern=f"^{ASSEMBLY_GUID_REGEX}$")]


class BulkItem(StrictModel):
    assembly_guid: AssemblyGuid
    # The revision the caller saw; a changed assembly is refused (409) like a stale If-Match.
    expected_revision: Annotated[int, Field(ge=1, le=limits.INT64_MAX), WHOLE] | None = None


class BulkTarget(StrictModel):
    """Which assemblies a bulk request acts on: each once, at most BULK_ITEMS."""

    items: Annotated[
        list[BulkItem],
        Field(min_length=1, json_schema_extra={"maxItems": limits.BULK_ITEMS}),
    ]

    @model_validator(mode="after")
    def _each_once(self) -> BulkTarget:
        # Checked here, not by the schema's maxItems, so the refusal names the limit.
        if len(self.items) > limits.BULK_ITEMS:
            raise ValueError(
                f"items holds {len(self.items):,} assemblies; one bulk request takes at most "
                f"{limits.BULK_ITEMS:,}: send the rest in another request"
            )
        guids = [item.assembly_guid for item in self.items]
        if len(set(guids)) != len(guids):
            repeated = next(g for g in guids if guids.count(g) > 1)
            raise ValueError(f"items names assembly {repeated} more than once; name each assembly once")
        return self


class BulkRequest(BulkTarget):
    action: BulkActionName
    category: Category | None = None  # set_category ("" leaves the assemblies without one)
    tags: Tags | None = None  # add_tags, remove_tags
    target_domain: Domain | None = None  # clone

    @model_validator(mode="after")
    def _what_the_action_needs(self) -> BulkRequest:
        needed = _NEEDS.get(self.action)
        if needed is not None and getattr(self, needed) is None:
            raise ValueError(f"action {self.action} needs {needed}")
        for name in set(_NEEDS.values()) - {needed}:
            if getattr(self, name) is not None:
                raise ValueError(f"action {self.action} takes no {name}")
        return self


def _result(
    guid: str,
    status: Literal["done", "refused"],
    code: str | None = None,
    message: str | None = None,
    record: AssemblyView | None = None,
) -> BulkItemResult:
    """What became of one item: ``done`` with the record written (none for a delete), or
    ``refused`` with the error code and message its single-item route would answer."""
    if status == "refused":
        return BulkItemResult.built(assembly_guid=guid, status=status, code=code, message=message)
    if record is None:
        return BulkItemResult.built(assembly_guid=guid, status=status)
    return BulkItemResult.built(assembly_guid=guid, status=status, record=record)


class BulkActions:
    def __init__(self, changes: Changes, editing: Editing, history: HistoryService) -> None:
        self._changes = changes
        self._editing = editing
        self._history = history

    def run(self, caller: Caller, request: BulkRequest) -> BulkDone:
        act = self._action(caller, request)

        def attempt(item: BulkItem) -> BulkItemResult:
            try:
                return _result(item.assembly_guid, "done", record=act(item))
            except EngineError as exc:
                return _result(item.assembly_guid, "refused", exc.code, exc.message)
            except ValidationError as exc:  # stored tags an update no longer accepts
                message = f"{exc.errors()[0]['msg']}."
                return _result(item.assembly_guid, "refused", "invalid_document", message)

        workers = max(1, min(BULK_WORKERS, len(request.items)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bulk") as pool:
            results = list(pool.map(attempt, request.items))
        done = sum(1 for r in results if r.status == "done")
        return BulkDone.built(action=request.action, done=done, refused=len(results) - done, results=results)

    def _action(self, caller: Caller, request: BulkRequest) -> Callable[[BulkItem], AssemblyView | None]:
        editing = self._editing
        if request.action == "delete":

            def delete(item: BulkItem) -> None:
                editing.delete(caller, item.assembly_guid, expected_revision=item.expected_revision)

            return delete
        if request.action == "undelete":
            return lambda item: self._history.undelete(caller, item.assembly_guid)
        if request.action == "clone":
            assert request.target_domain is not None  # BulkRequest checked it
            clone = CloneRequest(target_domain=request.target_domain)
            return lambda item: editing.clone(caller, item.assembly_guid, clone)
        if request.action == "set_category":
            changes = AssemblyChanges(category=request.category)
            return lambda item: editing.update(
                caller, item.assembly_guid, changes, expected_revision=item.expected_revision
            )
        assert request.tags is not None
        return self._retag(caller, request.tags, adding=request.action == "add_tags")

    def _retag(
        self, caller: Caller, tags: list[str], *, adding: bool
    ) -> Callable[[BulkItem], AssemblyView | None]:
        def retag(item: BulkItem) -> AssemblyView:
            current = self._changes.existing_for(caller, "assembly.update", item.assembly_guid)
            old = current.record.tags
            new = old + [t for t in tags if t not in old] if adding else [t for t in old if t not in tags]
            problem = limits.tags_problem(new, "tags (after adding)")
            if problem is not None:
                raise InvalidInput(f"{problem}.")
            # The revision the tags were read at, so a change in between is refused, not lost.
            seen = item.expected_revision or current.record.revision
            return self._editing.update(
                caller, item.assembly_guid, AssemblyChanges(tags=new), expected_revision=seen
            )

        return retag
