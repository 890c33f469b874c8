"""AssemblyCache + write queue against real SQLite files in temporary roots."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest

from assembly_engine.config import Settings
from assembly_engine.domain.types import DATABASE_FILES, Domain, Integrity
from assembly_engine.storage.cache.assembly_cache import (
    AssemblyCache,
    AssemblyExists,
    AssemblyNotFound,
    StaleRevision,
)
from assembly_engine.storage.contract.queue_status import DomainQueue
from assembly_engine.storage.contract.upstream import UpstreamNote, UpstreamState
from assembly_engine.storage.runtime import EngineLocked, StorageRuntime
from assembly_engine.storage.sqlite.databases import ConnectionOptions, DomainDatabase, connect
from assembly_engine.storage.sqlite.journal import Journal
from assembly_engine.storage.sqlite.payload_folders import PayloadStore
from tests.support import make_record, script_content, wait_until


def user_queue(cache: AssemblyCache) -> DomainQueue:
    return next(q for q in cache.queue_status().domains if q.domain is Domain.USER)


def rows(path: Path) -> dict[str, tuple]:
    conn = sqlite3.connect(path)
    try:
        query = "SELECT assembly_guid, display_name, revision FROM assemblies"
        return {r[0]: r for r in conn.execute(query)}
    finally:
        conn.close()


@pytest.fixture
def runtime(settings: Settings) -> Iterator[StorageRuntime]:
    rt = StorageRuntime.open(settings, start_worker=False)
    yield rt
    rt.close()


def seed_staging_official(settings: Settings, names: list[str]) -> list[str]:
    store = PayloadStore(settings.staging_root / "Payloads")
    db = DomainDatabase(Domain.OFFICIAL, settings.staging_root / "official.db", ConnectionOptions())
    db.validate()
    records = [make_record(store, Domain.OFFICIAL, name) for name in names]
    db.write([r.to_row() for r in records], [])
    db.close()
    return [r.assembly_guid for r in records]


def test_hydrates_all_three_domains_with_their_tags(settings: Settings) -> None:
    official = seed_staging_official(settings, ["Official A", "Official B"])
    # community and user rows written directly into the runtime databases
    root = settings.runtime_root
    payloads = PayloadStore(settings.payloads_root)
    community = make_record(payloads, Domain.COMMUNITY, "Shared")
    user = make_record(payloads, Domain.USER, "Mine")
    for domain, record in ((Domain.COMMUNITY, community), (Domain.USER, user)):
        db = DomainDatabase(domain, root / DATABASE_FILES[domain], ConnectionOptions())
        db.validate()
        db.write([record.to_row()], [])
        db.close()
    rt = StorageRuntime.open(settings, start_worker=False)
    try:
        assert rt.cache.counts() == {"official": 2, "community": 1, "user": 1}
        for guid in official:
            found = rt.cache.require(guid)
            assert found.domain is Domain.OFFICIAL and not found.state.is_dirty
        assert rt.cache.require(community.assembly_guid).domain is Domain.COMMUNITY
        assert rt.cache.require(user.assembly_guid).domain is Domain.USER
        assert rt.cache.require(user.assembly_guid).state.last_persisted is not None
        assert (root / "official.db").exists() and (root / "community.db").exists()
        assert (root / "user_created.db").exists() and (root / "Payloads").is_dir()
    finally:
        rt.close()


def test_mutation_is_dirty_until_flushed(runtime: StorageRuntime, settings: Settings) -> None:
    record = make_record(runtime.payloads)
    created = runtime.cache.create(record)
    assert created.state.is_dirty and created.state.dirty_since
    assert rows(settings.runtime_root / "user_created.db") == {}
    assert len(user_queue(runtime.cache).changes) == 1
    [_, _, result] = runtime.cache.flush_now()
    assert result.ok and result.persisted == 1
    after = runtime.cache.require(record.assembly_guid)
    assert not after.state.is_dirty and after.state.dirty_since is None
    assert after.state.last_persisted is not None
    assert record.assembly_guid in rows(settings.runtime_root / "user_created.db")
    assert runtime.journal.depth() == 0


def test_a_change_made_while_a_flush_writes_stays_queued(
    runtime: StorageRuntime,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The flush writes the rows it took; a change that lands meanwhile is flushed next."""
    record = make_record(runtime.payloads, name="before")
    runtime.cache.create(record)
    database = runtime.databases[Domain.USER]
    write = database.write

    def write_then_change(*args, **kwargs):  # type: ignore[no-untyped-def]
        write(*args, **kwargs)
        monkeypatch.setattr(database, "write", write)
        runtime.cache.update(record.assembly_guid, lambda r: r.evolve(display_name="during"))

    monkeypatch.setattr(database, "write", write_then_change)
    runtime.cache.flush_now()
    db_file = settings.runtime_root / "user_created.db"
    assert rows(db_file)[record.assembly_guid][1:] == ("before", 1)
    during = runtime.cache.require(record.assembly_guid)
    assert during.state.is_dirty and during.record.revision == 2
    assert runtime.cache.depth() == 1
    runtime.cache.flush_now()
    assert rows(db_file)[record.assembly_guid][1:] == ("during", 2)
    assert not runtime.cache.require(record.assembly_guid).state.is_dirty


def test_reads_return_copies(runtime: StorageRuntime) -> None:
    record = make_record(runtime.payloads).evolve(metadata_json=json.dumps({"sites": ["1"]}))
    runtime.cache.create(record)
    first = runtime.cache.require(record.assembly_guid)
    first.record.metadata["sites"].append("2")
    with pytest.raises(AttributeError):
        first.record.display_name = "changed"  # type: ignore[misc]
    assert runtime.cache.require(record.assembly_guid).record.metadata == {"sites": ["1"]}


def test_flush_runs_on_the_interval(settings: Settings) -> None:
    rt = StorageRuntime.open(settings.with_overrides(flush_interval=0.2))
    try:
        record = make_record(rt.payloads)
        rt.cache.create(record)
        wait_until(lambda: not rt.cache.require(record.assembly_guid).state.is_dirty, "the flush")
        assert record.assembly_guid in rows(settings.runtime_root / "user_created.db")
    finally:
        rt.close()


def test_flush_at_shutdown(settings: Settings) -> None:
    rt = StorageRuntime.open(settings)
    record = make_record(rt.payloads)
    rt.cache.create(record)
    rt.close()
    assert record.assembly_guid in rows(settings.runtime_root / "user_created.db")
    rt = StorageRuntime.open(settings, start_worker=False)
    try:
        assert rt.journal.depth() == 0
        assert not rt.cache.require(record.assembly_guid).state.is_dirty
    finally:
        rt.close()


def test_unflushed_changes_are_replayed_from_the_journal(settings: Settings) -> None:
    rt = StorageRuntime.open(settings, start_worker=False)
    record = make_record(rt.payloads, name="Before")
    rt.cache.create(record)
    rt.cache.update(record.assembly_guid, lambda r: r.evolve(display_name="After"))
    doomed = make_record(rt.payloads, name="Doomed")
    rt.cache.create(doomed)
    rt.cache.delete(doomed.assembly_guid)
    rt.close(flush=False)  # as if the process died before any flush
    assert rows(settings.runtime_root / "user_created.db") == {}
    rt = StorageRuntime.open(settings, start_worker=False)
    try:
        found = rt.cache.require(record.assembly_guid)
        assert found.record.display_name == "After" and found.record.revision == 2
        assert found.state.is_dirty
        assert rt.cache.get(doomed.assembly_guid) is None
        rt.cache.flush_now()
        assert rows(settings.runtime_root / "user_created.db") == {
            record.assembly_guid: (record.assembly_guid, "After", 2)
        }
        # the deleted assembly keeps its history, and with it its payload folder
        assert rt.payloads.exists(doomed.payload.payload_guid)
        deletion = rt.databases[Domain.USER].deletion(doomed.assembly_guid)
        assert deletion is not None and deletion.revision == 1  # at revision 1
    finally:
        rt.close()


def test_stale_revision_and_missing_guid_are_refused(runtime: StorageRuntime) -> None:
    record = make_record(runtime.payloads)
    runtime.cache.create(record)
    runtime.cache.update(record.assembly_guid, lambda r: r.evolve(summary="one"), expected_revision=1)
    with pytest.raises(StaleRevision) as info:
        runtime.cache.update(record.assembly_guid, lambda r: r.evolve(summary="two"), expected_revision=1)
    assert "current revision is 2" in str(info.value)
    assert runtime.cache.require(record.assembly_guid).record.summary == "one"
    with pytest.raises(AssemblyExists):
        runtime.cache.create(record)
    with pytest.raises(AssemblyNotFound):
        runtime.cache.delete("f" * 32)


def test_superseded_payload_is_kept_by_the_history(runtime: StorageRuntime) -> None:
    record = make_record(runtime.payloads, text="v1")
    runtime.cache.create(record)
    runtime.cache.flush_now()
    new_ref = runtime.payloads.write_new(script_content("v2"))
    runtime.cache.update(record.assembly_guid, lambda r: r.evolve(payload=new_ref))
    assert runtime.payloads.exists(record.payload.payload_guid)  # old row still points at it
    runtime.cache.flush_now()
    # revision 1 is kept, so is the folder it points at
    assert runtime.payloads.read(record.payload.payload_guid).text == "v1"
    assert runtime.payloads.read(new_ref.payload_guid).text == "v2"
    kept = runtime.databases[Domain.USER].revisions(record.assembly_guid)
    assert [(r[0], r[1]) for r in kept] == [(1, "create"), (2, "update")]


def test_failed_journal_append_rolls_back(runtime: StorageRuntime, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def broken_submit(entry):  # type: ignore[no-untyped-def]
        future: Future[int] = Future()
        future.set_exception(OSError(28, "No space left on device"))
        return future

    monkeypatch.setattr(runtime.journal, "submit", broken_submit)
    record = make_record(runtime.payloads)
    with pytest.raises(OSError):
        runtime.cache.create(record)
    assert runtime.cache.get(record.assembly_guid) is None
    assert runtime.cache.depth() == 0


def test_locked_domain_keeps_entries_queued_and_other_domains_flush(settings: Settings) -> None:
    settings = settings.with_overrides(sqlite_busy_timeout_ms=50, lock_retry_seconds=0.5)
    rt = StorageRuntime.open(settings, start_worker=False)
    try:
        user = make_record(rt.payloads, Domain.USER, "User one")
        community = make_record(rt.payloads, Domain.COMMUNITY, "Community one")
        rt.cache.create(user)
        rt.cache.create(community)
        holder = connect(
            settings.runtime_root / "user_created.db",
            ConnectionOptions(shared_cache=False, busy_timeout_ms=50),
        )
        holder.execute("BEGIN IMMEDIATE")
        results = {r.domain: r for r in rt.cache.flush_now()}
        assert results[Domain.USER].busy and not results[Domain.USER].ok
        assert results[Domain.COMMUNITY].ok and results[Domain.COMMUNITY].persisted == 1
        assert rt.cache.require(user.assembly_guid).state.is_dirty
        assert not rt.cache.require(community.assembly_guid).state.is_dirty
        assert user_queue(rt.cache).last_error
        holder.execute("COMMIT")
        holder.close()
        assert all(r.ok for r in rt.cache.flush_now())
        assert user.assembly_guid in rows(settings.runtime_root / "user_created.db")
        assert rt.cache.depth() == 0
    finally:
        rt.close()


def test_worker_retries_a_failed_flush(settings: Settings) -> None:
    settings = settings.with_overrides(flush_interval=0.3, sqlite_busy_timeout_ms=20, lock_retry_seconds=0.1)
    rt = StorageRuntime.open(settings)
    try:
        holder = connect(
            settings.runtime_root / "user_created.db",
            ConnectionOptions(shared_cache=False, busy_timeout_ms=20),
        )
        holder.execute("BEGIN IMMEDIATE")
        record = make_record(rt.payloads)
        rt.cache.create(record)
        wait_until(lambda: user_queue(rt.cache).last_error is not None, "the failed flush")
        holder.execute("COMMIT")
        holder.close()
        wait_until(lambda: not rt.cache.require(record.assembly_guid).state.is_dirty, "the flush")
    finally:
        rt.close()


def test_second_engine_on_the_same_root_is_refused(runtime: StorageRuntime, settings: Settings) -> None:
    with pytest.raises(EngineLocked) as info:
        StorageRuntime.open(settings)
    assert "already running" in str(info.value) and "ENGINE_HOME" in str(info.value)


def test_missing_payload_is_flagged_at_hydration(settings: Settings) -> None:
    rt = StorageRuntime.open(settings, start_worker=False)
    record = make_record(rt.payloads)
    rt.cache.create(record)
    rt.close()
    rt.payloads.delete(record.payload.payload_guid)
    rt = StorageRuntime.open(settings, start_worker=False)
    try:
        assert rt.cache.require(record.assembly_guid).state.integrity is Integrity.MISSING
    finally:
        rt.close()


def test_official_sync_rebuilds_runtime_and_flush_mirrors_back_to_staging(settings: Settings) -> None:
    [guid] = seed_staging_official(settings, ["Shipped"])
    rt = StorageRuntime.open(settings, start_worker=False)
    try:
        assert rt.backend.boot_sync.staging_count == 1 and rt.backend.boot_sync.matches
        rt.cache.update(guid, lambda r: r.evolve(display_name="Shipped v2"))
        added = make_record(rt.payloads, Domain.OFFICIAL, "Added in Dev Mode")
        rt.cache.create(added)
        rt.cache.flush_now(Domain.OFFICIAL)
    finally:
        rt.close()
    staged = rows(settings.staging_root / "official.db")
    assert staged[guid][1] == "Shipped v2" and added.assembly_guid in staged
    assert (settings.staging_root / "Payloads" / added.payload.payload_guid).is_dir()
    # a runtime-only row (not in staging) is kept at the next boot, flagged removed_upstream
    extra = make_record(PayloadStore(settings.payloads_root), Domain.OFFICIAL, "Runtime only")
    db = DomainDatabase(Domain.OFFICIAL, settings.runtime_root / "official.db", ConnectionOptions())
    db.write([extra.to_row()], [])
    db.close()
    rt = StorageRuntime.open(settings, start_worker=False)
    try:
        note = UpstreamNote.of(rt.cache.require(extra.assembly_guid).record)
        assert note is not None and note.state is UpstreamState.REMOVED_UPSTREAM
        assert rt.cache.counts()["official"] == 3
        assert rt.databases[Domain.OFFICIAL].deletion(extra.assembly_guid) is None
        assert rt.payloads.exists(extra.payload.payload_guid)
    finally:
        rt.close()


def test_community_is_never_overwritten(settings: Settings) -> None:
    rt = StorageRuntime.open(settings, start_worker=False)
    mine = make_record(rt.payloads, Domain.COMMUNITY, "Curated")
    rt.cache.create(mine)
    rt.close()
    rt = StorageRuntime.open(settings, start_worker=False)
    try:
        assert rt.cache.require(mine.assembly_guid).domain is Domain.COMMUNITY
    finally:
        rt.close()


def test_journal_groups_concurrent_appends(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from assembly_engine.storage.contract.journal_entry import new_entry

    journal = Journal(tmp_path / "journal.db", ConnectionOptions())
    store = PayloadStore(tmp_path / "Payloads")
    record = make_record(store)
    with ThreadPoolExecutor(16) as pool:
        futures = [
            pool.submit(lambda: journal.submit(new_entry(journal, "upsert", record)).result())
            for _ in range(200)
        ]
        seqs = sorted(f.result() for f in futures)
    assert seqs == list(range(1, 201))
    assert journal.depth() == 200
    journal.close()


def test_generation_moves_with_every_visible_change(runtime: StorageRuntime) -> None:
    seen = [runtime.cache.generation]

    def moved() -> bool:
        current = runtime.cache.generation
        changed = current != seen[-1]
        seen.append(current)
        return changed

    record = make_record(runtime.payloads)
    runtime.cache.create(record)
    assert moved()
    assert not moved()  # reads do not move it
    runtime.cache.items()
    assert not moved()
    runtime.cache.flush_now()  # is_dirty changes
    assert moved()
    runtime.cache.set_integrity(record.assembly_guid, Integrity.MISSING)
    assert moved()
    runtime.cache.delete(record.assembly_guid)
    assert moved()


@pytest.mark.parametrize("name", ["Plain", "Ünïcödé ✓ 名前", "lone \ud800 surrogate"])
def test_journal_entries_read_back_as_written(tmp_path: Path, name: str) -> None:
    """The writer thread encodes records with orjson and falls back to json for what orjson
    refuses (a lone surrogate): either way the replayed record equals the submitted one."""
    from assembly_engine.storage.contract.journal_entry import new_entry

    journal = Journal(tmp_path / "journal.db", ConnectionOptions())
    record = make_record(PayloadStore(tmp_path / "Payloads"), name=name)
    journal.submit(new_entry(journal, "upsert", record)).result()
    journal.close()
    reopened = Journal(tmp_path / "journal.db", ConnectionOptions())
    try:
        (entry,) = reopened.pending()
        assert entry.record == record
    finally:
        reopened.close()
