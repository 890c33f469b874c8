"""Refusals raised by services; the API maps ``code`` to a status (api/errors.py).

They extend storage's vocabulary (storage/contract/errors.py): a storage refusal needs no
translation to reach the caller, and the services add the refusals only they decide.
"""

from __future__ import annotations

from assembly_engine.storage.contract.errors import Busy, Conflict, EngineError, NotFound
from assembly_engine.storage.contract.errors import IntegrityFailed as IntegrityProblem
from assembly_engine.storage.contract.errors import StorageFailed as StorageUnavailable

ServiceError = EngineError

__all__ = [
    "Busy",
    "Conflict",
    "Denied",
    "IntegrityProblem",
    "InvalidInput",
    "NotAnAssemblyDocument",
    "NotFound",
    "ServiceError",
    "StorageUnavailable",
    "TooLarge",
]


class Denied(ServiceError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class InvalidInput(ServiceError):
    code = "invalid_document"


class NotAnAssemblyDocument(InvalidInput):
    """The input is no assembly document of any accepted format (``{}``, a manifest, …)."""

    code = "not_an_assembly"


class TooLarge(ServiceError):
    code = "payload_too_large"
