"""The assembly use cases called directly on the services (no HTTP): what each returns,
refuses and audits, and that a refused change leaves no payload folder behind."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from assembly_engine.domain.types import Domain
from assembly_engine.services.assemblies.importing import ImportSource
from assembly_engine.services.assemblies.inputs import AssemblyChanges, CloneRequest, NewAssembly
from assembly_engine.services.auth.policy import Actor, Role
from assembly_engine.services.caller import Caller
from assembly_engine.services.container import EngineServices
from assembly_engine.services.errors import DevModeRequired, Forbidden, InvalidInput
from assembly_engine.storage.cache.refusals import AssemblyNotFound, StaleRevision
from assembly_engine.storage.contract.errors import Conflict, NotFound
from tests.support import temp_settings

OPERATOR = Caller(Actor("olga", Role.OPERATOR, dev_mode=False), session="s-olga")
ADMIN = Caller(Actor("ada", Role.ADMIN, dev_mode=False), session="s-ada")
ADMIN_DEV = Caller(Actor("ada", Role.ADMIN, dev_mode=True), session="s-ada-dev")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[EngineServices]:
    services = EngineServices.open(temp_settings(tmp_path), start_worker=False, announce_admin=False)
    yield services
    services.close()


def _script(name: str = "Clear temp", text: str = "Remove-Item $env:TEMP\\* -Recurse\n") -> NewAssembly:
    return NewAssembly.model_validate(
        {
            "display_name": name,
            "assembly_kind": "script",
            "assembly_type": "powershell",
            "payload": {"script": text},
        }
    )


def _folders(engine: EngineServices) -> set[str]:
    root = engine.settings.payloads_root
    return set(os.listdir(root)) if root.exists() else set()


def _last_audit(engine: EngineServices) -> dict[str, object]:
    return engine.audit.store.entries()[-1]


def test_create_returns_the_dirty_record_and_audits_it(engine: EngineServices) -> None:
    record = engine.assemblies.editing.create(OPERATOR, _script())
    assert record.source == "user" and record.revision == 1 and record.is_dirty
    assert "payload_guid" not in record.model_fields_set  # operators never see it
    entry = _last_audit(engine)
    assert (entry["action"], entry["outcome"], entry["user"]) == ("assembly.create", "success", "olga")
    assert engine.assemblies.get(OPERATOR, record.assembly_guid).payload.script.startswith("Remove-Item")


def test_update_keeps_unsent_fields_and_moves_the_revision(engine: EngineServices) -> None:
    guid = engine.assemblies.editing.create(OPERATOR, _script()).assembly_guid
    updated = engine.assemblies.editing.update(OPERATOR, guid, AssemblyChanges(summary="Frees disk space"))
    assert updated.revision == 2 and updated.summary == "Frees disk space"
    assert updated.display_name == "Clear temp"


def test_a_stale_update_is_a_conflict_and_leaves_no_payload_folder(engine: EngineServices) -> None:
    guid = engine.assemblies.editing.create(OPERATOR, _script()).assembly_guid
    engine.assemblies.editing.update(OPERATOR, guid, AssemblyChanges(summary="second"))
    before = _folders(engine)
    changes = AssemblyChanges(payload={"script": "new text\n"}, expected_revision=1)
    with pytest.raises(StaleRevision) as refused:
        engine.assemblies.editing.update(OPERATOR, guid, changes)
    assert isinstance(refused.value, Conflict) and refused.value.code == "conflict"
    assert _folders(engine) == before  # the folder written for the refused change is gone
    assert engine.assemblies.get(OPERATOR, guid).payload.script.startswith("Remove-Item")
    entry = _last_audit(engine)
    assert (entry["action"], entry["outcome"]) == ("assembly.update", "failed")


def test_a_refused_change_of_a_deleted_assembly_leaves_no_payload_folder(engine: EngineServices) -> None:
    guid = engine.assemblies.editing.create(OPERATOR, _script()).assembly_guid
    current = engine.assemblies.changes.existing(guid)
    engine.assemblies.editing.delete(OPERATOR, guid)
    before = _folders(engine)
    content = engine.assemblies.changes.contents.read(current)
    with pytest.raises(AssemblyNotFound), engine.assemblies.cache.new_payload(content) as ref:
        assert ref is not None and ref.payload_guid in _folders(engine)
        engine.assemblies.cache.update(guid, lambda r: r.evolve(payload=ref))
    assert _folders(engine) == before


def test_operators_cannot_write_community_and_admins_need_dev_mode(engine: EngineServices) -> None:
    community = _script().model_copy(update={"domain": Domain.COMMUNITY})
    with pytest.raises(Forbidden) as refused:
        engine.assemblies.editing.create(OPERATOR, community)
    assert refused.value.code == "forbidden"
    with pytest.raises(DevModeRequired) as refused:
        engine.assemblies.editing.create(ADMIN, community)
    assert refused.value.code == "dev_mode_required"
    assert engine.assemblies.editing.create(ADMIN_DEV, community).source == "community"


def test_clone_makes_a_new_assembly_with_its_own_payload(engine: EngineServices) -> None:
    source = engine.assemblies.editing.create(ADMIN, _script())
    clone = engine.assemblies.editing.clone(OPERATOR, source.assembly_guid, CloneRequest(display_name="Mine"))
    assert clone.assembly_guid != source.assembly_guid and clone.display_name == "Mine"
    assert (
        engine.assemblies.get(OPERATOR, clone.assembly_guid).payload
        == engine.assemblies.get(OPERATOR, source.assembly_guid).payload
    )


def test_delete_then_undelete_brings_the_same_content_back(engine: EngineServices) -> None:
    guid = engine.assemblies.editing.create(OPERATOR, _script()).assembly_guid
    engine.assemblies.editing.delete(OPERATOR, guid)
    with pytest.raises(NotFound):
        engine.assemblies.get(OPERATOR, guid)
    back = engine.history.undelete(OPERATOR, guid)
    assert back.assembly_guid == guid and back.revision == 2  # a delete is no revision
    assert engine.assemblies.get(OPERATOR, guid).payload.script.startswith("Remove-Item")


def test_an_unsafe_attachment_name_is_invalid_input_and_stores_nothing(engine: EngineServices) -> None:
    before = _folders(engine)
    bad = _script().model_copy(
        update={"payload": {"script": "x", "files": [{"file_name": "../x", "data": "eA=="}]}}
    )
    with pytest.raises(InvalidInput):
        engine.assemblies.editing.create(OPERATOR, bad)
    assert _folders(engine) == before


def test_a_metadata_key_named_upstream_is_ordinary_metadata_outside_official(engine: EngineServices) -> None:
    """Only an official record's vendor note is the engine's; elsewhere the name is the user's."""
    new = _script().model_copy(update={"metadata": {"upstream": "https://git.example/scripts"}})
    guid = engine.assemblies.editing.create(OPERATOR, new).assembly_guid
    engine.assemblies.editing.update(
        OPERATOR, guid, AssemblyChanges(metadata={"upstream": "https://git.example/v2"})
    )
    detail = engine.assemblies.get(OPERATOR, guid)
    assert detail.metadata["upstream"] == "https://git.example/v2"
    assert "upstream" not in detail.model_fields_set


def test_no_caller_writes_an_official_record_s_vendor_note(engine: EngineServices) -> None:
    """A crafted note in a created, updated or imported official record is dropped: only
    the official sync and the upstream choice set it."""
    crafted = {"upstream": {"state": "update_available", "revision": 1, "base": "x"}, "kept": 1}
    new = _script().model_copy(update={"metadata": crafted, "domain": Domain.OFFICIAL})
    guid = engine.assemblies.editing.create(ADMIN_DEV, new).assembly_guid
    upstream = engine.assemblies.get(ADMIN_DEV, guid).upstream
    assert upstream is not None
    assert upstream.model_dump() == {"state": "current", "revision": None, "base_revision": None}
    engine.assemblies.editing.update(ADMIN_DEV, guid, AssemblyChanges(metadata=crafted))
    document = {
        "assembly_engine": {"assembly_guid": guid},
        "name": "Clear temp",
        "type": "powershell",
        "script": "Remove-Item $env:TEMP\\* -Recurse\n",
        "metadata": crafted,
    }
    engine.assemblies.import_document(ADMIN_DEV, ImportSource(document), Domain.OFFICIAL)
    detail = engine.assemblies.get(ADMIN_DEV, guid)
    assert detail.upstream is not None and detail.upstream.state == "current"
    stored = engine.assemblies.cache.get(guid)
    assert stored is not None and "upstream" not in stored.record.metadata
