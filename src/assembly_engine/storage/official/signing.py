"""The signed official library: ``manifest.json`` + ``manifest.sig`` in a staging root.

The manifest lists every official assembly (guid, version, payload checksum, status,
replaced_by); ``manifest.sig`` is an Ed25519 signature of the manifest's exact bytes
(base64). The payload checksum is the SHA-256 of the payload's own manifest, which lists
each file's SHA-256, so one signature covers every byte of every script. Keys are PEM files
(PKCS#8 private, SubjectPublicKeyInfo public) made with ``cryptography``, which any
OpenSSL can read too. Checking needs the staging root and public keys only: no engine.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from assembly_engine.domain.types import DATABASE_FILES, Domain, Integrity
from assembly_engine.storage.contract.errors import InvalidInput
from assembly_engine.storage.contract.models import AssemblyRecord
from assembly_engine.storage.contract.signatures import ManifestEntry
from assembly_engine.storage.sqlite.databases import read_staging
from assembly_engine.storage.sqlite.payload_folders import PayloadStore

MANIFEST_FILE = "manifest.json"
SIGNATURE_FILE = "manifest.sig"
MANIFEST_FORMAT = "assembly-engine-official-manifest/1"


class SigningError(InvalidInput):
    """A key or a staging root that cannot be used to sign."""


# -- keys ------------------------------------------------------------------------------
def keygen(out: Path) -> Path:
    """Write a new key pair: ``out`` (private, 0600) and ``out.pub``; returns the .pub path.
    Never overwrites: a lost private key cannot be made again."""
    pub = out.with_name(out.name + ".pub")
    for path in (out, pub):
        if path.exists():
            raise SigningError(f"{path} exists already; name a new file")
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    # Created 0600 from the start (O_EXCL): the key is never readable by others, not even briefly.
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private)
    pub.write_bytes(public)
    return pub


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise SigningError(f"{path}: not a readable private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"{path}: not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise SigningError(f"{path}: not a readable public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError(f"{path}: not an Ed25519 public key")
    return key


def trusted_key_paths(setting: str) -> list[Path]:
    """``ENGINE_OFFICIAL_TRUSTED_KEYS``: comma-separated .pub files."""
    return [Path(part.strip()) for part in setting.split(",") if part.strip()]


# -- the manifest ----------------------------------------------------------------------
def entry_of(record: AssemblyRecord) -> ManifestEntry:
    """The signed facts of one official record. A record is deprecated by its metadata
    (``deprecated``: true or the vendor's note; ``replaced_by``: the successor's guid)."""
    metadata = record.metadata
    deprecated = metadata.get("deprecated")
    replaced_by = metadata.get("replaced_by")
    return ManifestEntry(
        assembly_guid=record.assembly_guid,
        version=record.version,
        payload_checksum=record.payload.checksum,
        status="deprecated" if deprecated else "active",
        replaced_by=replaced_by if isinstance(replaced_by, str) else None,
        note=deprecated if isinstance(deprecated, str) else None,
    )


def manifest_bytes(records: Sequence[AssemblyRecord]) -> bytes:
    entries = sorted((entry_of(r) for r in records), key=lambda e: e.assembly_guid)
    document = {"format": MANIFEST_FORMAT, "assemblies": [e.to_json() for e in entries]}
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def parse_manifest(raw: bytes) -> dict[str, ManifestEntry]:
    """The entries of a manifest's bytes (ValueError if it is not one)."""
    document = json.loads(raw)
    if not isinstance(document, dict) or document.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"not a manifest of format {MANIFEST_FORMAT}")
    entries: dict[str, ManifestEntry] = {}
    for item in document.get("assemblies", []):
        if not isinstance(item, dict) or not isinstance(item.get("guid"), str):
            raise ValueError("an entry without a guid")
        version = item.get("version")
        checksum = item.get("payload_checksum")
        if (version is not None and type(version) is not int) or not isinstance(checksum, str):
            raise ValueError(f"entry {item['guid']}: version or payload_checksum of the wrong type")
        replaced_by, note = item.get("replaced_by"), item.get("note")
        entries[item["guid"]] = ManifestEntry(
            item["guid"],
            version,
            checksum,
            "deprecated" if item.get("status") == "deprecated" else "active",
            replaced_by if isinstance(replaced_by, str) else None,
            note if isinstance(note, str) else None,
        )
    return entries


def staged_records(root: Path) -> list[AssemblyRecord]:
    path = root / DATABASE_FILES[Domain.OFFICIAL]
    return read_staging(path, Domain.OFFICIAL) if path.exists() else []


def sign_root(root: Path, key_path: Path) -> int:
    """Write ``manifest.json`` and ``manifest.sig`` for the staging copy in ``root``;
    returns how many assemblies were signed. Every payload is checked first: a copy whose
    content does not match its own checksums is not signed."""
    key = load_private_key(key_path)
    records = staged_records(root)
    if not records:
        raise SigningError(f"{root} holds no official library ({DATABASE_FILES[Domain.OFFICIAL]})")
    payloads = PayloadStore(root / "Payloads")
    broken = [
        f"{r.display_name} ({r.assembly_guid}): payload {integrity.value}"
        for r in records
        if (integrity := payloads.check(r.payload.payload_guid, r.payload.checksum)) is not Integrity.OK
    ]
    if broken:
        raise SigningError("not signed, the staging copy is damaged: " + "; ".join(broken))
    raw = manifest_bytes(records)
    signature = base64.b64encode(key.sign(raw)) + b"\n"
    # The signature goes first: a reader never pairs a new manifest with an old signature
    # that happens to be valid (a crash between the two leaves a mismatch, which fails).
    _write_atomically(root / SIGNATURE_FILE, signature)
    _write_atomically(root / MANIFEST_FILE, raw)
    return len(records)


def _write_atomically(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_bytes(data)
    os.replace(temp, path)


# -- checking --------------------------------------------------------------------------
@dataclass
class BundleCheck:
    """What a staging root's signature and content say, checked against trusted keys."""

    entries: dict[str, ManifestEntry] = field(default_factory=dict)  # only when trusted
    signed_by: str | None = None
    problems: list[str] = field(default_factory=list)
    tampered: set[str] = field(default_factory=set)  # staged unlike the signed manifest
    manifest: bytes | None = None
    signature: bytes | None = None

    @property
    def trusted(self) -> bool:
        return self.signed_by is not None

    @property
    def ok(self) -> bool:
        return self.trusted and not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "signed_by": self.signed_by,
            "assemblies": len(self.entries),
            "problems": list(self.problems),
        }


def check_signature(raw: bytes, signature: bytes, key_paths: Sequence[Path]) -> tuple[str | None, list[str]]:
    """(the trusted key file that signed ``raw``, or None; the problems met)."""
    problems: list[str] = []
    try:
        sig = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None, [f"{SIGNATURE_FILE} is not base64"]
    if not key_paths:
        return None, ["no trusted public key is configured (ENGINE_OFFICIAL_TRUSTED_KEYS)"]
    for path in key_paths:
        try:
            key = load_public_key(path)
        except SigningError as exc:
            problems.append(str(exc))
            continue
        try:
            key.verify(sig, raw)
        except InvalidSignature:
            continue
        return path.name, []
    names = ", ".join(p.name for p in key_paths)
    problems.append(
        f"{SIGNATURE_FILE} is not a valid signature of {MANIFEST_FILE} by a trusted key ({names}): "
        "the manifest was changed or signed by another key"
    )
    return None, problems


def check_bundle(root: Path, key_paths: Sequence[Path], *, check_payloads: bool = True) -> BundleCheck:
    """Check the staging copy in ``root``: the signature by a trusted key, then every staged
    assembly against its signed entry (and, with ``check_payloads``, its payload's bytes)."""
    result = BundleCheck()
    manifest_path, signature_path = root / MANIFEST_FILE, root / SIGNATURE_FILE
    if not manifest_path.exists():
        result.problems.append(f"no {MANIFEST_FILE}: the staging copy is not signed")
        return result
    if not signature_path.exists():
        result.problems.append(f"no {SIGNATURE_FILE}: the staging copy is not signed")
        return result
    result.manifest, result.signature = manifest_path.read_bytes(), signature_path.read_bytes()
    result.signed_by, problems = check_signature(result.manifest, result.signature, key_paths)
    result.problems.extend(problems)
    if not result.trusted:
        return result
    try:
        result.entries = parse_manifest(result.manifest)
    except ValueError as exc:
        result.signed_by = None
        result.problems.append(f"{MANIFEST_FILE} is signed but cannot be read: {exc}")
        return result
    payloads = PayloadStore(root / "Payloads")
    staged = staged_records(root)
    for record in staged:
        guid = record.assembly_guid
        entry = result.entries.get(guid)
        name = f"{record.display_name} ({guid})"
        if entry is None:
            result.problems.append(f"{name} is not in the signed manifest")
        elif entry.payload_checksum != record.payload.checksum or entry.version != record.version:
            result.tampered.add(guid)
            result.problems.append(f"{name} differs from the signed manifest")
        elif (
            check_payloads
            and (integrity := payloads.check(record.payload.payload_guid, record.payload.checksum))
            is not Integrity.OK
        ):
            result.tampered.add(guid)
            result.problems.append(f"{name}: payload {integrity.value}, not what was signed")
    missing = sorted(set(result.entries) - {r.assembly_guid for r in staged})
    if missing:
        result.problems.append(
            f"{len(missing)} signed assembly(ies) missing from staging: {', '.join(missing)}"
        )
    return result
