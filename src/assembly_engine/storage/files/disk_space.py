"""Naming a full disk as the cause of a storage failure.

SQLite reports a disk with no room in several ways ("database or disk is full", or
"disk I/O error" when it cannot even create its WAL index), and an error raised while
cleaning up can replace the first one. A person reading "engine failed to start: disk I/O
error" cannot tell that freeing space is the fix, so the cause is looked up on the disk.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

# Below this many free bytes a disk counts as full: SQLite needs a few pages for its
# WAL index and journal, and a payload folder or an audit head needs a block or two.
FULL_BELOW_BYTES = 1024 * 1024


def free_bytes(path: Path) -> int | None:
    """Bytes free to this user on the disk holding ``path`` (or its nearest existing parent)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        stats = os.statvfs(probe)
    except OSError:
        return None
    return stats.f_bavail * stats.f_frsize


def _storage_error(exc: BaseException) -> bool:
    """Whether ``exc`` (or an error it was raised from) came from the disk or SQLite."""
    chain: BaseException | None = exc
    while chain is not None:
        if isinstance(chain, sqlite3.OperationalError | OSError):
            return True
        chain = chain.__cause__ or chain.__context__
    return False


def full_disk_cause(exc: BaseException, path: Path) -> str | None:
    """A sentence naming the full disk under ``path`` when it explains ``exc``, or None."""
    if not _storage_error(exc):
        return None
    free = free_bytes(path)
    if free is None or free >= FULL_BELOW_BYTES:
        return None
    return (
        f"the disk holding {path} is full ({free} bytes free) — {exc}. Free some space on "
        "it and start the engine again; nothing was changed"
    )
