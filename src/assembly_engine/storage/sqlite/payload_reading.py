"""Reading one payload folder without ever following a link, and checking it as it is read.

Files are opened relative to an open directory descriptor with ``O_NOFOLLOW``, so a
symlink swapped in between a check and an open cannot redirect a read (no TOCTOU window);
a symlink (or FIFO, device, …) where a file should be makes the payload corrupt. Every
listed file's size and SHA-256 are checked against the manifest while it is read.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from assembly_engine.storage.contract.payload_manifest import (
    ATTACHMENTS_DIR,
    MANIFEST_NAME,
    FileEntry,
    Manifest,
    PayloadImage,
)
from assembly_engine.storage.files.durable_files import (
    O_BINARY,
    O_CLOEXEC,
    O_DIRECTORY,
    O_NOFOLLOW,
    O_NONBLOCK,
)
from assembly_engine.storage.formats.payload_checks import (
    BadEntry,
    MissingEntry,
    check_entry,
    parse_stored_manifest,
)

_CHUNK = 1 << 20

# With dir_fd + O_NOFOLLOW every name is resolved inside an already-opened directory.
_USE_DIR_FD = os.open in os.supports_dir_fd and O_NOFOLLOW != 0 and O_DIRECTORY != 0


def open_entry(path: Path, dir_fd: int | None, *, directory: bool) -> int:
    """Open ``path`` (its last component relative to ``dir_fd`` when given) read-only,
    never following a symlink, and check it is a directory / regular file."""
    flags = os.O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_BINARY
    flags |= O_DIRECTORY if directory else O_NONBLOCK
    try:
        if dir_fd is not None:
            fd = os.open(path.name, flags, dir_fd=dir_fd)
        else:
            if O_NOFOLLOW == 0 and stat.S_ISLNK(os.lstat(path).st_mode):
                # Platforms without O_NOFOLLOW: best-effort check before opening.
                raise BadEntry(f"{path.name!r} is a symbolic link")
            fd = os.open(path, flags)
    except FileNotFoundError as exc:
        raise MissingEntry(f"{path.name!r} is missing") from exc
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):
            raise BadEntry(f"{path.name!r} is a symbolic link") from exc
        if exc.errno == errno.ENOTDIR:
            raise BadEntry(f"{path.name!r} is not a directory") from exc
        raise BadEntry(f"{path.name!r} cannot be opened: {exc.strerror}") from exc
    mode = os.fstat(fd).st_mode
    if directory and not stat.S_ISDIR(mode):
        os.close(fd)
        raise BadEntry(f"{path.name!r} is not a directory")
    if not directory and not stat.S_ISREG(mode):
        os.close(fd)
        raise BadEntry(f"{path.name!r} is not a regular file")
    return fd


def _read_fd(fd: int, *, keep: bool) -> tuple[bytes | None, int, str]:
    """Read an open file to the end: (data if keep, size, sha256 hex)."""
    digest = hashlib.sha256()
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = os.read(fd, _CHUNK)
        if not chunk:
            break
        digest.update(chunk)
        size += len(chunk)
        if keep:
            chunks.append(chunk)
    return (b"".join(chunks) if keep else None), size, digest.hexdigest()


def _read_manifest(folder: Path, base_fd: int | None) -> bytes:
    fd = open_entry(folder / MANIFEST_NAME, base_fd, directory=False)
    try:
        return _read_fd(fd, keep=True)[0] or b""
    except OSError as exc:
        raise BadEntry(f"the manifest cannot be read: {exc.strerror}") from exc
    finally:
        os.close(fd)


def read_manifest_bytes(folder: Path) -> bytes:
    """The raw manifest of ``folder``, unchecked; MissingEntry / BadEntry when unreadable."""
    folder_fd = open_entry(folder, None, directory=True)
    try:
        return _read_manifest(folder, folder_fd if _USE_DIR_FD else None)
    finally:
        os.close(folder_fd)


@dataclass(frozen=True, slots=True)
class LoadedFolder:
    """A verified payload folder as read from disk (file bytes only when kept)."""

    manifest_bytes: bytes
    manifest: Manifest
    main: bytes | None
    files: tuple[bytes | None, ...]

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.manifest_bytes).hexdigest()

    def image(self) -> PayloadImage:
        return PayloadImage(
            self.manifest_bytes, self.manifest, self.main or b"", tuple(d or b"" for d in self.files)
        )


def load_folder(folder: Path, payload_guid: str, *, keep: bool) -> LoadedFolder:
    """Read and verify ``folder``; MissingEntry / BadEntry say what is wrong."""
    opened: list[int] = []
    try:
        folder_fd = open_entry(folder, None, directory=True)
        opened.append(folder_fd)
        base_fd = folder_fd if _USE_DIR_FD else None

        def read(path: Path, dir_fd: int | None) -> tuple[bytes | None, int, str]:
            fd = open_entry(path, dir_fd, directory=False)
            try:
                return _read_fd(fd, keep=keep)
            except OSError as exc:
                raise BadEntry(f"{path.name!r} cannot be read: {exc.strerror}") from exc
            finally:
                os.close(fd)

        manifest_bytes = _read_manifest(folder, base_fd)
        manifest = parse_stored_manifest(manifest_bytes, payload_guid)

        def verified(entry: FileEntry, path: Path, dir_fd: int | None) -> bytes | None:
            data, size, digest = read(path, dir_fd)
            check_entry(entry, size, digest)
            return data

        main = verified(manifest.main, folder / manifest.main.name, base_fd)
        files: list[bytes | None] = []
        if manifest.files:
            files_dir = folder / ATTACHMENTS_DIR
            files_fd = open_entry(files_dir, base_fd, directory=True)
            opened.append(files_fd)
            sub_fd = files_fd if _USE_DIR_FD else None
            for entry in manifest.files:
                files.append(verified(entry, files_dir / entry.name, sub_fd))
        return LoadedFolder(manifest_bytes, manifest, main, tuple(files))
    finally:
        for fd in opened:
            os.close(fd)
