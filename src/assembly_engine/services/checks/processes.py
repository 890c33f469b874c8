"""Talking to check processes with a deadline, and what they cost in CPU.

Both kinds of check process go through :func:`exchange`: a one-shot child (ShellCheck,
ruff: the script on stdin, the answer up to end of file) and a warm worker (workers.py:
a framed request, a framed answer, the process stays). Writing and reading are
interleaved, so a 10 MB script never deadlocks against a checker that answers early, and
nothing waits past the deadline.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from dataclasses import dataclass

CHUNK = 1 << 16


class TimedOut(Exception):
    """The deadline passed before the answer was complete."""


@dataclass(frozen=True)
class Reply:
    body: bytes
    ended: bool  # the process closed its output (a one-shot child's answer is complete)


def exchange(
    process: subprocess.Popen[bytes], request: bytes, deadline: float, *, close_input: bool
) -> Reply:
    """Write ``request`` to the process and read its answer: up to end of file, or (for a
    worker) one ``LENGTH\\n``-framed answer. TimedOut past ``deadline`` (monotonic)."""
    assert process.stdin is not None and process.stdout is not None
    fd_in, fd_out = process.stdin.fileno(), process.stdout.fileno()
    os.set_blocking(fd_in, False)
    os.set_blocking(fd_out, False)
    view, written, received = memoryview(request), 0, bytearray()
    needed: int | None = None
    with selectors.DefaultSelector() as selector:
        selector.register(fd_out, selectors.EVENT_READ)
        if view:
            selector.register(fd_in, selectors.EVENT_WRITE)
        elif close_input:
            process.stdin.close()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimedOut
            for key, _ in selector.select(left):
                if key.fd == fd_in:
                    try:
                        written += os.write(fd_in, view[written : written + CHUNK])
                    except BrokenPipeError:  # it stopped reading: its answer tells why
                        written = len(view)
                    if written >= len(view):
                        selector.unregister(fd_in)
                        if close_input:
                            process.stdin.close()
                    continue
                chunk = os.read(fd_out, CHUNK)
                if not chunk:
                    return Reply(bytes(received), ended=True)
                received += chunk
                if close_input:
                    continue
                if needed is None and b"\n" in received:
                    head, _, rest = bytes(received).partition(b"\n")
                    needed, received = int(head), bytearray(rest)
                if needed is not None and len(received) >= needed:
                    return Reply(bytes(received[:needed]), ended=False)


def end_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL a check process and everything it started (its own process group); its
    pipes stay open, so a thread waiting on them sees them end."""
    if process.returncode is None:  # once reaped, its id may be another process's
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # it ended just now


def kill(process: subprocess.Popen[bytes]) -> None:
    """End a check process and its group, close its pipes and reap it."""
    end_group(process)
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()
    process.wait()


def cpu_seconds_at_exit(process: subprocess.Popen[bytes], timeout: float) -> float:
    """Wait for a child that ended (or is ending) and reap it ourselves with ``wait4``,
    which also gives its CPU time (user and system, of every thread). TimedOut when it
    has not ended within ``timeout`` seconds."""
    until = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)  # Popen's own record
            return float(usage.ru_utime + usage.ru_stime)
        if time.monotonic() > until:
            raise TimedOut
        time.sleep(0.001)
