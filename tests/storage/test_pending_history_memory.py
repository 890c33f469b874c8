"""Changes waiting for their flush keep large metadata once (issue 23, 5).

The journal and the stored history kept an assembly's large metadata once, but every
change waiting in the cache for its flush held the whole row as JSON text, metadata
included, and an update that names the metadata made a new copy of its text as well: 40
small edits of an assembly with 1 MiB of metadata held about 80 MiB until the flush, and
the flush made the whole row of each revision again before leaving the metadata out.
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
from assembly_engine.storage.contract.shared_metadata import METADATA_COLUMN, join_row, metadata_hash
from assembly_engine.storage.formats.history_rows import stored_revisions
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

    # The flush writes a revision per change, each with its own summary and the metadata
    # once: no copy of the text per revision on the way either.
    [entry] = entries.values()
    assert len(entry.pending) == EDITS
    queued = (base.assembly_guid, entry.record, entry.row, entry.seq, tuple(entry.pending))
    tracemalloc.start()
    try:
        history = history_write([queued])
        stored, shared = stored_revisions([tuple(r) for r in history.revisions])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * MIB, f"{peak / MIB:.1f} MiB at the peak of writing {EDITS} revisions"
    assert [r[1] for r in stored] == list(range(1, EDITS + 1))
    assert shared == {metadata_hash(text): text}
    for n, row in enumerate(stored):
        whole = row_json(replace(base, summary=f"edit {n}", revision=n + 1).to_row())
        assert join_row(row[3], shared[row[6]]) == whole
        assert orjson.loads(row[3])[METADATA_COLUMN] is None
