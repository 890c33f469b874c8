"""Contract of the WriteJournal interface: acknowledged changes survive until discarded."""

from __future__ import annotations

from assembly_engine.persistence.journal import new_entry
from assembly_engine.types import Domain
from tests.support import make_record

from .conftest import Backend


def test_a_submitted_entry_is_durable_and_pending_after_a_restart(backend: Backend) -> None:
    record = make_record(backend.payloads(), Domain.USER, "Queued")
    journal = backend.journal()
    entry = new_entry(journal, "upsert", record)
    assert journal.submit(entry).result(timeout=30) == entry.seq
    assert journal.depth() == 1
    assert journal.referenced_payloads() == {record.payload.payload_guid}
    journal.close()
    reopened = backend.journal()
    [pending] = reopened.pending()
    assert (pending.seq, pending.assembly_guid) == (entry.seq, record.assembly_guid)
    assert reopened.next_seq() > entry.seq


def test_discarded_entries_are_gone(backend: Backend) -> None:
    payloads = backend.payloads()
    journal = backend.journal()
    entries = [new_entry(journal, "upsert", make_record(payloads, Domain.USER, name)) for name in ("a", "b")]
    for entry in entries:
        journal.submit(entry).result(timeout=30)
    journal.discard([(entries[0].assembly_guid, entries[0].seq)])
    journal.wait_idle()
    assert [e.seq for e in journal.pending()] == [entries[1].seq]
