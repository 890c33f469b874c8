"""Moving a library between backends: ``assemblies migrate-storage --to TARGET``.

The source is the library these settings name (the embedded home, or the cluster's
PostgreSQL database); the target is a PostgreSQL URL or the folder of a new embedded home,
and must be empty. No engine may run on the source meanwhile (its home lock, or for a
cluster no other node, is checked). Queued changes are flushed into their domains first,
so the copy holds them. Afterwards both sides are counted and every payload is checked in
the target; the report says what was copied and anything that does not match.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assembly_engine.config import Settings
from assembly_engine.database_url import is_database_url, redact
from assembly_engine.services.errors import Busy, Conflict, InvalidInput
from assembly_engine.storage.library_copy import (
    LibraryStores,
    TargetNotEmpty,
    check_copy,
    copy_library,
    open_cluster,
    open_embedded,
    record_migration,
)
from assembly_engine.storage.runtime import RuntimeLock, StorageRuntime


@dataclass(frozen=True)
class MigrationReport:
    source: str
    target: str
    counts: dict[str, tuple[int, int]]  # what -> (in the source, in the target)
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def _open_target(settings: Settings, target: str) -> tuple[LibraryStores, RuntimeLock | None]:
    if is_database_url(target):
        if target == settings.database_url:
            raise InvalidInput("The target is the library itself; name another database.")
        return open_cluster(target, settings.staging_root), None
    home = Path(target).expanduser().resolve()
    if settings.database_url is None and home == settings.home.resolve():
        raise InvalidInput("The target is the library's own home; name another folder.")
    lock = RuntimeLock(settings.with_overrides(home=home).runtime_root)
    lock.acquire()  # no engine may start on the target while it is filled
    try:
        return open_embedded(home, settings), lock
    except BaseException:
        lock.release()
        raise


def migrate_storage(settings: Settings, target: str, progress: Callable[[str], None]) -> MigrationReport:
    runtime = StorageRuntime.open(settings, start_worker=False)
    try:
        if runtime.others_running():
            raise Busy(
                "Other engine nodes are running on this library; stop every node first, "
                "so no change is made while the library is copied.",
                retry_after=30,
            )
        for result in runtime.cache.flush_now():
            if not result.ok or result.refused:
                raise Conflict(
                    f"Queued changes of {result.domain.value} could not be written first "
                    f"({result.error or result.refused}); nothing was copied."
                )
        url = settings.database_url
        where = f"PostgreSQL {redact(url)}" if url else f"embedded home {settings.home}"
        source = LibraryStores(
            where,
            runtime.databases,
            runtime.payloads,
            runtime.backend.engine_store(),
            runtime.backend.audit_store(),
        )
        destination, lock = _open_target(settings, target)
        try:
            try:
                copy_library(source, destination, progress)
            except TargetNotEmpty as exc:
                raise Conflict(str(exc)) from None
            checked = check_copy(source, destination)
            record_migration(destination, source)
            return MigrationReport(source.where, destination.where, checked.counts, checked.problems)
        finally:
            destination.close()
            if lock is not None:
                lock.release()
    finally:
        runtime.close(flush=False)
