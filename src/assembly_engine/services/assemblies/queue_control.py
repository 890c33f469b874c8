"""The write queue on demand: its status, a flush now, and an official sync from staging.

The flush worker drains the queue on its own; these are the operator's and Dev Mode's ways
to see it and to force it, each refused or reported in the services' vocabulary.
"""

from __future__ import annotations

from collections.abc import Callable

from assembly_engine.domain.types import Domain
from assembly_engine.services.answers.queue import (
    DomainFlush,
    Flushed,
    OfficialSynced,
    QueueState,
    RefusedChange,
)
from assembly_engine.services.audit import Outcome
from assembly_engine.services.auditor import Auditor
from assembly_engine.services.auth import policy
from assembly_engine.services.caller import Caller
from assembly_engine.services.errors import Busy, StorageFailed
from assembly_engine.storage.cache.assembly_cache import AssemblyCache
from assembly_engine.storage.contract.errors import STORAGE_FAILURES, SchemaError
from assembly_engine.storage.contract.payload_manifest import PayloadError
from assembly_engine.storage.contract.reports import SyncReport
from assembly_engine.storage.contract.signatures import OfficialUntrusted

# Why an official sync from staging can fail without it being the engine's fault.
_SYNC_FAILURES: tuple[type[BaseException], ...] = (SchemaError, PayloadError, *STORAGE_FAILURES)


class QueueControl:
    def __init__(
        self,
        cache: AssemblyCache,
        auditor: Auditor,
        *,
        lock_retry_seconds: float,
        resync_official: Callable[[], SyncReport],
    ) -> None:
        self._cache = cache
        self._auditor = auditor
        self._lock_retry_seconds = lock_retry_seconds
        self._resync_official = resync_official

    def queue(self, caller: Caller) -> QueueState:
        self._auditor.require(policy.may_read(caller.actor), caller, "queue.read")
        return QueueState.of(self._cache.queue_status())

    def _retry_after(self) -> int:
        return max(1, int(self._lock_retry_seconds))

    def flush(self, caller: Caller, domain: Domain | None) -> Flushed:
        self._auditor.require(policy.may_flush(caller.actor), caller, "flush", domain=domain)
        results = self._cache.flush_now(domain, budget_seconds=self._lock_retry_seconds)
        summary = {
            r.domain: DomainFlush.built(
                persisted=r.persisted,
                error=r.error,
                refused=[RefusedChange.built(assembly_guid=g, error=e) for g, e in r.refused],
            )
            for r in results
        }
        busy = [r for r in results if r.busy]
        failed = [r for r in results if not r.ok]
        if failed:
            names = ", ".join(r.domain.value for r in failed)
            detail = f"could not write {names}: {failed[0].error}"
            self._auditor.record(caller, "flush", Outcome.FAILED, domain=domain, detail=detail)
            if busy:
                raise Busy(
                    f"The {names} database stayed locked by another process; the changes are "
                    "still queued and will be written automatically. Retry in a few seconds.",
                    retry_after=self._retry_after(),
                )
            raise StorageFailed(
                f"Writing {names} failed ({failed[0].error}); the changes "
                "are still queued and will be retried."
            )
        self._auditor.record(
            caller,
            "flush",
            Outcome.SUCCESS,
            domain=domain,
            detail=", ".join(f"{k.value}={v.persisted}" for k, v in summary.items()),
        )
        return Flushed.built(results=summary, queue=QueueState.of(self._cache.queue_status()))

    def sync_official(self, caller: Caller) -> OfficialSynced:
        self._auditor.require(
            policy.may_sync_official(caller.actor), caller, "official.sync", domain=Domain.OFFICIAL
        )
        try:
            report = self._resync_official()
        except OfficialUntrusted as exc:  # require: a staging copy not wholly trusted
            self._auditor.record(
                caller, "official.sync", Outcome.FAILED, domain=Domain.OFFICIAL, detail=exc.message
            )
            raise
        except Busy as exc:  # queued official changes not written, a lock, a change in flight
            self._auditor.record(
                caller, "official.sync", Outcome.FAILED, domain=Domain.OFFICIAL, detail=str(exc)
            )
            raise Busy(str(exc), retry_after=self._retry_after()) from None
        except _SYNC_FAILURES as exc:
            message = (
                f"The official library could not be synced from staging ({exc}); the "
                "runtime copy was left as it was. Fix the staging copy, then retry."
            )
            self._auditor.record(
                caller, "official.sync", Outcome.FAILED, domain=Domain.OFFICIAL, detail=message
            )
            raise StorageFailed(message) from None
        self._auditor.record(
            caller,
            "official.sync",
            Outcome.SUCCESS,
            domain=Domain.OFFICIAL,
            detail=f"staging={report.staging_count} runtime={report.runtime_count}"
            + (
                f"; signatures: {'; '.join(report.trust.problems)}"
                if report.trust and report.trust.problems
                else ""
            ),
        )
        return OfficialSynced.of(report)
