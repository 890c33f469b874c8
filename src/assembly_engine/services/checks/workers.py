"""Warm workers: check processes that load the in-process checkers once and then check
one script after another (child.py ``--serve``).

Starting an interpreter and importing yamllint or the PowerShell grammar costs several
times the CPU of checking a typical script, so PowerShell, Batch, Ansible and workflow
checks go to a warm worker. The bounds stay those of a one-shot child: the worker limits
its own address space (ENGINE_CHECK_MEMORY_MB) and each check's CPU seconds, the engine
kills it (its whole process group) when a check outlives the time limit, and a worker
whose check failed exits; either way the next check gets a new one.

Idle workers wait in a free list per CPU priority (drafts and blocking saves at normal
priority, checks after a save niced); a pool thread takes one for a check and gives it
back, so there are never more busy workers than pool threads.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any

from assembly_engine.services.checks.processes import TimedOut, end_group, exchange, kill


@dataclass(frozen=True)
class WorkerAnswer:
    diagnostics: list[dict[str, Any]] | None  # None: it failed (see ``failed``)
    failed: str | None
    cpu_seconds: float


class WorkerEnded(Exception):
    """The worker ended without an answer (killed by a limit, or it crashed)."""


# A new worker's start (an interpreter, yamllint, the grammar) is not part of any check's
# time limit: on a loaded machine it alone may take longer. It gets this long, then is
# killed like a check that outlived its limit.
START_SECONDS = 60.0


class _Worker:
    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.ready = False
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # its failures come as answers; a crash has none
            cwd=tempfile.gettempdir(),
            env=env,
            bufsize=0,
            start_new_session=True,  # its own process group: a kill takes any grandchild too
        )

    def check(self, language: str, data: bytes, timeout: float) -> WorkerAnswer:
        if not self.ready:
            started = exchange(self.process, b"", time.monotonic() + START_SECONDS, close_input=False)
            if started.ended:
                raise WorkerEnded(f"it ended while starting (exit status {self.process.wait()})")
            self.ready = True
        deadline = time.monotonic() + timeout
        request = f"{language} {len(data)}\n".encode("ascii") + data
        reply = exchange(self.process, request, deadline, close_input=False)
        if reply.ended:
            raise WorkerEnded(f"exit status {self.process.wait()}")
        answer = json.loads(reply.body)
        return WorkerAnswer(
            answer.get("diagnostics"), answer.get("failed"), float(answer.get("cpu_seconds", 0.0))
        )


class WarmWorkers:
    """Warm check workers, started on demand and kept while they are well."""

    def __init__(self, argv_for_nice: dict[int, list[str]], env: dict[str, str]) -> None:
        self._argv = argv_for_nice
        self._env = env
        self._lock = threading.Lock()
        self._idle: dict[int, list[_Worker]] = {nice: [] for nice in argv_for_nice}
        self._all: set[_Worker] = set()
        self._closed = False

    def prestart(self, nice: int) -> None:
        """Start an idle worker now, so the first check finds its checkers loaded."""
        with self._lock:
            if self._closed or self._idle[nice]:
                return
            worker = _Worker(self._argv[nice], self._env)
            self._all.add(worker)
            self._idle[nice].append(worker)

    def _take(self, nice: int) -> _Worker:
        with self._lock:
            if self._closed:
                raise WorkerEnded("the engine is stopping")
            while self._idle[nice]:
                worker = self._idle[nice].pop()
                if worker.process.poll() is None:
                    return worker
                self._all.discard(worker)
            worker = _Worker(self._argv[nice], self._env)
            self._all.add(worker)
            return worker

    def _drop(self, worker: _Worker) -> None:
        with self._lock:
            self._all.discard(worker)
        kill(worker.process)

    def check(self, nice: int, language: str, data: bytes, timeout: float) -> WorkerAnswer:
        """One check; TimedOut past ``timeout`` seconds, WorkerEnded when it died."""
        worker = self._take(nice)
        try:
            answer = worker.check(language, data, timeout)
        except (TimedOut, WorkerEnded, ValueError, OSError):
            self._drop(worker)
            raise
        if answer.failed is not None:
            self._drop(worker)  # it exits after a failure: a fresh one for the next check
            return answer
        with self._lock:
            if self._closed:
                pass
            else:
                self._idle[nice].append(worker)
                return answer
        self._drop(worker)
        return answer

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle = [worker for workers in self._idle.values() for worker in workers]
            busy = [worker for worker in self._all if worker not in idle]
            self._all, self._idle = set(), {nice: [] for nice in self._argv}
        for worker in idle:
            kill(worker.process)
        for worker in busy:
            # Its pipes stay open for the thread checking with it: that thread sees them
            # end and drops the worker. Closing them under it left its wait blind to the
            # end until the deadline, and the engine's exit waited for that thread.
            end_group(worker.process)
