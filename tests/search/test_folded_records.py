"""FoldedRecords (services/assemblies/folded_records.py): where a list search's ``q`` is
found, on real records with payloads in a real payload folder. The list's own answers
(ranking, facets) are tested through HTTP in test_search_api.py."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from assembly_engine.services.assemblies.folded_records import SEPARATOR, FoldedRecords
from assembly_engine.storage.contract.models import CachedAssembly, CacheEntryState
from assembly_engine.storage.sqlite.payload_folders import PayloadStore
from tests.support import make_record


def cached(payloads: PayloadStore, name: str, summary: str | None, category: str | None) -> CachedAssembly:
    record = replace(make_record(payloads, name=name), summary=summary, category=category)
    return CachedAssembly(record, CacheEntryState())


def test_each_record_is_found_once_in_its_best_place(tmp_path: Path) -> None:
    payloads = PayloadStore(tmp_path / "Payloads")
    items = [
        cached(payloads, "Backup Share", "copies the backup share", "backup"),  # 0: name
        cached(payloads, "Rotate Logs", "rotates after the BACKUP", None),  # 1: summary
        cached(payloads, "Clean Temp", None, "Backups"),  # 2: category
        cached(payloads, "Get Service", "", ""),  # 3: only its body (below)
        cached(payloads, "Unrelated", None, None),  # 4: nowhere
        cached(payloads, "ÉCOLE backup", None, None),  # 5: case-folded, not only ASCII
    ]
    folded = FoldedRecords.of(items)
    body_hits = {items[3].record.payload.payload_guid, items[0].record.payload.payload_guid}
    assert folded.tiers("backup", body_hits) == {0: 0, 1: 1, 2: 1, 3: 2, 5: 0}
    assert folded.tiers("école", set()) == {5: 0}
    assert folded.tiers("nothing like it", set()) == {}


def test_a_match_never_spans_two_records(tmp_path: Path) -> None:
    payloads = PayloadStore(tmp_path / "Payloads")
    items = [cached(payloads, "abc", "", ""), cached(payloads, "def", "", "")]
    folded = FoldedRecords.of(items)
    assert folded.tiers("cd", set()) == {}
    assert folded.tiers("c", set()) == {0: 0}
    assert not folded.searchable(f"c{SEPARATOR}d")  # the list then looks at each record


def test_records_sharing_a_payload_are_all_body_hits(tmp_path: Path) -> None:
    payloads = PayloadStore(tmp_path / "Payloads")
    first = cached(payloads, "One", None, None)
    second = CachedAssembly(
        replace(make_record(payloads, name="Two"), payload=first.record.payload), CacheEntryState()
    )
    folded = FoldedRecords.of([first, second])
    assert folded.tiers("marker", {first.record.payload.payload_guid}) == {0: 2, 1: 2}
