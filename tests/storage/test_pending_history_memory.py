"""Changes waiting for their flush keep large metadata once (issue 23, 5).

The journal and the stored history kept an assembly's large metadata once, but every
change waiting in the cache for its flush held the whole row as JSON text, metadata
included, and an update that names the metadata made a new copy of its text as well: 40
small edits of an assembly with 1 MiB of metadata held about 80 MiB until the flush.
"""

from __future__ import annotations

import json
import tracemalloc
from dataclasses import replace
from pathlib import Path

import orjson

from assembly_engine.domain.types import Domain
from assembly_engine.storage.cache.entry import CacheEntry, apply_journal_entry, row_json
from assembly_engine.storage.cache.flush_batch import history_write
from assembly_engine.storage.contract.journal_entry import JournalEntry
from assembly_engine.storage.contract.shared_metadata import METADATA_COLUMN
from assembly_engine.storage.sqlite.payload_folders import PayloadStore
from tests.support import make_record

MIB = 1024 * 1024
EDITS = 40


def test_small_edits_of_large_metadata_hold_it_once_until_their_flush(tmp_path: Path) -> None:
    text = json.dumps({"notes": "m" * MIB})
    base = replace(make_record(PayloadStore(tmp_path / "Payloads"), Domain.USER, "Large"), metadata_json=text)
    entries: dict[str, CacheEntry] = {}
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(EDITS):
            # as an update naming the metadata makes it: equal text, a string of its own
            record = replace(
                base, summary=f"edit {n}", revision=n + 1, metadata_json=json.dumps(json.loads(text))
            )
            change = JournalEntry(n + 1, "upsert", record, f"2026-12-07T22:{n:02d}:00Z", action="update")
            apply_journal_entry(entries, change)
            del record, change
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < 4 * MIB, f"{held / MIB:.1f} MiB held by {EDITS} pending changes"

    # The flush still writes every revision whole, each with its own summary.
    [entry] = entries.values()
    assert len(entry.pending) == EDITS
    queued = (base.assembly_guid, entry.record, entry.row, entry.seq, tuple(entry.pending))
    revisions = history_write([queued]).revisions
    assert [r[1] for r in revisions] == list(range(1, EDITS + 1))
    for n, (_, _, _, whole, _, _) in enumerate(revisions):
        row = orjson.loads(whole)
        assert row[METADATA_COLUMN] == text
        assert whole == row_json(replace(base, summary=f"edit {n}", revision=n + 1).to_row())
