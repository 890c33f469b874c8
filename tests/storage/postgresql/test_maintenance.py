"""Backups of the cluster database: the portable layout of an embedded home's backup,
which an embedded engine boots from with every assembly, queued change, revision,
deletion, payload, user and secret the cluster held."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from assembly_engine.config import Settings
from assembly_engine.domain.types import Domain, Integrity
from assembly_engine.storage.contract.history import HistoryWrite
from assembly_engine.storage.contract.upstream import with_note
from assembly_engine.storage.official.sync import sync_official
from assembly_engine.storage.postgresql.domain_store import PostgresDomainStore
from assembly_engine.storage.postgresql.maintenance import PostgresMaintenance
from assembly_engine.storage.postgresql.migrations import MIGRATIONS
from assembly_engine.storage.postgresql.pool import connect, create_pool
from assembly_engine.storage.runtime import StorageRuntime
from assembly_engine.storage.sqlite.engine_store import SqliteEngineStore
from assembly_engine.storage.sqlite.payload_folders import PayloadStore
from tests.support import make_record, stage

SECRET = b"s" * 32


@pytest.fixture
def pool(migrated_url: str) -> Iterator[ConnectionPool]:
    pool = create_pool(migrated_url, min_size=1, max_size=3)
    yield pool
    pool.close()


def store_payloads(conn: psycopg.Connection, folders: PayloadStore) -> None:
    """Put every payload of ``folders`` into payload_files, one row per file, the way the
    cluster keeps payloads (manifest.json, the main file, files/<attachment>)."""
    for guid in folders.list_guids():
        folder = folders.path_for(guid)
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            conn.execute(
                "INSERT INTO payload_files (payload_guid, file_name, content, size_bytes, sha256) "
                "VALUES (%s, %s, %s, %s, encode(sha256(%s), 'hex'))",
                (
                    guid,
                    path.relative_to(folder).as_posix(),
                    path.read_bytes(),
                    path.stat().st_size,
                    path.read_bytes(),
                ),
            )


def revision(record, action: str):  # type: ignore[no-untyped-def]
    row = record.to_row()
    return (record.assembly_guid, record.revision, action, json.dumps(list(row)), row[10], record.updated_at)


def test_a_backup_boots_as_an_embedded_home(
    pool: ConnectionPool, migrated_url: str, settings: Settings, tmp_path: Path
) -> None:
    cluster_payloads = PayloadStore(tmp_path / "cluster-payloads")  # copied into payload_files below
    [shipped] = stage(settings.staging_root, Domain.OFFICIAL, ["Shipped"])
    assert sync_official(
        settings.staging_root, PostgresDomainStore(pool, Domain.OFFICIAL), cluster_payloads
    ).matches
    mine = make_record(cluster_payloads, Domain.USER, "Mine")
    PostgresDomainStore(pool, Domain.USER).write(
        [mine.to_row()], [], history=HistoryWrite([revision(mine, "create")])
    )
    gone = make_record(cluster_payloads, Domain.COMMUNITY, "Gone")
    community = PostgresDomainStore(pool, Domain.COMMUNITY)
    community.write([gone.to_row()], [], history=HistoryWrite([revision(gone, "create")]))
    deletion = (gone.assembly_guid, 1, "2026-01-02T00:00:00.000Z", "admin", json.dumps(list(gone.to_row())))
    community.write([], [gone.assembly_guid], history=HistoryWrite(deletions=[deletion]))
    queued = mine.evolve(display_name="Mine, queued", revision=2)
    with connect(migrated_url) as conn:
        store_payloads(conn, cluster_payloads)
        conn.execute(
            "INSERT INTO write_queue (seq, op, domain, assembly_guid, record_json, created_at, "
            "action, actor) VALUES (7, 'upsert', 'user', %s, %s, '2026-01-03T00:00:00.000Z', "
            "'update', 'admin')",
            (mine.assembly_guid, json.dumps(queued.to_json(), separators=(",", ":"))),
        )
        conn.execute(
            "INSERT INTO users (username, password_hash, role, disabled, created_at, updated_at) "
            "VALUES ('admin', 'hash', 'admin', false, '2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z')"
        )
        conn.execute("INSERT INTO sessions VALUES ('token', 'admin', 1.0, 2.0, 1.5, NULL, NULL, false)")
        conn.execute("INSERT INTO engine_meta (key, value) VALUES ('secret:session', %s)", (SECRET,))

    maintenance = PostgresMaintenance(pool, cluster_payloads)
    destination = maintenance.start_backup(tmp_path / "backup")
    copied = maintenance.copy_stores(destination)
    maintenance.seal_backup(destination)
    assert set(copied) == {
        "journal.db",
        "official.db",
        "community.db",
        "user_created.db",
        "engine.db",
        "payloads",
    }
    assert copied["payloads"] == 3 and all(pages > 0 for pages in copied.values())
    assert not list(destination.rglob("*-wal")) and not list(destination.rglob("*-journal"))

    shutil.copytree(destination, settings.home)
    rt = StorageRuntime.open(settings, start_worker=False)
    try:
        assert rt.backend.boot_sync.reused  # the stamp came along: official is staging's already
        names = {item.record.display_name: item for item in rt.cache.items()}
        assert set(names) == {"Shipped", "Mine, queued"}
        assert names["Mine, queued"].state.is_dirty and names["Mine, queued"].record.revision == 2
        for item in names.values():
            assert (
                rt.payloads.check(item.record.payload.payload_guid, item.record.payload.checksum)
                is Integrity.OK
            )
        assert rt.databases[Domain.COMMUNITY].deletion(gone.assembly_guid) == deletion
        assert [n for n, *_ in rt.databases[Domain.USER].revisions(mine.assembly_guid)] == [1]
        # the runtime copy carries the engine's vendor note besides what staging shipped
        assert [with_note(r, None) for r in rt.databases[Domain.OFFICIAL].load()] == [shipped]
        rt.cache.flush_now()  # the queued change lands like any other
        assert rt.databases[Domain.USER].load() == [queued]
    finally:
        rt.close()
    engine = SqliteEngineStore(settings.engine_db_path)
    try:
        user = engine.get_user("admin")
        assert user is not None and (user.role, user.created_at) == ("admin", "2026-01-01T00:00:00.000Z")
        assert engine.get_session("token") is not None
        assert engine.secret("session") == SECRET
    finally:
        engine.close()


def test_the_schema_status_names_what_is_missing(
    pool: ConnectionPool, migrated_url: str, tmp_path: Path
) -> None:
    maintenance = PostgresMaintenance(pool, PayloadStore(tmp_path / "Payloads"))
    status = maintenance.schema(Domain.USER)
    assert (
        status.ok
        and status.file == "postgresql:user_created"
        and status.user_version == MIGRATIONS[-1].version
    )
    with connect(migrated_url) as conn:
        conn.execute("ALTER TABLE user_created.assemblies DROP COLUMN summary")
        conn.execute("ALTER TABLE user_created.revisions DROP COLUMN action")
    broken = maintenance.schema(Domain.USER)
    assert not broken.ok and broken.missing_columns == ("summary", "revisions.action")
    assert maintenance.schema(Domain.OFFICIAL).ok
