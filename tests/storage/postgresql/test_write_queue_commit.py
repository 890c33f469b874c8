"""How the shared write queue commits: audit entries in the change's own transaction, a
commit whose connection is lost settled by asking PostgreSQL, one bad change kept from
failing its batch, and a node's own commits not read back by its feed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import psycopg
import pytest

from assembly_engine.domain.types import Domain
from assembly_engine.storage.cache.assembly_cache import AssemblyCache
from assembly_engine.storage.contract.errors import EngineError, OutcomeUnknown, Unavailable
from assembly_engine.storage.contract.journal_entry import JournalEntry, new_entry
from assembly_engine.storage.postgresql.audit_store import PostgresAuditStore
from assembly_engine.storage.postgresql.pool import EnginePool, create_pool
from assembly_engine.storage.postgresql.write_queue import PostgresWriteQueue, queue_holds
from assembly_engine.storage.sqlite.databases import ConnectionOptions, DomainDatabases
from assembly_engine.storage.sqlite.payload_folders import PayloadStore
from tests.storage.postgresql.cutting_proxy import CuttingProxy
from tests.support import make_record, script_content


class RecordingAudit:
    """The services' side of CommitAudit: a note is the entry's detail."""

    def __init__(self) -> None:
        self.announced: list[dict[str, Any]] = []

    def note_fields(self, note: str) -> dict[str, Any]:
        return {
            "time": "2026-12-01T00:00:00.000Z",
            "user": "alice",
            "role": "admin",
            "session": None,
            "action": "assembly.create",
            "domain": "user",
            "assembly_guid": None,
            "outcome": "success",
            "dev_mode": False,
            "detail": note,
        }

    def announce(self, entry: dict[str, Any]) -> None:
        self.announced.append(entry)


@pytest.fixture
def payloads(tmp_path: Path) -> PayloadStore:
    return PayloadStore(tmp_path / "Payloads")


@pytest.fixture
def pool(migrated_url: str) -> Iterator[EnginePool]:
    with create_pool(migrated_url, max_size=4) as made:
        yield made


def queue_on(pool: EnginePool, **options: float) -> tuple[PostgresWriteQueue, RecordingAudit]:
    queue = PostgresWriteQueue(pool, **options)
    audit = RecordingAudit()
    assert queue.audit_in_commit(audit)
    return queue, audit


def create(queue: PostgresWriteQueue, payloads: PayloadStore, note: str) -> JournalEntry:
    return new_entry(queue, "upsert", make_record(payloads, Domain.USER, note), note=note)


def stored(url: str) -> tuple[list[str], list[str]]:
    """(the queued changes' names, the audit entries' details), each in order."""
    with psycopg.connect(url) as conn:
        names = [
            json.loads(r[0])["row"][1]
            for r in conn.execute("SELECT record_json FROM write_queue ORDER BY seq").fetchall()
        ]
        details = [r[0] for r in conn.execute("SELECT detail FROM audit_log ORDER BY seq").fetchall()]
    return names, details


def test_each_change_and_its_audit_entry_commit_together(
    pool: EnginePool, migrated_url: str, payloads: PayloadStore
) -> None:
    queue, audit = queue_on(pool)
    try:
        futures = [queue.submit(create(queue, payloads, f"change {i}")) for i in range(5)]
        seqs = [f.result(timeout=30) for f in futures]
    finally:
        queue.close()
    assert seqs == [1, 2, 3, 4, 5]
    assert stored(migrated_url) == ([f"change {i}" for i in range(5)], [f"change {i}" for i in range(5)])
    assert [e["detail"] for e in audit.announced] == [f"change {i}" for i in range(5)]
    assert PostgresAuditStore(pool).verify().ok


def test_a_refused_change_leaves_no_audit_entry(
    pool: EnginePool, migrated_url: str, payloads: PayloadStore
) -> None:
    queue, _ = queue_on(pool)
    try:
        first = create(queue, payloads, "first")
        queue.submit(first).result(timeout=30)
        again = new_entry(queue, "upsert", first.record.evolve(display_name="again"), note="again")
        with pytest.raises(EngineError, match="created in the user domain"):
            queue.submit(again).result(timeout=30)
    finally:
        queue.close()
    assert stored(migrated_url) == (["first"], ["first"])


def hold_the_queue(url: str) -> psycopg.Connection:
    """A transaction holding the queue's head row: every commit waits until it ends."""
    conn = psycopg.connect(url)
    conn.execute("UPDATE write_queue_head SET last_seq = last_seq")
    return conn


def test_one_bad_change_does_not_fail_the_others_of_its_batch(
    pool: EnginePool, migrated_url: str, payloads: PayloadStore
) -> None:
    queue, _ = queue_on(pool)
    blocker = hold_the_queue(migrated_url)
    try:
        waiting = queue.submit(create(queue, payloads, "waits"))  # the writer blocks on it
        time.sleep(0.2)  # let the writer take it and block: the next three form one batch
        batch = [queue.submit(create(queue, payloads, note)) for note in ("good 1", "bad \x00", "good 2")]
        blocker.rollback()
        assert waiting.result(timeout=30) == 1
        good = [batch[0].result(timeout=30), batch[2].result(timeout=30)]
        with pytest.raises(EngineError, match="NUL"):
            batch[1].result(timeout=30)
    finally:
        blocker.close()
        queue.close()
    assert sorted(good) == [2, 3]
    assert stored(migrated_url) == (["waits", "good 1", "good 2"], ["waits", "good 1", "good 2"])


@pytest.fixture
def proxy(migrated_url: str) -> Iterator[CuttingProxy]:
    relay = CuttingProxy(migrated_url)
    yield relay
    relay.close()


def cut_commit(proxy: CuttingProxy, queue: PostgresWriteQueue, entry: JournalEntry, when: str) -> Future[int]:
    proxy.armed = when
    future = queue.submit(entry)
    assert proxy.cut.wait(30)
    return future


def test_a_commit_cut_after_the_server_committed_is_acknowledged(
    proxy: CuttingProxy, migrated_url: str, payloads: PayloadStore
) -> None:
    with create_pool(proxy.url, max_size=2) as pool:
        queue, audit = queue_on(pool)
        try:
            future = cut_commit(proxy, queue, create(queue, payloads, "committed"), "after")
            assert future.result(timeout=30) == 1
            assert queue.submit(create(queue, payloads, "next")).result(timeout=30) == 2
        finally:
            queue.close()
    assert stored(migrated_url) == (["committed", "next"], ["committed", "next"])
    assert [e["detail"] for e in audit.announced] == ["committed", "next"]


def test_a_commit_cut_before_it_reached_the_server_says_nothing_was_made(
    proxy: CuttingProxy, migrated_url: str, payloads: PayloadStore
) -> None:
    with create_pool(proxy.url, max_size=2) as pool:
        queue, _ = queue_on(pool)
        try:
            future = cut_commit(proxy, queue, create(queue, payloads, "lost"), "before")
            with pytest.raises(Unavailable, match="nothing was changed"):
                future.result(timeout=30)
            assert queue.submit(create(queue, payloads, "next")).result(timeout=30) == 1
        finally:
            queue.close()
    assert stored(migrated_url) == (["next"], ["next"])


def test_a_commit_that_cannot_be_settled_in_time_says_it_may_have_been_made(
    proxy: CuttingProxy, migrated_url: str, payloads: PayloadStore
) -> None:
    with create_pool(proxy.url, max_size=2, timeout=2) as pool:
        queue, _ = queue_on(pool, settle_seconds=1.0)
        try:
            proxy.refuse = True  # PostgreSQL "is gone" from the moment the commit is cut
            future = cut_commit(proxy, queue, create(queue, payloads, "unknown"), "after")
            with pytest.raises(OutcomeUnknown, match="may or may not have been made") as refused:
                future.result(timeout=30)
            assert refused.value.retry_after
        finally:
            proxy.refuse = False
            queue.close()
    assert stored(migrated_url) == (["unknown"], ["unknown"])  # it had been made


def test_a_change_whose_outcome_is_unknown_keeps_its_payload(
    proxy: CuttingProxy, migrated_url: str, payloads: PayloadStore, tmp_path: Path
) -> None:
    # The change may have been made: deleting its payload, as a refusal does, would leave
    # a committed change pointing at nothing (a CI run caught one after a 15 s outage).
    databases = DomainDatabases(tmp_path / "node", ConnectionOptions())
    databases.validate_all()
    with create_pool(proxy.url, max_size=2, timeout=2) as pool:
        queue, _ = queue_on(pool, settle_seconds=1.0)
        cache = AssemblyCache(databases, queue, payloads, coordinator=queue)
        try:
            record = create(queue, payloads, "unknown").record  # only for its fields
            proxy.armed, proxy.refuse = "after", True
            with pytest.raises(OutcomeUnknown), cache.new_payload(script_content("echo kept")) as ref:
                assert ref is not None
                cache.create(record.evolve(payload=ref))
            assert payloads.exists(ref.payload_guid)
            # A change refused for sure leaves no trace, as before.
            proxy.armed, proxy.refuse = "before", False
            with pytest.raises(Unavailable), cache.new_payload(script_content("echo gone")) as gone:
                assert gone is not None
                cache.create(record.evolve(assembly_guid="f" * 32, payload=gone))
            assert not payloads.exists(gone.payload_guid)
        finally:
            proxy.refuse = False
            cache.close(flush=False)
            databases.close()
    assert stored(migrated_url)[0] == ["unknown"]


def test_the_queue_holds_a_change_only_at_its_own_seq(
    pool: EnginePool, migrated_url: str, payloads: PayloadStore
) -> None:
    # What settles a commit in doubt: after a crash, PostgreSQL may hand the lost
    # transaction's id and seqs to other changes, so only the rows themselves prove it.
    queue, _ = queue_on(pool)
    try:
        made = create(queue, payloads, "made")
        other = create(queue, payloads, "other")
        seq = queue.submit(made).result(timeout=30)
    finally:
        queue.close()
    with pool.connection() as conn:
        assert queue_holds(conn, [(made, seq)])
        assert not queue_holds(conn, [(other, seq)])  # its seq holds another change
        assert not queue_holds(conn, [(made, seq), (other, seq + 1)])  # one of them is absent


def test_a_node_skips_its_own_commits_but_not_the_others(
    pool: EnginePool, migrated_url: str, payloads: PayloadStore
) -> None:
    mine, _ = queue_on(pool)
    with create_pool(migrated_url, max_size=2) as other_pool:
        other, _ = queue_on(other_pool)
        try:
            commits = [
                (queue, queue.submit(create(queue, payloads, name)).result(timeout=30))
                for queue, name in ((mine, "a"), (mine, "b"), (other, "c"), (mine, "d"))
            ]
        finally:
            other.close()
            mine.close()
    assert [seq for _, seq in commits] == [1, 2, 3, 4]
    assert mine.skip_own(0) == 2  # 1 and 2 are its own; 3 is not
    assert mine.skip_own(3) == 4  # after reading 3, its own 4 follows
    assert other.skip_own(2) == 3 and other.skip_own(0) == 0
