"""Running checks bounded: one child process per check, a fixed pool of threads to wait
on them, a wall-clock and a memory limit each, and results kept per content checksum.

The pool's threads only wait on children, so a hostile script costs one pool slot for at
most the time limit, never the event loop or a request thread beyond that limit. Results
are kept in memory (bounded LRU) keyed by the SHA-256 of language and text, so an
unchanged script is never checked twice while the engine runs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from assembly_engine.services.checks import ansible, batch, powershell, tools, workflow
from assembly_engine.services.checks.diagnostics import (
    LANGUAGES,
    CheckerRun,
    CheckResult,
    Diagnostic,
    sorted_capped,
)

log = logging.getLogger("assembly_engine.checks")
# Checks after a save run niced: they share the machine with the writes they follow, and
# must not slow them (a draft's or a blocking save's check runs at normal priority).
BACKGROUND_NICE = 10
CHILD_SCRIPT = str(Path(__file__).with_name("child.py"))


@dataclass(frozen=True)
class CheckLimits:
    timeout_seconds: float = 5.0
    memory_mb: int = 512
    workers: int = 2
    kept_results: int = 4096
    # Background checks waiting for a slot; beyond it a save's check is skipped (and done
    # when the assembly is next read) rather than queueing without end under a write storm.
    queued_max: int = 512


@dataclass(frozen=True)
class _Plan:
    name: str
    argv: list[str] | None  # None: the checker is not available here
    parse: Callable[[bytes], list[Diagnostic]]


def checksum(language: str, text: str) -> str:
    return hashlib.sha256(f"{language}\0{text}".encode("utf-8", errors="surrogatepass")).hexdigest()


def _from_child(output: bytes) -> list[Diagnostic]:
    return [Diagnostic(**item) for item in json.loads(output or b"[]")]


class CheckRunner:
    def __init__(self, limits: CheckLimits | None = None) -> None:
        self.limits = limits or CheckLimits()
        self._pool = ThreadPoolExecutor(max_workers=self.limits.workers, thread_name_prefix="script-check")
        self._lock = threading.Lock()
        self._kept: OrderedDict[str, CheckResult] = OrderedDict()
        self._running: dict[str, Future[CheckResult]] = {}
        self._queued = 0
        self._background = threading.local()
        self._spares: dict[tuple[str, ...], subprocess.Popen[bytes]] = {}
        self._closed = False
        self._shellcheck = tools.find_tool("shellcheck")
        self._ruff = tools.find_tool("ruff")
        self._powershell = powershell.available()
        self._yamllint = ansible.available()

    # -- what runs where -------------------------------------------------------------
    def _child(self, *rest: str) -> list[str]:
        cpu = max(1, int(self.limits.timeout_seconds + 0.999))
        nice = BACKGROUND_NICE if getattr(self._background, "on", False) else 0
        # Starting an external tool needs only the standard library: the child runs as a
        # plain script without site-packages (-S), which halves its start-up.
        start = (
            ["-S", CHILD_SCRIPT]
            if rest[:1] == ("--exec",)
            else ["-m", "assembly_engine.services.checks.child"]
        )
        return [
            sys.executable,
            "-I",
            *start,
            f"--memory-mb={self.limits.memory_mb}",
            f"--cpu-seconds={cpu}",
            f"--nice={nice}",
            *rest,
        ]

    def _plan(self, language: str, text: str) -> _Plan:
        if language == "bash":
            argv = (
                self._child("--exec", *tools.shellcheck_argv(self._shellcheck, text))
                if self._shellcheck
                else None
            )
            return _Plan("shellcheck", argv, tools.shellcheck_diagnostics)
        if language == "python":
            argv = self._child("--exec", *tools.ruff_argv(self._ruff)) if self._ruff else None
            return _Plan("ruff", argv, tools.ruff_diagnostics)
        if language == "powershell":
            return _Plan(
                powershell.SOURCE, self._child("powershell") if self._powershell else None, _from_child
            )
        if language == "ansible":
            return _Plan("yamllint", self._child("ansible") if self._yamllint else None, _from_child)
        name = batch.SOURCE if language == "batch" else workflow.SOURCE  # our own: always here
        return _Plan(name, self._child(language), _from_child)

    def availability(self) -> list[dict[str, object]]:
        return [
            {"language": language, **CheckerRun(plan.name, plan.argv is not None).to_dict()}
            for language in LANGUAGES
            for plan in [self._plan(language, "")]
        ]

    # -- one check -------------------------------------------------------------------
    @staticmethod
    def _start(argv: list[str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=tempfile.gettempdir(),
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"},
            start_new_session=True,  # its own process group: a kill takes any grandchild too
        )

    def _process(self, argv: list[str]) -> subprocess.Popen[bytes]:
        """A child for one check. Foreground checks (drafts, blocking saves) take a *spare*:
        a child started for the previous check of the same kind, already limited and with
        its checker loaded, waiting for its script on stdin; a new spare is started at
        once. Each child still checks exactly one script, so every check has fresh limits."""
        if getattr(self._background, "on", False):
            return self._start(argv)
        key = tuple(argv)
        with self._lock:
            if self._closed:
                return self._start(argv)
            spare = self._spares.pop(key, None)
            self._spares[key] = self._start(argv)
        if spare is None or spare.poll() is not None:
            return self._start(argv)
        return spare

    def _spawn(self, argv: list[str], data: bytes) -> tuple[int | None, bytes, bytes]:
        """Run a child; (None, …) when it outlived the time limit and was killed."""
        process = self._process(argv)
        try:
            out, err = process.communicate(data, timeout=self.limits.timeout_seconds)
            return process.returncode, out, err
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass  # it ended just now
            process.communicate()
            return None, b"", b""

    def run(self, language: str, text: str) -> CheckResult:
        """Check now, in the calling thread (the CLI; the pool's threads)."""
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}")
        plan = self._plan(language, text)
        key = checksum(language, text)
        if plan.argv is None:
            return CheckResult(language, key, (), (CheckerRun(plan.name, False),))
        started = time.perf_counter()
        try:
            code, out, err = self._spawn(plan.argv, text.encode("utf-8", errors="replace"))
        except OSError as exc:  # no process could be started (a process or memory limit)
            log.warning("checker %s could not start: %s", plan.name, exc)
            run = CheckerRun(plan.name, True, failed=f"it could not start ({exc.strerror or exc})")
            return CheckResult(language, key, (), (run,))
        seconds = time.perf_counter() - started
        if code is None:
            return CheckResult(
                language, key, (), (CheckerRun(plan.name, True, timed_out=True, seconds=seconds),)
            )
        try:
            # A checker answers on stdout (ShellCheck and ruff exit 1 when they found
            # something); no answer with a failing status is a crash or a limit hit.
            if code < 0 or (code != 0 and not out.strip()):
                raise ValueError("no answer")
            diagnostics = plan.parse(out)
        except (ValueError, KeyError, TypeError):
            # Killed by the memory or CPU limit, or a crash: the check has no answer.
            reason = err.decode("utf-8", errors="replace").strip().splitlines()[-1:] or [
                f"exit status {code}"
            ]
            log.info("checker %s ended without an answer: %s", plan.name, reason[0][:200])
            limited = code < 0 or reason[0].startswith(("MemoryError", "RecursionError"))
            failed = "it exceeded the check's memory or CPU limit" if limited else reason[0][:200]
            return CheckResult(
                language, key, (), (CheckerRun(plan.name, True, failed=failed, seconds=seconds),)
            )
        return CheckResult(
            language, key, sorted_capped(diagnostics), (CheckerRun(plan.name, True, seconds=seconds),)
        )

    # -- kept results and the pool ---------------------------------------------------
    def kept(self, language: str, text: str) -> CheckResult | None:
        key = checksum(language, text)
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def _keep(self, result: CheckResult) -> None:
        if result.timed_out or any(c.failed for c in result.checkers):
            return  # a limit hit may be load: try again next time
        with self._lock:
            self._kept[result.checksum] = result
            while len(self._kept) > self.limits.kept_results:
                self._kept.popitem(last=False)

    def submit(self, language: str, text: str, *, background: bool = False) -> Future[CheckResult] | None:
        """The check of ``text`` on the pool (shared with a running one of the same text).
        A background check is dropped (None) when the queue is full."""
        key = checksum(language, text)
        with self._lock:
            done = self._kept.get(key)
            if done is not None:
                ready: Future[CheckResult] = Future()
                ready.set_result(done)
                return ready
            running = self._running.get(key)
            if running is not None:
                return running
            if background and self._queued >= self.limits.queued_max:
                return None
            self._queued += 1
            future = self._pool.submit(self._job, language, text, key, background)
            self._running[key] = future
            return future

    def _job(self, language: str, text: str, key: str, background: bool) -> CheckResult:
        self._background.on = background
        try:
            result = self.run(language, text)
            self._keep(result)
            return result
        finally:
            with self._lock:
                self._queued -= 1
                self._running.pop(key, None)

    def check(self, language: str, text: str) -> CheckResult:
        """Check on the pool and wait at most the time limit (plus the queue's share):
        past it the answer says ``timed_out`` and the caller goes on."""
        future = self.submit(language, text)
        assert future is not None
        try:
            return future.result(timeout=self.limits.timeout_seconds + 1.0)
        except TimeoutError:
            future.cancel()  # still queued: nobody waits for it any more
            return self.timed_out(language, text)

    def timed_out(self, language: str, text: str) -> CheckResult:
        run = CheckerRun(self._plan(language, text).name, True, timed_out=True)
        return CheckResult(language, checksum(language, text), (), (run,))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            self._closed = True
            spares, self._spares = list(self._spares.values()), {}
        for spare in spares:
            try:
                os.killpg(spare.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            spare.communicate()
