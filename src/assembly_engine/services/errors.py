"""Refusals raised by services; the API maps ``code`` to a status (api/errors.py).

They extend storage's refusal tree (storage/contract/errors.py): a storage refusal needs no
translation to reach the caller, and the services add the refusals only they decide.
"""

from __future__ import annotations

from assembly_engine.storage.contract.errors import (
    Busy,
    Conflict,
    EngineError,
    IntegrityFailed,
    InvalidInput,
    NotFound,
    StorageFailed,
)

__all__ = [
    "Busy",
    "Conflict",
    "DevModeRequired",
    "Forbidden",
    "EngineError",
    "InsufficientScope",
    "IntegrityFailed",
    "InvalidInput",
    "NotAnAssemblyDocument",
    "NotFound",
    "StorageFailed",
    "TooLarge",
    "TooManyRequests",
    "Unauthorized",
    "denied",
]


class Unauthorized(EngineError):
    """Not signed in, or the credentials are no good."""

    code = "unauthorized"


class Forbidden(EngineError):
    """Signed in, but the caller may not do this."""

    code = "forbidden"


class InsufficientScope(Forbidden):
    """An API token without the scope the route needs (the message names it)."""

    code = "insufficient_scope"


class DevModeRequired(Forbidden):
    """An admin may do this, with Dev Mode on."""

    code = "dev_mode_required"


class TooManyRequests(EngineError):
    code = "too_many_requests"


_DENIALS: dict[str, type[EngineError]] = {
    "unauthorized": Unauthorized,
    "forbidden": Forbidden,
    "dev_mode_required": DevModeRequired,
}


def denied(code: str, message: str) -> EngineError:
    """The refusal of a policy decision named by its ``code``."""
    return _DENIALS[code](message)


class NotAnAssemblyDocument(InvalidInput):
    """The input is no assembly document of any accepted format (``{}``, a manifest, …)."""

    code = "not_an_assembly"


class TooLarge(EngineError):
    code = "payload_too_large"
