"""Check results stored by content checksum and checker versions (runner.py with a real
engine.db): a restart never checks an unchanged script again, a new checker version does,
and a store that fails costs a check, never the check's answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from assembly_engine.services.checks import versions
from assembly_engine.services.checks.runner import CheckLimits, CheckRunner
from assembly_engine.storage.contract.check_results import StoredCheck
from assembly_engine.storage.contract.errors import StorageFailed
from assembly_engine.storage.sqlite.check_results import SqliteCheckResults
from assembly_engine.storage.sqlite.engine_store import SqliteEngineStore

BROKEN_BATCH = "goto nowhere\r\n"
LIMITS = CheckLimits(timeout_seconds=30.0)


def runner_on(home: Path) -> CheckRunner:
    SqliteEngineStore(home / "engine.db").close()  # the schema, as an engine's start makes it
    return CheckRunner(LIMITS, SqliteCheckResults(home / "engine.db"))


def checked(runner: CheckRunner, language: str, text: str) -> dict[str, object]:
    future = runner.submit(language, text, background=True)
    assert future is not None
    return future.result(timeout=60).to_dict()


def test_after_a_restart_an_unchanged_script_is_not_checked_again(tmp_path: Path) -> None:
    first = runner_on(tmp_path)
    try:
        answer = checked(first, "batch", BROKEN_BATCH)
        assert first.outcomes() == {("batch", "checked"): 1}
    finally:
        first.close()
    again = runner_on(tmp_path)  # a restart: nothing in memory
    try:
        assert again.kept("batch", BROKEN_BATCH) is not None  # the detail's read finds it
        assert checked(again, "batch", BROKEN_BATCH) == answer
        assert again.outcomes() == {("batch", "stored"): 1}  # no checker ran
    finally:
        again.close()


def test_a_new_checker_version_checks_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = runner_on(tmp_path)
    try:
        checked(first, "batch", BROKEN_BATCH)
    finally:
        first.close()
    monkeypatch.setattr(versions, "RULES", versions.RULES + 1)  # as after an upgrade
    upgraded = runner_on(tmp_path)
    try:
        assert upgraded.kept("batch", BROKEN_BATCH) is None
        assert checked(upgraded, "batch", BROKEN_BATCH)["has_errors"] is True
        assert upgraded.outcomes() == {("batch", "checked"): 1}
        upgraded.discard_outdated()  # the former version's result is gone from the table
        store = SqliteCheckResults(tmp_path / "engine.db")
        try:
            old = f"{versions.RULES - 1}:{upgraded.fingerprint('batch').split(':', 1)[1]}"
            key = upgraded.kept("batch", BROKEN_BATCH)
            assert key is not None
            assert store.find(key.checksum, old) is None
            assert store.find(key.checksum, upgraded.fingerprint("batch")) is not None
        finally:
            store.close()
    finally:
        upgraded.close()


class FailingStore:
    """A store whose database is away: every call fails as storage fails."""

    def __init__(self) -> None:
        self.calls = 0

    def find(self, checksum: str, checkers: str) -> StoredCheck | None:
        self.calls += 1
        raise StorageFailed("engine.db failed while reading: disk I/O error")

    def keep(self, check: StoredCheck) -> None:
        self.calls += 1
        raise StorageFailed("engine.db failed while storing: disk is full")

    def discard_other_versions(self, language: str, checkers: str) -> int:
        raise StorageFailed("away")

    def close(self) -> None:
        pass


def test_a_failing_store_costs_a_check_not_the_answer() -> None:
    store = FailingStore()
    runner = CheckRunner(LIMITS, store)
    try:
        assert checked(runner, "batch", BROKEN_BATCH)["has_errors"] is True
        assert store.calls == 2  # looked for, then tried to store
        runner.discard_outdated()  # logged, not raised
    finally:
        runner.close()


def test_a_check_that_hit_a_limit_is_not_stored(tmp_path: Path) -> None:
    SqliteEngineStore(tmp_path / "engine.db").close()
    runner = CheckRunner(CheckLimits(timeout_seconds=0.0005), SqliteCheckResults(tmp_path / "engine.db"))
    text = BROKEN_BATCH + "echo padding\r\n" * 50_000
    try:
        assert checked(runner, "batch", text)["timed_out"] is True
    finally:
        runner.close()
    again = runner_on(tmp_path)
    try:
        assert again.kept("batch", text) is None
    finally:
        again.close()


def test_a_result_is_stored_as_json_that_reads_back_whole() -> None:
    """Results are stored as orjson text, json for what orjson refuses (a lone surrogate):
    both read back to the same result."""
    import json

    from assembly_engine.services.checks.diagnostics import CheckerRun, CheckResult, Diagnostic
    from assembly_engine.services.checks.runner import _stored_text

    for message in ("plain ✓ message", "lone \ud800 surrogate"):
        result = CheckResult(
            "batch",
            "0" * 64,
            (Diagnostic(1, 2, 1, 5, "error", "x", message, "batch"),),
            (CheckerRun("batch", True, seconds=0.25),),
        )
        assert CheckResult.from_dict(json.loads(_stored_text(result))) == result
