"""Finding what no record references: orphan payloads, and temp folders a crash left behind.

Shared by every payload store: the verdict (:class:`OrphanSweep`) and the rule that an
unreferenced payload younger than the grace period is only reported (it may belong to a
write in progress). The temp-folder bookkeeping is the folder store's: a payload is
written into ``.tmp-<guid>-<random>/`` and renamed into place, and the temp folders this
process is writing right now are never removed by a sweep running next to the write.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from assembly_engine.storage.files.durable_files import remove_tree

logger = logging.getLogger("assembly_engine.payloads")

TEMP_PREFIX = ".tmp-"

# Temp folders that a store in this process is writing right now, by absolute path.
_ACTIVE_TEMP_DIRS: set[str] = set()
_ACTIVE_TEMP_LOCK = threading.Lock()


def split_by_age(
    unreferenced: Iterable[str], age_seconds: Callable[[str], float | None], grace_seconds: float
) -> tuple[list[str], list[str]]:
    """(orphans, recent) of the unreferenced payloads, sorted; one whose age is None is
    gone already and left out."""
    orphans: list[str] = []
    recent: list[str] = []
    for payload_guid in sorted(unreferenced):
        age = age_seconds(payload_guid)
        if age is not None:
            (recent if age < grace_seconds else orphans).append(payload_guid)
    return orphans, recent


def temp_name(payload_guid: str) -> str:
    return f"{TEMP_PREFIX}{payload_guid}-{secrets.token_hex(8)}"


@contextmanager
def temp_dir(root: Path, payload_guid: str) -> Iterator[Path]:
    """A fresh ``.tmp-<guid>-<random>`` folder in ``root``, removed if still there."""
    temp = root / temp_name(payload_guid)
    temp.mkdir()
    key = str(temp)
    with _ACTIVE_TEMP_LOCK:
        _ACTIVE_TEMP_DIRS.add(key)
    try:
        yield temp
    finally:
        with _ACTIVE_TEMP_LOCK:
            _ACTIVE_TEMP_DIRS.discard(key)
        if os.path.lexists(temp):
            with suppress(OSError):
                remove_tree(temp)


def age_seconds(root: Path, name: str, now: float) -> float | None:
    """How long ago the entry ``name`` in ``root`` last changed; None once it is gone."""
    try:
        return now - os.lstat(root / name).st_mtime
    except FileNotFoundError:
        return None


def stale_temp(root: Path, names: Iterable[str], min_age_seconds: float, now: float) -> list[str]:
    """The ``.tmp-*`` names no write of this process owns, at least ``min_age_seconds``
    old (a younger one may belong to a write in another process)."""
    stale: list[str] = []
    for name in sorted(n for n in names if n.startswith(TEMP_PREFIX)):
        with _ACTIVE_TEMP_LOCK:
            active = str(root / name) in _ACTIVE_TEMP_DIRS
        age = None if active else age_seconds(root, name, now)
        if age is not None and age >= min_age_seconds:
            stale.append(name)
    return stale


def remove_temp(root: Path, name: str) -> bool:
    """Remove one leftover temp folder; False when it was gone already."""
    try:
        remove_tree(root / name)
    except FileNotFoundError:
        return False
    logger.info("removed leftover temp folder %s", name)
    return True
