"""The embedded backend opened read-only, when a normal start met a full disk.

Only what reading needs is opened, and nothing on disk is created, changed or removed:
the databases and the journal through read_only_open.py, the payload folders as they
are. Skipped, because each writes: the schema step, the official sync and community
seeding, the removal of crash leftovers, the search index (body search answers without
it), the staging mirror and the flush worker. The journal's entries are served from the
cache and stay in the journal; the next start with free space writes them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from assembly_engine.config import Settings
from assembly_engine.domain.types import Domain
from assembly_engine.storage.cache.assembly_cache import AssemblyCache
from assembly_engine.storage.contract.errors import StorageFailed
from assembly_engine.storage.contract.models import PayloadContent, PayloadRef
from assembly_engine.storage.contract.payload_manifest import PayloadImage
from assembly_engine.storage.contract.read_only import ReadOnlyBoot
from assembly_engine.storage.contract.reports import REPORT_ONLY, OrphanSweep, SweepScope, SyncReport
from assembly_engine.storage.sqlite.backend import EmbeddedBackend, connection_options
from assembly_engine.storage.sqlite.databases import DomainDatabases
from assembly_engine.storage.sqlite.journal import JOURNAL_FILE
from assembly_engine.storage.sqlite.payload_folders import PayloadStore as FolderPayloadStore
from assembly_engine.storage.sqlite.read_only_journal import ReadOnlyJournal

log = logging.getLogger("assembly_engine.runtime")


class ReadOnlyPayloads(FolderPayloadStore):
    """The payload folders, read as they are: no folder is written or removed. Removals
    are refused too: with the journal unreadable, a folder only a queued change names
    would look orphaned (an in-process CLI's ``verify --fix`` must not take it)."""

    def __init__(self, root: Path, refusal: StorageFailed) -> None:
        super().__init__(root)
        self._refusal = refusal

    def write_with_guid(self, payload_guid: str, content: PayloadContent) -> PayloadRef:
        raise self._refusal

    def install_copy(self, payload_guid: str, image: PayloadImage) -> None:
        raise self._refusal

    def delete(self, payload_guid: str) -> None:
        raise self._refusal

    def sweep_orphans(self, referenced: set[str], scope: SweepScope = REPORT_ONLY) -> OrphanSweep:
        if scope.remove:
            raise self._refusal
        return super().sweep_orphans(referenced, scope)

    def remove_leftover_temp(
        self, *, min_age_seconds: float = 0.0, listed: Iterable[str] | None = None
    ) -> set[str]:
        raise self._refusal


def open_read_only(settings: Settings, cause: str, *, start_worker: bool) -> EmbeddedBackend:
    """The home's stack for reading only; ``cause`` says why (the full disk)."""
    root = settings.runtime_root
    options = replace(connection_options(settings), read_only=True)
    journal = ReadOnlyJournal(root / JOURNAL_FILE, ReadOnlyBoot(cause).refusal())
    state = ReadOnlyBoot(cause, journal.problem, journal.depth())
    databases = DomainDatabases(root, options)
    try:
        databases.validate_all()
        payloads = ReadOnlyPayloads(settings.payloads_root, state.refusal())
        cache = AssemblyCache(
            databases,
            journal,
            payloads,
            flush_interval=settings.flush_interval,
            change_wait_seconds=settings.lock_retry_seconds,
        )
        counts = cache.hydrate(preloaded={}, present_payloads=payloads.list_names())
        if start_worker:
            cache.start_warming()  # in memory only; no flush worker: nothing may be written
    except BaseException:
        databases.close()
        raise
    log.error("engine started read-only: %s", state.summary())
    log.info("cache hydrated read-only: %s", counts)
    report = SyncReport(staging_count=0, runtime_count=counts.get(Domain.OFFICIAL.value, 0))
    return EmbeddedBackend(settings, databases, journal, payloads, cache, None, report, state)
