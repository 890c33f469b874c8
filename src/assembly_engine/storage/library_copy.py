"""Copying a whole library from one backend to another (``assemblies migrate-storage``).

The target is built from its stores alone (no engine runs on it): an embedded home's
SQLite files and payload folders, or a PostgreSQL database, migrated first. What is
copied, through the storage interfaces only: every domain's rows (as stored, damaged ones
too) with their revisions and deletion rows, every payload byte for byte, the users with
their password hashes and favourites, and the audit chain entry by entry (appended in order to an empty
chain, so the target's chain verifies like the source's). Sessions are not copied: users
sign in again. The source's write queue must be empty (the caller flushes it first).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from assembly_engine.config import Settings
from assembly_engine.domain.clock import utc_now
from assembly_engine.domain.types import Domain, Integrity
from assembly_engine.storage.contract.engine_records import UserChange
from assembly_engine.storage.contract.errors import Conflict
from assembly_engine.storage.contract.history import DeletionRow, HistoryWrite, RevisionRow
from assembly_engine.storage.contract.interfaces import AuditStore, DomainStores, EngineStore, PayloadStore
from assembly_engine.storage.contract.models import PAYLOAD_CHECKSUM_COLUMN, PAYLOAD_GUID_COLUMN
from assembly_engine.storage.formats.audit_chain import FIELDS
from assembly_engine.storage.official.sync import staging_fingerprint
from assembly_engine.storage.sqlite.databases import DomainDatabases

CHUNK = 2000  # rows per write transaction
_CHAIN_FIELDS = ("seq", "prev_hash", "hash")


class TargetNotEmpty(Conflict):
    """The target already holds a library; nothing was copied."""


@dataclass
class LibraryStores:
    """Every store of one library, opened outside an engine."""

    where: str
    databases: DomainStores
    payloads: PayloadStore
    engine: EngineStore
    audit: AuditStore
    # Called once the rows are in: what a backend must do before an engine opens it.
    settle: Callable[[], None] = lambda: None
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in reversed(self.closers):
            close()


def open_embedded(home: Path, settings: Settings) -> LibraryStores:
    from assembly_engine.storage.sqlite.audit_log import HashChainedLog
    from assembly_engine.storage.sqlite.backend import AUDIT_FILE, connection_options
    from assembly_engine.storage.sqlite.engine_store import SqliteEngineStore
    from assembly_engine.storage.sqlite.payload_folders import PayloadStore as FolderPayloadStore

    target = settings.with_overrides(home=home, database_url=None)
    target.runtime_root.mkdir(parents=True, exist_ok=True)
    databases = DomainDatabases(target.runtime_root, connection_options(target))
    databases.validate_all()
    engine = SqliteEngineStore(target.engine_db_path, target.sqlite_busy_timeout_ms)

    def settle() -> None:
        # The copied official rows count as synced with the staging copy the settings
        # name, so the first start does not rebuild them from it.
        stamp = staging_fingerprint(settings.staging_root)
        if stamp is not None:
            databases[Domain.OFFICIAL].set_stamp(stamp)

    return LibraryStores(
        where=f"embedded home {home}",
        databases=databases,
        payloads=FolderPayloadStore(target.payloads_root),
        engine=engine,
        audit=HashChainedLog(target.logs_dir / AUDIT_FILE),
        settle=settle,
        closers=[databases.close, engine.close],
    )


def open_cluster(url: str, staging_root: Path) -> LibraryStores:
    from assembly_engine.database_url import redact
    from assembly_engine.storage.postgresql.audit_store import PostgresAuditStore
    from assembly_engine.storage.postgresql.domain_store import PostgresDomainStores
    from assembly_engine.storage.postgresql.engine_store import PostgresEngineStore
    from assembly_engine.storage.postgresql.node import mark_staging_synced
    from assembly_engine.storage.postgresql.payload_store import PostgresPayloadStore
    from assembly_engine.storage.postgresql.pool import create_pool, migrate_database
    from assembly_engine.storage.postgresql.write_queue import PostgresWriteQueue

    migrate_database(url)
    pool = create_pool(url, max_size=4)
    databases = PostgresDomainStores(pool)
    queue = PostgresWriteQueue(pool)

    def settle() -> None:
        for domain in Domain:  # the copied rows are the revision heads
            queue.adopt_domain_rows(domain)
        mark_staging_synced(pool, staging_root)  # the first node does not rebuild official

    return LibraryStores(
        where=f"PostgreSQL {redact(url)}",
        databases=databases,
        payloads=PostgresPayloadStore(pool),
        engine=PostgresEngineStore(pool),
        audit=PostgresAuditStore(pool),
        settle=settle,
        closers=[pool.close, queue.close, databases.close],
    )


def holdings(stores: LibraryStores) -> dict[str, int]:
    """What a library holds, counted the same way on every backend."""
    counts = {d.value: stores.databases[d].count() for d in Domain}
    counts["revisions"] = sum(len(stores.databases[d].revision_refs()) for d in Domain)
    counts["deleted"] = sum(len(stores.databases[d].deletions()) for d in Domain)
    counts["payloads"] = len(stores.payloads.list_guids())
    counts["users"] = stores.engine.count_users()
    counts["favourites"] = sum(
        len(stores.engine.list_favourites(u.username)) for u in stores.engine.list_users()
    )
    counts["audit_entries"] = len(stores.audit.entries())
    return counts


def _chunks(items: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def _history(source: Any) -> tuple[list[RevisionRow], list[DeletionRow]]:
    revisions: list[RevisionRow] = []
    for guid in source.last_revisions():
        for revision, action, row_json, recorded_at in source.revisions(guid):
            payload_guid = json.loads(row_json)[PAYLOAD_GUID_COLUMN]
            revisions.append((guid, revision, action, row_json, str(payload_guid), recorded_at))
    return revisions, list(source.deletions())


def copy_library(source: LibraryStores, target: LibraryStores, progress: Callable[[str], None]) -> None:
    """Copy everything ``source`` holds into the empty ``target``."""
    already = {k: v for k, v in holdings(target).items() if v}
    if already:
        held = ", ".join(f"{v} {k}" for k, v in already.items())
        raise TargetNotEmpty(f"{target.where} already holds a library ({held}); nothing was copied")
    guids = sorted(source.payloads.list_guids())
    progress(f"copying {len(guids)} payload(s)")
    for guid in guids:
        source.payloads.copy_to(guid, target.payloads)
    for domain in Domain:
        rows = source.databases[domain].load_rows()
        revisions, deletions = _history(source.databases[domain])
        progress(f"copying {domain.value}: {len(rows)} assemblies, {len(revisions)} revisions")
        for chunk in _chunks(rows):
            target.databases[domain].write(chunk, [])
        for chunk in _chunks(revisions):
            target.databases[domain].write([], [], history=HistoryWrite(revisions=chunk))
        if deletions:
            target.databases[domain].write([], [], history=HistoryWrite(deletions=deletions))
    target.settle()
    users = source.engine.list_users()
    progress(f"copying {len(users)} user(s) (sessions are not copied: users sign in again)")
    for user in users:
        target.engine.insert_user(
            user.username,
            user.password_hash,
            user.role,
            user.created_at,
            must_change_password=user.must_change_password,
        )
        if user.disabled:
            target.engine.update_user(user.username, user.updated_at, UserChange(disabled=True))
        favourites = source.engine.list_favourites(user.username)
        for favourite in reversed(favourites):  # oldest first; each keeps when it was starred
            target.engine.add_favourite(
                user.username, favourite.assembly_guid, favourite.added_at, len(favourites)
            )
    entries = source.audit.entries()
    progress(f"copying {len(entries)} audit entr(y/ies)")
    for entry in entries:
        target.audit.append({k: entry.get(k) for k in FIELDS if k not in _CHAIN_FIELDS})


@dataclass(frozen=True)
class CopyCheck:
    counts: dict[str, tuple[int, int]]  # what -> (source, target)
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def check_copy(source: LibraryStores, target: LibraryStores) -> CopyCheck:
    """Counts on both sides, every payload's checksum in the target, the target's chain."""
    before, after = holdings(source), holdings(target)
    counts = {k: (before[k], after[k]) for k in before}
    # The target's chain has the source's entries, then the one saying it was migrated.
    problems = [
        f"{what}: {a} in the source, {b} in the target"
        for what, (a, b) in counts.items()
        if a != b and what != "audit_entries"
    ]
    for domain in Domain:
        for row in target.databases[domain].load_rows():
            guid, checksum = row[PAYLOAD_GUID_COLUMN], row[PAYLOAD_CHECKSUM_COLUMN]
            try:
                integrity = target.payloads.check(str(guid), checksum)
            except ValueError:  # a damaged row's payload id: copied as it was
                continue
            if integrity is not Integrity.OK and source.payloads.check(str(guid), checksum) is Integrity.OK:
                problems.append(f"{domain.value} {row[0]}: payload {guid} is {integrity.value} in the target")
    verdict = target.audit.verify()
    if not verdict.ok:
        problems.append(f"the target's audit chain does not verify: {verdict.problem}")
    return CopyCheck(counts, problems)


def record_migration(target: LibraryStores, source: LibraryStores) -> None:
    """End the target's chain with an entry saying where its library came from."""
    fields: dict[str, Any] = {k: None for k in FIELDS if k not in _CHAIN_FIELDS}
    fields.update(
        time=utc_now(),
        action="storage.migrate",
        outcome="success",
        dev_mode=False,
        detail=f"library copied from {source.where} to {target.where}",
    )
    target.audit.append(fields)
