"""The cache's refusals: each says, in a sentence for a person, why nothing was changed."""

from __future__ import annotations

from assembly_engine.domain.types import Domain
from assembly_engine.storage.contract.errors import (
    Busy,
    Conflict,
    EngineError,
    InvalidInput,
    NotFound,
    Unavailable,
)


class CacheError(EngineError):
    """Base of the cache's refusals (each is also one kind of the refusal tree); ``message``
    is meant for a person."""


class AssemblyNotFound(CacheError, NotFound):
    def __init__(self, guid: str) -> None:
        super().__init__(f"No assembly with id {guid} exists.")
        self.assembly_guid = guid


class AssemblyExists(CacheError, Conflict):
    def __init__(self, guid: str, domain: Domain) -> None:
        super().__init__(f"An assembly with id {guid} already exists in the {domain.value} domain.")
        self.assembly_guid = guid
        self.domain = domain


class StaleRevision(CacheError, Conflict):
    def __init__(self, guid: str, expected: int, current: int) -> None:
        super().__init__(
            f"Assembly {guid} was changed by someone else: you edited revision {expected}, "
            f"the current revision is {current}. Reload it and apply your change again."
        )
        self.assembly_guid = guid
        self.expected = expected
        self.current = current


class InvalidChange(CacheError, InvalidInput):
    """A change the cache cannot make as asked (a record of another domain, say)."""


class ChangeBusy(CacheError, Busy):
    """A change could not start in time: another change of the same assembly, or an
    official sync, held it back. Nothing was changed."""


class CacheClosed(CacheError, Unavailable):
    """The engine is shutting down: no change is taken any more."""


class QueuedChangesPending(CacheError, Busy):
    """A domain cannot be reloaded while changes of it are queued (flush first)."""
