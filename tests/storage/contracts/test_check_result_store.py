"""Contract of the CheckResultStore interface: script check results by content checksum and
checker versions, kept across a restart (or seen by another node), the same on every
backend (engine.db for an embedded engine, one table shared by the nodes in PostgreSQL)."""

from __future__ import annotations

import json

from assembly_engine.storage.contract.check_results import StoredCheck
from tests.storage.contracts.backends import Backend

RESULT = json.dumps({"language": "bash", "diagnostics": [], "checkers": []})


def stored(checksum: str, checkers: str = "1:shellcheck 0.11.0", result: str = RESULT) -> StoredCheck:
    return StoredCheck(checksum, checkers, "bash", result, 1_700_000_000.5)


def test_a_result_is_found_by_checksum_and_checker_versions(backend: Backend) -> None:
    store = backend.check_results()
    store.keep(stored("a" * 64))
    assert store.find("a" * 64, "1:shellcheck 0.11.0") == stored("a" * 64)
    assert store.find("a" * 64, "1:shellcheck 0.12.0") is None  # a new version checks again
    assert store.find("b" * 64, "1:shellcheck 0.11.0") is None


def test_results_survive_a_restart_and_are_shared(backend: Backend) -> None:
    backend.check_results().keep(stored("c" * 64, result='{"kept": true}'))
    again = backend.check_results()  # a restart, or another node of the cluster
    found = again.find("c" * 64, "1:shellcheck 0.11.0")
    assert found is not None and found.result == '{"kept": true}' and found.checked_at == 1_700_000_000.5


def test_keeping_a_result_again_replaces_it(backend: Backend) -> None:
    store = backend.check_results()
    store.keep(stored("d" * 64, result="{}"))
    store.keep(stored("d" * 64, result='{"second": 1}'))  # two nodes checked it at once
    found = store.find("d" * 64, "1:shellcheck 0.11.0")
    assert found is not None and found.result == '{"second": 1}'


def test_results_of_other_checker_versions_are_discarded(backend: Backend) -> None:
    store = backend.check_results()
    store.keep(stored("e" * 64, "1:shellcheck 0.10.0"))
    store.keep(stored("f" * 64, "1:shellcheck 0.11.0"))
    other = StoredCheck("e" * 64, "1:ruff 0.1", "python", "{}", 1.0)
    store.keep(other)
    assert store.discard_other_versions("bash", "1:shellcheck 0.11.0") == 1
    assert store.find("e" * 64, "1:shellcheck 0.10.0") is None
    assert store.find("f" * 64, "1:shellcheck 0.11.0") is not None
    assert store.find("e" * 64, "1:ruff 0.1") == other  # another language's stay
