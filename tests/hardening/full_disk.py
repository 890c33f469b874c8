"""A real full disk for tests (root only): a size-limited tmpfs, filled to the last byte."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest

TMPFS_SIZE = "8m"


def mount_tmpfs(target: Path, size: str = TMPFS_SIZE) -> bool:
    """Mount a ``size`` tmpfs on ``target``; False where mounting is not possible."""
    if os.geteuid() != 0:
        return False
    target.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return result.returncode == 0


def umount(target: Path) -> None:
    subprocess.run(["umount", "-l", str(target)], capture_output=True, timeout=30)


class Filler:
    """Fills a file system to the last byte, and frees it again."""

    def __init__(self, root: Path) -> None:
        self.path = root / "filler.bin"

    def fill(self) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            chunk = 1 << 20
            for _ in range(100_000):  # bounded: 8 MiB takes a few dozen writes
                if chunk == 0:
                    break
                try:
                    os.write(fd, b"\0" * chunk)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc
                    chunk //= 2
        finally:
            os.close(fd)
        probe = self.path.parent / "probe"
        with pytest.raises(OSError):
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                os.write(fd, b"x" * 4096)
                os.fsync(fd)
            finally:
                os.close(fd)
        probe.unlink(missing_ok=True)

    def fill_certainly(self) -> None:
        """Fill until the file system reports no free block at all.

        Space can come back after a fill (a file the stopped engine still held open is
        closed, tmpfs returns a page late), so the fill is repeated until statvfs says 0."""
        for _ in range(1000):  # bounded; one or two rounds in practice
            os.sync()
            stats = os.statvfs(self.path.parent)
            if stats.f_bfree == 0 and stats.f_bavail == 0:
                return
            self.fill()
        raise AssertionError(f"{self.path.parent} still has free blocks after 1000 fills")

    def free(self) -> None:
        self.path.unlink(missing_ok=True)
