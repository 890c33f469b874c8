"""The payload store: assembly content kept in ``Payloads/<payload_guid>/`` folders.

Database rows never hold content; they hold a ``payload_guid`` that names a folder here
(Docs/assemblies.md §4). One folder looks like this::

    Payloads/
      0f3c…(32 lowercase hex)/         one payload, written once, never edited in place
        manifest.json                  what the folder holds (below)
        script.ps1                     the main file: ``PayloadContent.main_file_name``
        files/                         only when there are attachments
          report-template.xlsx         each attachment as raw bytes (never base64)
      .tmp-<guid>-<random>/            a write (or delete) in progress, or left by a crash

``manifest.json`` is canonical JSON (sorted keys, no spaces, UTF-8, newline-terminated)::

    {"files": [{"mime_type": "...", "name": "report-template.xlsx", "sha256": "...",
                "size": 1234}, ...],
     "format": 1,
     "main": {"mime_type": "text/x-powershell", "name": "script.ps1",
              "sha256": "...", "size": 42},
     "payload_type": "script"}

``files`` keeps the order of ``PayloadContent.files`` so content round-trips exactly.
``PayloadRef.checksum`` is the SHA-256 of the exact manifest bytes; because the manifest
lists each file's SHA-256, a change to any byte of any listed file, or to the manifest,
changes or breaks the checksum. Entries in the folder that the manifest does not list are
ignored (a stray ``.DS_Store`` from a maintainer's checkout does not make a payload corrupt).

Rules the store enforces:

- **One guard for paths.** Every GUID must be 32 lowercase hex characters (else
  :class:`InvalidPayloadGuid`), and every folder that is opened goes through
  :meth:`PayloadStore.path_for`: it must resolve to a direct child of the resolved root and
  must not be a symlink. A symlink planted in a GUID's place is a *corrupt* payload: reads
  refuse it, ``exists`` reports it, ``delete`` and ``copy_to`` replace the link itself
  (rename/unlink act on the link, never its target). Nothing outside ``Payloads/`` is read,
  written or deleted.
- **Write-once, crash-safe.** A payload is written into ``.tmp-<guid>-<random>/`` (each file
  fsynced, then the folder), renamed to ``<guid>`` and the root fsynced, so a reader sees a
  complete folder or none. A content change is a new GUID; deleting renames the folder to a
  temp name first so it disappears atomically, then removes it.
- **No symlinks followed.** Files are opened relative to an open directory descriptor with
  ``O_NOFOLLOW``; a symlink (or FIFO, device, …) where a file should be makes the payload
  corrupt, it is never read through.
- **Attachment names come from outside** (imports), so they must be plain file names: not
  empty, no ``/``, ``\\``, NUL or other control characters, not ``.``/``..``, not starting
  with ``.``, at most 255 bytes in UTF-8, unique within a payload. The main file follows the
  same rules and must end in ``.ps1 .bat .sh .py .yml .json``.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import secrets
import shutil
import stat
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..types import Integrity, PayloadType, is_valid_payload_guid
from .models import PayloadContent, PayloadFile, PayloadRef, canonical_json

logger = logging.getLogger("assembly_engine.payloads")

MANIFEST_NAME = "manifest.json"
ATTACHMENTS_DIR = "files"
TEMP_PREFIX = ".tmp-"
MANIFEST_FORMAT = 1
MAX_FILE_NAME_BYTES = 255
MAIN_FILE_EXTENSIONS: frozenset[str] = frozenset({".ps1", ".bat", ".sh", ".py", ".yml", ".json"})

# Recorded in the manifest for the main file; informative only, never used for decisions.
_MAIN_MIME_TYPES: dict[str, str] = {
    ".ps1": "text/x-powershell",
    ".bat": "text/x-msdos-batch",
    ".sh": "text/x-shellscript",
    ".py": "text/x-python",
    ".yml": "application/yaml",
    ".json": "application/json",
}
_BINARY_MIME_TYPE = "application/octet-stream"
_CHUNK = 1 << 20
_SHA256_HEX_LEN = 64

# Flags that are missing on some platforms become 0 (no effect).
_O_NOFOLLOW: int = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY: int = getattr(os, "O_DIRECTORY", 0)
_O_NONBLOCK: int = getattr(os, "O_NONBLOCK", 0)  # opening a planted FIFO must not hang
_O_CLOEXEC: int = getattr(os, "O_CLOEXEC", 0)
_O_BINARY: int = getattr(os, "O_BINARY", 0)
# With dir_fd + O_NOFOLLOW every name is resolved inside an already-opened directory, so a
# symlink swapped in between a check and an open cannot redirect a read (no TOCTOU window).
_USE_DIR_FD = os.open in os.supports_dir_fd and _O_NOFOLLOW != 0 and _O_DIRECTORY != 0

# Temp folders that a store in this process is writing right now, by absolute path;
# remove_orphans never removes these (a gc running next to a write must not break it).
_ACTIVE_TEMP_DIRS: set[str] = set()
_ACTIVE_TEMP_LOCK = threading.Lock()


# --------------------------------------------------------------------------- errors


def _show(value: object) -> str:
    """A GUID or file name for a message: repr (so NUL, newlines show), kept short."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class PayloadError(Exception):
    """Base of every payload store error; ``payload_guid`` names the payload concerned."""

    def __init__(self, message: str, payload_guid: str | None = None) -> None:
        super().__init__(message)
        self.payload_guid = payload_guid


class InvalidPayloadGuid(PayloadError, ValueError):
    """The GUID is malformed, or its folder is not a plain directory directly in the root."""


class InvalidFileName(PayloadError, ValueError):
    """A main or attachment file name is not a safe, plain file name (or is a duplicate)."""

    def __init__(
        self, message: str, payload_guid: str | None = None, file_name: object = None
    ) -> None:
        super().__init__(message, payload_guid)
        self.file_name = file_name


class PayloadMissing(PayloadError):
    """The payload folder, its manifest or a file it lists is gone."""


class PayloadCorrupt(PayloadError):
    """Checksum or size mismatch, unreadable manifest, a symlink or other non-file, …"""


class PayloadExists(PayloadError):
    """A folder already exists for this GUID (payload folders are write-once)."""


# ----------------------------------------------------------------------- file names


def validate_file_name(name: object, payload_guid: str | None = None) -> str:
    """Return ``name`` if it is a safe plain file name, else raise :class:`InvalidFileName`."""
    if not isinstance(name, str):
        raise InvalidFileName(f"file name {_show(name)} is not a string", payload_guid, name)
    problem: str | None = None
    if name == "":
        problem = "is empty"
    elif name in {".", ".."}:
        problem = "is a relative directory reference"
    elif name.startswith("."):
        problem = "starts with '.'"
    elif "/" in name or "\\" in name:
        problem = "contains a path separator"
    elif any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
        problem = "contains NUL or another control character"
    else:
        try:
            encoded = name.encode("utf-8")
        except UnicodeEncodeError:
            problem = "is not valid Unicode text"
        else:
            if len(encoded) > MAX_FILE_NAME_BYTES:
                problem = f"is longer than {MAX_FILE_NAME_BYTES} bytes"
    if problem is not None:
        raise InvalidFileName(f"file name {_show(name)} {problem}", payload_guid, name)
    return name


def validate_main_file_name(name: object, payload_guid: str | None = None) -> str:
    """Like :func:`validate_file_name`, plus an allowed extension and not ``manifest.json``."""
    valid = validate_file_name(name, payload_guid)
    extension = os.path.splitext(valid)[1].lower()
    if extension not in MAIN_FILE_EXTENSIONS:
        allowed = " ".join(sorted(MAIN_FILE_EXTENSIONS))
        raise InvalidFileName(
            f"main file name {_show(valid)} must end in one of: {allowed}", payload_guid, valid
        )
    if valid.lower() == MANIFEST_NAME:
        raise InvalidFileName(
            f"main file name {_show(valid)} is reserved for the manifest", payload_guid, valid
        )
    return valid


def _main_mime_type(payload_type: PayloadType, main_file_name: str) -> str:
    if payload_type is PayloadType.BINARY:
        return _BINARY_MIME_TYPE
    extension = os.path.splitext(main_file_name)[1].lower()
    return _MAIN_MIME_TYPES.get(extension, _BINARY_MIME_TYPE)


# ------------------------------------------------------------------ manifest model


@dataclass(frozen=True, slots=True)
class _FileEntry:
    name: str
    mime_type: str
    size: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "mime_type": self.mime_type, "size": self.size,
                "sha256": self.sha256}


@dataclass(frozen=True, slots=True)
class _Manifest:
    payload_type: PayloadType
    main: _FileEntry
    files: tuple[_FileEntry, ...]

    def to_bytes(self) -> bytes:
        document = {
            "format": MANIFEST_FORMAT,
            "payload_type": self.payload_type.value,
            "main": self.main.to_json(),
            "files": [entry.to_json() for entry in self.files],
        }
        return canonical_json(document).encode("utf-8") + b"\n"

    @property
    def size_bytes(self) -> int:
        return self.main.size + sum(entry.size for entry in self.files)


def _entry_for(name: str, mime_type: str, data: bytes) -> _FileEntry:
    return _FileEntry(name, mime_type, len(data), hashlib.sha256(data).hexdigest())


def _parse_entry(value: object, *, main: bool, payload_guid: str) -> _FileEntry:
    if not isinstance(value, dict):
        raise ValueError("a file entry is not an object")
    name, mime_type = value.get("name"), value.get("mime_type")
    size, digest = value.get("size"), value.get("sha256")
    # Names in a manifest are re-validated: a tampered manifest must not steer reads
    # to "../somewhere".
    try:
        if main:
            name = validate_main_file_name(name, payload_guid)
        else:
            name = validate_file_name(name, payload_guid)
    except InvalidFileName as exc:
        raise ValueError(str(exc)) from exc
    if not isinstance(mime_type, str):
        raise ValueError(f"mime_type of {name!r} is not a string")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValueError(f"size of {name!r} is not a non-negative integer")
    if (
        not isinstance(digest, str)
        or len(digest) != _SHA256_HEX_LEN
        or any(ch not in "0123456789abcdef" for ch in digest)
    ):
        raise ValueError(f"sha256 of {name!r} is not 64 lowercase hex characters")
    return _FileEntry(name, mime_type, size, digest)


def _parse_manifest(raw: bytes, payload_guid: str) -> _Manifest:
    """Parse and validate manifest bytes; any problem is a ValueError."""
    document = json.loads(raw.decode("utf-8"))
    if not isinstance(document, dict):
        raise ValueError("the manifest is not a JSON object")
    if document.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"unknown manifest format {document.get('format')!r}")
    raw_type = document.get("payload_type")
    if not isinstance(raw_type, str):
        raise ValueError("'payload_type' is not a string")
    payload_type = PayloadType(raw_type)
    main = _parse_entry(document.get("main"), main=True, payload_guid=payload_guid)
    raw_files = document.get("files")
    if not isinstance(raw_files, list):
        raise ValueError("'files' is not a list")
    files = tuple(_parse_entry(item, main=False, payload_guid=payload_guid) for item in raw_files)
    names = [entry.name for entry in files]
    if len(set(names)) != len(names):
        raise ValueError("the manifest lists an attachment twice")
    return _Manifest(payload_type, main, files)


# ------------------------------------------------------------------ low-level I/O


class _MissingEntry(Exception):
    """A name the manifest promises is not there."""


class _BadEntry(Exception):
    """A name is there but is not what it should be (symlink, wrong type, unreadable)."""


def _open_entry(path: Path, dir_fd: int | None, *, directory: bool) -> int:
    """Open ``path`` (its last component relative to ``dir_fd`` when given) read-only,
    never following a symlink, and check it is a directory / regular file."""
    flags = os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC | _O_BINARY
    flags |= _O_DIRECTORY if directory else _O_NONBLOCK
    try:
        if dir_fd is not None:
            fd = os.open(path.name, flags, dir_fd=dir_fd)
        else:
            if _O_NOFOLLOW == 0 and stat.S_ISLNK(os.lstat(path).st_mode):
                # Platforms without O_NOFOLLOW: best-effort check before opening.
                raise _BadEntry(f"{path.name!r} is a symbolic link")
            fd = os.open(path, flags)
    except FileNotFoundError as exc:
        raise _MissingEntry(f"{path.name!r} is missing") from exc
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):
            raise _BadEntry(f"{path.name!r} is a symbolic link") from exc
        if exc.errno == errno.ENOTDIR:
            raise _BadEntry(f"{path.name!r} is not a directory") from exc
        raise _BadEntry(f"{path.name!r} cannot be opened: {exc.strerror}") from exc
    mode = os.fstat(fd).st_mode
    if directory and not stat.S_ISDIR(mode):
        os.close(fd)
        raise _BadEntry(f"{path.name!r} is not a directory")
    if not directory and not stat.S_ISREG(mode):
        os.close(fd)
        raise _BadEntry(f"{path.name!r} is not a regular file")
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


def _fsync_dir(path: Path) -> None:
    """Persist a directory's entries (renames, new files). Not possible on every OS."""
    if _O_DIRECTORY == 0:
        return
    fd = os.open(path, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(path: Path, data: bytes) -> None:
    """Create ``path`` (must not exist, must not be a symlink), write ``data``, fsync."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC | _O_BINARY
    fd = os.open(path, flags, 0o644)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_tree(path: Path) -> None:
    """Remove a folder we own. A symlink is unlinked itself, never followed."""
    if path.is_symlink() or not path.is_dir():
        with suppress(FileNotFoundError):
            path.unlink()
        return
    # rmtree does not follow symlinks found inside the tree; it unlinks them.
    shutil.rmtree(path)


@dataclass(frozen=True, slots=True)
class _Loaded:
    """A verified payload folder as read from disk."""

    manifest_bytes: bytes
    manifest: _Manifest
    main: bytes | None
    files: tuple[bytes | None, ...]

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.manifest_bytes).hexdigest()


# --------------------------------------------------------------------------- store


class PayloadStore:
    """Write-once payload folders under one ``Payloads/`` root (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root: Path = Path(os.path.abspath(root))
        self.root.mkdir(parents=True, exist_ok=True)
        # Resolved once: path_for runs for every payload touched (100,000s at boot).
        self._real_root = os.path.realpath(self.root)

    def __repr__(self) -> str:
        return f"PayloadStore({str(self.root)!r})"

    # ---------------------------------------------------------------- guids and paths

    @staticmethod
    def new_guid() -> str:
        return uuid.uuid4().hex

    def _entry_path(self, payload_guid: str) -> Path:
        """``root/<guid>`` after checking the GUID's form, without resolving anything.

        Only for operations that never follow the last component (lexists, rename of the
        entry itself); everything that opens or walks a folder uses :meth:`path_for`.
        """
        if not is_valid_payload_guid(payload_guid):
            raise InvalidPayloadGuid(
                f"payload GUID {_show(payload_guid)} is not 32 lowercase hex characters",
                payload_guid if isinstance(payload_guid, str) else None,
            )
        return self.root / payload_guid

    def path_for(self, payload_guid: str) -> Path:
        """The folder of ``payload_guid``; the guard every path that is followed goes through.

        Raises :class:`InvalidPayloadGuid` unless the GUID is 32 lowercase hex and its
        folder (existing or not) resolves to a direct child of the resolved root and is
        not a symlink.
        """
        self._entry_path(payload_guid)
        real_root = self._real_root
        candidate = os.path.join(real_root, payload_guid)
        # The pattern already excludes separators and dots, so the name itself cannot leave
        # the root; the one remaining way out is a symlink planted in the root's place.
        if os.path.dirname(candidate) != real_root or os.path.islink(candidate):
            raise InvalidPayloadGuid(
                f"payload folder {payload_guid} is not a plain directory inside {self.root}",
                payload_guid,
            )
        return self.root / payload_guid

    def exists(self, payload_guid: str) -> bool:
        """True when something occupies the GUID's place (content not verified).

        A symlink planted there counts: it blocks the GUID, and :meth:`check` reports it
        corrupt. A malformed GUID raises :class:`InvalidPayloadGuid`.
        """
        return os.path.lexists(self._entry_path(payload_guid))

    def list_names(self) -> set[str]:
        """Every name in the root, unchecked: the cheap presence test used when loading
        (one directory read; whatever is there is verified when it is read)."""
        return set(os.listdir(self.root))

    def list_guids(self) -> set[str]:
        """GUIDs of the payload folders present: real directories with a valid GUID name."""
        found: set[str] = set()
        with os.scandir(self.root) as entries:
            for entry in entries:
                if is_valid_payload_guid(entry.name) and entry.is_dir(follow_symlinks=False):
                    found.add(entry.name)
        return found

    # --------------------------------------------------------------------- writing

    def write_new(self, content: PayloadContent) -> PayloadRef:
        """Write ``content`` under a fresh GUID."""
        return self.write_with_guid(self.new_guid(), content)

    def write_with_guid(self, payload_guid: str, content: PayloadContent) -> PayloadRef:
        """Write ``content`` under a given GUID (deterministic builds).

        Raises :class:`PayloadExists` if the folder is already there.
        """
        if self.exists(payload_guid):
            raise PayloadExists(f"payload {payload_guid} already exists", payload_guid)
        payload_type = PayloadType(content.payload_type)
        main_name = validate_main_file_name(content.main_file_name, payload_guid)
        main = bytes(content.main)
        attachments: list[tuple[PayloadFile, bytes]] = []
        seen: set[str] = set()
        for item in content.files:
            name = validate_file_name(item.file_name, payload_guid)
            if name in seen:
                raise InvalidFileName(
                    f"attachment {_show(name)} appears more than once", payload_guid, name
                )
            if not isinstance(item.mime_type, str):
                raise InvalidFileName(
                    f"mime type of attachment {_show(name)} is not a string", payload_guid, name
                )
            seen.add(name)
            attachments.append((item, bytes(item.data)))
        manifest = _Manifest(
            payload_type,
            _entry_for(main_name, _main_mime_type(payload_type, main_name), main),
            tuple(_entry_for(item.file_name, item.mime_type, data) for item, data in attachments),
        )
        manifest_bytes = manifest.to_bytes()
        self._install(
            payload_guid, manifest_bytes, main_name, main,
            [(item.file_name, data) for item, data in attachments], replace=False,
        )
        return PayloadRef(
            payload_guid, payload_type, manifest.size_bytes,
            hashlib.sha256(manifest_bytes).hexdigest(),
        )

    @contextmanager
    def _temp_dir(self, payload_guid: str) -> Iterator[Path]:
        """A fresh ``.tmp-<guid>-<random>`` folder in the root, removed if still there."""
        temp = self.root / f"{TEMP_PREFIX}{payload_guid}-{secrets.token_hex(8)}"
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
                    _remove_tree(temp)

    def _install(
        self,
        payload_guid: str,
        manifest_bytes: bytes,
        main_name: str,
        main: bytes,
        attachments: list[tuple[str, bytes]],
        *,
        replace: bool,
    ) -> None:
        """Write a complete folder into a temp folder, then rename it into place.

        ``replace`` swaps out an existing folder: it is first renamed to a temp name (so
        a crash leaves either the old folder, no folder, or the new one — never a mix),
        then the new one is renamed in and the old one removed. Renames act on the entry
        itself, so an old entry that is a symlink is moved and unlinked, never followed.
        """
        folder = self._entry_path(payload_guid)
        with self._temp_dir(payload_guid) as temp:
            try:
                _write_file(temp / main_name, main)
                if attachments:
                    (temp / ATTACHMENTS_DIR).mkdir()
                    for name, data in attachments:
                        _write_file(temp / ATTACHMENTS_DIR / name, data)
                    _fsync_dir(temp / ATTACHMENTS_DIR)
            except FileExistsError as exc:
                # Only possible on a case-insensitive file system ("A.txt" vs "a.txt").
                raise InvalidFileName(
                    f"two files of payload {payload_guid} map to the same name on this "
                    f"file system: {exc.filename!r}",
                    payload_guid,
                    exc.filename,
                ) from exc
            # The manifest goes last: a temp folder with a manifest is complete.
            _write_file(temp / MANIFEST_NAME, manifest_bytes)
            _fsync_dir(temp)
            old: Path | None = None
            if replace and os.path.lexists(folder):
                old = self.root / f"{TEMP_PREFIX}{payload_guid}-{secrets.token_hex(8)}"
                os.rename(folder, old)
            elif os.path.lexists(folder):
                raise PayloadExists(f"payload {payload_guid} already exists", payload_guid)
            try:
                os.rename(temp, folder)
            except OSError as exc:
                if old is not None:
                    with suppress(OSError):
                        os.rename(old, folder)  # put the previous folder back
                    old = None
                if exc.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.EISDIR, errno.ENOTDIR):
                    raise PayloadExists(
                        f"payload {payload_guid} already exists", payload_guid
                    ) from exc
                raise
            _fsync_dir(self.root)
        if old is not None:
            with suppress(OSError):
                _remove_tree(old)

    # --------------------------------------------------------------------- reading

    def _load(
        self, payload_guid: str, expected_checksum: str | None, *, keep: bool
    ) -> _Loaded:
        """Read and verify a folder; log and raise PayloadMissing / PayloadCorrupt."""
        if not is_valid_payload_guid(payload_guid):
            # A malformed GUID is the caller's error, not a damaged payload: let path_for
            # raise InvalidPayloadGuid with its usual message.
            self.path_for(payload_guid)
        try:
            try:
                folder = self.path_for(payload_guid)
            except InvalidPayloadGuid as exc:
                # The GUID is well-formed, so the folder on disk is what is wrong.
                raise _BadEntry(f"the payload folder is not a plain directory ({exc})") from exc
            loaded = self._load_folder(folder, payload_guid, keep=keep)
        except _MissingEntry as exc:
            logger.warning("payload %s is missing: %s", payload_guid, exc)
            raise PayloadMissing(
                f"payload {payload_guid} is missing: {exc}", payload_guid
            ) from None
        except _BadEntry as exc:
            logger.warning("payload %s is corrupt: %s", payload_guid, exc)
            raise PayloadCorrupt(
                f"payload {payload_guid} is corrupt: {exc}", payload_guid
            ) from None
        if expected_checksum and loaded.checksum != expected_checksum.lower():
            logger.warning(
                "payload %s is corrupt: checksum %s, expected %s",
                payload_guid, loaded.checksum, expected_checksum,
            )
            raise PayloadCorrupt(
                f"payload {payload_guid} is corrupt: its checksum does not match the record",
                payload_guid,
            )
        return loaded

    def _load_folder(self, folder: Path, payload_guid: str, *, keep: bool) -> _Loaded:
        opened: list[int] = []
        try:
            folder_fd = _open_entry(folder, None, directory=True)
            opened.append(folder_fd)
            base_fd = folder_fd if _USE_DIR_FD else None

            def read(path: Path, dir_fd: int | None) -> tuple[bytes | None, int, str]:
                fd = _open_entry(path, dir_fd, directory=False)
                try:
                    return _read_fd(fd, keep=keep)
                except OSError as exc:
                    raise _BadEntry(f"{path.name!r} cannot be read: {exc.strerror}") from exc
                finally:
                    os.close(fd)

            manifest_path = folder / MANIFEST_NAME
            fd = _open_entry(manifest_path, base_fd, directory=False)
            try:
                manifest_bytes = _read_fd(fd, keep=True)[0] or b""
            except OSError as exc:
                raise _BadEntry(f"the manifest cannot be read: {exc.strerror}") from exc
            finally:
                os.close(fd)
            try:
                manifest = _parse_manifest(manifest_bytes, payload_guid)
            except (ValueError, RecursionError) as exc:
                raise _BadEntry(f"the manifest is not valid: {exc}") from exc

            def verified(entry: _FileEntry, path: Path, dir_fd: int | None) -> bytes | None:
                data, size, digest = read(path, dir_fd)
                if size != entry.size or digest != entry.sha256:
                    raise _BadEntry(f"{entry.name!r} does not match its checksum")
                return data

            main = verified(manifest.main, folder / manifest.main.name, base_fd)
            files: list[bytes | None] = []
            if manifest.files:
                files_dir = folder / ATTACHMENTS_DIR
                files_fd = _open_entry(files_dir, base_fd, directory=True)
                opened.append(files_fd)
                sub_fd = files_fd if _USE_DIR_FD else None
                for entry in manifest.files:
                    files.append(verified(entry, files_dir / entry.name, sub_fd))
            return _Loaded(manifest_bytes, manifest, main, tuple(files))
        finally:
            for fd in opened:
                os.close(fd)

    def read(self, payload_guid: str, expected_checksum: str | None = None) -> PayloadContent:
        """The verified content of a payload.

        Every file's SHA-256 and size are checked against the manifest, and the manifest
        against ``expected_checksum`` when one is given (``None`` or ``""`` skip that check).
        Raises InvalidPayloadGuid, PayloadMissing or PayloadCorrupt.
        """
        loaded = self._load(payload_guid, expected_checksum, keep=True)
        manifest = loaded.manifest
        return PayloadContent(
            payload_type=manifest.payload_type,
            main_file_name=manifest.main.name,
            main=loaded.main or b"",
            files=tuple(
                PayloadFile(entry.name, data or b"", entry.mime_type)
                for entry, data in zip(manifest.files, loaded.files, strict=True)
            ),
        )

    def check(self, payload_guid: str, expected_checksum: str | None = None) -> Integrity:
        """``ok`` / ``missing`` / ``corrupt``; only a malformed GUID raises."""
        try:
            self._load(payload_guid, expected_checksum, keep=False)
        except PayloadMissing:
            return Integrity.MISSING
        except PayloadCorrupt:
            return Integrity.CORRUPT
        return Integrity.OK

    def ref_for(self, payload_guid: str) -> PayloadRef:
        """Recompute the reference (type, size, checksum) from the verified folder."""
        loaded = self._load(payload_guid, None, keep=False)
        return PayloadRef(
            payload_guid, loaded.manifest.payload_type, loaded.manifest.size_bytes,
            loaded.checksum,
        )

    # -------------------------------------------------------------- delete and gc

    def delete(self, payload_guid: str) -> None:
        """Remove a payload folder; nothing happens when it is already gone.

        A symlink in the GUID's place is unlinked itself; its target is never touched.
        """
        folder = self._entry_path(payload_guid)
        if not os.path.lexists(folder):
            return
        # Rename first so the folder disappears atomically; a crash during the removal
        # leaves a temp folder that remove_orphans cleans up.
        trash = self.root / f"{TEMP_PREFIX}{payload_guid}-{secrets.token_hex(8)}"
        try:
            os.rename(folder, trash)
        except FileNotFoundError:
            return  # removed concurrently
        _fsync_dir(self.root)
        _remove_tree(trash)

    def find_orphans(self, referenced: set[str]) -> set[str]:
        """Payload folders that no record references."""
        return self.list_guids() - set(referenced)

    def remove_orphans(
        self, referenced: set[str], *, temp_min_age_seconds: float = 0.0
    ) -> set[str]:
        """Delete unreferenced payload folders and leftover ``.tmp-*`` entries.

        Returns the names removed: orphan GUIDs and temp folder names (those start with
        ``.tmp-``); see :meth:`remove_leftover_temp` for which temp folders are kept.
        """
        removed: set[str] = set()
        for payload_guid in sorted(self.find_orphans(referenced)):
            self.delete(payload_guid)
            logger.info("removed orphan payload %s", payload_guid)
            removed.add(payload_guid)
        return removed | self.remove_leftover_temp(min_age_seconds=temp_min_age_seconds)

    def remove_leftover_temp(self, *, min_age_seconds: float = 0.0,
                             listed: Iterable[str] | None = None) -> set[str]:
        """Delete ``.tmp-*`` entries a crash left behind; returns their names. Temp folders
        this process is writing right now are kept, and so are those younger than
        ``min_age_seconds`` (pass a grace period when another process may be writing).
        ``listed``: the names in the root, when the caller has just listed them."""
        removed: set[str] = set()
        if not self.root.is_dir():
            return removed
        now = time.time()
        names = os.listdir(self.root) if listed is None else listed
        for name in [n for n in names if n.startswith(TEMP_PREFIX)]:
            path = self.root / name
            with _ACTIVE_TEMP_LOCK:
                active = str(path) in _ACTIVE_TEMP_DIRS
            if active:
                continue
            try:
                age = now - path.lstat().st_mtime
            except FileNotFoundError:
                continue
            if age < min_age_seconds:
                continue
            try:
                _remove_tree(path)
            except FileNotFoundError:
                continue
            logger.info("removed leftover temp folder %s", name)
            removed.add(name)
        return removed

    # ------------------------------------------------------------------- mirroring

    def _same_manifest(self, payload_guid: str, target: PayloadStore) -> PayloadRef | None:
        """The target's ref when it already holds this folder with the very same manifest.

        Folders are write-once, so an identical manifest means an identical copy; the files'
        checksums are still verified whenever the content is read. This keeps a boot's
        official sync from re-reading and re-hashing every payload of the library.
        """
        try:
            source_path = self.path_for(payload_guid)
            target_path = target.path_for(payload_guid)
            with open(os.path.join(source_path, MANIFEST_NAME), "rb") as handle:
                ours = handle.read()
            with open(os.path.join(target_path, MANIFEST_NAME), "rb") as handle:
                theirs = handle.read()
        except (OSError, InvalidPayloadGuid):
            return None
        if ours != theirs or os.path.islink(os.path.join(target_path, MANIFEST_NAME)):
            return None
        try:
            manifest = _parse_manifest(ours, payload_guid)
        except ValueError:
            return None
        return PayloadRef(payload_guid, manifest.payload_type, manifest.size_bytes,
                          hashlib.sha256(ours).hexdigest())

    def copy_to(self, payload_guid: str, target: PayloadStore, *,
                trust_identical: bool = False) -> PayloadRef:
        """Mirror one verified payload folder into ``target`` (staging <-> runtime).

        The manifest and files are copied byte for byte, so the checksum is the same on
        both sides. Nothing is written when ``target`` already holds an identical, intact
        folder; a different or damaged folder there is replaced crash-safely.
        """
        if trust_identical:
            quick = self._same_manifest(payload_guid, target)
            if quick is not None:
                return quick
        source = self._load(payload_guid, None, keep=True)
        if target.exists(payload_guid):
            integrity = target.check(payload_guid, source.checksum)
            if integrity is Integrity.OK:
                return target.ref_for(payload_guid)
            logger.warning(
                "replacing %s payload %s in %s with the copy from %s",
                integrity.value, payload_guid, target.root, self.root,
            )
        manifest = source.manifest
        target._install(
            payload_guid,
            source.manifest_bytes,
            manifest.main.name,
            source.main or b"",
            [(entry.name, data or b"") for entry, data in zip(
                manifest.files, source.files, strict=True)],
            replace=True,
        )
        copied = target.ref_for(payload_guid)
        if copied.checksum != source.checksum:
            raise PayloadCorrupt(
                f"payload {payload_guid} changed while it was copied to {target.root}",
                payload_guid,
            )
        return copied
