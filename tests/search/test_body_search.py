"""BodySearch (storage/cache/body_search.py) on a real search.db and real payload folders:
handed-over bodies, bodies read from the payload store, an index damaged while open, and
the background indexing held by a bulk write."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from assembly_engine.storage.cache import body_search
from assembly_engine.storage.cache.body_search import BodySearch
from assembly_engine.storage.contract.search_terms import query_terms
from assembly_engine.storage.sqlite.payload_folders import PayloadStore
from assembly_engine.storage.sqlite.search_index import SqliteSearchIndex
from tests.support import script_content


class Library:
    """What BodySearch asks of the cache: the live records' payload GUIDs and a generation."""

    def __init__(self) -> None:
        self.guids: list[str] = []
        self.generation = 0

    def live(self) -> set[str]:
        return set(self.guids)

    def add(self, guid: str) -> None:
        self.guids.append(guid)
        self.generation += 1


def open_search(tmp_path: Path, library: Library, payloads: PayloadStore) -> BodySearch:
    index = SqliteSearchIndex(tmp_path / "search.db")
    return BodySearch(index, payloads, library.live, lambda: library.generation)


def test_bodies_handed_over_or_only_stored_are_found(tmp_path: Path) -> None:
    payloads, library = PayloadStore(tmp_path / "Payloads"), Library()
    stored = payloads.write_new(script_content("Get-Service spooler\n"))  # written before the index
    library.add(stored.payload_guid)
    search = open_search(tmp_path, library, payloads)
    handed = payloads.write_new(script_content("Invoke-WebRequest -Uri $u\n"))
    search.note(handed.payload_guid, script_content("Invoke-WebRequest -Uri $u\n"))
    library.add(handed.payload_guid)
    assert search.matching(query_terms("spooler")) == {stored.payload_guid}
    assert search.matching(query_terms("invoke-webreq")) == {handed.payload_guid}
    line = search.match_line(handed.payload_guid, query_terms("webrequest"))
    assert line is not None and line.line == 1
    # A page's lines in one read: a body without the words, or unknown, has none.
    lines = search.match_lines([handed.payload_guid, stored.payload_guid, "0" * 32], query_terms("uri"))
    assert {g: (m.line, m.text) for g, m in lines.items()} == {
        handed.payload_guid: (1, "Invoke-WebRequest -Uri $u")
    }
    search.close()
    # A restart reads nothing again: both are held.
    again = open_search(tmp_path, library, payloads)
    assert again.bring_current() == 0
    assert again.matching(query_terms("get-service")) == {stored.payload_guid}
    again.close()


def test_an_index_damaged_inside_is_built_again_from_the_payloads(tmp_path: Path) -> None:
    payloads, library = PayloadStore(tmp_path / "Payloads"), Library()
    for number in range(300):
        ref = payloads.write_new(script_content(f"Write-Output 'job {number}'\nSet-Item word{number}\n" * 20))
        library.add(ref.payload_guid)
    search = open_search(tmp_path, library, payloads)
    assert len(search.matching(query_terms("write-output"))) == 300
    search.close()
    path = tmp_path / "search.db"
    data = bytearray(path.read_bytes())
    data[4096 : len(data) - 4096] = b"\xff" * (len(data) - 8192)  # the header stays intact
    path.write_bytes(bytes(data))
    rebuilt = open_search(tmp_path, library, payloads)
    assert len(rebuilt.matching(query_terms("write-output"))) == 300
    assert rebuilt.matching(query_terms("word17 set-item")) == {library.guids[17]}
    rebuilt.close()
    assert b"\xff" * 4096 not in path.read_bytes()


def write_bulk_body(search: BodySearch, payloads: PayloadStore, library: Library, number: int) -> None:
    """What a bulk write does for one script: its payload written, its body handed over."""
    content = script_content(f"Set-Item bulk{number}\n" + "Write-Output 'x'\n" * 40)
    ref = payloads.write_new(content)
    search.note(ref.payload_guid, content)
    library.add(ref.payload_guid)


def test_a_bulk_write_holds_the_background_indexing_and_bounds_what_it_keeps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(body_search, "PENDING_BYTES", 4096)
    monkeypatch.setattr(body_search, "PENDING_SECONDS", 0.05)
    monkeypatch.setattr(body_search, "BUILD_DELAY", 0.0)
    monkeypatch.setattr(body_search, "BULK_QUIET_SECONDS", 0.5)
    payloads, library = PayloadStore(tmp_path / "Payloads"), Library()
    index = SqliteSearchIndex(tmp_path / "search.db")
    search = BodySearch(index, payloads, library.live, lambda: library.generation)
    search.start_building()
    with search.bulk():
        for number in range(40):
            write_bulk_body(search, payloads, library, number)
            assert search._pending_bytes < body_search.PENDING_BYTES  # let go, not kept
        time.sleep(0.3)
        assert not index.held(library.guids)  # the builder left them alone
    time.sleep(0.2)
    assert not index.held(library.guids)  # and for a quiet moment after
    deadline = time.monotonic() + 10
    while len(index.held(library.guids)) < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert index.held(library.guids) == set(library.guids)  # read back, those let go too
    assert search.matching(query_terms("bulk7 set-item")) == {library.guids[7]}
    search.close()


def test_a_search_during_a_bulk_write_finds_what_it_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(body_search, "PENDING_BYTES", 4096)
    payloads, library = PayloadStore(tmp_path / "Payloads"), Library()
    search = open_search(tmp_path, library, payloads)
    with search.bulk():
        for number in range(40):
            write_bulk_body(search, payloads, library, number)
        # Found whether kept for the index or let go: a search brings the index current.
        assert search.matching(query_terms("bulk0")) == {library.guids[0]}
        assert search.matching(query_terms("bulk39")) == {library.guids[39]}
        assert len(search.matching(query_terms("write-output"))) == 40
    search.close()
