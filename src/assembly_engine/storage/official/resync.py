"""An official sync asked for while the engine runs (Dev Mode or the CLI).

The runtime official library is rebuilt from staging atomically with respect to the
write queue: no flush runs and no official change starts meanwhile, queued official
changes are written (and mirrored to staging) first, and if that fails nothing is
touched. Payloads that any other record, or any change still queued, points at are never
removed. A refused staging copy (signatures) leaves official exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from assembly_engine.domain.types import Domain
from assembly_engine.storage.cache.assembly_cache import AssemblyCache
from assembly_engine.storage.contract.errors import Busy
from assembly_engine.storage.contract.interfaces import DomainStores, PayloadStore, WriteJournal
from assembly_engine.storage.contract.reports import SyncReport
from assembly_engine.storage.contract.signatures import OfficialTrust, untrusted_refusal
from assembly_engine.storage.library_payloads import LibraryPayloads
from assembly_engine.storage.official.sync import sync_official
from assembly_engine.storage.official.trust import TrustRules


class OfficialSyncRefused(Busy):
    """Queued official changes could not be written first: nothing was synced."""


@dataclass(frozen=True)
class RunningLibrary:
    """What a sync touches in a running engine, and the backend's part in it."""

    cache: AssemblyCache
    journal: WriteJournal
    databases: DomainStores
    payloads: PayloadStore
    sync_lock: Callable[[], AbstractContextManager[None]]  # one sync at a time (a cluster: one node)
    rebuilt: Callable[[], None]  # told once official's rows are rebuilt (a cluster tells the others)


def resync_official(
    staging_root: Path, rules: TrustRules, running: RunningLibrary, on_trust: Callable[[OfficialTrust], None]
) -> SyncReport:
    """Rebuild runtime official from ``staging_root``; ``on_trust`` hears the staging
    copy's signature state, refused or not."""
    cache = running.cache
    with cache.flushes_paused(), cache.domain_paused(Domain.OFFICIAL):
        for result in cache.flush_paused(Domain.OFFICIAL):
            if not result.ok or result.refused:
                why = result.error or "; ".join(f"{g}: {e}" for g, e in result.refused)
                raise OfficialSyncRefused(
                    f"Queued official changes could not be written first ({why}); nothing "
                    "was synced. Try again when the database is free."
                )
        library = LibraryPayloads(running.databases, running.journal, cache, running.payloads)
        keep = library.in_use(exclude_domain=Domain.OFFICIAL)
        queued = {e.assembly_guid for e in running.journal.pending()}
        with running.sync_lock():
            report = sync_official(
                staging_root,
                running.databases[Domain.OFFICIAL],
                running.payloads,
                keep_payloads=keep,
                queued=queued,
                trust=rules,
            )
            if report.trust is not None:
                on_trust(report.trust)
                if report.trust.refused:  # nothing was synced: official stays exactly as it was
                    raise untrusted_refusal(report.trust)
            running.rebuilt()
        cache.reload_domain(Domain.OFFICIAL)
    return report
