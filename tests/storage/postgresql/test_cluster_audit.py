"""The audit chain of cluster mode on a real PostgreSQL: what only a shared database has.

Several nodes (a pool and a store each) append to one chain; text PostgreSQL cannot hold
is refused in the engine's words; and rows changed or cut off behind the engine's back
(by someone who owns the tables and switched their guard triggers off) are reported by
``verify`` as the file backend would report the same edit of its file."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from assembly_engine.storage.contract.errors import EngineError
from assembly_engine.storage.contract.reports import VerifyResult
from assembly_engine.storage.postgresql.audit_store import PostgresAuditStore
from assembly_engine.storage.postgresql.pool import connect, create_pool


def fields(action: str, **changes: Any) -> dict[str, Any]:
    return {
        "time": "2026-01-01T00:00:00.000Z",
        "user": "admin",
        "role": "admin",
        "session": None,
        "action": action,
        "domain": None,
        "assembly_guid": None,
        "outcome": "success",
        "dev_mode": False,
        "detail": None,
        **changes,
    }


@pytest.fixture
def pools(migrated_url: str) -> Iterator[list[ConnectionPool]]:
    """Three nodes' pools on one database."""
    opened = [create_pool(migrated_url, min_size=1, max_size=3) for _ in range(3)]
    try:
        yield opened
    finally:
        for pool in opened:
            pool.close()


def test_appends_from_three_nodes_make_one_unbroken_chain(pools: list[ConnectionPool]) -> None:
    nodes = [PostgresAuditStore(pool) for pool in pools]

    def append_some(index: int) -> list[int]:
        return [nodes[index % 3].append(fields(f"n{index}-{n}"))["seq"] for n in range(20)]

    with ThreadPoolExecutor(6) as workers:
        seqs = [seq for batch in workers.map(append_some, range(6)) for seq in batch]
    assert sorted(seqs) == list(range(1, 121))
    for node in nodes:
        assert node.verify() == VerifyResult(True, 120)


@pytest.mark.parametrize("name", ["user", "detail", "time"])
def test_text_with_nul_is_refused_and_the_chain_goes_on(pools: list[ConnectionPool], name: str) -> None:
    store = PostgresAuditStore(pools[0])
    store.append(fields("before"))
    with pytest.raises(EngineError, match="NUL"):
        store.append(fields("bad", **{name: "a\x00b"}))
    assert store.append(fields("after"))["seq"] == 2
    assert store.verify() == VerifyResult(True, 2)


def test_text_that_is_not_unicode_is_refused(pools: list[ConnectionPool]) -> None:
    store = PostgresAuditStore(pools[0])
    with pytest.raises(EngineError, match="Unicode"):
        store.append(fields("bad", detail="half a pair \ud800"))
    assert store.entries() == []


def test_one_bad_entry_in_a_group_commit_refuses_only_its_own_caller(pools: list[ConnectionPool]) -> None:
    store = PostgresAuditStore(pools[0])

    def append(index: int) -> str:
        try:
            store.append(fields(f"a{index}", detail="\x00" if index == 3 else None))
        except EngineError:
            return "refused"
        return "ok"

    with ThreadPoolExecutor(8) as workers:
        outcomes = list(workers.map(append, range(8)))
    assert outcomes.count("refused") == 1 and outcomes[3] == "refused"
    assert store.verify() == VerifyResult(True, 7)


def tamper(url: str, statement: str) -> None:
    with connect(url) as conn, conn.transaction():
        conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        conn.execute(statement)
        conn.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")


def test_an_edited_row_is_reported_like_an_edited_line(
    migrated_url: str, pools: list[ConnectionPool]
) -> None:
    store = PostgresAuditStore(pools[0])
    for action in ("a", "b", "c"):
        store.append(fields(action))
    tamper(migrated_url, "UPDATE audit_log SET detail = 'forged' WHERE seq = 2")
    assert store.verify() == VerifyResult(False, 1, 2, "line 2 was edited: hash does not match its content")


def test_entries_cut_off_the_end_are_reported(migrated_url: str, pools: list[ConnectionPool]) -> None:
    store = PostgresAuditStore(pools[0])
    for action in ("a", "b", "c"):
        store.append(fields(action))
    tamper(migrated_url, "DELETE FROM audit_log WHERE seq = 3")
    result = store.verify()
    assert (result.ok, result.entries, result.first_bad_line) == (False, 2, 3)
    assert result.problem is not None and "audit_head records seq 3" in result.problem


def test_the_location_names_the_database_without_credentials(
    migrated_url: str, pools: list[ConnectionPool]
) -> None:
    location = PostgresAuditStore(pools[0]).location
    dbname = psycopg.conninfo.conninfo_to_dict(migrated_url)["dbname"]
    assert dbname in location and "audit_log" in location
    assert "@" not in location and "password" not in location
