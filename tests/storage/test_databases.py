from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from assembly_engine.domain.types import Domain
from assembly_engine.storage.sqlite.databases import (
    COLUMNS,
    SCHEMA_VERSION,
    ConnectionOptions,
    DatabaseBusy,
    DomainDatabase,
    SchemaError,
    connect,
    table_columns,
    with_retry,
)
from assembly_engine.storage.sqlite.payload_folders import PayloadStore
from tests.support import make_record


def test_new_database_gets_schema_and_pragmas(tmp_path: Path) -> None:
    db = DomainDatabase(Domain.USER, tmp_path / "user_created.db", ConnectionOptions())
    db.validate()
    conn = sqlite3.connect(tmp_path / "user_created.db")
    assert table_columns(conn, "assemblies") == list(COLUMNS)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.close()


@pytest.mark.parametrize("shared_cache", [True, False])
def test_connection_pragmas(tmp_path: Path, shared_cache: bool) -> None:
    conn = connect(
        tmp_path / "x.db",
        ConnectionOptions(shared_cache=shared_cache, busy_timeout_ms=1234, synchronous="FULL"),
    )
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 1234
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_missing_columns_are_migrated_idempotently(tmp_path: Path) -> None:
    path = tmp_path / "community.db"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE assemblies (assembly_guid TEXT PRIMARY KEY, display_name TEXT NOT NULL,"
        " assembly_kind TEXT NOT NULL, payload_guid TEXT NOT NULL, payload_type TEXT NOT NULL,"
        " created_at TEXT NOT NULL, updated_at TEXT NOT NULL)"
    )
    conn.execute(
        "INSERT INTO assemblies VALUES (?, 'Old', 'script', ?, 'script', ?, ?)",
        ("a" * 32, "b" * 32, "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z"),
    )
    conn.commit()
    conn.close()
    db = DomainDatabase(Domain.COMMUNITY, path, ConnectionOptions())
    added = db.validate()
    assert "revision" in added and "created_by" in added and "tags_json" in added
    assert db.validate() == []  # second run changes nothing
    [record] = db.load()
    assert record.revision == 1 and record.display_name == "Old"
    db.close()


def test_unknown_layout_names_file_and_columns(tmp_path: Path) -> None:
    path = tmp_path / "official.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE assemblies (id INTEGER PRIMARY KEY, blob TEXT)")
    conn.commit()
    conn.close()
    db = DomainDatabase(Domain.OFFICIAL, path, ConnectionOptions())
    with pytest.raises(SchemaError) as info:
        db.validate()
    message = str(info.value)
    assert str(path) in message
    assert "assembly_guid" in message and "display_name" in message and "blob" in message
    db.close()


def test_with_retry_handles_busy_and_locked() -> None:
    calls = {"n": 0}

    def flaky() -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            raise sqlite3.OperationalError("database is locked")
        if calls["n"] == 2:
            raise sqlite3.OperationalError("database table is locked")
        return "done"

    assert with_retry(flaky, what="test", budget_seconds=5, sleep=lambda _: None) == "done"
    assert calls["n"] == 3


def test_with_retry_gives_up_with_database_busy() -> None:
    def always_locked() -> None:
        raise sqlite3.OperationalError("database is locked")

    with pytest.raises(DatabaseBusy) as info:
        with_retry(always_locked, what="writing user_created.db", budget_seconds=0.2)
    assert "still queued" in str(info.value)


def test_other_errors_are_not_retried() -> None:
    def broken() -> None:
        raise sqlite3.OperationalError("no such table: nope")

    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError):
        with_retry(broken, what="x", budget_seconds=5)
    assert time.monotonic() - started < 1


@pytest.mark.parametrize("shared_cache", [True, False])
def test_write_waits_for_a_lock_held_by_another_connection(tmp_path: Path, shared_cache: bool) -> None:
    options = ConnectionOptions(shared_cache=shared_cache, busy_timeout_ms=50, retry_seconds=10)
    path = tmp_path / "user_created.db"
    db = DomainDatabase(Domain.USER, path, options)
    db.validate()
    holder = connect(path, options)
    holder.execute("BEGIN IMMEDIATE")
    record = make_record(PayloadStore(tmp_path / "Payloads"))
    threading.Timer(0.5, lambda: holder.execute("COMMIT")).start()
    db.write([record.to_row()], [])
    assert [r.assembly_guid for r in db.load()] == [record.assembly_guid]
    db.close()
