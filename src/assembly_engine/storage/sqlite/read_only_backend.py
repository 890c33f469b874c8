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
from dataclasses import replace

from assembly_engine.config import Settings
from assembly_engine.domain.types import Domain
from assembly_engine.storage.cache.assembly_cache import AssemblyCache
from assembly_engine.storage.contract.read_only import ReadOnlyBoot
from assembly_engine.storage.contract.reports import SyncReport
from assembly_engine.storage.sqlite.backend import EmbeddedBackend, connection_options
from assembly_engine.storage.sqlite.databases import DomainDatabases
from assembly_engine.storage.sqlite.journal import JOURNAL_FILE
from assembly_engine.storage.sqlite.payload_folders import PayloadStore as FolderPayloadStore
from assembly_engine.storage.sqlite.read_only_journal import ReadOnlyJournal

log = logging.getLogger("assembly_engine.runtime")


def open_read_only(settings: Settings, cause: str, *, start_worker: bool) -> EmbeddedBackend:
    """The home's stack for reading only; ``cause`` says why (the full disk)."""
    root = settings.runtime_root
    options = replace(connection_options(settings), read_only=True)
    journal = ReadOnlyJournal(root / JOURNAL_FILE, ReadOnlyBoot(cause).refusal())
    state = ReadOnlyBoot(cause, journal.problem, journal.depth())
    databases = DomainDatabases(root, options)
    try:
        databases.validate_all()
        payloads = FolderPayloadStore(settings.payloads_root)
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
