"""Warm workers (services/checks/workers.py) on real processes: one process checks script
after script, keeps the limits of a one-shot child, and is replaced when a check kills it."""

from __future__ import annotations

import sys
import threading
import time

from assembly_engine.services.checks.runner import CheckLimits, CheckRunner
from assembly_engine.services.checks.workers import WarmWorkers, WorkerEnded


def test_one_warm_worker_checks_one_script_after_another() -> None:
    runner = CheckRunner(CheckLimits(timeout_seconds=30.0, workers=1))
    try:
        answers = [runner.run("batch", f"goto nowhere{n}\r\n") for n in range(5)]
        answers.append(runner.run("ansible", "- hosts: all\n  tasks:\n    - ping:\n"))
        answers.append(runner.run("powershell", "function Get-Broken {\n"))
        assert [a.has_errors for a in answers] == [True] * 5 + [False, True]
        workers = {id(w) for w in runner._workers._all}
        assert len(workers) == 1  # the same process answered all seven
        assert all(a.checkers[0].cpu_seconds >= 0 and a.checkers[0].seconds > 0 for a in answers)
    finally:
        runner.close()


def test_a_worker_killed_by_the_time_limit_is_replaced() -> None:
    # A limit no check can answer within: the worker is killed mid-check. A new worker's
    # start is not part of the limit (on a loaded machine it may take seconds).
    runner = CheckRunner(CheckLimits(timeout_seconds=0.0005, workers=1))
    try:
        text = "goto nowhere\r\n" + "echo padding\r\n" * 50_000
        assert runner.run("batch", text).timed_out
        (killed,) = runner._workers._all or [None]
        assert killed is None  # dropped, its process group killed
        runner.limits = CheckLimits(timeout_seconds=60.0, workers=1)
        assert runner.run("batch", "goto nowhere\r\n").has_errors  # a fresh worker answers
        assert len(runner._workers._all) == 1
    finally:
        runner.close()


def test_pathological_workflows_end_within_the_limit() -> None:
    runner = CheckRunner(CheckLimits(timeout_seconds=5.0, workers=1))
    try:
        for text in ("[" * 200_000 + "]" * 200_000, '{"nodes": ' + "[" * 100_000):
            result = runner.run("workflow", text)
            # An answer (the JSON is refused) or a limit hit: never a hang, never the engine.
            assert result.timed_out or result.checkers[0].failed or result.diagnostics, result.to_dict()
        assert not runner.run("workflow", '{"nodes": [], "edges": []}').has_errors
    finally:
        runner.close()


def test_a_missing_in_process_checker_is_reported_not_available() -> None:
    runner = CheckRunner()
    runner._powershell = False  # as without the tree-sitter grammar
    runner._yamllint = False  # as without yamllint
    try:
        for language, name in (("powershell", "tree-sitter-powershell"), ("ansible", "yamllint")):
            result = runner.run(language, "anything {\n")
            assert result.diagnostics == () and [c.to_dict()["available"] for c in result.checkers] == [False]
            assert result.checkers[0].name == name
        listed = {(a["language"], a["available"]) for a in runner.availability()}
        assert ("powershell", False) in listed and ("batch", True) in listed
    finally:
        runner.close()


def test_closing_ends_a_check_under_way_at_once() -> None:
    """The engine stops while a worker is starting or checking: the thread waiting on it
    ends at once (the engine's exit waits for that thread), not at the 60 s start limit."""
    never_ready = [sys.executable, "-c", "import time; time.sleep(120)"]
    workers = WarmWorkers({0: never_ready}, {})
    ended: list[BaseException] = []

    def check() -> None:
        try:
            workers.check(0, "batch", b"echo hi\r\n", 30.0)
        except BaseException as exc:  # noqa: BLE001 - the test looks at what ended it
            ended.append(exc)

    thread = threading.Thread(target=check)
    thread.start()
    deadline = time.monotonic() + 10
    while not workers._all and time.monotonic() < deadline:
        time.sleep(0.01)
    began = time.monotonic()
    workers.close()
    thread.join(timeout=10)
    assert not thread.is_alive() and time.monotonic() - began < 5
    assert len(ended) == 1 and isinstance(ended[0], WorkerEnded), ended
    assert not workers._all
    try:
        workers.check(0, "batch", b"echo hi\r\n", 30.0)
    except WorkerEnded:
        pass  # no new worker once closed
    else:
        raise AssertionError("a closed pool started a worker")
