"""Plain script files (``.ps1 .bat .cmd .sh .py``, or a file with a shebang).

* type: from the extension (``.ps1`` powershell, ``.bat``/``.cmd`` batch, ``.sh`` bash,
  ``.py`` python); a file with another or no extension is typed by its shebang
  (``#!/bin/bash``, ``#!/usr/bin/env python3``, ``#!/usr/bin/env pwsh``, …);
* name: the file name without its extension;
* category: the folder path the file was found in, below the folder named on the command
  line (``file_name`` ``"Windows/Network/Reset.ps1"`` -> category ``"Windows/Network"``);
  a leading legacy-tree folder (``Scripts/``, ``Workflows/``, ``Ansible_Playbooks/``) is
  layout and left out; none for a file named on its own;
* the text: the main payload file, byte for byte (CRLF, BOM and any encoding kept).

``metadata.legacy_format`` records ``source_format: "plain-script"``, the original
``file_name`` (so ``.cmd`` stays ``.cmd`` when written back as a plain file) and the
``folder``. Export gives the legacy JSON document in the legacy tool's full layout.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from assembly_engine import input_limits as limits
from assembly_engine.domain.types import AssemblyKind, PayloadType
from assembly_engine.services.assemblies.file_kinds import (
    SUFFIX_TYPES,
    plain_type,
)
from assembly_engine.services.assemblies.legacy import ImportedAssembly, checks
from assembly_engine.services.assemblies.payload_layout import main_file_name
from assembly_engine.storage.contract.models import PayloadContent

# The legacy tree's top folders (Scripts/, Workflows/, Ansible_Playbooks/) say the kind.
LAYOUT_FOLDERS = frozenset({"scripts", "workflows", "ansible_playbooks"})


def _parts(file_name: str) -> PurePosixPath:
    return PurePosixPath(file_name.replace("\\", "/"))


def folder_of(file_name: str) -> str | None:
    """The folder path of a relative ``file_name`` ("a/b/x.ps1" -> "a/b"), or None."""
    parts = [part for part in _parts(file_name).parent.parts if part not in ("", ".")]
    if any(part == ".." for part in parts):
        checks.fail(f"file_name {file_name!r} must be a path below the imported folder (no '..')")
    if parts and parts[0].casefold() in LAYOUT_FOLDERS:
        parts = parts[1:]  # the legacy tree's kind folder is layout, not a category
    return "/".join(parts) or None


def from_file(raw: bytes, file_name: str) -> ImportedAssembly:
    assembly_type = plain_type(file_name, raw)
    if assembly_type is None:
        checks.fail(
            f"{file_name!r} is not a plain script: use .ps1, .bat, .cmd, .sh or .py, or "
            "start the file with a shebang such as #!/bin/bash"
        )
    path = _parts(file_name)
    name = path.stem if path.suffix.lower() in SUFFIX_TYPES else path.name
    if not name.strip():
        checks.fail(f"file_name {file_name!r} has no name to give the assembly")
    checks.display_name(name, "file_name (without its extension, the assembly's name)")
    folder = folder_of(file_name)
    if folder is not None:
        checks.check(
            limits.text_problem(folder, "file_name's folder path (the category)", limits.CATEGORY_CHARS)
        )
    notes: dict[str, object] = {"source_format": "plain-script", "file_name": path.name}
    if folder is not None:
        notes["folder"] = folder
    return ImportedAssembly(
        display_name=name,
        summary=None,
        category=folder,
        assembly_kind=AssemblyKind.SCRIPT,
        assembly_type=assembly_type,
        version=None,
        metadata={"legacy_format": notes},
        tags=[],
        content=PayloadContent(PayloadType.SCRIPT, main_file_name(AssemblyKind.SCRIPT, assembly_type), raw),
    )
