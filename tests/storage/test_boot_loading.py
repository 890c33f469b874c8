"""Boot loading: the official stamp that lets a restart skip re-syncing unchanged rows,
and cache entries built from their rows on demand or by the background warmer."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from assembly_engine.config import Settings
from assembly_engine.domain.types import Domain, Integrity
from assembly_engine.storage.contract.models import AssemblyRecord
from assembly_engine.storage.contract.upstream import UpstreamNote, UpstreamState, with_note
from assembly_engine.storage.sqlite.databases import ConnectionOptions, DomainDatabase
from assembly_engine.storage.sqlite.payload_folders import PayloadStore
from tests.storage.support import boot, runtime_official, stage_official, write_rows
from tests.support import make_record


def without_note_of(record: AssemblyRecord) -> AssemblyRecord:
    return with_note(record, None)


def names_in(path: Path) -> dict[str, str]:
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT assembly_guid, display_name FROM assemblies").fetchall())
    finally:
        conn.close()


def test_a_restart_reuses_official_rows_stamped_by_the_last_sync(settings: Settings) -> None:
    shipped = stage_official(settings, ["Shipped A", "Shipped B"])
    first = boot(settings)
    try:
        assert not first.backend.boot_sync.reused and first.backend.boot_sync.matches
    finally:
        first.close()
    again = boot(settings)
    try:
        assert again.backend.boot_sync.reused and again.backend.boot_sync.matches
        assert again.cache.counts()["official"] == 2
        for record in shipped:  # as staged, plus the vendor note the sync keeps
            assert without_note_of(again.cache.require(record.assembly_guid).record) == record
    finally:
        again.close()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE assemblies SET display_name = 'edited by hand'",
        "DELETE FROM assemblies WHERE rowid = (SELECT MIN(rowid) FROM assemblies)",
        "INSERT INTO assemblies SELECT * FROM assemblies LIMIT 0",  # no row: the stamp stays
    ],
)
def test_any_change_to_runtime_official_rows_erases_the_stamp(settings: Settings, statement: str) -> None:
    shipped = stage_official(settings, ["Shipped"])
    boot(settings).close()
    conn = sqlite3.connect(runtime_official(settings))
    with conn:
        changed = conn.execute(statement).rowcount
    conn.close()
    rt = boot(settings)
    try:
        assert rt.backend.boot_sync.reused is (changed == 0)
        # A deleted row is back from staging; a row edited here is a local edit of an
        # assembly the vendor did not change, and a sync never loses a local edit.
        expected = "edited by hand" if statement.startswith("UPDATE") else "Shipped"
        assert names_in(runtime_official(settings)) == {shipped[0].assembly_guid: expected}
        assert rt.cache.require(shipped[0].assembly_guid).record.display_name == expected
    finally:
        rt.close()


def test_a_runtime_official_row_not_in_staging_is_kept_flagged_removed_upstream(settings: Settings) -> None:
    # Never silently deleted (Docs/official-library.md, "Upgrades"): a row staging does not
    # hold is kept and flagged; only an admin deletes it.
    stage_official(settings, ["Shipped"])
    boot(settings).close()
    extra = make_record(PayloadStore(settings.payloads_root), Domain.OFFICIAL, "Smuggled in")
    db = DomainDatabase(Domain.OFFICIAL, runtime_official(settings), ConnectionOptions())
    assert db.stamp() is not None
    db.write([extra.to_row()], [])
    assert db.stamp() is None
    db.close()
    rt = boot(settings)
    try:
        assert not rt.backend.boot_sync.reused
        kept = rt.cache.require(extra.assembly_guid).record
        note = UpstreamNote.of(kept)
        assert note is not None and note.state is UpstreamState.REMOVED_UPSTREAM
        assert rt.backend.boot_sync.removed_upstream == 1 and rt.backend.boot_sync.matches
    finally:
        rt.close()


def test_changed_staging_is_synced_again(settings: Settings) -> None:
    stage_official(settings, ["Shipped"])
    boot(settings).close()
    [added] = stage_official(settings, ["Shipped later"])  # appended to the staging file
    rt = boot(settings)
    try:
        assert not rt.backend.boot_sync.reused
        assert rt.cache.counts()["official"] == 2
        assert rt.cache.require(added.assembly_guid).record.display_name == "Shipped later"
    finally:
        rt.close()
    rt = boot(settings)
    try:
        assert rt.backend.boot_sync.reused  # and stamped again for the next restart
    finally:
        rt.close()


def test_a_missing_official_payload_folder_is_restored_on_a_reusing_boot(settings: Settings) -> None:
    [shipped] = stage_official(settings, ["Shipped"])
    boot(settings).close()
    shutil.rmtree(settings.payloads_root / shipped.payload.payload_guid)
    rt = boot(settings)
    try:
        assert rt.backend.boot_sync.reused and rt.backend.boot_sync.payloads_copied == 1
        assert rt.cache.require(shipped.assembly_guid).state.integrity is Integrity.OK
        assert rt.payloads.read(shipped.payload.payload_guid).text == "Write-Host 'hi'\n"
    finally:
        rt.close()


def test_entries_are_built_when_first_needed(settings: Settings) -> None:
    payloads = PayloadStore(settings.payloads_root)
    users = [make_record(payloads, Domain.USER, f"User {i}") for i in range(5)]
    gone = make_record(payloads, Domain.USER, "Payload gone")
    shutil.rmtree(settings.payloads_root / gone.payload.payload_guid)
    settings.runtime_root.mkdir(parents=True, exist_ok=True)
    write_rows(settings.runtime_root / "user_created.db", Domain.USER, [*users, gone])
    rt = boot(settings)  # no worker, no warmer: nothing is built until asked for
    try:
        cache = rt.cache
        assert not cache.wait_warm(0)
        assert cache.counts()["user"] == 6 and cache.depth() == 0
        first = cache.require(users[0].assembly_guid)
        assert first.record == users[0] and not first.state.is_dirty
        assert first.state.last_persisted == users[0].updated_at
        assert cache.require(gone.assembly_guid).state.integrity is Integrity.MISSING
        updated = cache.update(
            users[1].assembly_guid,
            lambda r: r.evolve(display_name="Renamed"),
            expected_revision=users[1].revision,
        )
        assert updated.record.revision == users[1].revision + 1 and updated.state.is_dirty
        assert not cache.wait_warm(0)
        # What the search index asks at boot: every live payload, nothing built for it.
        cache.delete(users[2].assembly_guid, expected_revision=users[2].revision)
        expected = {r.payload.payload_guid for r in [*users, gone] if r is not users[2]}
        assert cache.live_payloads() == expected
        assert not cache.wait_warm(0)
        listed = {a.assembly_guid: a for a in cache.items(Domain.USER)}  # builds the rest
        assert cache.wait_warm(0)
        assert set(listed) == {r.assembly_guid for r in [*users, gone] if r is not users[2]}
        assert listed[users[1].assembly_guid].record.display_name == "Renamed"
        assert cache.counts()["user"] == 5 and cache.depth() == 2
    finally:
        rt.close()


def test_the_warmer_builds_every_entry_in_the_background(settings: Settings) -> None:
    payloads = PayloadStore(settings.payloads_root)
    records = [make_record(payloads, Domain.COMMUNITY, f"Shared {i}") for i in range(30)]
    settings.runtime_root.mkdir(parents=True, exist_ok=True)
    write_rows(settings.runtime_root / "community.db", Domain.COMMUNITY, records)
    rt = boot(settings)
    try:
        rt.cache.start_warming(delay=0)
        assert rt.cache.wait_warm(timeout=30)
        assert {a.assembly_guid for a in rt.cache.items()} == {r.assembly_guid for r in records}
    finally:
        rt.close()


def test_an_id_in_two_domains_keeps_the_higher_domain(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    payloads = PayloadStore(settings.payloads_root)
    community = make_record(payloads, Domain.COMMUNITY, "Community copy")
    user = make_record(payloads, Domain.USER, "User copy", guid=community.assembly_guid)
    settings.runtime_root.mkdir(parents=True, exist_ok=True)
    write_rows(settings.runtime_root / "community.db", Domain.COMMUNITY, [community])
    write_rows(settings.runtime_root / "user_created.db", Domain.USER, [user])
    rt = boot(settings)
    try:
        kept = rt.cache.require(community.assembly_guid)
        assert kept.domain is Domain.COMMUNITY and kept.record.display_name == "Community copy"
        assert rt.cache.counts() == {"official": 0, "community": 1, "user": 0}
        assert community.assembly_guid in caplog.text and "keeping the community copy" in caplog.text
    finally:
        rt.close()


def test_a_first_boot_seeds_community_with_readable_intact_assemblies(settings: Settings) -> None:
    store = PayloadStore(settings.staging_root / "Payloads")
    shared = [make_record(store, Domain.COMMUNITY, f"Shared {i}") for i in range(3)]
    write_rows(settings.staging_root / "community.db", Domain.COMMUNITY, shared)
    rt = boot(settings)
    try:
        assert rt.cache.counts()["community"] == 3
        for record in shared:
            found = rt.cache.require(record.assembly_guid)
            assert found.state.integrity is Integrity.OK, "seeded payloads were copied before loading"
            assert rt.payloads.read(record.payload.payload_guid).text == "Write-Host 'hi'\n"
    finally:
        rt.close()
