"""Naming a full disk as the cause of a storage failure.

SQLite reports a disk with no room in several ways ("database or disk is full", or
"disk I/O error" when it cannot even create its WAL index), and an error raised while
cleaning up can replace the first one. A person reading "engine failed to start: disk I/O
error" cannot tell that freeing space is the fix, so the cause is looked up on the disk.
"""

from __future__ import annotations

import errno
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


def _says_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or an error it was raised from) is the disk saying it has no room.
    Needed beside the free-space check: a failed write's temp file is removed again, so the
    disk may have room once more by the time the failure is looked at."""
    chain: BaseException | None = exc
    while chain is not None:
        if isinstance(chain, OSError) and chain.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if (
            isinstance(chain, sqlite3.Error)
            and (getattr(chain, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_FULL
        ):
            return True
        chain = chain.__cause__ or chain.__context__
    return False


def full_disk_cause(exc: BaseException, path: Path) -> str | None:
    """A sentence naming the full disk under ``path`` when it explains ``exc``, or None."""
    if not _storage_error(exc):
        return None
    free = free_bytes(path)
    if not _says_full(exc) and (free is None or free >= FULL_BELOW_BYTES):
        return None
    return (
        f"the disk holding {path} is full ({free} bytes free) — {exc}. Free some space on "
        "it and start the engine again; nothing was changed"
    )


def full_disk_now(path: Path) -> str | None:
    """A sentence naming the full disk under ``path`` when it is full now, or None: a start
    that finds it so goes read-only at once instead of trying steps that would fail."""
    free = free_bytes(path)
    if free is None or free >= FULL_BELOW_BYTES:
        return None
    return (
        f"the disk holding {path} is full ({free} bytes free). Free some space on it and start "
        "the engine again"
    )
