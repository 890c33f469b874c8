"""The one tree of refusals, shared by every storage backend and the services.

Every refusal storage raises is a subclass of one kind below (not found, conflict, busy,
integrity, unavailable, storage failed, invalid input); each kind declares its ``code``
once, and the API maps a code to an HTTP status in one table (api/errors.py). The services
extend the tree with the refusals only they decide (services/errors.py). A backend
translates its driver's exceptions into these kinds, so no caller above storage ever needs
to know which database is underneath.
"""

from __future__ import annotations

import sqlite3


class EngineError(Exception):
    """A refusal the engine explains in a sentence; ``code`` names its kind."""

    code = "invalid_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(EngineError):
    code = "not_found"


class InvalidInput(EngineError):
    """What was asked for cannot be stored as it is (an unsafe file name, say)."""

    code = "invalid_document"


class Conflict(EngineError):
    code = "conflict"


class ChangedElsewhere(Conflict):
    """A shared write queue refused a change: another node changed the assembly first
    (its revision moved on, or it was created or deleted there)."""

    def __init__(self, assembly_guid: str, message: str) -> None:
        super().__init__(message)
        self.assembly_guid = assembly_guid


class Busy(EngineError):
    """Another writer holds the lock; retrying after ``retry_after`` seconds may succeed."""

    code = "database_busy"

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StorageFailed(EngineError):
    """The disk refused a write (full, read-only, permissions): nothing was changed."""

    code = "storage_error"


class IndexDamaged(StorageFailed):
    """The search index cannot be read or written. It is derived data: the engine builds it
    again, and answers 503 only if that fails too (a full disk, for instance)."""


class Unavailable(EngineError):
    """The shared database (cluster mode) cannot be reached: nothing was changed, and a
    retry after ``retry_after`` seconds may find it back."""

    code = "storage_unavailable"

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OutcomeUnknown(Unavailable):
    """The shared database went away while a change was being committed and could not be
    asked in time whether it was: the change may have been made. Unlike other refusals,
    what the change wrote before its commit (its payload) must stay."""


class IntegrityFailed(EngineError):
    """Stored data is damaged (a garbled row, a payload whose checksum does not match)."""

    code = "integrity_error"


# What a backend's I/O raises when the disk or the database file refuses: callers catch
# this tuple instead of naming a driver's exception class.
STORAGE_FAILURES: tuple[type[BaseException], ...] = (OSError, sqlite3.DatabaseError)


def failure_reason(exc: BaseException) -> str:
    """A short reason for one of STORAGE_FAILURES, for a message a person reads."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


class SchemaError(IntegrityFailed):
    """A database whose layout we do not recognise; the message names file and columns."""


class DatabaseBusy(Busy):
    """A lock could not be obtained within the retry budget."""

    def __init__(self, what: str, waited: float) -> None:
        super().__init__(
            f"{what}: the database stayed locked by another process for {waited:.1f}s; "
            "the change is still queued and will be retried"
        )
        self.waited = waited
