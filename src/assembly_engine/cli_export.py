"""``assemblies export --format raw``: an assembly as the plain file it is.

Scripts and playbooks are written as their script bytes (exactly as stored: CRLF, BOM and
encoding kept), workflows as their canvas JSON. The file goes into the folder path of the
assembly's category (so importing the folder gives the categories back) under its original
file name when it was imported from a plain file or a Tactical RMM entry, else under its
name plus the type's extension. Attached files are not part of a plain script: the command
lists them as not written (the default ``legacy`` format keeps them).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

EXTENSIONS = {"powershell": ".ps1", "batch": ".bat", "bash": ".sh", "python": ".py",
              "ansible": ".yml", "workflow": ".json"}


@dataclass(frozen=True)
class RawFile:
    relative: PurePosixPath
    data: bytes
    attachments: tuple[str, ...] = ()


def safe_part(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_.() " else "_" for c in name).strip(" .")
    return cleaned[:100] or "assembly"


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def raw_file(item: dict[str, Any], document: dict[str, Any]) -> RawFile:
    """The plain file of an assembly: ``item`` its record, ``document`` its export."""
    kind, assembly_type = item["assembly_kind"], item.get("assembly_type") or ""
    metadata = _dict(item.get("metadata"))
    notes, legacy = _dict(metadata.get("legacy_format")), _dict(metadata.get("legacy"))
    body = _dict(document.get("payload")) or document  # an item wraps its document
    attachments: tuple[str, ...] = ()
    if kind == "workflow":
        canvas = {k: v for k, v in body.items() if k != "assembly_engine"}
        data = (json.dumps(canvas, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    else:
        script = body.get("script", "")
        data = (base64.b64decode(script) if body.get("script_encoding") == "base64"
                else str(script).encode("utf-8"))
        files = body.get("files")
        attachments = tuple(str(_dict(f).get("file_name")) for f in files or [])
    extension = EXTENSIONS.get("workflow" if kind == "workflow" else assembly_type, ".txt")
    original = notes.get("file_name") if notes.get("source_format") == "plain-script" else None
    trmm_name = _dict(legacy.get("tactical_rmm")).get("filename")
    if original is None and isinstance(trmm_name, str):
        original = trmm_name
    if isinstance(original, str):
        name = safe_part(original)
    else:
        name = safe_part(item["display_name"]) + extension
    folders = [safe_part(part) for part in (item.get("category") or "").split("/") if part.strip()]
    return RawFile(PurePosixPath(*folders, name), data, attachments)
