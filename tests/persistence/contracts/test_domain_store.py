"""Contract of the DomainStore interface: the durable rows of one domain, with history."""

from __future__ import annotations

from assembly_engine.persistence.databases import HistoryWrite
from assembly_engine.persistence.models import AssemblyRecord
from assembly_engine.types import Domain
from tests.support import make_record

from .conftest import Backend


def test_rows_written_are_loaded_back_after_a_restart(backend: Backend) -> None:
    record = make_record(backend.payloads(), Domain.USER, "Kept")
    store = backend.domain_store(Domain.USER)
    store.write([record.to_row()], [])
    assert store.count() == 1
    store.close()
    loaded = backend.domain_store(Domain.USER).load()
    assert [(r.assembly_guid, r.display_name) for r in loaded] == [(record.assembly_guid, "Kept")]


def test_upsert_and_delete_in_one_write(backend: Backend) -> None:
    payloads = backend.payloads()
    store = backend.domain_store(Domain.COMMUNITY)
    first = make_record(payloads, Domain.COMMUNITY, "First")
    second = make_record(payloads, Domain.COMMUNITY, "Second")
    store.write([first.to_row(), second.to_row()], [])
    renamed = AssemblyRecord.from_row(first.to_row(), Domain.COMMUNITY)
    store.write([renamed.to_row()], [second.assembly_guid])
    assert [r.assembly_guid for r in store.load()] == [first.assembly_guid]
    assert len(store.load_rows()) == 1


def test_replace_all_and_the_stamp(backend: Backend) -> None:
    payloads = backend.payloads()
    store = backend.domain_store(Domain.OFFICIAL)
    store.write([make_record(payloads, Domain.OFFICIAL, "Old").to_row()], [])
    fresh = make_record(payloads, Domain.OFFICIAL, "New")
    store.replace_all([fresh], stamp="stamp-1")
    assert [r.display_name for r in store.load()] == ["New"]
    assert store.stamp() == "stamp-1"
    store.set_stamp("stamp-2")
    assert store.stamp() == "stamp-2"


def test_an_empty_store_has_no_history(backend: Backend) -> None:
    store = backend.domain_store(Domain.USER)
    store.write([], [], history=HistoryWrite())
    assert store.revisions("0" * 32) == []
    assert store.deletion("0" * 32) is None
    assert store.deletions() == [] and store.revision_refs() == []
    assert store.prune_history(keep=1, deleted_before=None, live=lambda guid: True) == (0, 0, set())
