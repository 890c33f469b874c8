"""The library-folder layout (Docs/library-as-code.md): a domain as a tree of plain files.

Pure mapping, no I/O: the CLI reads and writes the files, this module says what they mean
(its file names, selection and skip reasons are ``library_paths.py``, which the CLI imports
without the document models this module needs).

* One assembly = one file at its path, bytes exactly as stored: scripts and playbooks are
  the script file itself, workflows ``<name>.workflow.json``. The folder is the category.
* ``<file>.assembly.json`` (the sidecar, sorted keys, 2-space indent, final newline) holds
  what the file cannot carry: ``assembly_guid``, ``display_name`` when it differs from the
  file stem, ``summary``, ``tags``, ``version`` and ``metadata`` (variables, timeout, sites,
  imported-format fields such as Tactical RMM's entry).
* Attachments live in ``<file>.files/<attachment name>``.
* A root holding ``community_scripts.json`` is a Tactical RMM library: each item is a
  manifest entry with ``scripts/<filename>``.

An item's checksum covers its path, its bytes, its sidecar (less ``assembly_guid``, which
only says who it is) and its attachments, so the same item read from a folder and rendered
from the engine checksum the same.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from assembly_engine.domain.types import AssemblyKind
from assembly_engine.services.assemblies.formats import export_value, plain_scripts, tactical_rmm
from assembly_engine.services.assemblies.legacy import (
    ExportFields,
    ImportedAssembly,
    InvalidDocument,
    checks,
    document_from_dict,
)
from assembly_engine.services.assemblies.legacy.checks import fail
from assembly_engine.services.assemblies.legacy.playbooks import playbook_from_text
from assembly_engine.services.assemblies.library_paths import (
    FILES_SUFFIX,
    TRMM_SCRIPTS,
    WORKFLOW_SUFFIX,
    YAML_SUFFIXES,
    skip_reason,
)
from assembly_engine.storage.contract.models import PayloadContent, PayloadFile

TYPE_SUFFIXES = {"powershell": ".ps1", "batch": ".bat", "bash": ".sh", "python": ".py", "ansible": ".yml"}
FORMS = ("library", "tactical-rmm")
# Metadata the layout derives (the file says it) or the sync owns: never in a sidecar.
DERIVED_METADATA = ("sync", "legacy_format")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Digests:
    main: str  # sha256 hex of the file
    files: tuple[tuple[str, str], ...] = ()  # (attachment name, sha256 hex)


@dataclass(frozen=True)
class LibraryItem:
    """One assembly as files: its path below the root, the bytes, sidecar and attachments
    (``entry``: its Tactical RMM manifest entry, for an item of that form)."""

    path: str
    main: bytes
    sidecar: Mapping[str, Any] | None = None
    files: tuple[PayloadFile, ...] = ()
    entry: Mapping[str, Any] | None = None
    # A digest-only item (how a large library is planned): the sha256 of the file and of
    # each attachment by name, in place of their bytes (``main`` and ``files`` empty).
    digests: Digests | None = None
    # Where a Tactical RMM item's entry stands in its manifest (kept so a write keeps the
    # order); not part of the checksum.
    position: int | None = None

    @property
    def form(self) -> str:
        return "tactical-rmm" if self.entry is not None else "library"

    @property
    def has_content(self) -> bool:
        return self.digests is None

    def content_digests(self) -> Digests:
        if self.digests is not None:
            return self.digests
        return Digests(sha256_hex(self.main), tuple((f.file_name, sha256_hex(f.data)) for f in self.files))

    @functools.cached_property
    def _checksum(self) -> str:
        digest = hashlib.sha256()
        sidecar = {k: v for k, v in (self.sidecar or {}).items() if k != "assembly_guid"}
        head = {"path": self.path, "sidecar": sidecar, "entry": self.entry}
        digest.update(canonical(head))
        digests = self.content_digests()
        digest.update(bytes.fromhex(digests.main))
        for name, hex_digest in sorted(digests.files):
            digest.update(name.encode("utf-8") + b"\0" + bytes.fromhex(hex_digest))
        return digest.hexdigest()

    def checksum(self) -> str:
        """Of the path, bytes, sidecar and attachments (computed once: a plan asks twice)."""
        return self._checksum

    @property
    def sidecar_guid(self) -> str | None:
        guid = (self.sidecar or {}).get("assembly_guid")
        return guid if isinstance(guid, str) else None


def canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _folder(path: str) -> str | None:
    parent = PurePosixPath(path).parent.as_posix()
    return None if parent in ("", ".") else parent


def to_imported(item: LibraryItem) -> ImportedAssembly:
    """The assembly an item describes (refused with InvalidDocument when it is none)."""
    if not item.has_content:
        fail(f"{item.path}: the file's content is needed to write it (only its digest was sent)")
    pure = PurePosixPath(item.path)
    if pure.is_absolute() or ".." in pure.parts or not item.path:
        fail(f"path {item.path!r} must be a relative path inside the library folder")
    if item.entry is not None:
        return tactical_rmm.from_entry(dict(item.entry), item.main)
    name = pure.name
    reason = skip_reason(item.path, item.main)
    if reason is not None:
        fail(f"{item.path}: {reason}")
    if name.endswith(WORKFLOW_SUFFIX):
        try:
            document = json.loads(item.main)
        except ValueError as exc:
            fail(f"{item.path} is not valid JSON: {exc}")
        imported = document_from_dict(document, file_name=name)
        imported = dataclasses.replace(imported, display_name=name[: -len(WORKFLOW_SUFFIX)])
    elif pure.suffix.lower() in YAML_SUFFIXES:
        imported = playbook_from_text(item.main.decode("utf-8"), item.main, name, require_plays=True)
        notes = {**imported.metadata["legacy_format"], "file_name": name}
        imported = dataclasses.replace(imported, metadata={**imported.metadata, "legacy_format": notes})
    else:
        imported = plain_scripts.from_file(item.main, name)
    for index, f in enumerate(item.files):
        checks.safe_file_name(f.file_name, f"{item.path}{FILES_SUFFIX}/ file {index + 1}")
    if item.files:
        imported = dataclasses.replace(
            imported, content=dataclasses.replace(imported.content, files=tuple(item.files))
        )
    imported = dataclasses.replace(imported, category=_folder(item.path))
    return _with_sidecar(imported, item.sidecar or {})


def _with_sidecar(imported: ImportedAssembly, sidecar: Mapping[str, Any]) -> ImportedAssembly:
    known = {"assembly_guid", "display_name", "summary", "tags", "version", "metadata"}
    unknown = sorted(set(sidecar) - known)
    if unknown:
        fail(f"the sidecar has keys this engine does not know: {', '.join(unknown)}")
    changes: dict[str, Any] = {}
    if "display_name" in sidecar:
        changes["display_name"] = checks.display_name(sidecar["display_name"], "sidecar.display_name")
    if "summary" in sidecar:
        changes["summary"] = checks.summary(sidecar, "summary", "sidecar")
    if "version" in sidecar:
        changes["version"] = checks.optional_int(sidecar, "version", "sidecar")
    if "tags" in sidecar:
        changes["tags"] = checks.tags(sidecar["tags"], "sidecar.tags")
    metadata = sidecar.get("metadata", {})
    if not isinstance(metadata, dict):
        fail("the sidecar's metadata must be an object")
    merged = {**{k: v for k, v in metadata.items() if k not in DERIVED_METADATA}}
    merged["legacy_format"] = imported.metadata.get("legacy_format", {})
    changes["metadata"] = merged
    return dataclasses.replace(imported, **changes)


# --------------------------------------------------------------------------- writing


def safe_name(name: str) -> str:
    """A name the file system can hold: no separators or NUL, not hidden, not empty.
    Reversible: the sidecar keeps the display name whenever it differs from the stem."""
    cleaned = "".join("_" if c in "/\\\0" else c for c in name).strip()
    if cleaned.startswith("."):
        cleaned = "_" + cleaned[1:]
    return cleaned or "assembly"


def _category_path(category: str | None) -> str:
    parts = [safe_name(p) for p in (category or "").split("/") if p.strip() not in ("", ".", "..")]
    return "/".join(parts)


def _file_name(fields: ExportFields) -> tuple[str, str]:
    """The file name of an assembly and the name its stem gives (without the sidecar)."""
    kind = AssemblyKind(fields["assembly_kind"])
    display = fields["display_name"]
    if kind is AssemblyKind.WORKFLOW:
        stem = safe_name(display)
        return stem + WORKFLOW_SUFFIX, stem
    notes = fields["metadata"].get("legacy_format")
    original = notes.get("file_name") if isinstance(notes, dict) else None
    if isinstance(original, str) and original and "/" not in original:
        name = safe_name(original)
    else:
        name = safe_name(display) + TYPE_SUFFIXES.get(fields["assembly_type"] or "", ".txt")
    pure = PurePosixPath(name)
    return name, pure.stem if pure.suffix else name


def render(fields: ExportFields, form: str = "library") -> LibraryItem:
    """An assembly as the files of ``form`` ("library" or "tactical-rmm")."""
    content: PayloadContent = fields["content"]
    if form == "tactical-rmm":
        document = tactical_export(fields)
        entry = document.get(tactical_rmm.TRMM_KEY) if document is not None else None
        if not isinstance(entry, dict) or not isinstance(entry.get("filename"), str):
            raise InvalidDocument("not a Tactical RMM script (it has no manifest entry)")
        return LibraryItem(f"{TRMM_SCRIPTS}/{entry['filename']}", content.main, None, (), entry)
    name, stem = _file_name(fields)
    folder = _category_path(fields["category"])
    path = f"{folder}/{name}" if folder else name
    main = content.main  # a workflow: its canvas JSON as stored
    sidecar: dict[str, Any] = {"assembly_guid": fields["assembly_guid"]}
    if fields["display_name"] != stem:
        sidecar["display_name"] = fields["display_name"]
    if fields["summary"] is not None:
        sidecar["summary"] = fields["summary"]
    if fields["tags"]:
        sidecar["tags"] = list(fields["tags"])
    if fields["version"] is not None:
        sidecar["version"] = fields["version"]
    metadata = {k: v for k, v in fields["metadata"].items() if k not in DERIVED_METADATA}
    if metadata:
        sidecar["metadata"] = metadata
    return LibraryItem(path, main, sidecar, tuple(content.files))


def tactical_export(fields: ExportFields) -> dict[str, Any] | None:
    if AssemblyKind(fields["assembly_kind"]) is not AssemblyKind.SCRIPT:
        return None
    return export_value(**fields)


def kept_text(stored: bytes, original: object) -> bytes:
    """A workflow's file as it came in (``original``, kept by the sync) when it still holds
    the stored canvas, so an unchanged hand-formatted file is written back byte for byte;
    else the stored JSON."""
    if not isinstance(original, str):
        return stored
    try:
        same = canonical(json.loads(original)) == canonical(json.loads(stored))  # true is not 1
    except ValueError:
        return stored
    return original.encode("utf-8") if same else stored
