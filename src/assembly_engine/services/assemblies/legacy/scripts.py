"""Legacy script documents (and playbooks written as one) of all three generations."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from assembly_engine import input_limits as limits
from assembly_engine.domain.types import AssemblyKind, AssemblyType, PayloadType
from assembly_engine.services.assemblies.legacy.checks import (
    category,
    check,
    decode_base64,
    display_name,
    fail,
    is_int,
    json_kind,
    optional_int,
    safe_file_name,
    sites,
    summary,
    timeout,
    utf8,
    variables,
)
from assembly_engine.services.assemblies.legacy.imported import ImportedAssembly
from assembly_engine.services.assemblies.legacy.playbooks import check_playbook_size
from assembly_engine.services.assemblies.payload_layout import main_file_name
from assembly_engine.storage.contract.models import PayloadContent, PayloadFile

SCRIPT_TYPES: tuple[str, ...] = ("powershell", "batch", "bash", "python")
# The legacy tool's full layout, in its order (script_lines is read, never written).
EXPORT_KEYS: tuple[str, ...] = (
    "version",
    "name",
    "description",
    "category",
    "type",
    "script",
    "script_encoding",
    "timeout_seconds",
    "sites",
    "variables",
    "files",
)
STANDARD_KEYS = frozenset(EXPORT_KEYS) | {"script_lines"}
FILE_KEYS: tuple[str, ...] = ("file_name", "size", "mime_type", "data")
DEFAULT_MIME_TYPE = "application/octet-stream"


def files(value: object, where: str) -> tuple[tuple[PayloadFile, ...], dict[str, Any]]:
    """Attachments, plus per-entry layout notes for entries not in the canonical shape."""
    if not isinstance(value, list):
        fail(f"{where} must be a list of file objects, got {json_kind(value)}")
    too_many = limits.file_count_problem(len(value), where)
    if too_many is not None:
        fail(too_many)
    found: list[PayloadFile] = []
    notes: dict[str, Any] = {}
    seen: set[str] = set()
    for index, entry in enumerate(value):
        here = f"{where}[{index}]"
        if not isinstance(entry, dict):
            fail(f"{here} must be an object with file_name and data, got {json_kind(entry)}")
        name = safe_file_name(entry.get("file_name"), f"{here}.file_name")
        if name in seen:
            fail(f"{where} has two files named {name!r}; file names must be unique")
        seen.add(name)
        if "data" not in entry:
            fail(f"{here}.data is missing: include the file content base64-encoded")
        data = decode_base64(entry["data"], f"{here}.data", lenient=False)
        if "size" in entry:
            size = entry["size"]
            if not is_int(size):
                fail(f"{here}.size must be a whole number of bytes, got {json_kind(size)}")
            if size != len(data):
                fail(f"{here}.size is {size} but data decodes to {len(data)} bytes")
        mime_type = entry.get("mime_type", DEFAULT_MIME_TYPE)
        if not isinstance(mime_type, str) or not mime_type:
            fail(f"{here}.mime_type must be a non-empty string, got {json_kind(mime_type)}")
        check(limits.mime_type_problem(mime_type, f"{here}.mime_type"))
        found.append(PayloadFile(file_name=name, data=data, mime_type=mime_type))
        order = list(entry)
        extra = {key: copy.deepcopy(val) for key, val in entry.items() if key not in FILE_KEYS}
        if order != list(FILE_KEYS) or extra:
            note: dict[str, Any] = {"key_order": order}
            if extra:
                note["extra"] = extra
            notes[name] = note
    return tuple(found), notes


def read_script(doc: Mapping[str, Any], where: str) -> tuple[bytes, dict[str, Any]]:
    """The script bytes of a script/playbook document and the notes about its form."""
    encoding = doc.get("script_encoding")
    if encoding is not None and encoding != "base64":
        fail(
            f'{where}.script_encoding {encoding!r} is not supported: use "base64", or '
            "leave script_encoding out for a plain-text script"
        )
    lines: list[str] | None = None
    if "script_lines" in doc:
        raw_lines = doc["script_lines"]
        if not isinstance(raw_lines, list) or not all(isinstance(x, str) for x in raw_lines):
            fail(f"{where}.script_lines must be a list of strings, got {json_kind(raw_lines)}")
        lines = raw_lines
    notes: dict[str, Any] = {}
    script = doc.get("script")
    if script is not None:
        if not isinstance(script, str):
            fail(f"{where}.script must be a string, got {json_kind(script)}")
        if encoding == "base64":
            main = decode_base64(script, f"{where}.script", lenient=True)
        else:
            main = utf8(script, f"{where}.script")
        notes["script_was_plaintext"] = encoding is None
    elif lines is not None:
        main = utf8("\n".join(lines), f"{where}.script_lines")
        notes["script_was_plaintext"] = True
    else:
        fail(
            f"{where}.script is missing: a script document needs its script text "
            '(base64 with script_encoding "base64", or plain text)'
        )
    try:
        text: str | None = main.decode("utf-8")
    except UnicodeDecodeError:
        text = None
        notes["script_utf8"] = False
    if lines is not None:
        notes["had_script_lines"] = True
        derived = text.replace("\r\n", "\n").split("\n") if text is not None else None
        if script is not None and lines != derived:
            notes["script_lines"] = list(lines)
    return main, notes


def script_kind(assembly_type: object, where: str) -> tuple[AssemblyKind, str]:
    if assembly_type is None:
        fail(
            f"{where} is missing: say which kind of script this is "
            f"({', '.join(SCRIPT_TYPES)}) or 'ansible' for a playbook"
        )
    if assembly_type == AssemblyType.ANSIBLE.value:
        return AssemblyKind.ANSIBLE, AssemblyType.ANSIBLE.value
    if assembly_type in SCRIPT_TYPES:
        assert isinstance(assembly_type, str)
        return AssemblyKind.SCRIPT, assembly_type
    shown = repr(assembly_type) if isinstance(assembly_type, str) else json_kind(assembly_type)
    fail(f"{where} {shown} is not a known script type ({', '.join(SCRIPT_TYPES)}); playbooks use 'ansible'")


def from_script_document(doc: dict[str, Any], guid: str | None, tags: list[str]) -> ImportedAssembly:
    where = "document"
    kind, assembly_type = script_kind(doc.get("type"), f"{where}.type")
    name = display_name(doc.get("name"), f"{where}.name")
    description = summary(doc, "description", where)
    doc_category = category(doc, where)
    version = optional_int(doc, "version", where)
    main, script_notes = read_script(doc, where)
    if kind is AssemblyKind.ANSIBLE:
        check_playbook_size(len(main), f"{where}.script")

    metadata: dict[str, Any] = {}
    if "timeout_seconds" in doc:
        metadata["timeout_seconds"] = timeout(doc["timeout_seconds"], f"{where}.timeout_seconds")
    if "sites" in doc:
        metadata["sites"] = sites(doc["sites"], f"{where}.sites")
    doc_variables: list[dict[str, Any]] | None = None
    if "variables" in doc:
        doc_variables = variables(doc["variables"], f"{where}.variables")
        metadata["variables"] = doc_variables
    attached: tuple[PayloadFile, ...] = ()
    file_notes: dict[str, Any] = {}
    if "files" in doc:
        attached, file_notes = files(doc["files"], f"{where}.files")
    legacy = {key: copy.deepcopy(val) for key, val in doc.items() if key not in STANDARD_KEYS}
    if legacy:
        metadata["legacy"] = legacy

    legacy_format: dict[str, Any] = {"source_format": "legacy-json", "key_order": list(doc)}
    legacy_format.update(script_notes)
    if doc_variables and any(list(var) != sorted(var) for var in doc_variables):
        legacy_format["variable_key_order"] = [list(var) for var in doc_variables]
    if file_notes:
        legacy_format["file_entries"] = file_notes
    metadata["legacy_format"] = legacy_format

    return ImportedAssembly(
        display_name=name,
        summary=description,
        category=doc_category,
        assembly_kind=kind,
        assembly_type=assembly_type,
        version=version,
        metadata=metadata,
        tags=tags,
        content=PayloadContent(PayloadType.SCRIPT, main_file_name(kind, assembly_type), main, attached),
        source_assembly_guid=guid,
    )
