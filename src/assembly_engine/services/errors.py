"""Refusals raised by services; the API maps ``code`` to a status (api/errors.py)."""

from __future__ import annotations


class ServiceError(Exception):
    code = "invalid_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Denied(ServiceError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class NotFound(ServiceError):
    code = "not_found"


class Conflict(ServiceError):
    code = "conflict"


class IntegrityProblem(ServiceError):
    code = "integrity_error"


class InvalidInput(ServiceError):
    code = "invalid_document"


class NotAnAssemblyDocument(InvalidInput):
    """The input is no assembly document of any accepted format (``{}``, a manifest, …)."""

    code = "not_an_assembly"


class TooLarge(ServiceError):
    code = "payload_too_large"


class Busy(ServiceError):
    code = "database_busy"

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StorageUnavailable(ServiceError):
    """The disk refused a write (full, read-only, permissions): nothing was changed."""

    code = "storage_error"
