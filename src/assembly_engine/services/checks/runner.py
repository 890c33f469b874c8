"""Running checks bounded: a fixed pool of threads that wait on check processes, a
wall-clock and a memory limit each, and results kept per content checksum.

The pool's threads only wait on processes, so a hostile script costs one pool slot for at
most the time limit, never the event loop or a request thread beyond that limit.
ShellCheck and ruff run as one-shot children (child.py ``--exec``); the in-process
checkers (PowerShell, Batch, Ansible, workflows) run in warm workers (workers.py).

Results are kept in memory (bounded LRU) keyed by the SHA-256 of language and text and,
when the runner has a store, stored under that checksum and the checkers' versions
(versions.py): an unchanged script is never checked twice, across restarts and nodes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import orjson

from assembly_engine.services.checks import ansible, batch, powershell, tools, versions, workflow
from assembly_engine.services.checks.diagnostics import (
    LANGUAGES,
    CheckerRun,
    CheckResult,
    Diagnostic,
    sorted_capped,
)
from assembly_engine.services.checks.held import QUIET_SECONDS, HeldCheck, HeldChecks
from assembly_engine.services.checks.processes import TimedOut, cpu_seconds_at_exit, exchange, kill
from assembly_engine.services.checks.workers import WarmWorkers, WorkerEnded
from assembly_engine.storage.contract.check_results import StoredCheck
from assembly_engine.storage.contract.interfaces import CheckResultStore

log = logging.getLogger("assembly_engine.checks")
# Checks after a save run niced: they share the machine with the writes they follow, and
# must not slow them (a draft's or a blocking save's check runs at normal priority).
BACKGROUND_NICE = 10
CHILD_SCRIPT = str(Path(__file__).with_name("child.py"))
IN_WORKERS = frozenset({"powershell", "batch", "ansible", "workflow"})
# What a check counts as in runner.counted (and the metrics): the outcomes of a check.
OUTCOMES = ("checked", "stored", "timed_out", "failed", "unavailable")
# Latest results that hit a limit, per checksum: what a detail shows ("timed out") while
# it tries again. Never stored, never counted as checked; a few are enough.
LIMITED_KEPT = 256


def _stored_text(result: CheckResult) -> str:
    """The JSON a result is stored as: orjson, several times faster than json for the up
    to MAX_DIAGNOSTICS diagnostics a result holds; json for what orjson refuses."""
    value = result.to_dict()
    try:
        return orjson.dumps(value).decode("utf-8")
    except orjson.JSONEncodeError:
        return json.dumps(value)


@dataclass(frozen=True)
class CheckLimits:
    timeout_seconds: float = 5.0
    memory_mb: int = 512
    workers: int = 2
    kept_results: int = 4096
    # Background checks waiting for a slot; beyond it a save's check is skipped (and done
    # when the assembly is next read) rather than queueing without end under a write storm.
    queued_max: int = 512
    # How long after the last bulk write ended the checks it held start (held.py).
    held_quiet_seconds: float = QUIET_SECONDS


@dataclass(frozen=True)
class _Plan:
    name: str
    argv: list[str] | None  # a one-shot child; None: a warm worker's, or not available
    parse: Callable[[bytes], list[Diagnostic]] | None  # a one-shot child's answer
    available: bool


def checksum(language: str, text: str) -> str:
    return hashlib.sha256(f"{language}\0{text}".encode("utf-8", errors="surrogatepass")).hexdigest()


def _environment() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}


class CheckRunner:
    def __init__(self, limits: CheckLimits | None = None, store: CheckResultStore | None = None) -> None:
        self.limits = limits or CheckLimits()
        self.store = store
        self._pool = ThreadPoolExecutor(max_workers=self.limits.workers, thread_name_prefix="script-check")
        self._lock = threading.Lock()
        self._kept: OrderedDict[str, CheckResult] = OrderedDict()
        self._limited: OrderedDict[str, CheckResult] = OrderedDict()  # timed out or failed
        self._running: dict[str, Future[CheckResult]] = {}
        self._queued = 0
        self._background = threading.local()
        self._spares: dict[tuple[str, ...], subprocess.Popen[bytes]] = {}
        self._closed = False
        self._shellcheck = tools.find_tool("shellcheck")
        self._ruff = tools.find_tool("ruff")
        self._powershell = powershell.available()
        self._yamllint = ansible.available()
        self._fingerprints: dict[str, str] = {}
        self._prlimit = shutil.which("prlimit")
        self._nice_tool = shutil.which("nice")
        # (language, outcome) -> checks: how many ran, and how many a stored result spared.
        self.counted: Counter[tuple[str, str]] = Counter()
        self.held = HeldChecks(
            self._release_held, self.limits.held_quiet_seconds
        )  # background checks held during bulk writes
        self._held_keys: set[str] = set()
        self._workers = WarmWorkers(
            {nice: self._child(nice, "--serve") for nice in (0, BACKGROUND_NICE)}, _environment()
        )

    # -- what runs where -------------------------------------------------------------
    def _nice(self) -> int:
        return BACKGROUND_NICE if getattr(self._background, "on", False) else 0

    def _child(self, nice: int, *rest: str) -> list[str]:
        cpu = max(1, int(self.limits.timeout_seconds + 0.999))
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

    def _tool(self, argv: list[str]) -> list[str]:
        """An external checker under the check limits: util-linux's ``prlimit`` sets them
        and execs it (a C program: it costs a fraction of the Python child's start, which
        is the fallback where ``prlimit`` is missing)."""
        nice = self._nice()
        if self._prlimit is None or (nice and self._nice_tool is None):
            return self._child(nice, "--exec", *argv)
        cpu = max(1, int(self.limits.timeout_seconds + 0.999))
        memory = self.limits.memory_mb * 1024 * 1024
        limits = [f"--as={memory}", f"--cpu={cpu}:{cpu + 1}", "--fsize=0", "--core=0"]
        niced = [str(self._nice_tool), "-n", str(nice)] if nice else []
        return [self._prlimit, *limits, "--", *niced, *argv]

    def _plan(self, language: str, text: str) -> _Plan:
        if language == "bash":
            argv = self._tool(tools.shellcheck_argv(self._shellcheck, text)) if self._shellcheck else None
            return _Plan("shellcheck", argv, tools.shellcheck_diagnostics, argv is not None)
        if language == "python":
            argv = self._tool(tools.ruff_argv(self._ruff)) if self._ruff else None
            return _Plan("ruff", argv, tools.ruff_diagnostics, argv is not None)
        if language == "powershell":
            return _Plan(powershell.SOURCE, None, None, self._powershell)
        if language == "ansible":
            return _Plan(ansible.SOURCE, None, None, self._yamllint)
        name = batch.SOURCE if language == "batch" else workflow.SOURCE  # our own: always here
        return _Plan(name, None, None, True)

    def availability(self) -> list[dict[str, object]]:
        return [
            {"language": language, **CheckerRun(plan.name, plan.available).to_dict()}
            for language in LANGUAGES
            for plan in [self._plan(language, "")]
        ]

    def fingerprint(self, language: str) -> str:
        """The versions a result of ``language`` is stored under (asked once: a tool's
        ``--version`` is a process start)."""
        found = self._fingerprints.get(language)
        if found is None:
            plan = self._plan(language, "")
            tool = {"bash": self._shellcheck, "python": self._ruff}.get(language)
            found = versions.fingerprint(language, plan.name, plan.available, tool)
            self._fingerprints[language] = found
        return found

    def prestart(self) -> None:
        """Start a warm worker now (an engine's start), so the first draft's check does
        not wait for its checkers to load."""
        self._workers.prestart(0)

    # -- one check -------------------------------------------------------------------
    @staticmethod
    def _start(argv: list[str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=tempfile.gettempdir(),
            env=_environment(),
            bufsize=0,
            start_new_session=True,  # its own process group: a kill takes any grandchild too
        )

    def _process(self, argv: list[str]) -> subprocess.Popen[bytes]:
        """A one-shot child. Foreground checks (drafts, blocking saves) take a *spare*:
        a child started for the previous check of the same kind, already limited, waiting
        for its script on stdin; a new spare is started at once. Each child still checks
        exactly one script, so every check has fresh limits."""
        if self._nice():
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

    def _in_child(self, plan: _Plan, data: bytes) -> tuple[list[Diagnostic], float, str | None]:
        """ShellCheck or ruff on ``data``: (diagnostics, CPU seconds, why it failed)."""
        assert plan.argv is not None and plan.parse is not None
        process = self._process(plan.argv)
        try:
            deadline = time.monotonic() + self.limits.timeout_seconds
            out = exchange(process, data, deadline, close_input=True).body
            cpu = cpu_seconds_at_exit(process, max(0.0, deadline - time.monotonic()))
            assert process.stderr is not None
            err = process.stderr.read()
        except BaseException:
            kill(process)
            raise
        code = process.returncode
        try:
            # A checker answers on stdout (ShellCheck and ruff exit 1 when they found
            # something); no answer with a failing status is a crash or a limit hit.
            if code < 0 or (code != 0 and not out.strip()):
                raise ValueError("no answer")
            return plan.parse(out), cpu, None
        except (ValueError, KeyError, TypeError):
            reason = err.decode("utf-8", errors="replace").strip().splitlines()[-1:] or [
                f"exit status {code}"
            ]
            log.info("checker %s ended without an answer: %s", plan.name, reason[0][:200])
            limited = code < 0 or reason[0].startswith(("MemoryError", "RecursionError"))
            return [], cpu, "it exceeded the check's memory or CPU limit" if limited else reason[0][:200]

    def _in_worker(self, language: str, data: bytes) -> tuple[list[Diagnostic], float, str | None]:
        try:
            answer = self._workers.check(self._nice(), language, data, self.limits.timeout_seconds)
        except WorkerEnded as exc:  # killed by its memory or CPU limit, or a crash
            log.info("check worker of %s ended without an answer: %s", language, exc)
            return [], 0.0, "it exceeded the check's memory or CPU limit"
        except ValueError:
            return [], 0.0, "it answered something unreadable"
        if answer.failed is not None:
            log.info("checker of %s failed: %s", language, answer.failed)
            limited = answer.failed.startswith(("MemoryError", "RecursionError"))
            return (
                [],
                answer.cpu_seconds,
                "it exceeded the check's memory or CPU limit" if limited else answer.failed,
            )
        return [Diagnostic(**d) for d in answer.diagnostics or []], answer.cpu_seconds, None

    def _count(self, language: str, outcome: str) -> None:
        with self._lock:
            self.counted[(language, outcome)] += 1

    def outcomes(self) -> dict[tuple[str, str], int]:
        """(language, outcome) -> checks since the start (OUTCOMES; the metrics)."""
        with self._lock:
            return dict(self.counted)

    def run(self, language: str, text: str) -> CheckResult:
        """Check now, in the calling thread (the CLI; the pool's threads)."""
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}")
        plan = self._plan(language, text)
        key = checksum(language, text)
        if not plan.available:
            self._count(language, "unavailable")
            return CheckResult(language, key, (), (CheckerRun(plan.name, False),))
        data = text.encode("utf-8", errors="replace")
        started = time.perf_counter()
        try:
            if plan.argv is None:
                diagnostics, cpu, failed = self._in_worker(language, data)
            else:
                diagnostics, cpu, failed = self._in_child(plan, data)
        except TimedOut:
            self._count(language, "timed_out")
            run = CheckerRun(plan.name, True, timed_out=True, seconds=time.perf_counter() - started)
            return CheckResult(language, key, (), (run,))
        except OSError as exc:  # no process could be started (a process or memory limit)
            log.warning("checker %s could not start: %s", plan.name, exc)
            self._count(language, "failed")
            run = CheckerRun(plan.name, True, failed=f"it could not start ({exc.strerror or exc})")
            return CheckResult(language, key, (), (run,))
        run = CheckerRun(
            plan.name, True, failed=failed, seconds=time.perf_counter() - started, cpu_seconds=cpu
        )
        self._count(language, "checked" if failed is None else "failed")
        return CheckResult(language, key, sorted_capped(diagnostics) if failed is None else (), (run,))

    # -- kept and stored results -----------------------------------------------------
    def _remember(self, result: CheckResult) -> bool:
        if result.timed_out or any(c.failed for c in result.checkers):
            # A limit hit may be load: try again next time; until then it is what a
            # detail shows of this content (limited()).
            with self._lock:
                self._limited[result.checksum] = result
                self._limited.move_to_end(result.checksum)
                while len(self._limited) > LIMITED_KEPT:
                    self._limited.popitem(last=False)
            return False
        with self._lock:
            self._limited.pop(result.checksum, None)
            self._kept[result.checksum] = result
            self._kept.move_to_end(result.checksum)
            while len(self._kept) > self.limits.kept_results:
                self._kept.popitem(last=False)
        return True

    def _stored(self, language: str, key: str) -> CheckResult | None:
        if self.store is None or not self._plan(language, "").available:
            return None
        try:
            found = self.store.find(key, self.fingerprint(language))
            if found is None:
                return None
            result = CheckResult.from_dict(json.loads(found.result))
        except Exception as exc:  # noqa: BLE001 - the store away, a damaged row: check again
            log.warning("stored check result %s… not read: %s", key[:12], exc)
            return None
        self._count(language, "stored")
        self._remember(result)
        return result

    def _persist(self, result: CheckResult) -> None:
        if self.store is None or not all(run.available for run in result.checkers):
            return
        try:
            self.store.keep(
                StoredCheck(
                    result.checksum,
                    self.fingerprint(result.language),
                    result.language,
                    _stored_text(result),
                    time.time(),
                )
            )
        except Exception as exc:  # noqa: BLE001 - kept in memory; stored at the next check
            log.warning("check result %s… not stored: %s", result.checksum[:12], exc)

    def kept(self, language: str, text: str) -> CheckResult | None:
        """The result of ``text`` known without checking: kept in memory, or stored."""
        key = checksum(language, text)
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
                return found
        return self._stored(language, key)

    def limited(self, language: str, text: str) -> CheckResult | None:
        """The latest check of ``text`` when it hit its time or memory limit (and no check
        of it answered since): kept in memory only."""
        with self._lock:
            return self._limited.get(checksum(language, text))

    def discard_outdated(self) -> None:
        """Remove stored results of other checker versions (they are never read again)."""
        if self.store is None:
            return
        for language in LANGUAGES:
            try:
                removed = self.store.discard_other_versions(language, self.fingerprint(language))
            except Exception as exc:  # noqa: BLE001 - the store away: they go next time
                log.warning("outdated check results not removed: %s", exc)
                return
            if removed:
                log.info("removed %d check result(s) of %s's former checker versions", removed, language)

    # -- the pool --------------------------------------------------------------------
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
            # A foreground check never waits behind a held one of the same text.
            if running is not None and (background or key not in self._held_keys):
                return running
            if background and self._queued >= self.limits.queued_max:
                return None
            if background:
                kept: Future[CheckResult] = Future()
                if self.held.keep(HeldCheck(language, text, key, kept)):
                    self._queued += 1
                    self._running[key] = kept
                    self._held_keys.add(key)
                    return kept
            self._queued += 1
            future = self._pool.submit(self._job, language, text, key, background)
            self._running[key] = future
            return future

    def _job(self, language: str, text: str, key: str, background: bool) -> CheckResult:
        self._background.on = background
        try:
            result = self._stored(language, key)  # checked before: by this node or another
            if result is None:
                result = self.run(language, text)
                if not (result.timed_out or any(c.failed for c in result.checkers)):
                    self._persist(result)  # first: once shown as checked, it is stored
                self._remember(result)
            return result
        finally:
            with self._lock:
                self._queued -= 1
                self._running.pop(key, None)

    def _release_held(self, held: list[HeldCheck]) -> None:
        """The checks a bulk write held, onto the pool in the order they were kept."""
        for index, item in enumerate(held):
            try:
                self._pool.submit(self._run_held, item)
            except RuntimeError:  # the pool was shut down: the engine is stopping
                self._drop_held(held[index:])
                return

    def _run_held(self, item: HeldCheck) -> None:
        with self._lock:
            self._held_keys.discard(item.key)
            done = self._kept.get(item.key)  # a foreground check of the same text ran meanwhile
        if done is not None or not item.future.set_running_or_notify_cancel():
            with self._lock:
                self._queued -= 1
                if self._running.get(item.key) is item.future:
                    del self._running[item.key]
            if done is not None:
                item.future.set_result(done)
            return
        try:
            item.future.set_result(self._job(item.language, item.text, item.key, True))
        except BaseException as exc:  # noqa: BLE001 - the waiter hears of it, as from the pool
            item.future.set_exception(exc)

    def _drop_held(self, held: list[HeldCheck]) -> None:
        with self._lock:
            for item in held:
                self._queued -= 1
                self._held_keys.discard(item.key)
                if self._running.get(item.key) is item.future:
                    del self._running[item.key]
        for item in held:
            item.future.cancel()

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
        self._drop_held(self.held.close())
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            self._closed = True
            spares, self._spares = list(self._spares.values()), {}
        for spare in spares:
            kill(spare)
        self._workers.close()
        if self.store is not None:
            self.store.close()
