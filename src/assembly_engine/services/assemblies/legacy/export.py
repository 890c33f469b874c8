"""Rebuilding the legacy document of an assembly, plus the ``assembly_engine`` key."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any, TypedDict, Unpack

from assembly_engine.domain.description import description
from assembly_engine.domain.types import SCRIPT_EXTENSIONS, AssemblyKind, AssemblyType
from assembly_engine.services.assemblies.legacy.checks import InvalidDocument, fail, json_kind
from assembly_engine.services.assemblies.legacy.imported import ENGINE_KEY
from assembly_engine.services.assemblies.legacy.scripts import (
    DEFAULT_MIME_TYPE,
    EXPORT_KEYS,
    FILE_KEYS,
    SCRIPT_TYPES,
    STANDARD_KEYS,
)
from assembly_engine.services.assemblies.legacy.workflows import workflow_display_name
from assembly_engine.storage.contract.models import AssemblyRecord, PayloadContent, PayloadFile

DEFAULT_TIMEOUT_SECONDS = 3600
DEFAULT_CATEGORY = "script"


class ExportFields(TypedDict):
    """What an export reads of an assembly: its record's fields and its payload."""

    display_name: str
    summary: str | None
    category: str | None
    assembly_kind: AssemblyKind | str
    assembly_type: str | None
    version: int | None
    metadata: Mapping[str, Any]
    tags: Sequence[str]
    content: PayloadContent
    assembly_guid: str
    source: str
    revision: int
    updated_at: str


def record_fields(record: AssemblyRecord, content: PayloadContent) -> ExportFields:
    """The export fields of a stored assembly (or of one of its revisions)."""
    return ExportFields(
        **description(record),
        metadata=record.metadata,
        tags=record.tags,
        content=content,
        assembly_guid=record.assembly_guid,
        source=record.domain.value,
        revision=record.revision,
        updated_at=record.updated_at,
    )


def export_document(**fields: Unpack[ExportFields]) -> dict[str, Any]:
    """Rebuild the legacy document of an assembly, plus the ``assembly_engine`` key."""
    kind = AssemblyKind(fields["assembly_kind"])
    display_name, summary, content = fields["display_name"], fields["summary"], fields["content"]
    metadata = fields["metadata"]
    legacy_format = metadata.get("legacy_format")
    notes: Mapping[str, Any] = legacy_format if isinstance(legacy_format, dict) else {}
    if kind is AssemblyKind.WORKFLOW:
        doc = _export_workflow(display_name, summary, notes, content)
    else:
        assembly_type = fields["assembly_type"]
        if assembly_type is None:
            assembly_type = _type_from_main_file(kind, content.main_file_name)
        doc = _export_script(
            display_name,
            summary,
            fields["category"],
            assembly_type,
            fields["version"],
            metadata,
            notes,
            content,
        )
    doc[ENGINE_KEY] = {
        "assembly_guid": fields["assembly_guid"],
        "display_name": display_name,
        "source": str(fields["source"]),
        "revision": fields["revision"],
        "updated_at": fields["updated_at"],
        "tags": list(fields["tags"]),
    }
    return doc


def _type_from_main_file(kind: AssemblyKind, main_file_name: str) -> str:
    if kind is AssemblyKind.ANSIBLE:
        return AssemblyType.ANSIBLE.value
    suffix = PurePosixPath(main_file_name).suffix
    for assembly_type, extension in SCRIPT_EXTENSIONS.items():
        if extension == suffix and assembly_type.value in SCRIPT_TYPES:
            return assembly_type.value
    return AssemblyType.POWERSHELL.value


def _export_file(item: PayloadFile, note: object) -> dict[str, Any]:
    values: dict[str, Any] = {
        "file_name": item.file_name,
        "size": item.size,
        "mime_type": item.mime_type,
        "data": base64.b64encode(item.data).decode("ascii"),
    }
    if not isinstance(note, dict) or not isinstance(note.get("key_order"), list):
        return values
    extra = note.get("extra") if isinstance(note.get("extra"), dict) else {}
    assert isinstance(extra, dict)
    out: dict[str, Any] = {}
    for key in note["key_order"]:
        if key in values:
            out[key] = values[key]
        elif key in extra:
            out[key] = copy.deepcopy(extra[key])
    # Keys the original entry lacked come back only when they carry information.
    for key in FILE_KEYS:
        if key in out:
            continue
        if key == "size" or (key == "mime_type" and item.mime_type == DEFAULT_MIME_TYPE):
            continue
        out[key] = values[key]
    for key, val in extra.items():
        out.setdefault(key, copy.deepcopy(val))
    return out


def _ordered_variables(variables: object, orders: object) -> object:
    if not isinstance(variables, list) or not isinstance(orders, list):
        return variables
    result: list[Any] = []
    for index, variable in enumerate(variables):
        order = orders[index] if index < len(orders) else None
        if (
            isinstance(variable, dict)
            and isinstance(order, list)
            and len(order) == len(variable)
            and set(order) == set(variable)
        ):
            variable = {key: variable[key] for key in order}
        result.append(variable)
    return result


def _export_script(
    display_name: str,
    summary: str | None,
    category: str | None,
    assembly_type: str,
    version: int | None,
    metadata: Mapping[str, Any],
    notes: Mapping[str, Any],
    content: PayloadContent,
) -> dict[str, Any]:
    legacy_value = metadata.get("legacy")
    legacy: Mapping[str, Any] = legacy_value if isinstance(legacy_value, dict) else {}
    file_notes_value = notes.get("file_entries")
    file_notes = file_notes_value if isinstance(file_notes_value, dict) else {}
    files = [_export_file(item, file_notes.get(item.file_name)) for item in content.files]
    values: dict[str, Any] = {
        "version": version,
        "name": display_name,
        "description": summary,
        "category": category,
        "type": assembly_type,
        "script": base64.b64encode(content.main).decode("ascii"),
        "script_encoding": "base64",
        "files": files,
    }
    for key in ("timeout_seconds", "sites", "variables"):
        if key in metadata:
            values[key] = copy.deepcopy(metadata[key])
    if "variables" in values:
        values["variables"] = _ordered_variables(values["variables"], notes.get("variable_key_order"))

    order = notes.get("key_order")
    out: dict[str, Any] = {}
    if isinstance(order, list):
        for key in order:
            if key in ("script", "script_lines"):
                if "script" not in out:
                    out["script"] = values["script"]
                    if "script_encoding" not in order:
                        out["script_encoding"] = "base64"
            elif key in STANDARD_KEYS:
                if key in values:
                    out[key] = values[key]
            elif key in legacy and key != ENGINE_KEY:
                out[key] = copy.deepcopy(legacy[key])
        for key in EXPORT_KEYS:
            if key in out or key not in values:
                continue
            value = values[key]
            if value is None or (key == "files" and not value):
                continue
            out[key] = value
    else:
        # Never a legacy JSON document: the legacy tool's full layout and defaults.
        defaults: dict[str, Any] = {
            "version": 1,
            "description": "",
            "category": DEFAULT_CATEGORY,
            "timeout_seconds": DEFAULT_TIMEOUT_SECONDS,
            "sites": {"mode": "all", "values": []},
            "variables": [],
        }
        for key in EXPORT_KEYS:
            value = values.get(key)
            out[key] = copy.deepcopy(defaults[key]) if value is None and key in defaults else value
    for key, val in legacy.items():
        if key not in out and key not in STANDARD_KEYS and key != ENGINE_KEY:
            out[key] = copy.deepcopy(val)
    return out


def _export_workflow(
    display_name: str, summary: str | None, notes: Mapping[str, Any], content: PayloadContent
) -> dict[str, Any]:
    try:
        workflow = json.loads(content.main.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidDocument(f"the stored workflow is not valid JSON ({exc})") from None
    if not isinstance(workflow, dict):
        fail(f"the stored workflow must be a JSON object, got {json_kind(workflow)}")
    if "tab_name" in workflow:
        workflow["tab_name"] = display_name
    elif workflow_display_name(workflow) is not None:
        workflow["name"] = display_name
    elif display_name != notes.get("derived_name"):
        workflow = {"tab_name": display_name, **workflow}
    if "description" in workflow or summary is not None:
        workflow["description"] = summary
    return workflow
