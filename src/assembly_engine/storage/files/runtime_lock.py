"""The runtime root's lock: one engine per home (or per node's runtime folder).

An exclusive ``flock`` held for the process's lifetime; the file names its holder, so a
second engine, or a CLI that probes the lock, can say who runs there.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
from pathlib import Path
from typing import IO

from assembly_engine.domain.clock import utc_now
from assembly_engine.storage.contract.errors import Busy

LOCK_FILE = "engine.lock"


class EngineLocked(Busy):
    """Another engine holds this runtime root."""


class RuntimeLock:
    """An exclusive flock on ``<runtime root>/engine.lock`` held for the process lifetime."""

    def __init__(self, root: Path) -> None:
        self.path = root / LOCK_FILE
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held open on purpose
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            handle.seek(0)
            holder = handle.read().strip() or "unknown process"
            handle.close()
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise EngineLocked(
                    f"Another engine is already running on {self.path.parent} ({holder}). "
                    "Stop it first, or give this one its own home with ENGINE_HOME."
                ) from None
            raise
        self._handle = handle
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {utc_now()}\n")
            handle.flush()
        except OSError:  # a full disk: the flock is the lock, the line only says whose it is
            pass

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            try:
                self._handle.close()
            except OSError:  # the pid line a full disk refused is flushed again, and fails again
                pass
            self._handle = None
