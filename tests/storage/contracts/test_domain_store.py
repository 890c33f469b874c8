"""Contract of the DomainStore interface: the durable rows of one domain, with history."""

from __future__ import annotations

import json

import pytest

from assembly_engine.domain.types import Domain
from assembly_engine.storage.contract.history import HistoryWrite
from tests.storage.contracts.backends import Backend, revision_row, stored_record


def test_rows_written_are_loaded_back_after_a_restart(backend: Backend) -> None:
    record = stored_record(Domain.USER, "Kept")
    store = backend.domain_store(Domain.USER)
    store.write([record.to_row()], [])
    assert store.count() == 1
    store.close()
    reopened = backend.domain_store(Domain.USER)
    assert reopened.load() == [record]
    assert reopened.load_rows() == [record.to_row()]
    assert json.loads(reopened.load()[0].metadata_json) == {"big": 2**70}


def test_upsert_and_delete_in_one_write(backend: Backend) -> None:
    store = backend.domain_store(Domain.COMMUNITY)
    first = stored_record(Domain.COMMUNITY, "First")
    second = stored_record(Domain.COMMUNITY, "Second")
    store.write([first.to_row(), second.to_row()], [])
    renamed = first.evolve(display_name="Renamed", revision=2)
    store.write([renamed.to_row()], [second.assembly_guid])
    assert [(r.assembly_guid, r.display_name) for r in store.load()] == [(first.assembly_guid, "Renamed")]
    assert len(store.load_rows()) == 1


def test_whole_numbers_beyond_64_bits_are_refused_in_columns(backend: Backend) -> None:
    store = backend.domain_store(Domain.USER)
    kept = stored_record(Domain.USER, "Kept")
    with pytest.raises(OverflowError):
        store.write([kept.to_row(), stored_record(Domain.USER, "Huge").evolve(version=2**63).to_row()], [])
    assert store.count() == 0  # nothing of the refused write stays
    store.write([kept.evolve(version=2**63 - 1).to_row()], [])
    assert store.load()[0].version == 2**63 - 1


def test_replace_all_and_the_stamp(backend: Backend) -> None:
    store = backend.domain_store(Domain.OFFICIAL)
    store.write([stored_record(Domain.OFFICIAL, "Old").to_row()], [])
    fresh = stored_record(Domain.OFFICIAL, "New")
    store.replace_all([fresh], stamp="stamp-1")
    assert [r.display_name for r in store.load()] == ["New"]
    assert store.stamp() == "stamp-1"
    store.set_stamp("stamp-2")
    assert store.stamp() == "stamp-2"
    store.write([fresh.evolve(display_name="Edited", revision=2).to_row()], [])
    assert store.stamp() is None  # any change to the rows forgets the stamp


def test_an_empty_store_has_no_history(backend: Backend) -> None:
    store = backend.domain_store(Domain.USER)
    store.write([], [], history=HistoryWrite())
    assert store.revisions("0" * 32) == []
    assert store.deletion("0" * 32) is None
    assert store.deletions() == [] and store.revision_refs() == []
    assert store.prune_history(keep=1, deleted_before=None, live=lambda guid: True) == (0, 0, set())


def test_history_is_written_with_the_rows(backend: Backend) -> None:
    store = backend.domain_store(Domain.USER)
    first = stored_record(Domain.USER, "One")
    second = first.evolve(display_name="Two", revision=2)
    store.write([first.to_row()], [], history=HistoryWrite([revision_row(first, "create")]))
    store.write([second.to_row()], [], history=HistoryWrite([revision_row(second, "update")]))
    guid = first.assembly_guid
    assert [(n, action) for n, action, _, _ in store.revisions(guid)] == [(1, "create"), (2, "update")]
    assert store.last_revisions() == {guid: 2}
    assert store.revision_payloads() == {first.payload.payload_guid}
    assert sorted((g, n) for g, n, _, _ in store.revision_refs()) == [(guid, 1), (guid, 2)]
    deletion = (guid, 2, "2026-01-02T00:00:00.000Z", "tester", json.dumps(list(second.to_row())))
    store.write([], [guid], history=HistoryWrite(deletions=[deletion]))
    assert store.load() == [] and store.deletion(guid) == deletion
    assert store.deletions() == [deletion]
    third = second.evolve(revision=3)
    store.write(
        [third.to_row()], [], history=HistoryWrite([revision_row(third, "undelete")], undeleted=[guid])
    )
    assert store.deletion(guid) is None and store.load() == [third]


def test_a_replayed_write_changes_nothing(backend: Backend) -> None:
    """A crash between a flush and the queue's cleanup writes the same batch again."""
    store = backend.domain_store(Domain.COMMUNITY)
    kept = stored_record(Domain.COMMUNITY, "Kept")
    gone = stored_record(Domain.COMMUNITY, "Gone")
    store.write([kept.to_row(), gone.to_row()], [])
    edited = kept.evolve(display_name="Edited", revision=2)
    deletion = (gone.assembly_guid, 1, "2026-01-02T00:00:00.000Z", "tester", json.dumps(list(gone.to_row())))
    batch = HistoryWrite([revision_row(edited, "update")], [deletion])
    for _ in range(2):
        store.write([edited.to_row()], [gone.assembly_guid], history=batch)
        assert store.load() == [edited]
        assert [n for n, *_ in store.revisions(kept.assembly_guid)] == [2]
        assert store.deletions() == [deletion]


def test_retention_keeps_the_newest_and_purges_the_long_deleted(backend: Backend) -> None:
    store = backend.domain_store(Domain.USER)
    live = stored_record(Domain.USER, "Live")
    versions = [live.evolve(revision=n) for n in (1, 2, 3)]
    store.write(
        [versions[-1].to_row()], [], history=HistoryWrite([revision_row(v, "update") for v in versions])
    )
    dead = stored_record(Domain.USER, "Dead")
    old = (dead.assembly_guid, 1, "2020-01-01T00:00:00.000Z", None, json.dumps(list(dead.to_row())))
    store.write([], [], history=HistoryWrite([revision_row(dead, "create")], [old]))
    removed, purged, payloads = store.prune_history(
        keep=2, deleted_before="2021-01-01T00:00:00.000Z", live=lambda guid: False
    )
    assert (removed, purged) == (1, 1)
    assert payloads == {live.payload.payload_guid, dead.payload.payload_guid}
    assert [n for n, *_ in store.revisions(live.assembly_guid)] == [2, 3]
    assert store.revisions(dead.assembly_guid) == [] and store.deletions() == []
