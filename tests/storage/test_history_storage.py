"""Version history in storage: the flush writes every revision, official sync keeps the
official history, rows from before history get a baseline, old journals migrate."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from assembly_engine.config import Settings
from assembly_engine.domain.types import Domain
from assembly_engine.storage.contract.upstream import UpstreamNote, UpstreamState
from assembly_engine.storage.runtime import StorageRuntime
from assembly_engine.storage.sqlite.databases import ConnectionOptions, DomainDatabase
from assembly_engine.storage.sqlite.journal import Journal
from assembly_engine.storage.sqlite.payload_folders import PayloadStore
from tests.support import make_record, script_content


def kept(rt: StorageRuntime, domain: Domain, guid: str) -> list[tuple[int, str, str]]:
    """(revision, action, display_name) of the revisions the database holds, oldest first."""
    return [(n, action, json.loads(row)[1]) for n, action, row, _ in rt.databases[domain].revisions(guid)]


def write_staging(settings: Settings, record_rows: list[tuple]) -> None:  # type: ignore[type-arg]
    db = DomainDatabase(Domain.OFFICIAL, settings.staging_root / "official.db", ConnectionOptions())
    db.validate()
    db.write(record_rows, [])
    db.close()


def test_every_change_between_two_flushes_becomes_a_revision(settings: Settings) -> None:
    rt = StorageRuntime.open(settings, start_worker=False)
    try:
        record = make_record(rt.payloads, name="one")
        rt.cache.create(record)
        for name in ("two", "three"):
            rt.cache.update(record.assembly_guid, lambda r, n=name: r.evolve(display_name=n))  # type: ignore[misc]
        rt.cache.flush_now()
        assert kept(rt, Domain.USER, record.assembly_guid) == [
            (1, "create", "one"),
            (2, "update", "two"),
            (3, "update", "three"),
        ]
        rt.cache.flush_now()  # nothing new: nothing written twice
        assert len(kept(rt, Domain.USER, record.assembly_guid)) == 3
    finally:
        rt.close()


def test_a_row_from_before_history_is_kept_as_a_baseline_when_it_changes(settings: Settings) -> None:
    payloads = PayloadStore(settings.payloads_root)
    old = make_record(payloads, Domain.USER, "from an old engine")
    db = DomainDatabase(Domain.USER, settings.runtime_root / "user_created.db", ConnectionOptions())
    db.validate()
    db.write([old.to_row()], [])  # no history tables, no revisions
    db.close()
    rt = StorageRuntime.open(settings, start_worker=False)
    try:
        new_ref = rt.payloads.write_new(script_content("new"))
        rt.cache.update(old.assembly_guid, lambda r: r.evolve(payload=new_ref))
        rt.cache.flush_now()
        assert kept(rt, Domain.USER, old.assembly_guid) == [
            (1, "baseline", "from an old engine"),
            (2, "update", "from an old engine"),
        ]
        assert rt.payloads.exists(old.payload.payload_guid)  # the baseline keeps its folder
    finally:
        rt.close()


def test_official_sync_keeps_the_official_history(settings: Settings) -> None:
    staged_payloads = PayloadStore(settings.staging_root / "Payloads")
    shipped = make_record(staged_payloads, Domain.OFFICIAL, "Shipped")
    write_staging(settings, [shipped.to_row()])
    guid = shipped.assembly_guid
    rt = StorageRuntime.open(settings, start_worker=False)
    try:
        assert kept(rt, Domain.OFFICIAL, guid) == [(1, "official_sync", "Shipped")]
        rt.cache.update(guid, lambda r: r.evolve(display_name="Edited in Dev Mode"))
        rt.cache.flush_now()  # mirrored to staging as revision 2
    finally:
        rt.close()
    # The next boot finds staging changed (the mirror wrote it) but equal to the runtime rows:
    # no new revision.
    rt = StorageRuntime.open(settings, start_worker=False)
    try:
        assert [r[:2] for r in kept(rt, Domain.OFFICIAL, guid)] == [(1, "official_sync"), (2, "update")]
        edited_payload = rt.cache.require(guid).record.payload.payload_guid
    finally:
        rt.close()
    # A maintainer rebuilds staging from sources: the revision starts at 1 again, with new
    # content. The Dev Mode edit stays current (revision 4, flagged update_available), the
    # vendor's new version is kept as revision 3, and revisions 1 and 2 survive the rebuild.
    rebuilt_ref = staged_payloads.write_new(script_content("rebuilt"))
    rebuilt = shipped.evolve(display_name="Rebuilt", payload=rebuilt_ref, revision=1)
    write_staging(settings, [rebuilt.to_row()])
    rt = StorageRuntime.open(settings, start_worker=False)
    try:
        current = rt.cache.require(guid).record
        assert current.revision == 4 and current.display_name == "Edited in Dev Mode"
        note = UpstreamNote.of(current)
        assert note is not None and note.state is UpstreamState.UPDATE_AVAILABLE and note.revision == 3
        assert kept(rt, Domain.OFFICIAL, guid) == [
            (1, "official_sync", "Shipped"),
            (2, "update", "Edited in Dev Mode"),
            (3, "upstream", "Rebuilt"),
            (4, "official_sync", "Edited in Dev Mode"),
        ]
        assert rt.payloads.exists(edited_payload)  # revision 2's folder is kept
        report = rt.resync_official()  # an explicit sync of the same staging adds nothing
        assert report.matches and len(kept(rt, Domain.OFFICIAL, guid)) == 4
        assert rt.cache.require(guid).record.revision == 4
        assert rt.payloads.exists(rebuilt_ref.payload_guid)  # the vendor's version, for take_upstream
    finally:
        rt.close()
    staged = sqlite3.connect(settings.staging_root / "official.db")
    try:  # staging is never rewritten by a sync, and keeps no history
        assert staged.execute("SELECT revision FROM assemblies").fetchall() == [(1,)]
        tables = {r[0] for r in staged.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "revisions" not in tables
    finally:
        staged.close()


def test_a_change_committed_but_not_mirrored_before_a_crash_is_replayed_over_the_sync(
    settings: Settings,
) -> None:
    staged_payloads = PayloadStore(settings.staging_root / "Payloads")
    shipped = make_record(staged_payloads, Domain.OFFICIAL, "Shipped")
    write_staging(settings, [shipped.to_row()])
    guid = shipped.assembly_guid
    rt = StorageRuntime.open(settings, start_worker=False)

    def mirror_dies(*_: object) -> None:
        raise OSError("killed inside the staging mirror")

    try:
        rt.cache.flusher._on_persisted = mirror_dies  # the runtime row (revision 2) commits, staging not
        rt.cache.update(guid, lambda r: r.evolve(display_name="Acknowledged"))
        assert not rt.cache.flush_now(Domain.OFFICIAL)[0].ok
    finally:
        rt.close(flush=False)
    rt = StorageRuntime.open(settings, start_worker=False)
    try:
        current = rt.cache.require(guid).record
        assert (current.revision, current.display_name) == (2, "Acknowledged")
        rt.cache.flusher._on_persisted = None  # no staging mirror: only the runtime history matters here
        rt.cache.flush_now()
        assert [r[:2] for r in kept(rt, Domain.OFFICIAL, guid)] == [(1, "official_sync"), (2, "update")]
    finally:
        rt.close()


def test_an_assembly_dropped_from_staging_is_kept_and_flagged_removed_upstream(settings: Settings) -> None:
    staged_payloads = PayloadStore(settings.staging_root / "Payloads")
    stays, goes = (make_record(staged_payloads, Domain.OFFICIAL, n) for n in ("Stays", "Goes"))
    write_staging(settings, [stays.to_row(), goes.to_row()])
    StorageRuntime.open(settings, start_worker=False).close()
    db = DomainDatabase(Domain.OFFICIAL, settings.staging_root / "official.db", ConnectionOptions())
    db.write([], [goes.assembly_guid])
    db.close()
    rt = StorageRuntime.open(settings, start_worker=False)
    try:
        kept_record = rt.cache.require(goes.assembly_guid).record
        note = UpstreamNote.of(kept_record)
        assert note is not None and note.state is UpstreamState.REMOVED_UPSTREAM
        assert rt.databases[Domain.OFFICIAL].deletion(goes.assembly_guid) is None
        assert [r[:2] for r in kept(rt, Domain.OFFICIAL, goes.assembly_guid)] == [
            (1, "official_sync"),
            (2, "official_sync"),
        ]
        assert rt.payloads.exists(kept_record.payload.payload_guid)
    finally:
        rt.close()


def test_a_journal_from_before_history_gains_the_columns_and_replays(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE journal (seq INTEGER PRIMARY KEY, op TEXT NOT NULL, domain TEXT NOT NULL, "
        "assembly_guid TEXT NOT NULL, record_json TEXT NOT NULL, created_at TEXT NOT NULL, "
        "note TEXT)"
    )
    record = make_record(PayloadStore(tmp_path / "Payloads"), Domain.USER, "old entry")
    conn.execute(
        "INSERT INTO journal VALUES (1, 'upsert', 'user', ?, ?, '2026-01-01T00:00:00.000Z', NULL)",
        (record.assembly_guid, json.dumps(record.to_json())),
    )
    conn.commit()
    conn.close()
    journal = Journal(path, ConnectionOptions())
    try:
        [entry] = journal.pending()
        assert entry.action is None and entry.revision_action == "create"
    finally:
        journal.close()
