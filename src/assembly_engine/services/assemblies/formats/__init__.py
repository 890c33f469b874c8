"""Every accepted document format, recognised in one place (pure functions, no I/O).

``import_value`` takes what an import request carries and returns the
:class:`ImportedAssembly` to create; ``export_value`` rebuilds the document an assembly was
imported from. The formats:

* legacy JSON documents, workflow canvases, raw YAML playbooks and the API record form:
  the ``legacy`` package;
* the upstream "items" form (a record wrapping a legacy document): ``items``;
* one Tactical RMM script library entry with its script bytes: ``tactical_rmm``;
* plain script files (``.ps1 .bat .cmd .sh .py`` or a shebang), named by ``file_name``,
  whose folder part becomes the category (also for raw ``.yml`` playbooks): ``plain_scripts``.

Anything that is none of these is refused with :class:`NotAnAssembly` ("not an assembly
document", with what was expected), never with a message about one field of a format it
does not resemble.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Unpack

from assembly_engine.domain.types import AssemblyKind
from assembly_engine.services.assemblies import file_kinds
from assembly_engine.services.assemblies.formats import items, plain_scripts, tactical_rmm
from assembly_engine.services.assemblies.legacy import (
    ENGINE_KEY,
    ExportFields,
    ImportedAssembly,
    InvalidDocument,
    NotAnAssembly,
    document_from_dict,
    engine_block,
    export_document,
    parse_document,
)
from assembly_engine.services.assemblies.legacy.checks import check, json_kind, utf8
from assembly_engine.services.request_bodies import json_problem

EXPECTED = (
    "expected a legacy script document (name, type, script, ...), a workflow (tab_name, "
    "nodes, edges), an Ansible playbook, an upstream item (assembly_type, display_name, "
    "payload) or a Tactical RMM script entry (name, shell, filename, ...)"
)
# A JSON object with none of these keys is not an assembly document of any format.
MARKER_KEYS = frozenset(
    {
        "script",
        "script_lines",
        "script_encoding",
        "nodes",
        "tab_name",
        "payload",
        ENGINE_KEY,
    }
)
KNOWN_TYPES = frozenset({"powershell", "batch", "bash", "python", "ansible", "workflow"})


def _not_an_assembly(what: str) -> NotAnAssembly:
    return NotAnAssembly(f"not an assembly document: {what}; {EXPECTED}")


def _describe_keys(doc: Mapping[str, Any]) -> str:
    if not doc:
        return "an empty object"
    keys = ", ".join(repr(key) for key in list(doc)[:8])
    return f"an object with the keys {keys}{', ...' if len(doc) > 8 else ''}"


def looks_like_assembly(doc: Mapping[str, Any]) -> bool:
    return bool(MARKER_KEYS.intersection(doc)) or doc.get("type") in KNOWN_TYPES


def from_dict(doc: object, *, file_name: str | None = None, script: bytes | None = None) -> ImportedAssembly:
    """Import an already-parsed JSON value of any accepted format.

    ``script`` is the script a Tactical RMM entry names (no other format takes one)."""
    if isinstance(doc, list):
        if doc and all(isinstance(entry, dict) and tactical_rmm.is_entry(entry) for entry in doc):
            raise _not_an_assembly(
                f"a Tactical RMM manifest of {len(doc)} entries (import its folder with "
                "`assemblies import`, or one entry at a time with its script)"
            )
        raise _not_an_assembly("a JSON list")
    if not isinstance(doc, dict):
        raise _not_an_assembly(json_kind(doc))
    if tactical_rmm.is_entry(doc):
        imported = tactical_rmm.from_entry(doc, script)
        check(json_problem(doc, "document"))  # e.g. an integer beyond 64 bits in a kept field
        return imported
    if script is not None:
        raise InvalidDocument(
            "script (or script_base64) is only for a Tactical RMM entry; "
            "other documents carry their script inside the document"
        )
    if "payload" in doc and items.is_item(doc):
        body = dict(doc)
        block = engine_block(body.pop(ENGINE_KEY, None))
        imported = items.from_item(body, file_name, block.assembly_guid, list(block.tags))
        check(json_problem(doc, "document"))
        return imported
    if not looks_like_assembly(doc):
        raise _not_an_assembly(_describe_keys(doc))
    return document_from_dict(doc, file_name=file_name)


def import_value(
    document: object, *, file_name: str | None = None, script: bytes | None = None
) -> ImportedAssembly:
    """What ``POST /api/assemblies/import`` carries (an object, or a document's text)."""
    if isinstance(document, str | bytes):
        raw = document if isinstance(document, bytes) else utf8(document, "document")
        if file_kinds.plain_type(file_name, raw) is not None:
            if script is not None:
                raise InvalidDocument(
                    "script (or script_base64) is only for a Tactical RMM "
                    "entry; a plain script file is the document itself"
                )
            assert file_name is not None
            return plain_scripts.from_file(raw, file_name)

        def parsed(value: object, *, file_name: str | None = None) -> ImportedAssembly:
            return from_dict(value, file_name=file_name, script=script)

        imported = parse_document(document, file_name=file_name, from_dict=parsed)
        folder = plain_scripts.folder_of(file_name) if file_name else None
        if (
            folder is not None
            and imported.assembly_kind is AssemblyKind.ANSIBLE
            and imported.category is None
        ):  # a raw playbook found in a folder tree
            imported = dataclasses.replace(imported, category=folder)
        return imported
    return from_dict(document, file_name=file_name, script=script)


def export_value(**fields: Unpack[ExportFields]) -> dict[str, Any]:
    """The document of an assembly in the format it was imported from."""
    kind = AssemblyKind(fields["assembly_kind"])
    display_name, summary = fields["display_name"], fields["summary"]
    metadata, assembly_type = fields["metadata"], fields["assembly_type"]
    note = metadata.get(items.ITEM_KEY)
    if isinstance(note, dict):
        inner_name, inner_summary = items.inner_header(note, display_name, summary)
        inner_fields = ExportFields(**fields)  # a copy: the inner document has its own header
        inner_fields["display_name"], inner_fields["summary"] = inner_name, inner_summary
        inner = export_document(**inner_fields)
        inner[ENGINE_KEY]["display_name"] = display_name
        return items.wrap(
            inner,
            note,
            display_name=display_name,
            summary=summary,
            assembly_kind=kind,
            assembly_type=assembly_type,
        )
    document = export_document(**fields)
    if kind is AssemblyKind.SCRIPT:
        tactical_rmm.refresh_entry(
            document,
            display_name=display_name,
            summary=summary,
            category=fields["category"],
            assembly_type=assembly_type,
            metadata=metadata,
            tags=list(fields["tags"]),
        )
    return document


__all__ = [
    "ImportedAssembly",
    "InvalidDocument",
    "NotAnAssembly",
    "export_value",
    "from_dict",
    "import_value",
    "looks_like_assembly",
]
