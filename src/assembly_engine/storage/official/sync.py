"""Official sync: the runtime official library is rebuilt from the staging copy.

At every boot (and on demand) the runtime official rows (``official.db``, or any other
DomainStore: the cluster's ``official`` schema) are purged and repopulated from the
staging root, and the payloads they need are mirrored into the runtime payload store.
A sync stamps the runtime rows with the staging file's identity; a boot that finds that
stamp (any later change to the rows, even by hand, erases it) knows the runtime rows are
already exactly staging's and only restores payloads gone missing.
Community and user databases are never overwritten: community is seeded from staging only
when the runtime has none. Official writes made in Dev Mode are mirrored
back to the staging copy once persisted, so maintainers can commit them.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import replace
from operator import itemgetter
from pathlib import Path
from typing import Any

from assembly_engine.domain.types import DATABASE_FILES, Domain
from assembly_engine.storage.contract.interfaces import DomainStore
from assembly_engine.storage.contract.interfaces import PayloadStore as AnyPayloadStore
from assembly_engine.storage.contract.models import (
    PAYLOAD_CHECKSUM_COLUMN,
    PAYLOAD_GUID_COLUMN,
    AssemblyRecord,
)
from assembly_engine.storage.contract.reports import SyncReport
from assembly_engine.storage.official.trust import TrustRules, judge_staging, keep_trusted
from assembly_engine.storage.official.upgrade import plan_upgrade
from assembly_engine.storage.sqlite.databases import (
    ConnectionOptions,
    DomainDatabase,
    finish_interrupted_write,
    read_staging,
)
from assembly_engine.storage.sqlite.payload_folders import PayloadError, PayloadStore

log = logging.getLogger("assembly_engine.official_sync")


def _load_domain(root: Path, domain: Domain) -> list[AssemblyRecord]:
    path = root / DATABASE_FILES[domain]
    return read_staging(path, domain) if path.exists() else []


def staging_fingerprint(staging_root: Path) -> str | None:
    """The identity of the staging official database file as it is now (and of its WAL,
    if one holds anything: a reader of a WAL-mode file leaves an empty one behind).

    Device, inode, size, modification and change times: any write or replacement changes
    the change time (``st_ctime``, which no tool can set back), so an equal fingerprint
    means the very same bytes, at the cost of a ``stat`` instead of hashing the file."""
    path = staging_root / DATABASE_FILES[Domain.OFFICIAL]
    if not path.exists():
        return None
    parts = []
    for part in (path, path.with_name(path.name + "-wal")):
        if part.exists() and (info := part.stat()).st_size > 0:
            parts.append(
                f"{part.name}:{info.st_dev}:{info.st_ino}:{info.st_size}:"
                f"{info.st_mtime_ns}:{info.st_ctime_ns}"
            )
    return "staging-file:" + ";".join(parts)


def sync_official(
    staging_root: Path,
    runtime_db: DomainStore,
    runtime_payloads: AnyPayloadStore,
    *,
    keep_payloads: set[str] | frozenset[str] = frozenset(),
    quick: bool = False,
    present_payloads: set[str] | frozenset[str] = frozenset(),
    queued: set[str] | frozenset[str] = frozenset(),
    trust: TrustRules | None = None,
) -> SyncReport:
    """Purge runtime official and repopulate it (rows + payloads) from staging.

    ``trust`` (the signature policy and keys, official/trust.py) is applied first: under
    ``require`` an untrusted staging copy is refused and the runtime is left exactly as it
    was; the report's ``trust`` says why, and is the signature state of what official holds.

    ``keep_payloads`` are payload folders that must survive even if no official row uses
    them any more (queued journal entries still point at them). ``quick`` (used at boot)
    skips the rows when the runtime's stamp shows they are staging's already, and trusts
    a runtime payload folder that is present (``present_payloads``: the names the caller
    listed in the runtime payload folder) or whose manifest is identical to
    staging's; content is verified on every read anyway, and an explicit sync repairs.
    ``queued`` are the GUIDs with changes still in the journal (replayed on top of the
    result, so the sync records no history for them and keeps staging's revision).
    """
    finish_interrupted_write(staging_root / DATABASE_FILES[Domain.OFFICIAL])  # before its identity
    rules = trust or TrustRules()
    verdict = judge_staging(staging_root, rules, quick=quick)
    if verdict.refused:
        rows = runtime_db.load_rows()
        return SyncReport(
            staging_count=len(rows), runtime_count=len(rows), rows=rows, reused=True, trust=verdict.trust
        )
    report = _sync(staging_root, runtime_db, runtime_payloads, keep_payloads, quick, present_payloads, queued)
    report.trust = verdict.trust
    if not report.problems:
        keep_trusted(verdict, rules)
    return report


def _sync(
    staging_root: Path,
    runtime_db: DomainStore,
    runtime_payloads: AnyPayloadStore,
    keep_payloads: set[str] | frozenset[str],
    quick: bool,
    present_payloads: set[str] | frozenset[str],
    queued: set[str] | frozenset[str],
) -> SyncReport:
    fingerprint = staging_fingerprint(staging_root)
    if fingerprint is None:
        log.warning("no staging official library at %s; official stays empty", staging_root)
    staging_payloads = PayloadStore(staging_root / "Payloads")
    present = present_payloads if quick else frozenset()
    if quick and fingerprint is not None and runtime_db.stamp() == fingerprint:
        return _restore_missing_payloads(runtime_db.load_rows(), present, staging_payloads, runtime_payloads)
    previous_rows = runtime_db.load_rows()
    upgrade = plan_upgrade(_load_domain(staging_root, Domain.OFFICIAL), previous_rows, runtime_db, queued)
    staged, history = upgrade.records, upgrade.history
    staging_count = len(staged) - upgrade.removed_upstream
    # payload_guid -> checksum of what the runtime rows pointed at
    mirrored = {row[PAYLOAD_GUID_COLUMN]: row[PAYLOAD_CHECKSUM_COLUMN] for row in previous_rows}
    previous = set(mirrored)
    staged_rows = [r.to_row() for r in staged]
    report = SyncReport(
        staging_count=staging_count,
        runtime_count=0,
        rows=staged_rows,
        removed_upstream=upgrade.removed_upstream,
        update_available=upgrade.update_available,
    )
    for record in upgrade.from_staging:  # local records kept over the vendor's need no copy
        guid = record.payload.payload_guid
        if guid in present and mirrored.get(guid) == record.payload.checksum:
            continue  # mirrored at an earlier boot; folders are write-once
        try:
            already = runtime_payloads.exists(guid)
            staging_payloads.copy_to(guid, runtime_payloads, trust_identical=quick)
            report.payloads_copied += 0 if already else 1
        except PayloadError as exc:
            message = f"{record.display_name} ({record.assembly_guid}): staging payload {guid}: {exc}"
            report.problems.append(message)
            log.warning("official sync: %s", message)
    stamp = fingerprint if fingerprint is not None and not report.problems else None
    if sorted(previous_rows) != sorted(staged_rows):
        # an unchanged library is not rewritten
        runtime_db.replace_all(staged, stamp=stamp, history=history)
    elif stamp is not None and runtime_db.stamp() != stamp:
        runtime_db.set_stamp(stamp)
    wanted = {r.payload.payload_guid for r in staged} | runtime_db.revision_payloads()
    for guid in sorted(previous - wanted - set(keep_payloads)):
        try:
            runtime_payloads.delete(guid)
        except PayloadError as exc:  # a malformed id in an old row: nothing of ours to remove
            log.warning("official sync: not removing payload %r: %s", guid, exc)
            continue
        report.payloads_removed += 1
    report.runtime_count = runtime_db.count()
    log.info(
        "official sync: %d staged, %d in runtime, %d payload(s) copied, %d removed; "
        "%d kept with an update available, %d kept although removed upstream",
        report.staging_count,
        report.runtime_count,
        report.payloads_copied,
        report.payloads_removed,
        report.update_available,
        report.removed_upstream,
    )
    return report


def _restore_missing_payloads(
    rows: list[tuple[Any, ...]],
    present: set[str] | frozenset[str],
    staging_payloads: PayloadStore,
    runtime_payloads: AnyPayloadStore,
) -> SyncReport:
    """The boot of an already synced library: copy back only payload folders gone missing."""
    report = SyncReport(staging_count=len(rows), runtime_count=len(rows), rows=rows, reused=True)
    all_present = present.issuperset(map(itemgetter(PAYLOAD_GUID_COLUMN), rows))
    for row in rows if not all_present else ():
        guid = row[PAYLOAD_GUID_COLUMN]
        if guid in present:
            continue
        try:
            staging_payloads.copy_to(guid, runtime_payloads)
            report.payloads_copied += 1
        except PayloadError as exc:
            message = f"{row[1]} ({row[0]}): staging payload {guid}: {exc}"
            report.problems.append(message)
            log.warning("official sync: %s", message)
    log.info(
        "official sync: runtime already holds staging's %d assemblies (stamp matches); "
        "%d payload(s) restored",
        len(rows),
        report.payloads_copied,
    )
    return report


def seed_community(
    staging_root: Path,
    runtime_db: DomainStore,
    runtime_payloads: AnyPayloadStore,
) -> int:
    """Fill a newly created runtime community.db from staging (if staging ships one)."""
    staged = _load_domain(staging_root, Domain.COMMUNITY)
    if not staged:
        return 0
    staging_payloads = PayloadStore(staging_root / "Payloads")
    for record in staged:
        try:
            staging_payloads.copy_to(record.payload.payload_guid, runtime_payloads)
        except PayloadError as exc:
            log.warning("community seed: %s: %s", record.assembly_guid, exc)
    runtime_db.write([r.to_row() for r in staged], [])
    log.info("seeded community with %d assemblies from staging", len(staged))
    return len(staged)


def write_staging_copy(
    destination: Path,
    records: Sequence[AssemblyRecord],
    payloads: AnyPayloadStore,
    options: ConnectionOptions,
) -> int:
    """Write ``records`` (the official domain) and their payloads as a new staging copy in
    ``destination`` (absent or empty), the layout official sync reads; returns how many.
    Cluster mode has no staging mirror: this is how its official content goes back to a
    staging folder."""
    if destination.exists() and any(destination.iterdir()):
        raise FileExistsError(f"{destination} is not empty; name a new folder")
    destination.mkdir(parents=True, exist_ok=True)
    staging_payloads = PayloadStore(destination / "Payloads")
    for record in records:
        payloads.copy_to(record.payload.payload_guid, staging_payloads)
    db = DomainDatabase(
        Domain.OFFICIAL,
        destination / DATABASE_FILES[Domain.OFFICIAL],
        replace(options, shared_cache=False, wal=False),
    )
    try:
        db.validate()
        db.write([r.to_row() for r in records], [])
    finally:
        db.close()
    return len(records)


class StagingMirror:
    """Writes persisted official changes back into the staging copy."""

    def __init__(
        self, staging_root: Path, runtime_payloads: AnyPayloadStore, options: ConnectionOptions
    ) -> None:
        self.staging_root = staging_root
        self._runtime_payloads = runtime_payloads
        self._staging_payloads = PayloadStore(staging_root / "Payloads")
        # Opened on the first official write only, so a boot leaves the staging file untouched;
        # kept in rollback-journal mode so the committed file stays a single file.
        self._options = replace(options, shared_cache=False, wal=False)
        self._db: DomainDatabase | None = None

    def __call__(
        self,
        domain: Domain,
        upserts: Sequence[AssemblyRecord],
        deletes: Sequence[AssemblyRecord],
    ) -> None:
        if domain is not Domain.OFFICIAL:
            return
        if self._db is None:
            self._db = DomainDatabase(
                Domain.OFFICIAL, self.staging_root / DATABASE_FILES[Domain.OFFICIAL], self._options
            )
            self._db.validate()
        db = self._db
        before = {r.assembly_guid: r.payload.payload_guid for r in db.load()}
        for record in upserts:
            self._runtime_payloads.copy_to(record.payload.payload_guid, self._staging_payloads)
        db.write([r.to_row() for r in upserts], [r.assembly_guid for r in deletes])
        now_used = {r.payload.payload_guid for r in db.load()}
        for guid in set(before.values()) - now_used:
            self._staging_payloads.delete(guid)
        log.info(
            "mirrored %d official change(s) to staging %s", len(upserts) + len(deletes), self.staging_root
        )

    def close(self) -> None:
        if self._db is not None:
            self._db.close()


def staging_content(staging_root: Path) -> str | None:
    """What the staging copy holds (ids, revisions, payload checksums), as one hash that is
    the same on every machine with the same copy; None without a staging copy."""
    path = staging_root / DATABASE_FILES[Domain.OFFICIAL]
    if not path.exists():
        return None
    digest = hashlib.sha256()
    for record in sorted(read_staging(path, Domain.OFFICIAL), key=lambda r: r.assembly_guid):
        digest.update(
            f"{record.assembly_guid}:{record.revision}:{record.updated_at}:{record.payload.checksum}\n".encode()
        )
    return digest.hexdigest()
