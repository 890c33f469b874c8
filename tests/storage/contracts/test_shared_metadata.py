"""Revisions keep large metadata once (issue 23, 5), on both backends: N edits that leave
1 MiB of metadata unchanged grow the store by far less than N MiB; history, verify's refs
and retention still see every revision whole; databases of the old layout are migrated."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import psycopg

from assembly_engine.domain.types import Domain
from assembly_engine.storage.contract.history import HistoryWrite
from assembly_engine.storage.contract.models import AssemblyRecord
from assembly_engine.storage.postgresql.domain_store import PostgresDomainStore
from assembly_engine.storage.postgresql.migrations import MIGRATIONS, migrate
from assembly_engine.storage.postgresql.pool import create_pool
from assembly_engine.storage.sqlite.databases import ConnectionOptions, DomainDatabase
from tests.storage.contracts.backends import (
    Backend,
    PostgresBackend,
    SqliteBackend,
    revision_row,
    stored_record,
)

MIB = 1024 * 1024
EDITS = 20


def big_metadata(tag: str) -> str:
    # 1 MiB of JSON text that does not compress (PostgreSQL would shrink repeated text
    # and hide whole copies), in many small values like a real inventory.
    values = {f"{tag}-{i:06d}": base64.b64encode(os.urandom(30)).decode() for i in range(MIB // 56)}
    return json.dumps(values)


def stored_bytes(backend: Backend) -> int:
    """What the user domain's history takes on disk (SQLite: the file after a checkpoint;
    PostgreSQL: the history tables with their TOAST and indexes)."""
    if isinstance(backend, SqliteBackend):
        store = backend.domain_store(Domain.USER)
        store.checkpoint()
        path = backend.root / "user_created.db"
        conn = sqlite3.connect(path)
        try:
            pages = (
                conn.execute("PRAGMA page_count").fetchone()[0]
                - conn.execute("PRAGMA freelist_count").fetchone()[0]
            )
            return int(pages * conn.execute("PRAGMA page_size").fetchone()[0])
        finally:
            conn.close()
    assert isinstance(backend, PostgresBackend)
    with psycopg.connect(backend.url) as conn:
        found = conn.execute(
            "SELECT pg_total_relation_size('user_created.revisions') "
            "+ pg_total_relation_size('user_created.revision_metadata')"
        ).fetchone()
        assert found is not None
        return int(found[0])


def edits(first: AssemblyRecord, count: int) -> list[AssemblyRecord]:
    return [first.evolve(display_name=f"edit {n}", revision=n) for n in range(2, count + 2)]


def test_unchanged_metadata_is_kept_once_however_many_edits(backend: Backend) -> None:
    store = backend.domain_store(Domain.USER)
    first = stored_record(Domain.USER, "big").evolve(metadata_json=big_metadata("a"))
    store.write([first.to_row()], [], history=HistoryWrite([revision_row(first, "create")]))
    after_first = stored_bytes(backend)
    later = edits(first, EDITS)
    for record in later:  # one flush per edit, as a slow editor's would be
        store.write([record.to_row()], [], history=HistoryWrite([revision_row(record, "update")]))
    grown = stored_bytes(backend) - after_first
    # Whole copies would add EDITS MiB; a shared copy adds a few KiB per revision.
    assert grown < 2 * MIB, f"{EDITS} edits with unchanged metadata grew the history by {grown} bytes"
    kept = store.revisions(first.assembly_guid)
    assert [r.record(Domain.USER) for r in kept] == [first, *later]
    refs = {r.revision: r.record(Domain.USER) for r in store.revision_refs()}
    assert refs == {r.revision: r for r in [first, *later]}


def test_changed_metadata_is_kept_per_version_and_retention_forgets_it(backend: Backend) -> None:
    store = backend.domain_store(Domain.USER)
    one = stored_record(Domain.USER, "m").evolve(metadata_json=big_metadata("one"))
    two = one.evolve(metadata_json=big_metadata("two"), revision=2)
    three = two.evolve(display_name="renamed", revision=3)
    store.write(
        [three.to_row()], [], history=HistoryWrite([revision_row(r, "update") for r in (one, two, three)])
    )
    assert [r.record(Domain.USER) for r in store.revisions(one.assembly_guid)] == [one, two, three]
    before = stored_bytes(backend)
    assert store.prune_history(keep=2, deleted_before=None, live=lambda guid: True)[0] == 1
    assert [r.record(Domain.USER) for r in store.revisions(one.assembly_guid)] == [two, three]
    # The first version's metadata went with its revision (SQLite reuses the pages).
    if isinstance(backend, PostgresBackend):
        with psycopg.connect(backend.url) as conn:
            found = conn.execute("SELECT count(*) FROM user_created.revision_metadata").fetchone()
        assert found == (1,)
    else:
        assert stored_bytes(backend) < before - MIB // 2
    deletion = (one.assembly_guid, 3, "2020-01-01T00:00:00.000Z", None, json.dumps(list(three.to_row())))
    store.write([], [one.assembly_guid], history=HistoryWrite(deletions=[deletion]))
    store.prune_history(keep=None, deleted_before="2021-01-01T00:00:00.000Z", live=lambda guid: False)
    assert store.revisions(one.assembly_guid) == []
    if isinstance(backend, PostgresBackend):  # (its space comes back with VACUUM)
        with psycopg.connect(backend.url) as conn:
            found = conn.execute("SELECT count(*) FROM user_created.revision_metadata").fetchone()
        assert found == (0,)
    else:
        assert stored_bytes(backend) < before - MIB


OLD_REVISIONS = """CREATE TABLE revisions (
    assembly_guid TEXT NOT NULL,
    revision      INTEGER NOT NULL,
    action        TEXT NOT NULL,
    row_json      TEXT NOT NULL,
    payload_guid  TEXT NOT NULL,
    recorded_at   TEXT NOT NULL,
    PRIMARY KEY (assembly_guid, revision)
) WITHOUT ROWID"""


def _old_rows() -> tuple[list[AssemblyRecord], list[tuple[Any, ...]]]:
    first = stored_record(Domain.USER, "old").evolve(metadata_json=big_metadata("old"))
    small = stored_record(Domain.USER, "small")
    records = [first, *edits(first, 3), small]
    return records, [revision_row(r, "update") for r in records]


def test_an_embedded_database_of_the_old_layout_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "user_created.db"
    records, rows = _old_rows()
    conn = sqlite3.connect(path)
    conn.execute(OLD_REVISIONS)
    conn.executemany("INSERT INTO revisions VALUES (?, ?, ?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()
    db = DomainDatabase(Domain.USER, path, ConnectionOptions(), history=True)
    try:
        db.validate()
        db.validate()  # idempotent
        assert [r.record(Domain.USER) for r in db.revisions(records[0].assembly_guid)] == records[:4]
        assert [r.record(Domain.USER) for r in db.revisions(records[4].assembly_guid)] == records[4:]
        got = sorted((r.assembly_guid, r.revision, r.record(Domain.USER)) for r in db.revision_refs())
        assert [g[2] for g in got] == sorted(records, key=lambda r: (r.assembly_guid, r.revision))
    finally:
        db.close()
    conn = sqlite3.connect(path)
    try:
        shared = conn.execute("SELECT count(*) FROM revision_metadata").fetchone()[0]
        whole = conn.execute("SELECT max(length(row_json)) FROM revisions").fetchone()[0]
    finally:
        conn.close()
    assert shared == 1 and whole < 2048  # four revisions, one copy of their metadata


def test_a_cluster_database_of_the_old_layout_is_migrated(database_url: str) -> None:
    records, rows = _old_rows()
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert migrate(conn, MIGRATIONS[:3]) == [1, 2, 3]
        with conn.transaction():
            conn.cursor().executemany(
                "INSERT INTO user_created.revisions (assembly_guid, revision, action, row_json, "
                "payload_guid, recorded_at) VALUES (%s, %s, %s, %s, %s, %s)",
                rows,
            )
        assert migrate(conn)[0] == 4  # and whatever later migrations there are
        shared = conn.execute("SELECT count(*) FROM user_created.revision_metadata").fetchone()
        whole = conn.execute("SELECT max(length(row_json)) FROM user_created.revisions").fetchone()
    assert shared == (1,) and whole is not None and whole[0] < 2048
    pool = create_pool(database_url, min_size=1, max_size=2)
    try:
        store = PostgresDomainStore(pool, Domain.USER)
        got = sorted((r.assembly_guid, r.revision, r.record(Domain.USER)) for r in store.revision_refs())
        assert [g[2] for g in got] == sorted(records, key=lambda r: (r.assembly_guid, r.revision))
        first = records[0]
        assert [r.record(Domain.USER) for r in store.revisions(first.assembly_guid)] == records[:4]
    finally:
        pool.close()
