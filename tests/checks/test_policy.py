"""The block/warn policy of saves (services/checks/gate.py) on a real runner."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assembly_engine.domain.types import Domain, PayloadType
from assembly_engine.services.answers.checks import CheckCounts
from assembly_engine.services.checks.gate import CheckFailed, ScriptChecks, parse_blocking
from assembly_engine.services.checks.runner import CheckLimits, CheckRunner
from assembly_engine.storage.contract.models import PayloadContent
from tests.support import wait_until

BROKEN = PayloadContent(PayloadType.SCRIPT, "script.bat", b"goto nowhere\r\n")
CLEAN = PayloadContent(PayloadType.SCRIPT, "script.bat", b"echo fine\r\n")


def test_parse_blocking() -> None:
    assert parse_blocking("official") == {Domain.OFFICIAL}
    assert parse_blocking(" Official , community ") == {Domain.OFFICIAL, Domain.COMMUNITY}
    assert parse_blocking("none") == frozenset()
    with pytest.raises(ValueError, match="unknown domain 'offical'"):
        parse_blocking("offical")


def test_engine_checks_block_sets_the_blocking_domains() -> None:
    """ENGINE_CHECKS_BLOCK, read as an engine reads its environment, reaches the checks."""
    from assembly_engine.config import Settings
    from assembly_engine.services.container import script_checks

    for value, blocking in (
        (None, {Domain.OFFICIAL}),  # the default: Dev Mode writes to official
        ("community,user", {Domain.COMMUNITY, Domain.USER}),
        ("none", set()),
    ):
        settings = Settings.from_env({} if value is None else {"ENGINE_CHECKS_BLOCK": value})
        gate = script_checks(settings)
        try:
            assert gate.blocking == blocking, value
            assert gate.policy(Domain.COMMUNITY) == ("block" if Domain.COMMUNITY in blocking else "warn")
        finally:
            gate.close()
    with pytest.raises(ValueError, match="ENGINE_CHECKS_BLOCK: unknown domain 'everything'"):
        script_checks(Settings.from_env({"ENGINE_CHECKS_BLOCK": "everything"}))


@pytest.fixture
def checks() -> Iterator[ScriptChecks]:
    gate = ScriptChecks(CheckRunner(CheckLimits(timeout_seconds=20.0)), {Domain.OFFICIAL})
    yield gate
    gate.close()


def test_a_blocking_domain_refuses_errors_with_the_diagnostics(checks: ScriptChecks) -> None:
    with pytest.raises(CheckFailed) as refused:
        checks.before_store(Domain.OFFICIAL, BROKEN)
    assert refused.value.code == "check_failed"
    assert [d["code"] for d in refused.value.extra["diagnostics"]] == ["BAT-LABEL"]
    assert "line 1, column 6" in refused.value.message
    checks.before_store(Domain.OFFICIAL, CLEAN)  # no error: saved


def test_a_warning_domain_never_waits(checks: ScriptChecks) -> None:
    checks.before_store(Domain.USER, BROKEN)  # returns at once, nothing checked
    assert checks.runner.kept("batch", BROKEN.text) is None
    checks.after_store(BROKEN, "a" * 32)
    done = checks.runner.submit("batch", BROKEN.text)
    assert done is not None and done.result(timeout=30).has_errors
    # Noted by the future's callback, which may run just after the waiter wakes.
    counted = wait_until(lambda: checks.counts("a" * 32), "the side check's counts", timeout=10)
    assert counted == CheckCounts({"error": 1, "warning": 0, "info": 0}, has_errors=True)


def test_a_check_that_times_out_lets_the_save_proceed() -> None:
    # A limit no child process can answer within (a round trip alone takes longer), and a
    # script long enough that its check takes milliseconds even on an idle machine.
    gate = ScriptChecks(CheckRunner(CheckLimits(timeout_seconds=0.0005)), {Domain.OFFICIAL})
    long_broken = PayloadContent(PayloadType.SCRIPT, "script.bat", BROKEN.main + b"echo padding\r\n" * 50_000)
    try:
        gate.before_store(Domain.OFFICIAL, long_broken)  # no answer within the limit: not refused
        # The saved content's result says so (rather than "pending" for ever); reading it
        # tries the check again, which hits the same limit.
        gate.after_store(long_broken, "b" * 32)
        shown = wait_until(
            lambda: (s := gate.summary(long_broken, "b" * 32)) and s.published()["status"] == "checked" and s,
            "the timed-out result in the detail",
            timeout=30,
        ).published()
        assert shown["timed_out"] is True and shown["diagnostics"] == [] and shown["has_errors"] is False
        assert gate.counts("b" * 32) is None  # the list shows no counts for it
    finally:
        gate.close()
