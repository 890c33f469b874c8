"""Official sync into the cluster database: the staging folder's rows and history land in
``official`` like in an embedded home, and nodes booting at once rebuild it only once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from psycopg_pool import ConnectionPool

from assembly_engine.config import Settings
from assembly_engine.domain.types import Domain, Integrity
from assembly_engine.storage.contract.errors import Busy
from assembly_engine.storage.contract.reports import SyncReport
from assembly_engine.storage.contract.signatures import SignaturePolicy
from assembly_engine.storage.contract.upstream import UpstreamNote, UpstreamState, with_note
from assembly_engine.storage.official.signing import keygen, sign_root
from assembly_engine.storage.official.sync import seed_community, sync_official
from assembly_engine.storage.official.trust import TrustRules
from assembly_engine.storage.postgresql.domain_store import PostgresDomainStore, PostgresDomainStores
from assembly_engine.storage.postgresql.migrations import LOCK_NAMESPACE
from assembly_engine.storage.postgresql.node import boot_official_sync, mark_staging_synced
from assembly_engine.storage.postgresql.official_sync import OFFICIAL_SYNC_LOCK_KEY, official_sync_lock
from assembly_engine.storage.postgresql.payload_store import PostgresPayloadStore
from assembly_engine.storage.postgresql.pool import connect, create_pool
from assembly_engine.storage.sqlite.databases import ConnectionOptions, DomainDatabase
from assembly_engine.storage.sqlite.payload_folders import PayloadStore
from tests.support import stage, temp_settings


@pytest.fixture
def pool(migrated_url: str) -> Iterator[ConnectionPool]:
    pool = create_pool(migrated_url, min_size=1, max_size=4)
    yield pool
    pool.close()


def test_official_sync_rebuilds_the_cluster_official_rows_with_history(
    pool: ConnectionPool, tmp_path: Path
) -> None:
    staging = tmp_path / "staging"
    runtime_payloads = PayloadStore(tmp_path / "Payloads")  # PostgreSQL's own store is another part
    kept, dropped = stage(staging, Domain.OFFICIAL, ["Kept", "Dropped"])
    official = PostgresDomainStore(pool, Domain.OFFICIAL)
    report = sync_official(staging, official, runtime_payloads, quick=True)
    assert report.matches and not report.reused and report.payloads_copied == 2
    # as staged, plus the vendor note each record keeps (contract/upstream.py)
    assert sorted(with_note(r, None).to_row() for r in official.load()) == sorted(
        [kept.to_row(), dropped.to_row()]
    )
    assert official.stamp() is not None
    assert runtime_payloads.check(kept.payload.payload_guid, kept.payload.checksum) is Integrity.OK

    again = sync_official(staging, official, runtime_payloads, quick=True, present_payloads={"x"})
    assert again.reused and again.matches  # the stamp says the rows are staging's already

    db = DomainDatabase(Domain.OFFICIAL, staging / "official.db", ConnectionOptions())
    db.write([], [dropped.assembly_guid])  # a maintainer drops one from staging
    db.close()
    rebuilt = sync_official(staging, official, runtime_payloads)
    assert rebuilt.matches and rebuilt.removed_upstream == 1
    states = {r.assembly_guid: UpstreamNote.of(r) for r in official.load()}
    assert {g: n.state if n else None for g, n in states.items()} == {
        kept.assembly_guid: UpstreamState.CURRENT,
        dropped.assembly_guid: UpstreamState.REMOVED_UPSTREAM,
    }  # never silently deleted
    assert official.deletion(dropped.assembly_guid) is None
    # its states are kept as revisions, so its payload stays
    assert dropped.payload.payload_guid in official.revision_payloads()
    assert runtime_payloads.exists(dropped.payload.payload_guid)


def test_community_is_seeded_into_the_cluster_database(pool: ConnectionPool, tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    shared = stage(staging, Domain.COMMUNITY, ["Shared"])
    community = PostgresDomainStore(pool, Domain.COMMUNITY)
    assert seed_community(staging, community, PayloadStore(tmp_path / "Payloads")) == 1
    assert community.load() == shared


def _waiting_for_the_sync_lock(url: str) -> bool:
    with connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND classid = %s AND objid = %s",
            (LOCK_NAMESPACE, OFFICIAL_SYNC_LOCK_KEY),
        ).fetchone()
    return bool(row and row[0])


def _boot(node: ConnectionPool, settings: Settings) -> SyncReport:
    """A node's official sync at its start, as open_node makes it (nothing queued)."""
    return boot_official_sync(node, settings, PostgresDomainStores(node), PostgresPayloadStore(node), [])


def test_a_node_booting_meanwhile_waits_then_finds_the_copy_synced(
    migrated_url: str, pool: ConnectionPool, tmp_path: Path
) -> None:
    settings = temp_settings(tmp_path)
    stage(settings.staging_root, Domain.OFFICIAL, ["One", "Two"])
    second_node = create_pool(migrated_url, min_size=1, max_size=2)
    results: list[SyncReport] = []
    try:
        with official_sync_lock(pool):  # the first node, syncing as boot_official_sync does
            waiter = threading.Thread(target=lambda: results.append(_boot(second_node, settings)))
            waiter.start()
            deadline = time.monotonic() + 30
            while not _waiting_for_the_sync_lock(migrated_url):
                assert time.monotonic() < deadline, "the second node never asked for the lock"
            first = sync_official(
                settings.staging_root, PostgresDomainStore(pool, Domain.OFFICIAL), PostgresPayloadStore(pool)
            )
            mark_staging_synced(pool, settings.staging_root)
            assert not results  # still waiting
        waiter.join(timeout=30)
    finally:
        second_node.close()
    assert not first.reused and first.matches
    [second] = results
    assert second.reused  # it found this staging copy synced and rebuilt nothing
    official = PostgresDomainStore(pool, Domain.OFFICIAL)
    assert official.count() == 2
    assert sorted(n for g in official.last_revisions() for n, *_ in official.revisions(g)) == [1, 1]


def test_two_nodes_booting_at_once_rebuild_official_once(
    migrated_url: str, pool: ConnectionPool, tmp_path: Path
) -> None:
    settings = temp_settings(tmp_path)
    stage(settings.staging_root, Domain.OFFICIAL, ["One", "Two", "Three"])
    other = create_pool(migrated_url, min_size=1, max_size=2)
    start = threading.Barrier(2)
    results: list[SyncReport] = []

    def boot(node: ConnectionPool) -> None:
        start.wait()
        results.append(_boot(node, settings))

    try:
        nodes = [threading.Thread(target=boot, args=(p,)) for p in (pool, other)]
        for node in nodes:
            node.start()
        for node in nodes:
            node.join(timeout=60)
    finally:
        other.close()
    assert sorted(r.reused for r in results) == [False, True]
    assert all(r.matches for r in results if not r.reused)
    official = PostgresDomainStore(pool, Domain.OFFICIAL)
    assert official.count() == 3
    assert sorted(n for g in official.last_revisions() for n, *_ in official.revisions(g)) == [1, 1, 1]


def test_a_lock_held_too_long_is_busy(pool: ConnectionPool, migrated_url: str) -> None:
    other = create_pool(migrated_url, min_size=1, max_size=1)
    try:
        with official_sync_lock(pool), pytest.raises(Busy, match="Another node"):
            with official_sync_lock(other, wait_seconds=0.2):
                pass
    finally:
        other.close()


def test_require_refuses_an_unsigned_copy_into_the_cluster_and_keeps_the_signed_library(
    pool: ConnectionPool, tmp_path: Path
) -> None:
    staging = tmp_path / "staging"
    runtime_payloads = PayloadStore(tmp_path / "Payloads")
    first, second = stage(staging, Domain.OFFICIAL, ["First", "Second"])
    key = tmp_path / "keys" / "vendor"
    keygen(key)
    sign_root(staging, key)
    rules = TrustRules(SignaturePolicy.REQUIRE, (key.with_name("vendor.pub"),), tmp_path / "runtime")
    official = PostgresDomainStore(pool, Domain.OFFICIAL)
    signed = sync_official(staging, official, runtime_payloads, trust=rules)
    assert signed.trust is not None and not signed.trust.refused
    assert {signed.trust.status_of(r).value for r in official.load()} == {"verified"}

    db = DomainDatabase(Domain.OFFICIAL, staging / "official.db", ConnectionOptions())
    db.write([], [second.assembly_guid])  # a new copy, not signed again
    db.close()
    (staging / "manifest.sig").unlink()
    refused = sync_official(staging, official, runtime_payloads, trust=rules)
    assert refused.trust is not None and refused.trust.refused
    assert any("not signed" in p for p in refused.trust.problems)
    kept = official.load()
    assert sorted(r.assembly_guid for r in kept) == sorted([first.assembly_guid, second.assembly_guid])
    # the statuses come from the last trusted manifest, kept beside the runtime
    assert {refused.trust.status_of(r).value for r in kept} == {"verified"}

    warned = sync_official(
        staging, official, runtime_payloads, trust=replace(rules, policy=SignaturePolicy.WARN)
    )
    assert warned.trust is not None and not warned.trust.refused and warned.trust.problems
    # the one dropped from the new copy stays, flagged removed_upstream
    notes = {r.assembly_guid: UpstreamNote.of(r) for r in official.load()}
    assert sorted(notes) == sorted([first.assembly_guid, second.assembly_guid])
    assert notes[second.assembly_guid] is not None
    assert notes[second.assembly_guid].state is UpstreamState.REMOVED_UPSTREAM  # type: ignore[union-attr]
    assert {warned.trust.status_of(r).value for r in official.load()} == {"unsigned"}
