"""Carrying out a decided change: finding the assembly it targets, auditing its failure,
and handing it to the cache, which makes it durable through the journal.

Every write of an assembly (edits, imports, restores, undeletes) goes through
:meth:`Changes.commit`. The cache's refusals are already kinds of the one refusal tree;
commit only words the failures of the journal itself. A change's new payload folder is
the cache's to write and to remove when the change is refused (``cache.new_payload``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext

from assembly_engine.domain.clock import utc_now
from assembly_engine.domain.types import Domain
from assembly_engine.services.assemblies.content import Contents
from assembly_engine.services.assemblies.records import Details, new_record
from assembly_engine.services.audit import Outcome
from assembly_engine.services.auditor import Auditor
from assembly_engine.services.auth import policy
from assembly_engine.services.caller import Caller
from assembly_engine.services.checks.gate import ScriptChecks
from assembly_engine.services.errors import (
    Busy,
    EngineError,
    InvalidInput,
    NotFound,
    StorageFailed,
)
from assembly_engine.storage.cache.assembly_cache import (
    AssemblyCache,
)
from assembly_engine.storage.contract.errors import STORAGE_FAILURES, DatabaseBusy, failure_reason
from assembly_engine.storage.contract.models import AssemblyRecord, CachedAssembly, PayloadContent, PayloadRef


class Changes:
    def __init__(self, cache: AssemblyCache, contents: Contents, auditor: Auditor) -> None:
        self.cache = cache
        self.contents = contents
        self.auditor = auditor
        self.checks: ScriptChecks | None = None  # script checks (services/checks), when wired

    @contextmanager
    def new_payload(self, domain: Domain, content: PayloadContent | None) -> Iterator[PayloadRef | None]:
        """The cache's new payload folder for ``content`` of ``domain`` (cache.new_payload):
        checked first where the domain blocks errors, checked beside it once the change
        went through otherwise (services/checks/gate.py)."""
        if content is not None and self.checks is not None:
            self.checks.before_store(domain, content)
        with self.cache.new_payload(content) as ref:
            yield ref
        if content is not None and ref is not None and self.checks is not None:
            self.checks.after_store(content, ref.payload_guid)

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """A bulk write (a batch import, a sync apply) runs in the block: the background
        work its saves start (their script checks, indexing their bodies for search) waits
        until it is over, so it does not compete with the writes for the interpreter."""
        with self.checks.bulk() if self.checks is not None else nullcontext(), self.cache.bulk_writes():
            yield

    # -- the target --------------------------------------------------------------------
    def existing(self, guid: str) -> CachedAssembly:
        found = self.cache.get(guid)
        if found is None:
            raise NotFound(f"No assembly with id {guid} exists (it may have been deleted).")
        return found

    def existing_for(self, caller: Caller, action: str, guid: str) -> CachedAssembly:
        """The assembly a write targets — after checking the caller is signed in, so an
        anonymous caller learns nothing about which ids exist."""
        self.auditor.require(policy.may_read(caller.actor), caller, action, guid=guid)
        return self.existing(guid)

    # -- doing it ----------------------------------------------------------------------
    @contextmanager
    def audited(
        self, caller: Caller, action: str, *, domain: Domain | None = None, guid: str | None = None
    ) -> Iterator[None]:
        """Audit a failure of the enclosed work (successes are recorded by the caller)."""
        try:
            yield
        except (NotFound, InvalidInput):
            raise
        except EngineError as exc:
            self.auditor.record(caller, action, Outcome.FAILED, domain=domain, guid=guid, detail=exc.message)
            raise

    @staticmethod
    def commit(write: Callable[[], CachedAssembly]) -> CachedAssembly:
        """Run a cache mutation, wording the journal's own failures for a person."""
        try:
            return write()
        except DatabaseBusy:
            raise Busy(
                "The change was not made: the engine's journal stayed locked by another "
                "process. Retry in a few seconds.",
                retry_after=5,
            ) from None
        except STORAGE_FAILURES as exc:  # disk full, read-only, I/O error
            raise StorageFailed(
                f"The change could not be made durable ({failure_reason(exc)}); nothing was "
                "changed. Free disk space or check the engine home, then retry."
            ) from None

    def create(
        self,
        caller: Caller,
        action: str,
        record: AssemblyRecord,
        *,
        detail: str,
        revision: int = 1,
    ) -> CachedAssembly:
        """Queue the creation of ``record`` at ``revision``, audited with ``detail``."""
        note = self.auditor.note(
            caller, action, domain=record.domain, guid=record.assembly_guid, detail=detail
        )
        return self.commit(
            lambda: self.cache.create(
                record, note=lambda _: note, action=action.removeprefix("assembly."), revision=revision
            )
        )

    def insert(
        self,
        caller: Caller,
        action: str,
        domain: Domain,
        content: PayloadContent,
        details: Details,
        *,
        detail: str | None = None,
    ) -> CachedAssembly:
        """Store new content, make a new assembly's first revision around it and queue its
        creation (audited; ``detail`` for the entry, the name by default)."""
        guid = uuid.uuid4().hex
        with self.audited(caller, action, domain=domain, guid=guid), self.new_payload(domain, content) as ref:
            assert ref is not None  # content was given
            record = new_record(guid, domain, details, ref, author=caller.username, now=utc_now())
            return self.create(caller, action, record, detail=detail or record.display_name)

    def update(
        self,
        caller: Caller,
        action: str,
        current: CachedAssembly,
        change: Callable[[AssemblyRecord], AssemblyRecord],
        detail: Callable[[AssemblyRecord], str],
        *,
        expected_revision: int | None = None,
    ) -> CachedAssembly:
        """Queue ``change`` of the ``current`` assembly; its audit entry's detail is made
        from the changed record."""
        guid, domain = current.assembly_guid, current.domain

        def note(record: AssemblyRecord) -> str:
            return self.auditor.note(caller, action, domain=domain, guid=guid, detail=detail(record))

        return self.commit(
            lambda: self.cache.update(
                guid,
                change,
                expected_revision=expected_revision,
                note=note,
                action=action.removeprefix("assembly."),
            )
        )
