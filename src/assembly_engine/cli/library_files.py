"""Reading and writing a library folder's files for ``assemblies sync`` (the layout itself is
``services/assemblies/library_paths.py``, which imports none of the engine's document models,
so ``sync plan`` starts fast; only this module touches the files).

Reading never follows a symlink and refuses anything that resolves outside the root, so a
library checked out from someone else's repository cannot make the CLI read other files.
Writing replaces a file only when its bytes differ (atomically, through a temporary file
beside it, storage/files), so an unchanged library stays untouched, timestamps and all.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assembly_engine.cli.connection import CliError
from assembly_engine.services.assemblies import library_paths as layout
from assembly_engine.services.assemblies.library_paths import Selection
from assembly_engine.storage.files.durable_files import replace_file
from assembly_engine.storage.files.library_tree import read_attachments, read_inside, walk_library

MANIFEST = "community_scripts.json"
READERS = 4  # threads reading and hashing a folder's files


@dataclass(frozen=True)
class FolderItem:
    """One library item as read: its bytes, sidecar and attachments. It goes to the engine
    whole (``full``) or, for a plan of a large library, as digests only (``digests``), hashed
    straight from the bytes read."""

    path: str
    raw: bytes
    sidecar: dict[str, Any] | None = None
    files: tuple[tuple[str, bytes], ...] = ()
    tactical_rmm: dict[str, Any] | None = None
    position: int | None = None
    raw_sha256: str | None = None  # hashed by the reader's thread pool, or here when asked

    @property
    def weight(self) -> int:
        """Its content's size in a request (base64)."""
        return sum(4 * ((len(data) + 2) // 3) for data in (self.raw, *(d for _, d in self.files)))

    def _head(self) -> dict[str, Any]:
        head: dict[str, Any] = {"path": self.path, "sidecar": self.sidecar}
        if self.tactical_rmm is not None:
            head.update(tactical_rmm=self.tactical_rmm, position=self.position)
        return head

    def full(self) -> dict[str, Any]:
        files = [{"file_name": name, "data": _b64(data)} for name, data in self.files]
        return {**self._head(), "content": _b64(self.raw), "files": files}

    def digests(self) -> dict[str, Any]:
        files = [{"file_name": name, "sha256": _sha(data)} for name, data in self.files]
        return {**self._head(), "sha256": self.raw_sha256 or _sha(self.raw), "files": files}


@dataclass
class FolderRead:
    """What a library folder holds: the items and the files skipped, with why."""

    items: list[FolderItem] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    manifest: dict[str, Any] | None = None  # a Tactical RMM manifest's layout

    def skip(self, path: str, reason: str) -> None:
        self.skipped.append({"path": path, "reason": reason})


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is no JSON value")


def strict_json(raw: bytes) -> Any:
    """JSON as the engine takes it: NaN and Infinity refused here (a plan's request is then
    encoded by orjson, which would turn them into null)."""
    return json.loads(raw, parse_constant=_no_constant)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _sha(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except ValueError:
        return False
    return True


def read_folder(root: Path, include: tuple[str, ...], exclude: tuple[str, ...]) -> FolderRead:
    if not root.is_dir():
        raise CliError(f"{root} is not a folder.")
    root = root.resolve()
    found = FolderRead()
    ignore_file = root / layout.IGNORE_FILE
    if ignore_file.is_file() and not ignore_file.is_symlink():
        found.ignore = ignore_file.read_text(encoding="utf-8").splitlines()
    selection = Selection(include, exclude, found.ignore)
    if (root / MANIFEST).is_file():
        _read_tactical(root, found, selection)
        return found
    tree = walk_library(root, layout.FILES_SUFFIX)
    for rel in tree.symlinks:
        found.skip(rel, "refused: a symlink (library folders hold plain files)")
    for rel in tree.hidden_folders:
        found.skip(rel + "/", "hidden file or folder")
    present = set(tree.files)
    chosen: list[str] = []
    for rel in tree.files:
        if rel == layout.IGNORE_FILE or rel.endswith(layout.SIDECAR_SUFFIX):
            continue
        why = selection.why_not(rel)
        if why is not None:
            found.skip(rel, why)
        else:
            chosen.append(rel)
    # Reading and hashing release the interpreter lock, so a few threads overlap them (and
    # the page cache's copies). Each takes a run of files: a task per file cost more in
    # futures and locks than the hashing it overlapped.
    runs = [chosen[n :: READERS * 4] for n in range(READERS * 4)]
    with ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="read") as pool:
        done: dict[str, tuple[bytes, str | None, str | None]] = {}
        for run in pool.map(lambda rels: [(rel, _read_one(root, rel)) for rel in rels], runs):
            done.update(run)
    for rel in chosen:  # back in the walk's order
        raw, reason, digest = done[rel]
        if reason is not None:
            found.skip(rel, reason)
            continue
        sidecar, attachments = rel + layout.SIDECAR_SUFFIX, rel + layout.FILES_SUFFIX
        found.items.append(
            _item(root, rel, raw, sidecar in present, attachments in tree.attachment_folders, digest)
        )
    return found


def _read_one(root: Path, rel: str) -> tuple[bytes, str | None, str | None]:
    """A file's bytes, why it is no item (or None) and, for an item, its sha256."""
    # The walk saw a regular file and entered no link, so the path is inside the root;
    # O_NOFOLLOW refuses a link swapped in since.
    raw = read_inside(os.path.join(root, rel))
    reason = layout.skip_reason(rel, raw)
    return raw, reason, _sha(raw) if reason is None else None


def _item(
    root: Path, rel: str, raw: bytes, has_sidecar: bool, has_files: bool, digest: str | None = None
) -> FolderItem:
    sidecar = None
    if has_sidecar:
        try:
            sidecar = strict_json(read_inside(root / (rel + layout.SIDECAR_SUFFIX)))
        except ValueError as exc:
            raise CliError(f"{rel}{layout.SIDECAR_SUFFIX} is not valid JSON: {exc}") from None
        if not isinstance(sidecar, dict):
            raise CliError(f"{rel}{layout.SIDECAR_SUFFIX} must hold a JSON object.")
    files = read_attachments(root / (rel + layout.FILES_SUFFIX)) if has_files else []
    return FolderItem(rel, raw, sidecar, tuple(files), raw_sha256=digest)


def _read_tactical(root: Path, found: FolderRead, selection: Selection) -> None:
    from assembly_engine.services.assemblies.formats import manifest_layout  # only for this form

    raw = (root / MANIFEST).read_bytes()
    try:
        entries = strict_json(raw)
    except ValueError as exc:
        raise CliError(f"{MANIFEST} is not valid JSON: {exc}") from None
    if not isinstance(entries, list):
        raise CliError(f"{MANIFEST} must be a JSON list of script entries.")
    found.manifest = manifest_layout.detect(raw, entries).view()
    for index, entry in enumerate(entries):
        name = entry.get("filename") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name or Path(name).name != name:
            found.skip(f"{MANIFEST}[{index}]", "entry without a usable filename")
            continue
        rel = f"{layout.TRMM_SCRIPTS}/{name}"
        path = root / rel
        if path.is_symlink() or not path.is_file() or not _inside(root, path):
            found.skip(rel, f"named by {MANIFEST} but missing, a symlink or outside the folder")
            continue
        why = selection.why_not(rel)
        if why is not None:
            found.skip(rel, why)
            continue
        found.items.append(FolderItem(rel, read_inside(path), tactical_rmm=entry, position=index))


# --------------------------------------------------------------------------- writing


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` unless it already holds exactly that; True when written."""
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_file(path, data, mode=0o644)
    return True


def write_items(dest: Path, answer: dict[str, Any], form: str) -> tuple[list[str], int]:
    """Write rendered items into ``dest``; returns the paths written and how many files
    already held their bytes."""
    dest = dest.resolve()
    written: list[str] = []
    unchanged = 0

    def put(rel: str, data: bytes) -> None:
        nonlocal unchanged
        target = dest / rel
        if not _inside(dest, target.parent) or target.is_symlink():
            raise CliError(f"refusing to write {rel}: it resolves outside {dest}")
        if write_if_changed(target, data):
            written.append(rel)
        else:
            unchanged += 1

    entries = []
    for item in answer["items"]:
        rel = item["path"]
        put(rel, base64.b64decode(item["content"]))
        if form == "tactical-rmm":
            entries.append(item["tactical_rmm"])
            continue
        if item.get("sidecar"):
            put(rel + layout.SIDECAR_SUFFIX, layout.sidecar_bytes(item["sidecar"]))
        for f in item.get("files") or []:
            put(f"{rel}{layout.FILES_SUFFIX}/{f['file_name']}", base64.b64decode(f["data"]))
    if form == "tactical-rmm":
        from assembly_engine.services.assemblies.formats.manifest_layout import ManifestLayout

        put(MANIFEST, ManifestLayout.from_view(answer.get("manifest")).dump(entries))
    return written, unchanged
