"""Background checks held during bulk writes (services/checks/held.py) with a real runner:
kept while the hold lasts, run once it is over, never holding a foreground check, bounded
like the pool's queue, and cancelled (not lost silently) when the engine stops."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assembly_engine.services.checks.runner import CheckLimits, CheckRunner
from tests.support import wait_until

BROKEN_BATCH = "goto nowhere\r\n"
CLEAN_BATCH = "@echo off\r\necho hi\r\n"


@pytest.fixture
def runner() -> Iterator[CheckRunner]:
    checks = CheckRunner(CheckLimits(timeout_seconds=30.0, queued_max=3, held_quiet_seconds=0.2))
    try:
        yield checks
    finally:
        checks.close()


def test_a_held_check_runs_once_the_hold_is_over(runner: CheckRunner) -> None:
    with runner.held.holding():
        future = runner.submit("batch", BROKEN_BATCH, background=True)
        assert future is not None
        assert runner.held.held == 1
        assert not future.done()  # nothing runs it while the bulk write lasts
        assert runner.outcomes() == {}
    result = future.result(timeout=60)
    assert result.has_errors
    assert runner.outcomes() == {("batch", "checked"): 1}
    assert runner.held.held == 0
    # Not held any more: the next background check goes straight to the pool.
    after = runner.submit("batch", CLEAN_BATCH, background=True)
    assert after is not None and not after.result(timeout=60).has_errors


def test_a_hold_starting_again_keeps_the_checks_held(runner: CheckRunner) -> None:
    with runner.held.holding():
        future = runner.submit("batch", BROKEN_BATCH, background=True)
    with runner.held.holding():  # the next batch came before the quiet time ran out
        assert future is not None
        assert runner.held.held in (0, 1)  # released only if the quiet time had passed
    assert future.result(timeout=60).has_errors


def test_a_foreground_check_never_waits_behind_a_held_one(runner: CheckRunner) -> None:
    with runner.held.holding():
        held = runner.submit("batch", BROKEN_BATCH, background=True)
        assert held is not None
        # A draft of the same text (or a blocking save) is checked now, during the hold.
        assert runner.check("batch", BROKEN_BATCH).has_errors
        assert not held.done()
    # The held one is answered from the result the foreground check kept.
    assert held.result(timeout=60).has_errors
    assert runner.outcomes() == {("batch", "checked"): 1}


def test_held_checks_count_against_the_queue_bound(runner: CheckRunner) -> None:
    with runner.held.holding():
        kept = [runner.submit("batch", f"echo {n}\r\n", background=True) for n in range(3)]
        assert all(future is not None for future in kept)
        # The fourth is skipped, as a full pool queue skips it (checked when next read).
        assert runner.submit("batch", "echo 4\r\n", background=True) is None
        # The same text as a held one shares its future rather than queueing again.
        assert runner.submit("batch", "echo 0\r\n", background=True) is kept[0]
    for future in kept:
        assert future is not None and not future.result(timeout=60).has_errors
    wait_until(
        lambda: runner.submit("batch", "echo 4\r\n", background=True) is not None,
        "room in the queue once the held checks ran",
        timeout=60,
    )


def test_stopping_cancels_the_held_checks() -> None:
    runner = CheckRunner(CheckLimits(held_quiet_seconds=0.2))
    with runner.held.holding():
        future = runner.submit("batch", BROKEN_BATCH, background=True)
        assert future is not None
        runner.close()
    assert future.cancelled()
