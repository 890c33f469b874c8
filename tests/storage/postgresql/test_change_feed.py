"""Two caches (two nodes) on one shared write queue, kept in step by their change feeds.

Each node here keeps its domain rows in its own SQLite files: what is shared and checked
is the queue, the revision heads and the feed (the domain tables have their own tests)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from assembly_engine.domain.types import Domain
from assembly_engine.storage.cache.assembly_cache import AssemblyCache, AssemblyNotFound, StaleRevision
from assembly_engine.storage.postgresql.change_feed import FEED_APPLICATION_NAME, ChangeFeed
from assembly_engine.storage.postgresql.pool import create_pool
from assembly_engine.storage.postgresql.write_queue import PostgresWriteQueue
from assembly_engine.storage.sqlite.databases import ConnectionOptions, DomainDatabases
from assembly_engine.storage.sqlite.payload_folders import PayloadStore
from tests.support import make_record, wait_until


@dataclass
class Node:
    cache: AssemblyCache
    feed: ChangeFeed
    queue: PostgresWriteQueue


@pytest.fixture
def nodes(migrated_url: str, tmp_path: Path) -> Iterator[list[Node]]:
    payloads = PayloadStore(tmp_path / "Payloads")
    made: list[Node] = []
    closers = []
    for name in ("a", "b"):
        pool = create_pool(migrated_url, max_size=4)
        queue = PostgresWriteQueue(pool)
        databases = DomainDatabases(tmp_path / name, ConnectionOptions())
        databases.validate_all()
        cache = AssemblyCache(databases, queue, payloads, coordinator=queue)
        start = queue.last_seq()
        cache.hydrate({}, payloads.list_guids())
        feed = ChangeFeed(
            migrated_url,
            queue,
            cache,
            applied_seq=start,
            reload_all=lambda c=cache: c.hydrate({}, payloads.list_guids()),
            poll_seconds=5.0,  # long: the tests see notifications do the work
        )
        feed.start()
        wait_until(feed.connected.is_set, "the feed to listen")
        made.append(Node(cache, feed, queue))
        closers.append((feed, cache, databases, pool))
    yield made
    for feed, cache, databases, pool in closers:
        feed.stop()
        cache.close(flush=False)
        databases.close()
        pool.close()


def test_a_change_through_one_node_is_served_by_the_other(nodes: list[Node], tmp_path: Path) -> None:
    a, b = nodes
    record = make_record(PayloadStore(tmp_path / "Payloads"), Domain.USER, "Propagated")
    a.cache.create(record)
    seen = wait_until(lambda: b.cache.get(record.assembly_guid), "node B to see the create")
    assert seen.record == a.cache.require(record.assembly_guid).record
    assert seen.state.is_dirty
    a.cache.update(record.assembly_guid, lambda r: r.evolve(display_name="Renamed"), expected_revision=1)
    wait_until(
        lambda: b.cache.require(record.assembly_guid).record.display_name == "Renamed", "B to see the update"
    )
    a.cache.delete(record.assembly_guid, expected_revision=2)
    wait_until(lambda: b.cache.get(record.assembly_guid) is None, "B to see the delete")
    assert b.cache.depth() == a.cache.depth() == 1  # the delete is queued on both


def test_a_stale_revision_through_the_other_node_is_refused(nodes: list[Node], tmp_path: Path) -> None:
    a, b = nodes
    record = make_record(PayloadStore(tmp_path / "Payloads"), Domain.USER, "Contended")
    a.cache.create(record)
    wait_until(lambda: b.cache.get(record.assembly_guid), "B to see the create")
    b.feed.stop()  # B stays behind: it plans on revision 1 while A already made 2
    a.cache.update(record.assembly_guid, lambda r: r.evolve(summary="A's"), expected_revision=1)
    with pytest.raises(StaleRevision, match="current revision is 2"):
        b.cache.update(record.assembly_guid, lambda r: r.evolve(summary="B's"), expected_revision=1)
    # Without an expected revision B plans again on what A made, and succeeds.
    done = b.cache.update(record.assembly_guid, lambda r: r.evolve(summary="B's"))
    assert (done.record.revision, done.record.summary) == (3, "B's")


def test_a_delete_elsewhere_refuses_an_update(nodes: list[Node], tmp_path: Path) -> None:
    a, b = nodes
    record = make_record(PayloadStore(tmp_path / "Payloads"), Domain.USER, "Removed")
    a.cache.create(record)
    wait_until(lambda: b.cache.get(record.assembly_guid), "B to see the create")
    b.feed.stop()
    a.cache.delete(record.assembly_guid)
    with pytest.raises(AssemblyNotFound):
        b.cache.update(record.assembly_guid, lambda r: r.evolve(summary="too late"))


def test_a_flush_by_one_node_is_seen_by_the_other(nodes: list[Node], tmp_path: Path) -> None:
    a, b = nodes
    record = make_record(PayloadStore(tmp_path / "Payloads"), Domain.USER, "Flushed")
    b.cache.create(record)
    wait_until(lambda: a.cache.get(record.assembly_guid), "A to see the create")
    [result] = a.cache.flush_now(Domain.USER)
    assert result.persisted == 1
    wait_until(lambda: not b.cache.require(record.assembly_guid).state.is_dirty, "B to see the flush")
    assert b.cache.depth() == 0
    wait_until(lambda: b.cache.queue_status().domains[2].last_flush, "B to show the flush's time")


def test_a_node_cut_off_from_notifications_catches_up(
    nodes: list[Node], tmp_path: Path, migrated_url: str
) -> None:
    a, b = nodes
    with psycopg.connect(migrated_url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (FEED_APPLICATION_NAME,),
        )
    payloads = PayloadStore(tmp_path / "Payloads")
    records = [make_record(payloads, Domain.USER, f"while away {i}") for i in range(20)]
    for record in records:
        a.cache.create(record)
    wait_until(lambda: all(b.cache.get(r.assembly_guid) for r in records), "B to catch up")
    assert b.feed.applied_seq == a.queue.last_seq()


def test_a_node_does_not_read_back_its_own_changes(nodes: list[Node], tmp_path: Path) -> None:
    a, b = nodes
    reads: dict[str, int] = {"a": 0, "b": 0}
    for name, node in (("a", a), ("b", b)):
        original = node.queue.changes_after

        def counted(seq: int, limit: int = 1000, name: str = name, original=original):  # type: ignore[no-untyped-def]
            reads[name] += 1
            return original(seq, limit)

        node.queue.changes_after = counted  # type: ignore[method-assign]
    payloads = PayloadStore(tmp_path / "Payloads")
    records = [make_record(payloads, Domain.USER, f"Own {i}") for i in range(5)]
    for record in records:
        a.cache.create(record)
    wait_until(lambda: all(b.cache.get(r.assembly_guid) for r in records), "B to see A's creates")
    wait_until(lambda: a.feed.applied_seq == 5, "A's feed to count its own changes as applied")
    # Five notifications of its own needed no read (one poll tick, every 5 s, may fall in).
    assert reads["a"] <= 1
    assert reads["b"] >= 1
    # Another node's change after them is read as ever.
    other = make_record(payloads, Domain.USER, "From B")
    b.cache.create(other)
    wait_until(lambda: a.cache.get(other.assembly_guid), "A to see B's create")
    assert reads["a"] >= 1
