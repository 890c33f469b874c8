"""Which payloads the library references, and what retention removes.

Storage owns a payload's whole life: it is written with the change that introduces it and
removed when that change is refused (``AssemblyCache.new_payload``), and removed by
retention only when no record, queued change or kept revision points at it any more.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from assembly_engine.domain.types import Domain
from assembly_engine.storage.cache.assembly_cache import AssemblyCache
from assembly_engine.storage.contract.interfaces import DomainStores, PayloadStore, WriteJournal
from assembly_engine.storage.contract.models import PAYLOAD_CHECKSUM_COLUMN, PAYLOAD_GUID_COLUMN
from assembly_engine.storage.contract.payload_manifest import PayloadError
from assembly_engine.storage.contract.reports import PayloadReference, PruneReport

log = logging.getLogger("assembly_engine.retention")


class LibraryPayloads:
    def __init__(
        self, databases: DomainStores, journal: WriteJournal, cache: AssemblyCache, payloads: PayloadStore
    ) -> None:
        self._databases = databases
        self._journal = journal
        self._cache = cache
        self._payloads = payloads

    def in_use(self, *, exclude_domain: Domain | None = None) -> set[str]:
        """What the live records (but those of ``exclude_domain``) and every queued change
        point at."""
        return (
            self._cache.referenced_payloads(exclude_domain=exclude_domain)
            | self._journal.referenced_payloads()
        )

    def referenced(self) -> set[str]:
        """Every payload anything points at: live records, queued changes, database rows
        and kept revisions (nothing here may be removed)."""
        found = self.in_use()
        for db in self._databases:
            found |= db.revision_payloads()
            found.update(row[PAYLOAD_GUID_COLUMN] for row in db.load_rows())
        return found

    def references(self) -> Iterator[PayloadReference]:
        """Every reference to a payload, where a restart, a restore or an undelete would
        find it: the cache, each database row, each kept revision, each queued change."""
        for item in self._cache.items():
            ref = item.record.payload
            yield PayloadReference(
                "cache",
                item.assembly_guid,
                item.record.display_name,
                item.domain,
                ref.payload_guid,
                ref.checksum,
            )
        for domain in Domain:
            db = self._databases[domain]
            for row in db.load_rows():
                yield PayloadReference(
                    "database", row[0], row[1], domain, row[PAYLOAD_GUID_COLUMN], row[PAYLOAD_CHECKSUM_COLUMN]
                )
            for kept in db.revision_refs():
                record = kept.record(domain)
                yield PayloadReference(
                    "history",
                    kept.assembly_guid,
                    record.display_name,
                    domain,
                    kept.payload_guid,
                    record.payload.checksum,
                )
        for queued in self._journal.pending():
            record = queued.record
            yield PayloadReference(
                "journal",
                record.assembly_guid,
                record.display_name,
                record.domain,
                record.payload.payload_guid,
                record.payload.checksum,
            )

    def prune(self, *, keep: int | None, deleted_before: str | None) -> PruneReport:
        """Keep the newest ``keep`` revisions of each assembly (None: all), purge assemblies
        deleted before ``deleted_before`` (None: none), and remove the payload folders
        nothing points at any more. Flushes wait meanwhile, so no row moves under it."""
        revisions_removed = purged = 0
        candidates: set[str] = set()
        removed: list[str] = []
        live: Callable[[str], bool] = self._cache.is_cached
        with self._cache.flushes_paused():
            for db in self._databases:
                r, p, folders = db.prune_history(keep=keep, deleted_before=deleted_before, live=live)
                revisions_removed += r
                purged += p
                candidates |= folders
            if candidates:
                for payload_guid in sorted(candidates - self.referenced()):
                    try:
                        self._payloads.delete(payload_guid)
                        removed.append(payload_guid)
                    except (PayloadError, OSError) as exc:  # an orphan for `verify --fix`
                        log.warning("retention: could not remove payload %s: %s", payload_guid, exc)
        if revisions_removed or purged:
            log.info(
                "retention: %d revision(s) and %d deleted assembly(ies) removed, %d payload folder(s)",
                revisions_removed,
                purged,
                len(removed),
            )
        return PruneReport(revisions_removed, purged, removed)
