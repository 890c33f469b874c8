"""The runtime root's lock: one engine per home. A module of its own, so the CLI can probe
it without importing the storage stack (its start-up is part of every command's time)."""

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
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {utc_now()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
