"""The folder payload store: assembly content kept in ``Payloads/<payload_guid>/`` folders.

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
  complete folder or none; writers running at once share the root's fsyncs (one covers
  every rename made before it began). A content change is a new GUID; deleting renames
  the folder to a temp name first so it disappears atomically, then removes it.
- **No symlinks followed.** Files are opened relative to an open directory descriptor with
  ``O_NOFOLLOW``; a symlink (or FIFO, device, …) where a file should be makes the payload
  corrupt, it is never read through (payload_reading.py).
- **Attachment names come from outside** (imports), so they must be plain file names: not
  empty, no ``/``, ``\\``, NUL or other control characters, not ``.``/``..``, not starting
  with ``.``, at most 255 bytes in UTF-8, unique within a payload. The main file follows the
  same rules and must end in ``.ps1 .bat .sh .py .yml .json``.

The manifest and the file-name rules are payload_manifest.py's, the verified reading
payload_reading.py's (its checks and their missing / corrupt results, shared with the
cluster store, payload_checks.py's), orphan and temp-folder sweeping payload_sweep.py's,
and copying between stores payload_copy.py's; cluster mode keeps the same payloads in
PostgreSQL (postgresql/payload_store.py).
"""

from __future__ import annotations

import errno
import logging
import os
import time
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from assembly_engine.domain.types import Integrity, is_valid_payload_guid
from assembly_engine.storage.contract.models import PayloadContent, PayloadRef
from assembly_engine.storage.contract.payload_manifest import (
    ATTACHMENTS_DIR,
    MANIFEST_NAME,
    InvalidFileName,
    InvalidPayloadGuid,
    PayloadCorrupt,
    PayloadError,
    PayloadExists,
    PayloadImage,
    PayloadMissing,
    image_of,
    new_payload_guid,
    require_guid,
)
from assembly_engine.storage.contract.reports import REPORT_ONLY, OrphanSweep, SweepScope
from assembly_engine.storage.files.durable_files import (
    GroupedSync,
    fsync_directory,
    remove_tree,
    write_new_file,
)
from assembly_engine.storage.formats.payload_checks import BadEntry, MissingEntry, integrity_of, verified_load
from assembly_engine.storage.formats.payload_copy import copy_payload
from assembly_engine.storage.formats.payload_sweep import (
    age_seconds,
    remove_temp,
    split_by_age,
    stale_temp,
    temp_dir,
    temp_name,
)
from assembly_engine.storage.sqlite.payload_reading import LoadedFolder, load_folder, read_manifest_bytes

if TYPE_CHECKING:
    from assembly_engine.storage.contract import interfaces

logger = logging.getLogger("assembly_engine.payloads")

# The errors are part of this module's interface, wherever they are defined.
__all__ = [
    "InvalidFileName",
    "InvalidPayloadGuid",
    "PayloadCorrupt",
    "PayloadError",
    "PayloadExists",
    "PayloadMissing",
    "PayloadStore",
]


class PayloadStore:
    """Write-once payload folders under one ``Payloads/`` root (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root: Path = Path(os.path.abspath(root))
        self.root.mkdir(parents=True, exist_ok=True)
        # Resolved once: path_for runs for every payload touched (100,000s at boot).
        self._real_root = os.path.realpath(self.root)
        # Concurrent writers (a batch import's) share the root's fsyncs.
        self._root_sync = GroupedSync()

    def __repr__(self) -> str:
        return f"PayloadStore({str(self.root)!r})"

    # ---------------------------------------------------------------- guids and paths

    def _entry_path(self, payload_guid: str) -> Path:
        """``root/<guid>`` after checking the GUID's form, without resolving anything.

        Only for operations that never follow the last component (lexists, rename of the
        entry itself); everything that opens or walks a folder uses :meth:`path_for`.
        """
        return self.root / require_guid(payload_guid)

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

    def _root_durable(self) -> None:
        """Persist the root's entries after a rename in it, sharing the fsync with the
        writers renaming at the same time."""
        self._root_sync.durable(self._root_sync.changed(), lambda: fsync_directory(self.root))

    def write_new(self, content: PayloadContent) -> PayloadRef:
        """Write ``content`` under a fresh GUID."""
        return self.write_with_guid(new_payload_guid(), content)

    def write_with_guid(self, payload_guid: str, content: PayloadContent) -> PayloadRef:
        """Write ``content`` under a given GUID (deterministic builds).

        Raises :class:`PayloadExists` if the folder is already there.
        """
        if self.exists(payload_guid):
            raise PayloadExists(f"payload {payload_guid} already exists", payload_guid)
        image = image_of(content, payload_guid)
        self._install(payload_guid, image, replace=False)
        return image.ref(payload_guid)

    def install_copy(self, payload_guid: str, image: PayloadImage) -> None:
        """Store a payload copied from another store byte for byte, replacing whatever
        folder is there (a damaged or different copy) crash-safely."""
        self._install(payload_guid, image, replace=True)

    def _install(self, payload_guid: str, image: PayloadImage, *, replace: bool) -> None:
        """Write a complete folder into a temp folder, then rename it into place.

        ``replace`` swaps out an existing folder: it is first renamed to a temp name (so
        a crash leaves either the old folder, no folder, or the new one — never a mix),
        then the new one is renamed in and the old one removed. Renames act on the entry
        itself, so an old entry that is a symlink is moved and unlinked, never followed.
        """
        folder = self._entry_path(payload_guid)
        with temp_dir(self.root, payload_guid) as temp:
            try:
                write_new_file(temp / image.manifest.main.name, image.main)
                if image.files:
                    (temp / ATTACHMENTS_DIR).mkdir()
                    for entry, data in zip(image.manifest.files, image.files, strict=True):
                        write_new_file(temp / ATTACHMENTS_DIR / entry.name, data)
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
            write_new_file(temp / MANIFEST_NAME, image.manifest_bytes)
            fsync_directory(temp)
            old: Path | None = None
            if replace and os.path.lexists(folder):
                old = self.root / temp_name(payload_guid)
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
            self._root_durable()
        if old is not None:
            with suppress(OSError):
                remove_tree(old)

    # --------------------------------------------------------------------- reading

    def _load(self, payload_guid: str, expected_checksum: str | None, *, keep: bool) -> LoadedFolder:
        """Read and verify a folder; log and raise PayloadMissing / PayloadCorrupt."""
        if not is_valid_payload_guid(payload_guid):
            # A malformed GUID is the caller's error, not a damaged payload: let path_for
            # raise InvalidPayloadGuid with its usual message.
            self.path_for(payload_guid)

        def load() -> LoadedFolder:
            try:
                folder = self.path_for(payload_guid)
            except InvalidPayloadGuid as exc:
                # The GUID is well-formed, so the folder on disk is what is wrong.
                raise BadEntry(f"the payload folder is not a plain directory ({exc})") from exc
            return load_folder(folder, payload_guid, keep=keep)

        return verified_load(payload_guid, expected_checksum, load)

    def read_image(self, payload_guid: str, expected_checksum: str | None = None) -> PayloadImage:
        """The verified stored form (manifest bytes and files), as :meth:`read` checks it."""
        return self._load(payload_guid, expected_checksum, keep=True).image()

    def read(self, payload_guid: str, expected_checksum: str | None = None) -> PayloadContent:
        """The verified content of a payload.

        Every file's SHA-256 and size are checked against the manifest, and the manifest
        against ``expected_checksum`` when one is given (``None`` or ``""`` skip that check).
        Raises InvalidPayloadGuid, PayloadMissing or PayloadCorrupt.
        """
        return self.read_image(payload_guid, expected_checksum).content()

    def check(self, payload_guid: str, expected_checksum: str | None = None) -> Integrity:
        """``ok`` / ``missing`` / ``corrupt``; only a malformed GUID raises."""
        return integrity_of(lambda: self._load(payload_guid, expected_checksum, keep=False))

    def ref_for(self, payload_guid: str) -> PayloadRef:
        """Recompute the reference (type, size, checksum) from the verified folder."""
        loaded = self._load(payload_guid, None, keep=False)
        return PayloadRef(
            payload_guid,
            loaded.manifest.payload_type,
            loaded.manifest.size_bytes,
            loaded.checksum,
        )

    def manifest_bytes(self, payload_guid: str) -> bytes | None:
        """The folder's manifest as stored, unchecked; None when it cannot be read (a
        symlink in the folder's or the manifest's place included)."""
        try:
            return read_manifest_bytes(self.path_for(payload_guid))
        except (MissingEntry, BadEntry, InvalidPayloadGuid, OSError):
            return None

    def copy_to(
        self, payload_guid: str, target: interfaces.PayloadStore, *, trust_identical: bool = False
    ) -> PayloadRef:
        """Mirror one verified payload into ``target`` (payload_copy.copy_payload)."""
        return copy_payload(self, payload_guid, target, trust_identical=trust_identical)

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
        trash = self.root / temp_name(payload_guid)
        try:
            os.rename(folder, trash)
        except FileNotFoundError:
            return  # removed concurrently
        self._root_durable()
        remove_tree(trash)

    def sweep_orphans(self, referenced: set[str], scope: SweepScope = REPORT_ONLY) -> OrphanSweep:
        """Find (and with ``remove``, delete) what no record references: payload folders
        and ``.tmp-*`` leftovers. Entries younger than ``grace_seconds`` are only reported
        (an unreferenced folder may belong to a write in progress). Every removal goes
        through :meth:`delete` or the temp-name check, so nothing outside the root or
        unlike a payload folder is ever touched. ``listed``: the GUIDs to consider, when the
        caller listed them before gathering ``referenced`` (a folder written in between is
        then neither listed nor judged)."""
        grace_seconds, remove, listed = scope.grace_seconds, scope.remove, scope.listed
        now = time.time()
        names = self.list_names()
        candidates = self.list_guids() if listed is None else listed
        orphans, recent = split_by_age(
            candidates - set(referenced), lambda guid: age_seconds(self.root, guid, now), grace_seconds
        )
        stale = stale_temp(self.root, names, grace_seconds, now)
        removed: list[str] = []
        if remove:
            for payload_guid in orphans:
                self.delete(payload_guid)
                logger.info("removed orphan payload %s", payload_guid)
                removed.append(payload_guid)
            for name in stale:
                try:
                    if remove_temp(self.root, name):
                        removed.append(name)
                except OSError as exc:
                    logger.warning("could not remove leftover temp folder %s: %s", name, exc)
        return OrphanSweep(tuple(orphans), tuple(recent), tuple(stale), tuple(removed))

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
        stale = stale_temp(self.root, names, min_age_seconds, time.time())
        return {name for name in stale if remove_temp(self.root, name)}
