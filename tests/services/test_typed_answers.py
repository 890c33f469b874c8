"""The assembly use cases answer typed values (services/answers/), called without HTTP:
what each returns, and that a field an answer leaves out stays out when serialised."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import Field

from assembly_engine.domain.types import Domain
from assembly_engine.services.answers.base import Answer
from assembly_engine.services.answers.history import DeletedPage, RevisionDetail, RevisionPage
from assembly_engine.services.answers.imports import BatchImport, BatchValid, WouldCreate
from assembly_engine.services.answers.queue import QueueState
from assembly_engine.services.answers.records import (
    AssemblyDetail,
    AssemblyView,
    Deleted,
    ScriptPayload,
    UpstreamState,
)
from assembly_engine.services.assemblies.batch_import import ImportItem
from assembly_engine.services.assemblies.importing import ImportSource
from assembly_engine.services.assemblies.inputs import AssemblyChanges, NewAssembly
from assembly_engine.services.assemblies.list_query import ListQuery
from assembly_engine.services.auth.policy import Actor, Role
from assembly_engine.services.caller import Caller
from assembly_engine.services.container import EngineServices
from tests.support import temp_settings

OPERATOR = Caller(Actor("olga", Role.OPERATOR, dev_mode=False), session="s-olga")
ADMIN = Caller(Actor("ada", Role.ADMIN, dev_mode=False), session="s-ada")
DOCUMENT = {"name": "Flush DNS", "type": "powershell", "script": "ipconfig /flushdns\n"}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[EngineServices]:
    services = EngineServices.open(temp_settings(tmp_path), start_worker=False, announce_admin=False)
    yield services
    services.close()


def _create(engine: EngineServices, caller: Caller = OPERATOR, name: str = "Clear temp") -> AssemblyView:
    new = NewAssembly.model_validate(
        {
            "display_name": name,
            "assembly_kind": "script",
            "assembly_type": "powershell",
            "payload": {"script": "Remove-Item $env:TEMP\\* -Recurse\n"},
            "metadata": {"owner": "ops"},
        }
    )
    return engine.assemblies.editing.create(caller, new)


def test_a_created_record_is_an_assembly_view_with_only_its_fields(engine: EngineServices) -> None:
    record = _create(engine)
    assert isinstance(record, AssemblyView)
    assert (record.source, record.revision, record.metadata) == (Domain.USER, 1, {"owner": "ops"})
    shown = record.model_dump(mode="json", exclude_unset=True)
    # operators never see payload_guid; a user record has no signature, vendor or upstream
    assert not {"payload_guid", "signature", "vendor", "upstream", "match"} & set(shown)
    assert shown["assembly_kind"] == "script" and shown["integrity"] == "ok"
    admin_view = engine.assemblies.get(ADMIN, record.assembly_guid)
    assert admin_view.payload_guid is not None and "payload_guid" in admin_view.model_fields_set


def test_the_detail_carries_the_payload_as_a_typed_value(engine: EngineServices) -> None:
    guid = _create(engine).assembly_guid
    detail = engine.assemblies.get(OPERATOR, guid)
    assert isinstance(detail, AssemblyDetail) and isinstance(detail.payload, ScriptPayload)
    assert detail.payload.script.startswith("Remove-Item") and detail.payload.files == []


def test_delete_answers_the_queued_delete(engine: EngineServices) -> None:
    guid = _create(engine).assembly_guid
    deleted = engine.assemblies.editing.delete(OPERATOR, guid, expected_revision=1)
    assert isinstance(deleted, Deleted)
    assert (deleted.assembly_guid, deleted.source, deleted.status) == (guid, Domain.USER, "queued_delete")
    assert deleted.is_dirty  # no flush worker here: the delete waits in the queue
    page = engine.history.deleted(OPERATOR, ListQuery())
    assert isinstance(page, DeletedPage) and page.total == 1
    assert page.items[0].assembly_guid == guid and page.items[0].deleted_by == "olga"
    assert "metadata" not in page.items[0].model_dump(exclude_unset=True)  # as the list shows rows


def test_history_answers_revisions_newest_first_and_each_revision(engine: EngineServices) -> None:
    guid = _create(engine).assembly_guid
    engine.assemblies.editing.update(OPERATOR, guid, AssemblyChanges(summary="Frees disk space"))
    page = engine.history.revisions(OPERATOR, guid)
    assert isinstance(page, RevisionPage) and not page.deleted and page.total == 2
    assert [(e.revision, e.action, e.is_current) for e in page.items] == [
        (2, "update", True),
        (1, "create", False),
    ]
    assert page.items[0].changed_fields == ["summary"]
    first = engine.history.revision(OPERATOR, guid, 1)
    assert isinstance(first, RevisionDetail) and first.action == "create" and first.summary is None
    assert isinstance(first.payload, ScriptPayload)
    restored = engine.history.restore(OPERATOR, guid, 1, expected_revision=2)
    assert isinstance(restored, AssemblyView) and restored.revision == 3 and restored.summary is None


def test_imports_answer_the_record_a_preview_and_per_document_results(engine: EngineServices) -> None:
    record, created = engine.assemblies.import_document(OPERATOR, ImportSource(DOCUMENT))
    assert created and isinstance(record, AssemblyView) and record.display_name == "Flush DNS"
    preview = engine.assemblies.dry_run_import(OPERATOR, ImportSource(DOCUMENT))
    assert isinstance(preview, WouldCreate) and preview.replaces is None
    batch = engine.assemblies.import_batch(
        OPERATOR, [ImportItem(DOCUMENT), ImportItem(None, problem="Part 2 is not JSON")], dry_run=True
    )
    assert isinstance(batch, BatchImport) and (batch.valid, batch.failed) == (1, 1)
    assert isinstance(batch.results[0], BatchValid) and batch.results[1].status == "failed"
    shown = batch.model_dump(mode="json", exclude_unset=True)
    assert "imported_before" not in shown["results"][0]  # no earlier import of a Tactical RMM guid


def test_the_queue_answers_what_waits_per_domain(engine: EngineServices) -> None:
    guid = _create(engine).assembly_guid
    queue = engine.assemblies.queue_control.queue(OPERATOR)
    assert isinstance(queue, QueueState) and queue.depth >= 1
    waiting = queue.domains[Domain.USER]
    assert [(c.assembly_guid, c.operation) for c in waiting.items] == [(guid, "upsert")]


def test_the_list_page_serialises_the_same_rows(engine: EngineServices) -> None:
    guid = _create(engine).assembly_guid
    for caller, shows_guid in ((OPERATOR, False), (ADMIN, True)):
        page = json.loads(engine.assemblies.listing.render(caller, b"limit=10").body)
        (row,) = page["items"]
        assert row["assembly_guid"] == guid and "metadata" not in row
        assert ("payload_guid" in row) is shows_guid
        assert page["total"] == 1 and page["queue"]["depth"] >= 1


def test_built_answers_keep_unset_fields_out_and_read_as_their_defaults() -> None:
    state = UpstreamState.built(state="current")
    assert state.revision is None and state.base_revision is None  # readable, as defaults
    assert state.model_dump(exclude_unset=True) == {"state": "current"}
    shown = UpstreamState.built(state="current", revision=None)
    assert shown.model_dump_json(exclude_unset=True) == '{"state":"current","revision":null}'


def test_an_answer_with_a_default_factory_or_an_alias_is_refused_when_defined() -> None:
    with pytest.raises(TypeError, match="plain defaults and no aliases"):

        class Listed(Answer):
            names: list[str] = Field(default_factory=list)

    with pytest.raises(TypeError, match="plain defaults and no aliases"):

        class Aliased(Answer):
            schema_: str = Field(alias="schema")
