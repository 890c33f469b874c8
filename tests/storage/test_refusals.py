"""One refusal tree: every refusal storage and the services raise is a kind of
storage/contract/errors.py's tree, maps to one error code, and each code has one name."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import assembly_engine.services
import assembly_engine.storage
from assembly_engine.api.errors import ERROR_STATUS
from assembly_engine.storage.contract import errors

# Signals that never leave the module that raises them: each is caught there and raised
# again as a kind of the tree (the test below checks nothing else is outside it).
INTERNAL = {
    "assembly_engine.storage.formats.payload_checks.MissingEntry",
    "assembly_engine.storage.formats.payload_checks.BadEntry",
    "assembly_engine.services.assemblies.payload_codec.PayloadInputError",
    "assembly_engine.services.assemblies.payload_codec.PayloadTooLarge",
    "assembly_engine.services.assemblies.legacy.checks.InvalidDocument",  # and its kinds
    "assembly_engine.services.request_bodies.NotJsonValue",
    "assembly_engine.storage.postgresql.write_queue._InDoubt",  # settled by commit_doubt
    # A check process's end, told in the check's answer (timed_out, failed) by runner.py.
    "assembly_engine.services.checks.processes.TimedOut",
    "assembly_engine.services.checks.workers.WorkerEnded",
    "assembly_engine.services.auth.oidc_provider._UnknownKey",  # fetch the JWKS again, or refuse
}


def _exception_classes() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for package in (assembly_engine.storage, assembly_engine.services):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            module = importlib.import_module(info.name)
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, BaseException) and cls.__module__ == module.__name__:
                    found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [found[name] for name in sorted(found)]


CLASSES = _exception_classes()


def _internal(cls: type[BaseException]) -> bool:
    return any(f"{base.__module__}.{base.__qualname__}" in INTERNAL for base in cls.__mro__)


REFUSALS = [c for c in CLASSES if not _internal(c)]


def test_the_walk_finds_the_refusals() -> None:
    names = {c.__name__ for c in REFUSALS}
    assert {"StaleRevision", "PayloadMissing", "DatabaseBusy", "InvalidCredentials", "JournalClosed"} <= names
    assert len(REFUSALS) > 30


@pytest.mark.parametrize("cls", REFUSALS, ids=lambda c: c.__qualname__)
def test_every_refusal_is_a_kind_of_the_tree_with_a_known_code(cls: type[BaseException]) -> None:
    assert issubclass(cls, errors.EngineError), f"{cls.__qualname__} is outside the refusal tree"
    assert cls.code in ERROR_STATUS, f"{cls.__qualname__}.code {cls.code!r} has no HTTP status"


def test_each_code_is_declared_by_one_class() -> None:
    declared: dict[str, list[str]] = {}
    for cls in REFUSALS:
        if "code" in vars(cls):
            declared.setdefault(vars(cls)["code"], []).append(cls.__qualname__)
    assert {code: names for code, names in declared.items() if len(names) > 1} == {}


def test_the_kinds_keep_their_codes() -> None:
    # What a backend, the cache or a service raises reaches the caller as its kind's code.
    kinds = {
        errors.NotFound: "not_found",
        errors.Conflict: "conflict",
        errors.Busy: "database_busy",
        errors.IntegrityFailed: "integrity_error",
        errors.Unavailable: "storage_unavailable",
        errors.StorageFailed: "storage_error",
        errors.InvalidInput: "invalid_document",
    }
    assert {kind: kind.code for kind in kinds} == kinds
