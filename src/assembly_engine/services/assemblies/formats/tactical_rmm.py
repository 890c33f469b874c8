"""Tactical RMM script library entries (one entry of ``community_scripts.json`` + its script).

An entry looks like ``{guid, filename, submittedBy, name, description, shell, category,
supported_platforms, default_timeout, args, syntax, ...}``; the script text lives in
``scripts/<filename>`` beside the manifest and arrives separately (``script`` bytes).

Mapping (Docs/assemblies.md has the table):

* ``name`` -> display name, ``description`` -> summary, ``category`` -> category;
* ``shell`` -> type: ``powershell`` -> powershell, ``cmd`` -> batch, ``python`` -> python,
  ``shell`` -> bash;
* ``default_timeout`` (a number, a string of digits, or missing) -> ``metadata.timeout_seconds``
  (left out when missing);
* ``supported_platforms`` -> tags;
* the script bytes -> the main payload file, byte for byte (BOM and CRLF kept).

The whole entry is kept verbatim in ``metadata.legacy.tactical_rmm``, so ``guid``,
``filename``, ``submittedBy``, ``args``, ``syntax`` and any field this importer does not
know are never lost. The assembly is stored as the legacy document
``{name, description, category, type, script, script_encoding, timeout_seconds?,
tactical_rmm}``, which is also what export gives; export refreshes the mapped fields of the
``tactical_rmm`` block from the record (so edits show) in the entry's own spelling
(``default_timeout`` stays a string if it was one).
"""

from __future__ import annotations

import base64
import copy
import dataclasses
from collections.abc import Mapping
from typing import Any

from assembly_engine.services.assemblies.legacy import ImportedAssembly, checks
from assembly_engine.services.assemblies.legacy.scripts import from_script_document

TRMM_KEY = "tactical_rmm"
SHELL_TYPES: dict[str, str] = {
    "powershell": "powershell",
    "cmd": "batch",
    "python": "python",
    "shell": "bash",
}
TYPE_SHELLS: dict[str, str] = {value: key for key, value in SHELL_TYPES.items()}
MANIFEST_NAME = "community_scripts.json"


def is_entry(doc: Mapping[str, Any]) -> bool:
    return "shell" in doc and "filename" in doc and "script" not in doc and "payload" not in doc


def _timeout(value: object) -> int:
    where = "document.default_timeout"
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    checks.fail(
        f'{where} must be a whole number of seconds (a number or a string such as "300"), '
        f"got {checks.json_kind(value)}"
    )


def _platforms(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        checks.fail(
            'document.supported_platforms must be a list of strings such as ["windows"], '
            f"got {checks.json_kind(value)}"
        )
    return list(value)


def from_entry(entry: dict[str, Any], script: bytes | None) -> ImportedAssembly:
    """Import one manifest entry with the bytes of the script it names."""
    if script is None:
        checks.fail(
            "a Tactical RMM entry needs its script: send the text of scripts/"
            f"{entry.get('filename')} as script (text) or script_base64"
        )
    name = checks.display_name(entry.get("name"), "document.name")
    shell = entry.get("shell")
    if shell not in SHELL_TYPES:
        shown = repr(shell) if isinstance(shell, str) else checks.json_kind(shell)
        checks.fail(
            f"document.shell {shown} is not a Tactical RMM shell this engine runs ({', '.join(SHELL_TYPES)})"
        )
    assert isinstance(shell, str)
    for key in ("filename", "guid", "description", "category"):
        checks.optional_str(entry, key, "document")
    tags = _platforms(entry["supported_platforms"]) if "supported_platforms" in entry else []
    legacy: dict[str, Any] = {
        "name": name,
        "description": entry.get("description"),
        "category": entry.get("category"),
        "type": SHELL_TYPES[shell],
        "script": base64.b64encode(script).decode("ascii"),
        "script_encoding": "base64",
    }
    if "default_timeout" in entry:
        legacy["timeout_seconds"] = _timeout(entry["default_timeout"])
    legacy[TRMM_KEY] = copy.deepcopy(entry)
    imported = from_script_document(legacy, None, tags)
    metadata = dict(imported.metadata)
    metadata["legacy_format"] = {**metadata["legacy_format"], "source_format": "tactical-rmm"}
    return dataclasses.replace(imported, metadata=metadata)


def refresh_entry(
    document: dict[str, Any],
    *,
    display_name: str,
    summary: str | None,
    category: str | None,
    assembly_type: str | None,
    metadata: Mapping[str, Any],
    tags: list[str],
) -> None:
    """Bring the exported ``tactical_rmm`` block in line with the record (in place)."""
    entry = document.get(TRMM_KEY)
    if not isinstance(entry, dict):
        return
    entry["name"] = display_name
    if "description" in entry or summary is not None:
        entry["description"] = summary
    if "category" in entry or category is not None:
        entry["category"] = category
    if assembly_type in TYPE_SHELLS:
        entry["shell"] = TYPE_SHELLS[assembly_type]
    timeout = metadata.get("timeout_seconds")
    if isinstance(timeout, int) and not isinstance(timeout, bool):
        original = entry.get("default_timeout")
        if isinstance(original, str):
            if not (original.isascii() and original.isdigit() and int(original) == timeout):
                entry["default_timeout"] = str(timeout)
        else:
            entry["default_timeout"] = timeout
    else:
        entry.pop("default_timeout", None)
    if "supported_platforms" in entry or tags:
        entry["supported_platforms"] = list(tags)
