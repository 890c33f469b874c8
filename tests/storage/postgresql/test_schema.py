"""What schema v1 itself guarantees on a real PostgreSQL, whatever the code above it does:
write-once checksummed payloads, one winner per revision, a gapless queue order, one
unbroken audit chain, case-insensitive user names and a stamp that any change erases."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import errors

from assembly_engine.domain.types import Domain
from assembly_engine.storage.postgresql.pool import connect
from assembly_engine.storage.postgresql.schema_v1 import DOMAIN_SCHEMAS
from tests.postgresql_server import PostgresServer

PAYLOAD = "0f" * 16


@pytest.fixture
def db(migrated_url: str) -> Iterator[psycopg.Connection]:
    with connect(migrated_url) as conn:
        yield conn


@pytest.fixture(scope="module")
def shared_db(postgresql_server: PostgresServer, migrated_template: str) -> Iterator[psycopg.Connection]:
    """One database for the many one-row cases below, each of which uses keys of its own."""
    name, url = postgresql_server.create_database(template=migrated_template)
    try:
        with connect(url) as conn:
            yield conn
    finally:
        postgresql_server.drop_database(name)


def insert_file(
    conn: psycopg.Connection,
    name: str,
    content: bytes,
    *,
    guid: str = PAYLOAD,
    size: int | None = None,
    sha256: str | None = None,
) -> None:
    conn.execute(
        "INSERT INTO payload_files (payload_guid, file_name, content, size_bytes, sha256) "
        "VALUES (%s, %s, %s, %s, %s)",
        (
            guid,
            name,
            content,
            len(content) if size is None else size,
            hashlib.sha256(content).hexdigest() if sha256 is None else sha256,
        ),
    )


def wait_until_blocked(observer: psycopg.Connection, pid: int) -> None:
    """Until session ``pid`` waits for a lock (no sleeping in place of knowing)."""
    deadline = time.monotonic() + 30
    while observer.execute(
        "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
    ).fetchone() != ("Lock",):
        assert time.monotonic() < deadline, f"session {pid} never waited for the lock"
        time.sleep(0.01)


# --------------------------------------------------------------------------- payloads


def test_a_payload_file_is_written_once(db: psycopg.Connection) -> None:
    insert_file(db, "script.ps1", b"Write-Host 'one'\n")
    with pytest.raises(errors.UniqueViolation):
        insert_file(db, "script.ps1", b"Write-Host 'two'\n")  # a second write of the same key
    with pytest.raises(errors.IntegrityConstraintViolation, match="write-once"):
        db.execute(
            "UPDATE payload_files SET content = 'x', size_bytes = 1, "
            "sha256 = encode(sha256('x'), 'hex') WHERE payload_guid = %s",
            (PAYLOAD,),
        )
    with pytest.raises(errors.IntegrityConstraintViolation, match="write-once"):
        db.execute(
            "INSERT INTO payload_files (payload_guid, file_name, content, size_bytes, sha256) "
            "SELECT payload_guid, file_name, 'y', 1, encode(sha256('y'), 'hex') FROM payload_files "
            "ON CONFLICT (payload_guid, file_name) DO UPDATE SET content = excluded.content"
        )
    assert db.execute("SELECT content FROM payload_files").fetchall() == [(b"Write-Host 'one'\n",)]
    # Other files of the payload, and a new payload, are new keys.
    insert_file(db, "files/report.xlsx", b"\x00\x01binary")
    insert_file(db, "script.ps1", b"Write-Host 'two'\n", guid="1e" * 16)
    # Deleting is allowed: retention and orphan collection remove whole payloads.
    assert db.execute("DELETE FROM payload_files WHERE payload_guid = %s", ("1e" * 16,)).rowcount == 1


def test_the_database_checks_each_file_s_size_and_checksum(db: psycopg.Connection) -> None:
    with pytest.raises(errors.CheckViolation, match="payload_files_sha256"):
        insert_file(db, "script.ps1", b"content", sha256="0" * 64)
    with pytest.raises(errors.CheckViolation, match="payload_files_size"):
        insert_file(db, "script.ps1", b"content", size=6)
    assert db.execute("SELECT count(*) FROM payload_files").fetchone() == (0,)


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".hidden",
        "files/.hidden",
        "a/b.ps1",
        "files/a/b",
        "back\\slash.ps1",
        "tab\there.ps1",
        "x" * 256,
        "files/" + "é" * 128,  # 256 bytes in UTF-8
    ],
)
def test_file_names_follow_the_payload_store_s_rules(shared_db: psycopg.Connection, name: str) -> None:
    with pytest.raises(errors.CheckViolation):
        insert_file(shared_db, name, b"x")


@pytest.mark.parametrize(
    "name",
    ["manifest.json", "script.ps1", "files/report template (v2).xlsx", "x" * 255, "files/" + "é" * 127],
)
def test_plain_names_of_up_to_255_bytes_are_accepted(shared_db: psycopg.Connection, name: str) -> None:
    insert_file(shared_db, name, b"x")


@pytest.mark.parametrize("guid", ["0F" * 16, "0f" * 15, "../" + "0" * 29, "0f" * 20])
def test_a_payload_guid_is_32_lowercase_hex(shared_db: psycopg.Connection, guid: str) -> None:
    with pytest.raises(errors.CheckViolation):
        insert_file(shared_db, "script.ps1", b"x", guid=guid)


# ---------------------------------------------------------------- optimistic concurrency

CLAIM = (
    "UPDATE revision_heads SET revision = revision + 1 "
    "WHERE domain = %s AND assembly_guid = %s AND revision = %s"
)


def test_of_two_concurrent_writers_of_one_revision_exactly_one_wins(
    migrated_url: str, db: psycopg.Connection
) -> None:
    guid = "ab" * 16
    db.execute("INSERT INTO revision_heads (domain, assembly_guid, revision) VALUES ('user', %s, 4)", (guid,))
    with psycopg.connect(migrated_url) as first, psycopg.connect(migrated_url) as second:
        assert first.execute(CLAIM, ("user", guid, 4)).rowcount == 1  # open transaction: row locked
        outcome: dict[str, int] = {}

        def other_node() -> None:
            outcome["rows"] = second.execute(CLAIM, ("user", guid, 4)).rowcount
            second.commit()

        racer = threading.Thread(target=other_node)
        racer.start()
        wait_until_blocked(db, second.info.backend_pid)  # both really are at it at once
        first.commit()
        racer.join(timeout=30)
        assert outcome == {"rows": 0}  # re-checked after the winner's commit: revision is 5 now
    assert db.execute("SELECT revision FROM revision_heads WHERE assembly_guid = %s", (guid,)).fetchone() == (
        5,
    )


def test_many_writers_racing_for_one_revision_leave_one_winner(
    migrated_url: str, db: psycopg.Connection
) -> None:
    guid = "cd" * 16
    db.execute(
        "INSERT INTO revision_heads (domain, assembly_guid, revision) VALUES ('community', %s, 1)", (guid,)
    )
    gate = threading.Barrier(6)
    wins: list[int] = []

    def writer() -> None:
        with psycopg.connect(migrated_url, autocommit=True) as conn:
            gate.wait()
            wins.append(conn.execute(CLAIM, ("community", guid, 1)).rowcount)

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(wins) == [0, 0, 0, 0, 0, 1]


def test_two_nodes_cannot_both_create_one_assembly(db: psycopg.Connection) -> None:
    guid = "ef" * 16
    db.execute("INSERT INTO revision_heads (domain, assembly_guid, revision) VALUES ('user', %s, 1)", (guid,))
    assert (
        db.execute(
            "INSERT INTO revision_heads (domain, assembly_guid, revision) VALUES ('user', %s, 1) "
            "ON CONFLICT DO NOTHING",
            (guid,),
        ).rowcount
        == 0
    )


# --------------------------------------------------------------------------- queue

NEXT_SEQ = "UPDATE write_queue_head SET last_seq = last_seq + 1 RETURNING last_seq"
APPEND = (
    "INSERT INTO write_queue (seq, op, domain, assembly_guid, record_json, created_at) "
    "VALUES (%s, 'upsert', 'user', %s, '{}', '2026-01-01T00:00:00.000Z')"
)


def test_queue_numbers_are_gapless_and_in_commit_order(migrated_url: str, db: psycopg.Connection) -> None:
    with psycopg.connect(migrated_url) as first, psycopg.connect(migrated_url) as second:
        seq_row = first.execute(NEXT_SEQ).fetchone()
        assert seq_row == (1,)
        first.execute(APPEND, (1, "01" * 16))
        numbered: dict[str, int] = {}

        def other_node() -> None:
            row = second.execute(NEXT_SEQ).fetchone()
            assert row is not None
            numbered["seq"] = int(row[0])
            second.execute(APPEND, (row[0], "02" * 16))
            second.commit()

        racer = threading.Thread(target=other_node)
        racer.start()
        wait_until_blocked(db, second.info.backend_pid)  # the next number waits for this commit
        first.rollback()  # an append that fails gives its number back
        racer.join(timeout=30)
    assert numbered == {"seq": 1}
    assert db.execute("SELECT seq, assembly_guid FROM write_queue").fetchall() == [(1, "02" * 16)]


def test_a_queue_entry_names_a_known_operation_and_domain(db: psycopg.Connection) -> None:
    with pytest.raises(errors.CheckViolation):
        db.execute(
            "INSERT INTO write_queue (seq, op, domain, assembly_guid, record_json, created_at) "
            "VALUES (1, 'patch', 'user', 'g', '{}', 'now')"
        )
    with pytest.raises(errors.CheckViolation):
        db.execute(
            "INSERT INTO write_queue (seq, op, domain, assembly_guid, record_json, created_at) "
            "VALUES (1, 'upsert', 'user_created', 'g', '{}', 'now')"
        )


# --------------------------------------------------------------------------- audit

ZERO = "0" * 64


def append_audit(conn: psycopg.Connection, seq: int, prev_hash: str, hash_: str) -> None:
    conn.execute(
        "INSERT INTO audit_log (seq, time, action, outcome, dev_mode, prev_hash, hash) "
        "VALUES (%s, '2026-01-01T00:00:00Z', 'login', 'success', FALSE, %s, %s)",
        (seq, prev_hash, hash_),
    )


def test_the_audit_log_is_one_unbroken_chain(db: psycopg.Connection) -> None:
    first, second = "a" * 64, "b" * 64
    with pytest.raises(errors.CheckViolation):
        append_audit(db, 1, "c" * 64, first)  # the first entry follows 64 zeros
    append_audit(db, 1, ZERO, first)
    with pytest.raises(errors.ForeignKeyViolation):
        append_audit(db, 2, "c" * 64, second)  # prev_hash is not the hash of entry 1
    with pytest.raises(errors.ForeignKeyViolation):
        append_audit(db, 3, second, "d" * 64)  # a gap: there is no entry 2
    append_audit(db, 2, first, second)
    with pytest.raises(errors.UniqueViolation):
        append_audit(db, 2, first, "e" * 64)  # a fork: a second entry 2
    for statement in (
        "UPDATE audit_log SET detail = 'edited' WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 2",
        "TRUNCATE audit_log",
    ):
        with pytest.raises(errors.IntegrityConstraintViolation, match="append-only"):
            db.execute(statement)
    assert db.execute("SELECT seq, hash FROM audit_log ORDER BY seq").fetchall() == [(1, first), (2, second)]


def test_audit_appends_from_two_nodes_are_serialised_by_the_head(
    migrated_url: str, db: psycopg.Connection
) -> None:
    take_head = "SELECT seq, hash FROM audit_head FOR UPDATE"
    move_head = "UPDATE audit_head SET seq = %s, hash = %s"
    with psycopg.connect(migrated_url) as first, psycopg.connect(migrated_url) as second:
        assert first.execute(take_head).fetchone() == (0, ZERO)
        seen: dict[str, object] = {}

        def other_node() -> None:
            seen["head"] = second.execute(take_head).fetchone()  # waits for the first append
            append_audit(second, 2, "a" * 64, "b" * 64)
            second.execute(move_head, (2, "b" * 64))
            second.commit()

        racer = threading.Thread(target=other_node)
        racer.start()
        wait_until_blocked(db, second.info.backend_pid)
        append_audit(first, 1, ZERO, "a" * 64)
        first.execute(move_head, (1, "a" * 64))
        first.commit()
        racer.join(timeout=30)
    assert seen == {"head": (1, "a" * 64)}
    assert db.execute("SELECT seq FROM audit_log ORDER BY seq").fetchall() == [(1,), (2,)]


# --------------------------------------------------------------------- users, stamp


def test_user_names_are_unique_regardless_of_ascii_case(db: psycopg.Connection) -> None:
    add = (
        "INSERT INTO users (username, password_hash, role, created_at, updated_at) "
        "VALUES (%s, 'h', 'admin', 'now', 'now')"
    )
    db.execute(add, ("Admin",))
    with pytest.raises(errors.UniqueViolation):
        db.execute(add, ("aDMIN",))
    db.execute(add, ("ÄDMIN",))  # like SQLite's NOCASE: only A-Z fold
    db.execute(add, ("ädmin",))
    with pytest.raises(errors.CheckViolation):
        db.execute(add.replace("'admin'", "'root'"), ("other",))


def test_sessions_and_their_dev_mode_go_with_their_user(db: psycopg.Connection) -> None:
    db.execute(
        "INSERT INTO users (username, password_hash, role, created_at, updated_at) "
        "VALUES ('ops', 'h', 'admin', 'now', 'now')"
    )
    db.execute(
        "INSERT INTO sessions (token_hash, username, created_at, expires_at, last_seen, "
        "dev_mode_until, dev_mode_reason) VALUES ('t', 'ops', 1, 100, 1, 50, 'fix')"
    )
    with pytest.raises(errors.ForeignKeyViolation):
        db.execute(
            "INSERT INTO sessions (token_hash, username, created_at, expires_at, last_seen) "
            "VALUES ('u', 'nobody', 1, 2, 1)"
        )
    db.execute("DELETE FROM users WHERE username = 'ops'")
    assert db.execute("SELECT count(*) FROM sessions").fetchone() == (0,)


def test_any_change_to_the_official_rows_erases_the_sync_stamp(db: psycopg.Connection) -> None:
    row = (
        "INSERT INTO official.assemblies (assembly_guid, display_name, assembly_kind, payload_guid, "
        "payload_type, created_at, updated_at) VALUES (%s, 'n', 'script', %s, 'script', 'now', 'now')"
    )
    stamp = "INSERT INTO official.content_stamp (value) VALUES ('staging-fingerprint')"
    read = "SELECT value FROM official.content_stamp"
    with db.transaction():  # a sync: rows, then the stamp, in one transaction
        db.execute(row, ("01" * 16, PAYLOAD))
        db.execute(stamp)
    assert db.execute(read).fetchall() == [("staging-fingerprint",)]
    for change in (
        "UPDATE official.assemblies SET display_name = 'edited'",
        "DELETE FROM official.assemblies",
        "TRUNCATE official.assemblies",
    ):
        db.execute(stamp)
        db.execute(change)
        assert db.execute(read).fetchall() == [], change
    db.execute(stamp)
    db.execute(row.replace("official.", "community."), ("02" * 16, PAYLOAD))
    assert db.execute(read).fetchall() == [("staging-fingerprint",)]  # other domains do not count


def test_each_domain_has_its_own_tables(db: psycopg.Connection) -> None:
    for domain in Domain:
        schema = DOMAIN_SCHEMAS[domain]
        db.execute(
            f"INSERT INTO {schema}.revisions (assembly_guid, revision, action, row_json, "
            "payload_guid, recorded_at) VALUES ('g', 1, 'create', '[]', %s, 'now')",
            (PAYLOAD,),
        )
    counts = [
        db.execute(f"SELECT count(*) FROM {schema}.revisions").fetchone()
        for schema in DOMAIN_SCHEMAS.values()
    ]
    assert counts == [(1,), (1,), (1,)]
