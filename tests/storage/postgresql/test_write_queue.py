"""The shared write queue: what two nodes on one PostgreSQL database may and may not do."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from assembly_engine.domain.types import Domain
from assembly_engine.storage.contract.errors import ChangedElsewhere
from assembly_engine.storage.contract.journal_entry import JournalEntry, new_entry
from assembly_engine.storage.contract.models import COLUMNS, AssemblyRecord
from assembly_engine.storage.postgresql.pool import create_pool
from assembly_engine.storage.postgresql.write_queue import CHANGES_CHANNEL, PostgresWriteQueue
from assembly_engine.storage.sqlite.payload_folders import PayloadStore
from tests.support import make_record


@pytest.fixture
def pools(migrated_url: str) -> Iterator[list[ConnectionPool]]:
    """Two nodes' pools on one database."""
    made = [create_pool(migrated_url, max_size=4) for _ in range(2)]
    yield made
    for pool in made:
        pool.close()


@pytest.fixture
def queues(pools: list[ConnectionPool]) -> Iterator[list[PostgresWriteQueue]]:
    made = [PostgresWriteQueue(pool) for pool in pools]
    yield made
    for queue in made:
        queue.close()


@pytest.fixture
def payloads(tmp_path: Path) -> PayloadStore:
    return PayloadStore(tmp_path / "Payloads")


def change(queue: PostgresWriteQueue, op: str, record: AssemblyRecord, base: int | None) -> JournalEntry:
    return new_entry(queue, op, record, base_revision=base)


def commit(queue: PostgresWriteQueue, entry: JournalEntry) -> int:
    return queue.submit(entry).result(timeout=30)


def test_the_same_revision_is_accepted_once_across_nodes(
    queues: list[PostgresWriteQueue], payloads: PayloadStore
) -> None:
    a, b = queues
    record = make_record(payloads, Domain.USER, "Shared")
    commit(a, change(a, "upsert", record, None))
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def update(queue: PostgresWriteQueue, name: str) -> None:
        entry = change(queue, "upsert", record.evolve(display_name=name, revision=2), 1)
        barrier.wait()
        try:
            outcomes.append(commit(queue, entry))
        except ChangedElsewhere as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=update, args=(q, n)) for q, n in ((a, "from A"), (b, "from B"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    refused = [o for o in outcomes if isinstance(o, ChangedElsewhere)]
    assert len(refused) == 1 and len(outcomes) == 2
    assert "current revision is 2" in refused[0].message
    assert [e.record.revision for e in a.pending()] == [1, 2]


def test_one_id_is_created_once_even_in_two_domains(
    queues: list[PostgresWriteQueue], payloads: PayloadStore
) -> None:
    a, b = queues
    record = make_record(payloads, Domain.USER, "Twice")
    commit(a, change(a, "upsert", record, None))
    with pytest.raises(ChangedElsewhere, match="created in the user domain"):
        commit(b, change(b, "upsert", record.evolve(domain=Domain.COMMUNITY), None))
    with pytest.raises(ChangedElsewhere):
        commit(b, change(b, "upsert", record, None))


def test_a_deleted_assembly_cannot_be_updated_but_can_be_created_again(
    queues: list[PostgresWriteQueue], payloads: PayloadStore
) -> None:
    a, b = queues
    record = make_record(payloads, Domain.USER, "Gone")
    commit(a, change(a, "upsert", record, None))
    commit(a, change(a, "delete", record, 1))
    with pytest.raises(ChangedElsewhere, match="deleted through another engine node"):
        commit(b, change(b, "upsert", record.evolve(revision=2), 1))
    assert commit(b, change(b, "upsert", record.evolve(revision=2), None)) == 3


def test_a_refused_change_leaves_the_others_of_its_batch(
    queues: list[PostgresWriteQueue], payloads: PayloadStore
) -> None:
    a, _ = queues
    kept = make_record(payloads, Domain.USER, "Kept")
    stale = make_record(payloads, Domain.USER, "Stale")
    commit(a, change(a, "upsert", stale, None))
    futures = [
        a.submit(change(a, "upsert", kept, None)),
        a.submit(change(a, "upsert", stale.evolve(revision=3), 2)),
    ]
    assert futures[0].result(timeout=30) == 2
    with pytest.raises(ChangedElsewhere):
        futures[1].result(timeout=30)
    assert [e.assembly_guid for e in a.pending()] == [stale.assembly_guid, kept.assembly_guid]
    assert a.last_seq() == 2  # a refused change takes no number: numbers stay gapless


def test_rows_written_without_the_queue_are_adopted_as_heads(
    queues: list[PostgresWriteQueue], payloads: PayloadStore, migrated_url: str
) -> None:
    a, _ = queues
    record = make_record(payloads, Domain.OFFICIAL, "Synced").evolve(revision=4)
    columns = ", ".join(COLUMNS)
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        conn.execute(
            f"INSERT INTO official.assemblies ({columns}) VALUES ({', '.join(['%s'] * 18)})", record.to_row()
        )
    with pytest.raises(ChangedElsewhere, match="current revision is 4"):
        commit(a, change(a, "upsert", record.evolve(revision=3), 2))
    assert commit(a, change(a, "upsert", record.evolve(revision=5), 4)) == 1


def test_flushed_changes_stay_readable_in_order_until_purged(
    queues: list[PostgresWriteQueue], payloads: PayloadStore
) -> None:
    a, b = queues
    records = [make_record(payloads, Domain.USER, f"r{i}") for i in range(3)]
    seqs = [commit(a, change(a, "upsert", r, None)) for r in records]
    a.discard([(records[0].assembly_guid, seqs[0])])
    assert a.depth() == 2
    changes = b.changes_after(0)
    assert [(e.seq, flushed is not None) for e, flushed in changes] == [(1, True), (2, False), (3, False)]
    assert set(b.flushed(seqs)) == {1}
    b.retention_seconds = 0
    b.discard([(records[2].assembly_guid, seqs[2])])
    # The purge keeps the newest change, so a catch-up always finds where it stands.
    assert [e.seq for e, _ in a.changes_after(0)] == [2, 3]
    assert set(a.flushed(seqs)) == {1, 3}  # a purged change was flushed


def test_one_node_flushes_at_a_time(queues: list[PostgresWriteQueue]) -> None:
    a, b = queues
    with a.flush_turn() as mine:
        assert mine
        with b.flush_turn() as theirs:
            assert not theirs
    with b.flush_turn() as theirs:
        assert theirs


def test_a_commit_notifies_its_last_number(
    queues: list[PostgresWriteQueue], payloads: PayloadStore, migrated_url: str
) -> None:
    a, _ = queues
    with psycopg.connect(migrated_url, autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANGES_CHANNEL}")
        seq = commit(a, change(a, "upsert", make_record(payloads, Domain.USER, "Heard"), None))
        [heard] = list(listener.notifies(timeout=10, stop_after=1))
    assert heard.payload == str(seq)


def test_flush_state_is_shared(queues: list[PostgresWriteQueue]) -> None:
    a, b = queues
    a.record_flush(Domain.USER, "2026-12-01T10:00:00.000Z", None)
    a.record_flush(Domain.USER, None, "locked")
    assert b.flush_states() == {Domain.USER: ("2026-12-01T10:00:00.000Z", "locked")}
