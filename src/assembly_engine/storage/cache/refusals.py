"""The cache's refusals: each says, in a sentence for a person, why nothing was changed."""

from __future__ import annotations

from assembly_engine.domain.types import Domain


class CacheError(Exception):
    """Base of the cache's refusals; ``message`` is meant for a person."""


class AssemblyNotFound(CacheError):
    def __init__(self, guid: str) -> None:
        super().__init__(f"No assembly with id {guid} exists.")
        self.assembly_guid = guid


class AssemblyExists(CacheError):
    def __init__(self, guid: str, domain: Domain) -> None:
        super().__init__(f"An assembly with id {guid} already exists in the {domain.value} domain.")
        self.assembly_guid = guid
        self.domain = domain


class StaleRevision(CacheError):
    def __init__(self, guid: str, expected: int, current: int) -> None:
        super().__init__(
            f"Assembly {guid} was changed by someone else: you edited revision {expected}, "
            f"the current revision is {current}. Reload it and apply your change again."
        )
        self.assembly_guid = guid
        self.expected = expected
        self.current = current


class InvalidChange(CacheError):
    pass


class ChangeBusy(CacheError):
    """A change could not start in time: another change of the same assembly, or an
    official sync, held it back. Nothing was changed."""
