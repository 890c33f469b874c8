"""What a payload holds: its manifest, the rules for file names, the errors, and the
exact stored form (:class:`PayloadImage`) that every payload store keeps and copies.

The manifest format and the file-name rules are described in payloads.py's docstring; this
module parses and checks them without touching the disk or a database.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from typing import Any

from assembly_engine.domain.types import PayloadType, is_valid_payload_guid
from assembly_engine.storage.contract.errors import Conflict, EngineError, IntegrityFailed, InvalidInput
from assembly_engine.storage.contract.models import PayloadContent, PayloadFile, PayloadRef, canonical_json

MANIFEST_NAME = "manifest.json"
ATTACHMENTS_DIR = "files"  # attachments are stored as files/<name>, next to the main file
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
BINARY_MIME_TYPE = "application/octet-stream"
_SHA256_HEX_LEN = 64


# --------------------------------------------------------------------------- errors


def _show(value: object) -> str:
    """A GUID or file name for a message: repr (so NUL, newlines show), kept short."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class PayloadError(EngineError):
    """Base of every payload store error, each also one kind of the refusal tree;
    ``payload_guid`` names the payload concerned."""

    def __init__(self, message: str, payload_guid: str | None = None) -> None:
        super().__init__(message)
        self.payload_guid = payload_guid


class InvalidPayloadGuid(PayloadError, InvalidInput, ValueError):
    """The GUID is malformed, or its folder is not a plain directory directly in the root."""


class InvalidFileName(PayloadError, InvalidInput, ValueError):
    """A main or attachment file name is not a safe, plain file name (or is a duplicate)."""

    def __init__(self, message: str, payload_guid: str | None = None, file_name: object = None) -> None:
        super().__init__(message, payload_guid)
        self.file_name = file_name


class PayloadMissing(PayloadError, IntegrityFailed):
    """The payload folder, its manifest or a file it lists is gone."""


class PayloadCorrupt(PayloadError, IntegrityFailed):
    """Checksum or size mismatch, unreadable manifest, a symlink or other non-file, …"""


class PayloadExists(PayloadError, Conflict):
    """A folder already exists for this GUID (payload folders are write-once)."""


def new_payload_guid() -> str:
    """A fresh payload GUID, of the form :func:`require_guid` accepts."""
    return uuid.uuid4().hex


def require_guid(payload_guid: str) -> str:
    """``payload_guid`` if it is 32 lowercase hex characters, else :class:`InvalidPayloadGuid`."""
    if not is_valid_payload_guid(payload_guid):
        raise InvalidPayloadGuid(
            f"payload GUID {_show(payload_guid)} is not 32 lowercase hex characters",
            payload_guid if isinstance(payload_guid, str) else None,
        )
    return payload_guid


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


def main_mime_type(payload_type: PayloadType, main_file_name: str) -> str:
    if payload_type is PayloadType.BINARY:
        return BINARY_MIME_TYPE
    extension = os.path.splitext(main_file_name)[1].lower()
    return _MAIN_MIME_TYPES.get(extension, BINARY_MIME_TYPE)


# ------------------------------------------------------------------ manifest model


@dataclass(frozen=True, slots=True)
class FileEntry:
    name: str
    mime_type: str
    size: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "mime_type": self.mime_type, "size": self.size, "sha256": self.sha256}


@dataclass(frozen=True, slots=True)
class Manifest:
    payload_type: PayloadType
    main: FileEntry
    files: tuple[FileEntry, ...]

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


def entry_for(name: str, mime_type: str, data: bytes) -> FileEntry:
    return FileEntry(name, mime_type, len(data), hashlib.sha256(data).hexdigest())


def _parse_entry(value: object, *, main: bool, payload_guid: str) -> FileEntry:
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
    return FileEntry(name, mime_type, size, digest)


def parse_manifest(raw: bytes, payload_guid: str) -> Manifest:
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
    return Manifest(payload_type, main, files)


# ------------------------------------------------------------------- stored form


@dataclass(frozen=True, slots=True)
class PayloadImage:
    """One payload exactly as a store keeps it: the manifest's bytes and the bytes of each
    file it lists (``files`` in manifest order), all checked against the manifest. Copying
    an image keeps the manifest byte for byte, so the checksum is the same in every store."""

    manifest_bytes: bytes
    manifest: Manifest
    main: bytes
    files: tuple[bytes, ...]

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.manifest_bytes).hexdigest()

    def ref(self, payload_guid: str) -> PayloadRef:
        return PayloadRef(payload_guid, self.manifest.payload_type, self.manifest.size_bytes, self.checksum)

    def content(self) -> PayloadContent:
        return PayloadContent(
            payload_type=self.manifest.payload_type,
            main_file_name=self.manifest.main.name,
            main=self.main,
            files=tuple(
                PayloadFile(entry.name, data, entry.mime_type)
                for entry, data in zip(self.manifest.files, self.files, strict=True)
            ),
        )

    def stored_files(self) -> list[tuple[str, bytes]]:
        """(path inside the payload, bytes) of every listed file, the main file first."""
        return [(self.manifest.main.name, self.main)] + [
            (f"{ATTACHMENTS_DIR}/{entry.name}", data)
            for entry, data in zip(self.manifest.files, self.files, strict=True)
        ]


def image_of(content: PayloadContent, payload_guid: str) -> PayloadImage:
    """The stored form of new content, its names checked (:class:`InvalidFileName`)."""
    payload_type = PayloadType(content.payload_type)
    main_name = validate_main_file_name(content.main_file_name, payload_guid)
    main = bytes(content.main)
    entries: list[FileEntry] = []
    files: list[bytes] = []
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
        data = bytes(item.data)
        entries.append(entry_for(name, item.mime_type, data))
        files.append(data)
    manifest = Manifest(
        payload_type, entry_for(main_name, main_mime_type(payload_type, main_name), main), tuple(entries)
    )
    return PayloadImage(manifest.to_bytes(), manifest, main, tuple(files))
