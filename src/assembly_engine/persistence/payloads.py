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
import logging
import os
import secrets
import stat
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from ..types import Integrity, PayloadType, is_valid_payload_guid
from .durable_files import (
    O_BINARY,
    O_CLOEXEC,
    O_DIRECTORY,
    O_NOFOLLOW,
    O_NONBLOCK,
    fsync_directory,
    remove_tree,
    write_new_file,
)
from .models import PayloadContent, PayloadFile, PayloadRef
from .payload_manifest import (
    MANIFEST_NAME,
    FileEntry,
    InvalidFileName,
    InvalidPayloadGuid,
    Manifest,
    PayloadCorrupt,
    PayloadError,
    PayloadExists,
    PayloadMissing,
    _show,
    entry_for,
    main_mime_type,
    parse_manifest,
    validate_file_name,
    validate_main_file_name,
)

logger = logging.getLogger("assembly_engine.payloads")

# The errors are part of this module's interface, wherever they are defined.
__all__ = [
    "InvalidFileName",
    "InvalidPayloadGuid",
    "OrphanSweep",
    "PayloadCorrupt",
    "PayloadError",
    "PayloadExists",
    "PayloadMissing",
    "PayloadStore",
]

ATTACHMENTS_DIR = "files"
TEMP_PREFIX = ".tmp-"
_CHUNK = 1 << 20

# With dir_fd + O_NOFOLLOW every name is resolved inside an already-opened directory, so a
# symlink swapped in between a check and an open cannot redirect a read (no TOCTOU window).
_USE_DIR_FD = os.open in os.supports_dir_fd and O_NOFOLLOW != 0 and O_DIRECTORY != 0

# Temp folders that a store in this process is writing right now, by absolute path;
# sweep_orphans never removes these (a gc running next to a write must not break it).
_ACTIVE_TEMP_DIRS: set[str] = set()
_ACTIVE_TEMP_LOCK = threading.Lock()


# ------------------------------------------------------------------ low-level I/O


class _MissingEntry(Exception):
    """A name the manifest promises is not there."""


class _BadEntry(Exception):
    """A name is there but is not what it should be (symlink, wrong type, unreadable)."""


def _open_entry(path: Path, dir_fd: int | None, *, directory: bool) -> int:
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


@dataclass(frozen=True, slots=True)
class OrphanSweep:
    """What :meth:`PayloadStore.sweep_orphans` found, by name, each list sorted."""

    orphans: tuple[str, ...]  # unreferenced payload folders past the grace period
    recent: tuple[str, ...]  # unreferenced but younger: may belong to a write in progress
    stale_temp: tuple[str, ...]  # ``.tmp-*`` entries left by a crash, past the grace period
    removed: tuple[str, ...]  # what was deleted (only with ``remove``)


@dataclass(frozen=True, slots=True)
class _Loaded:
    """A verified payload folder as read from disk."""

    manifest_bytes: bytes
    manifest: Manifest
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
                raise InvalidFileName(f"attachment {_show(name)} appears more than once", payload_guid, name)
            if not isinstance(item.mime_type, str):
                raise InvalidFileName(
                    f"mime type of attachment {_show(name)} is not a string", payload_guid, name
                )
            seen.add(name)
            attachments.append((item, bytes(item.data)))
        manifest = Manifest(
            payload_type,
            entry_for(main_name, main_mime_type(payload_type, main_name), main),
            tuple(entry_for(item.file_name, item.mime_type, data) for item, data in attachments),
        )
        manifest_bytes = manifest.to_bytes()
        self._install(
            payload_guid,
            manifest_bytes,
            main_name,
            main,
            [(item.file_name, data) for item, data in attachments],
            replace=False,
        )
        return PayloadRef(
            payload_guid,
            payload_type,
            manifest.size_bytes,
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
                    remove_tree(temp)

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
                write_new_file(temp / main_name, main)
                if attachments:
                    (temp / ATTACHMENTS_DIR).mkdir()
                    for name, data in attachments:
                        write_new_file(temp / ATTACHMENTS_DIR / name, data)
                    fsync_directory(temp / ATTACHMENTS_DIR)
            except FileExistsError as exc:
                # Only possible on a case-insensitive file system ("A.txt" vs "a.txt").
                raise InvalidFileName(
                    f"two files of payload {payload_guid} map to the same name on this "
                    f"file system: {exc.filename!r}",
                    payload_guid,
                    exc.filename,
                ) from exc
            # The manifest goes last: a temp folder with a manifest is complete.
            write_new_file(temp / MANIFEST_NAME, manifest_bytes)
            fsync_directory(temp)
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
                    raise PayloadExists(f"payload {payload_guid} already exists", payload_guid) from exc
                raise
            fsync_directory(self.root)
        if old is not None:
            with suppress(OSError):
                remove_tree(old)

    # --------------------------------------------------------------------- reading

    def _load(self, payload_guid: str, expected_checksum: str | None, *, keep: bool) -> _Loaded:
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
            raise PayloadMissing(f"payload {payload_guid} is missing: {exc}", payload_guid) from None
        except _BadEntry as exc:
            logger.warning("payload %s is corrupt: %s", payload_guid, exc)
            raise PayloadCorrupt(f"payload {payload_guid} is corrupt: {exc}", payload_guid) from None
        if expected_checksum and loaded.checksum != expected_checksum.lower():
            logger.warning(
                "payload %s is corrupt: checksum %s, expected %s",
                payload_guid,
                loaded.checksum,
                expected_checksum,
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
                manifest = parse_manifest(manifest_bytes, payload_guid)
            except (ValueError, RecursionError) as exc:
                raise _BadEntry(f"the manifest is not valid: {exc}") from exc

            def verified(entry: FileEntry, path: Path, dir_fd: int | None) -> bytes | None:
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
            payload_guid,
            loaded.manifest.payload_type,
            loaded.manifest.size_bytes,
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
        # leaves a temp folder that sweep_orphans cleans up.
        trash = self.root / f"{TEMP_PREFIX}{payload_guid}-{secrets.token_hex(8)}"
        try:
            os.rename(folder, trash)
        except FileNotFoundError:
            return  # removed concurrently
        fsync_directory(self.root)
        remove_tree(trash)

    def _age_seconds(self, name: str, now: float) -> float | None:
        """How long ago the entry ``name`` in the root last changed; None once it is gone."""
        try:
            return now - os.lstat(self.root / name).st_mtime
        except FileNotFoundError:
            return None

    def _stale_temp(self, names: Iterable[str], min_age_seconds: float, now: float) -> list[str]:
        """The ``.tmp-*`` names no write of this process owns, at least ``min_age_seconds``
        old (a younger one may belong to a write in another process)."""
        stale: list[str] = []
        for name in sorted(n for n in names if n.startswith(TEMP_PREFIX)):
            with _ACTIVE_TEMP_LOCK:
                active = str(self.root / name) in _ACTIVE_TEMP_DIRS
            age = None if active else self._age_seconds(name, now)
            if age is not None and age >= min_age_seconds:
                stale.append(name)
        return stale

    def _remove_temp(self, name: str) -> bool:
        try:
            remove_tree(self.root / name)
        except FileNotFoundError:
            return False
        logger.info("removed leftover temp folder %s", name)
        return True

    def sweep_orphans(
        self,
        referenced: set[str],
        *,
        grace_seconds: float = 0.0,
        remove: bool = False,
        listed: set[str] | None = None,
    ) -> OrphanSweep:
        """Find (and with ``remove``, delete) what no record references: payload folders
        and ``.tmp-*`` leftovers. Entries younger than ``grace_seconds`` are only reported
        (an unreferenced folder may belong to a write in progress). Every removal goes
        through :meth:`delete` or the temp-name check, so nothing outside the root or
        unlike a payload folder is ever touched. ``listed``: the GUIDs to consider, when the
        caller listed them before gathering ``referenced`` (a folder written in between is
        then neither listed nor judged)."""
        now = time.time()
        names = self.list_names()
        orphans: list[str] = []
        recent: list[str] = []
        candidates = self.list_guids() if listed is None else listed
        for payload_guid in sorted(candidates - set(referenced)):
            age = self._age_seconds(payload_guid, now)
            if age is not None:
                (recent if age < grace_seconds else orphans).append(payload_guid)
        stale_temp = self._stale_temp(names, grace_seconds, now)
        removed: list[str] = []
        if remove:
            for payload_guid in orphans:
                self.delete(payload_guid)
                logger.info("removed orphan payload %s", payload_guid)
                removed.append(payload_guid)
            for name in stale_temp:
                try:
                    if self._remove_temp(name):
                        removed.append(name)
                except OSError as exc:
                    logger.warning("could not remove leftover temp folder %s: %s", name, exc)
        return OrphanSweep(tuple(orphans), tuple(recent), tuple(stale_temp), tuple(removed))

    def remove_leftover_temp(
        self, *, min_age_seconds: float = 0.0, listed: Iterable[str] | None = None
    ) -> set[str]:
        """Delete ``.tmp-*`` entries a crash left behind; returns their names. Temp folders
        this process is writing right now are kept, and so are those younger than
        ``min_age_seconds`` (pass a grace period when another process may be writing).
        ``listed``: the names in the root, when the caller has just listed them."""
        if not self.root.is_dir():
            return set()
        names = os.listdir(self.root) if listed is None else listed
        stale = self._stale_temp(names, min_age_seconds, time.time())
        return {name for name in stale if self._remove_temp(name)}

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
            manifest = parse_manifest(ours, payload_guid)
        except ValueError:
            return None
        return PayloadRef(
            payload_guid, manifest.payload_type, manifest.size_bytes, hashlib.sha256(ours).hexdigest()
        )

    def copy_to(
        self, payload_guid: str, target: PayloadStore, *, trust_identical: bool = False
    ) -> PayloadRef:
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
                integrity.value,
                payload_guid,
                target.root,
                self.root,
            )
        manifest = source.manifest
        target._install(
            payload_guid,
            source.manifest_bytes,
            manifest.main.name,
            source.main or b"",
            [(entry.name, data or b"") for entry, data in zip(manifest.files, source.files, strict=True)],
            replace=True,
        )
        copied = target.ref_for(payload_guid)
        if copied.checksum != source.checksum:
            raise PayloadCorrupt(
                f"payload {payload_guid} changed while it was copied to {target.root}",
                payload_guid,
            )
        return copied
