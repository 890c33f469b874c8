"""Crash-safe file primitives shared by every file the engine keeps durable.

The payload store, the audit log and its head file all need the same few steps: write a
file and fsync it, replace a file atomically, append a whole line or nothing, persist a
directory's entries. They live here once, so a fix to one (or a test's fault injection)
applies to all.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

logger = logging.getLogger("assembly_engine.files")

# Flags that are missing on some platforms become 0 (no effect).
O_NOFOLLOW: int = getattr(os, "O_NOFOLLOW", 0)
O_DIRECTORY: int = getattr(os, "O_DIRECTORY", 0)
O_NONBLOCK: int = getattr(os, "O_NONBLOCK", 0)  # opening a planted FIFO must not hang
O_CLOEXEC: int = getattr(os, "O_CLOEXEC", 0)
O_BINARY: int = getattr(os, "O_BINARY", 0)


def fsync_directory(path: Path) -> None:
    """Persist a directory's entries (renames, new files). Not possible on every OS."""
    if O_DIRECTORY == 0:
        return
    fd = os.open(path, os.O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class GroupedSync:
    """Group commit of one fsync target (a directory many threads rename into): one fsync
    persists every change made before it began, so concurrent writers share them.

    A writer takes a ticket with :meth:`changed` once its change is done, then calls
    :meth:`durable`, which returns once a ``sync`` that started after the change succeeded
    (its own, or another writer's). A failed sync covers nobody: it raises to its caller
    and the next writer syncs again.
    """

    def __init__(self) -> None:
        self._count_lock = threading.Lock()
        self._sync_lock = threading.Lock()  # one sync at a time; the next covers the rest
        self._changes = 0
        self._synced = 0

    def changed(self) -> int:
        """The ticket of a change that has completed."""
        with self._count_lock:
            self._changes += 1
            return self._changes

    def durable(self, ticket: int, sync: Callable[[], None]) -> None:
        """Return once the change of ``ticket`` is persisted, running ``sync`` if no sync
        since the change has."""
        with self._sync_lock:
            if self._synced >= ticket:
                return
            with self._count_lock:
                covered = self._changes
            sync()
            self._synced = covered


def fsync_file(path: Path) -> None:
    """Make what was written to ``path`` (through any descriptor) durable."""
    fd = os.open(path, os.O_RDONLY | O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def write_new_file(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Create ``path`` (must not exist, must not be a symlink), write ``data``, fsync."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_BINARY
    fd = os.open(path, flags, mode)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_file(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` atomically and durably: a reader (or a restart after
    a crash) sees the old content or the new one, never a mix."""
    temp = path.with_name(path.name + ".tmp")
    with suppress(FileNotFoundError):
        temp.unlink()  # left by a crash between writing and renaming
    try:
        write_new_file(temp, data, mode)
    except FileExistsError:
        raise  # another writer's temp file: not ours to remove
    except OSError:  # a full disk: leave no empty or partial temp file behind
        with suppress(FileNotFoundError):
            temp.unlink()
        raise
    os.replace(temp, path)
    fsync_directory(path.parent)


def append_whole(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Append ``data`` whole or not at all: a failed write (disk full) is cut back off, so
    a refused record never leaves half a line for the next one to be glued to. Not fsynced:
    the caller makes a group of appends durable with :func:`fsync_file`."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | O_CLOEXEC, mode)
    try:
        size_before = os.fstat(fd).st_size
        try:
            _write_all(fd, data)
        except OSError:
            try:
                os.ftruncate(fd, size_before)
            except OSError:
                logger.error("could not cut a partial record off %s", path)
            raise
    finally:
        os.close(fd)


def truncate_durably(path: Path, size: int) -> None:
    """Cut ``path`` to ``size`` bytes and make the cut durable."""
    with open(path, "r+b") as handle:
        handle.truncate(size)
        handle.flush()
        os.fsync(handle.fileno())


def remove_tree(path: Path) -> None:
    """Remove a folder (or file) we own. A symlink is unlinked itself, never followed."""
    if path.is_symlink() or not path.is_dir():
        with suppress(FileNotFoundError):
            path.unlink()
        return
    # rmtree does not follow symlinks found inside the tree; it unlinks them.
    shutil.rmtree(path)
