"""The pieces of a read-only start, on real files (the full-disk boot itself is tested
with real engines in tests/hardening/test_read_only_boot.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from assembly_engine.domain.types import Domain
from assembly_engine.storage.contract.errors import StorageFailed
from assembly_engine.storage.contract.journal_entry import new_entry
from assembly_engine.storage.contract.reports import SweepScope
from assembly_engine.storage.sqlite.databases import ConnectionOptions
from assembly_engine.storage.sqlite.journal import Journal
from assembly_engine.storage.sqlite.payload_folders import PayloadStore
from assembly_engine.storage.sqlite.read_only_backend import ReadOnlyPayloads
from assembly_engine.storage.sqlite.read_only_journal import ReadOnlyJournal
from assembly_engine.storage.sqlite.read_only_open import open_read_only, read_only_uri
from tests.support import make_record, script_content

REFUSAL = StorageFailed("read-only: nothing was changed")


def wal_database(path: Path, *, keep_open: bool) -> sqlite3.Connection | None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    if keep_open:
        return conn  # the WAL keeps its content while a connection is open
    conn.close()
    return None


def test_a_checkpointed_file_is_read_immutable_and_nothing_is_created(tmp_path: Path) -> None:
    path = tmp_path / "clean.db"
    wal_database(path, keep_open=False)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert read_only_uri(path).endswith("?mode=ro&immutable=1")
    conn = open_read_only(path)
    assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]
    with pytest.raises(sqlite3.OperationalError):
        conn.execute("INSERT INTO t VALUES (2)")
    conn.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_file_with_wal_content_is_read_through_its_wal(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    writer = wal_database(path, keep_open=True)
    assert writer is not None
    try:
        assert read_only_uri(path).endswith("?mode=ro")  # immutable would miss the WAL's rows
        conn = open_read_only(path)
        assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]
        conn.close()
    finally:
        writer.close()


def test_a_missing_file_is_refused_and_not_created(tmp_path: Path) -> None:
    with pytest.raises(sqlite3.OperationalError, match="creates nothing"):
        open_read_only(tmp_path / "absent.db")
    assert not (tmp_path / "absent.db").exists()


def test_the_read_only_journal_serves_its_entries_and_refuses_appends(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    journal = Journal(path, ConnectionOptions())
    record = make_record(PayloadStore(tmp_path / "Payloads"), Domain.USER, "Queued")
    journal.submit(new_entry(journal, "upsert", record)).result(timeout=30)
    journal.close()
    read_only = ReadOnlyJournal(path, REFUSAL)
    assert read_only.problem is None and [e.record for e in read_only.pending()] == [record]
    with pytest.raises(StorageFailed):
        read_only.submit(new_entry(read_only, "upsert", record))
    read_only.discard([(record.assembly_guid, 1)])
    assert read_only.depth() == 1
    assert [e.record for e in Journal(path, ConnectionOptions()).pending()] == [record]


def test_an_unreadable_journal_is_reported_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    path.write_bytes(b"not a database at all" * 100)
    read_only = ReadOnlyJournal(path, REFUSAL)
    assert read_only.problem is not None and read_only.pending() == []


def test_read_only_payloads_read_but_never_write_or_remove(tmp_path: Path) -> None:
    root = tmp_path / "Payloads"
    ref = PayloadStore(root).write_new(script_content("echo kept\n"))
    (root / ".tmp-leftover").mkdir()
    payloads = ReadOnlyPayloads(root, REFUSAL)
    assert payloads.read(ref.payload_guid).main == b"echo kept\n"
    for attempt in (
        lambda: payloads.write_new(script_content()),
        lambda: payloads.delete(ref.payload_guid),
        lambda: payloads.sweep_orphans(set(), SweepScope(remove=True)),
        lambda: payloads.remove_leftover_temp(),
    ):
        with pytest.raises(StorageFailed):
            attempt()
    assert payloads.sweep_orphans(set()).orphans == (ref.payload_guid,)  # reported, not removed
    assert sorted(p.name for p in root.iterdir()) == sorted([ref.payload_guid, ".tmp-leftover"])
