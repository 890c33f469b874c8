"""Contract of the WriteJournal interface: acknowledged changes survive until discarded.

A journal numbers its changes either when they are planned (the embedded journal) or when
they commit (a queue shared by several nodes): ``submit``'s result is the number the
change is kept under, in both cases."""

from __future__ import annotations

import json
from dataclasses import replace

from assembly_engine.domain.types import Domain
from assembly_engine.storage.contract.journal_entry import new_entry
from tests.storage.contracts.backends import Backend
from tests.support import make_record


def test_a_submitted_entry_is_durable_and_pending_after_a_restart(backend: Backend) -> None:
    record = make_record(backend.payloads(), Domain.USER, "Queued")
    journal = backend.journal()
    seq = journal.submit(new_entry(journal, "upsert", record)).result(timeout=30)
    assert seq >= 1
    assert journal.depth() == 1
    assert journal.referenced_payloads() == {record.payload.payload_guid}
    journal.close()
    reopened = backend.journal()
    [pending] = reopened.pending()
    assert (pending.seq, pending.assembly_guid, pending.record) == (seq, record.assembly_guid, record)
    later = make_record(backend.payloads(), Domain.USER, "Later")
    assert reopened.submit(new_entry(reopened, "upsert", later)).result(timeout=30) > seq


def test_changes_are_numbered_in_submission_order(backend: Backend) -> None:
    payloads = backend.payloads()
    journal = backend.journal()
    records = [make_record(payloads, Domain.USER, f"n{i}") for i in range(5)]
    futures = [journal.submit(new_entry(journal, "upsert", r)) for r in records]
    seqs = [f.result(timeout=30) for f in futures]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    assert [e.assembly_guid for e in journal.pending()] == [r.assembly_guid for r in records]


def test_discarded_entries_are_gone(backend: Backend) -> None:
    payloads = backend.payloads()
    journal = backend.journal()
    records = [make_record(payloads, Domain.USER, name) for name in ("a", "b")]
    seqs = [journal.submit(new_entry(journal, "upsert", r)).result(timeout=30) for r in records]
    journal.discard([(records[0].assembly_guid, seqs[0])])
    journal.wait_idle()
    assert [e.seq for e in journal.pending()] == [seqs[1]]
    assert journal.depth() == 1


def test_entries_with_large_metadata_come_back_whole(backend: Backend) -> None:
    """Large metadata may be kept once for many entries (issue 23, 5): every entry still
    comes back as the whole record it was, across a reopen and partial discards."""
    payloads = backend.payloads()
    journal = backend.journal()
    base = make_record(payloads, Domain.USER, "Large metadata")
    first = json.dumps({"sites": "a" * 64 * 1024})
    second = json.dumps({"sites": "b" * 64 * 1024})
    records = [
        replace(base, summary=f"edit {n}", revision=n + 1, metadata_json=first if n < 4 else second)
        for n in range(6)
    ]
    records.append(replace(make_record(payloads, Domain.USER, "Small"), metadata_json='{"a": 1}'))
    # each edit planned on the one before (a queue shared by nodes checks that)
    bases = [r.revision - 1 or None for r in records[:-1]] + [None]
    seqs = [
        journal.submit(new_entry(journal, "upsert", r, base_revision=b)).result(timeout=30)
        for r, b in zip(records, bases, strict=True)
    ]
    journal.close()
    reopened = backend.journal()
    assert [e.record for e in reopened.pending()] == records
    reopened.discard([(base.assembly_guid, seqs[4])])  # the edits with the first metadata, and one more
    reopened.wait_idle()
    assert [e.record for e in reopened.pending()] == records[5:]
    reopened.close()
    assert [e.record for e in backend.journal().pending()] == records[5:]
