"""The upstream library's newest export form, an "item": a record wrapping a legacy document.

::

    {assembly_guid, assembly_type, assembly_subtype, display_name, summary, domain,
     created_at, updated_at, payload_guid,
     payload: {assembly_guid, name, description, category, type, script, ...}}  # scripts
     payload: {assembly_guid, tab_name, nodes, edges, ...}                     # workflows

``assembly_type`` is ``"script"`` (the language in ``assembly_subtype``), ``"ansible"`` or
``"workflow"``; a plain script type (``"powershell"``) is accepted too.

Import parses ``payload`` as the legacy document it is (the ``legacy`` package), so every inner
field is kept the way a plain legacy document's fields are. The record takes the wrapper's
``display_name`` and ``summary``. Every wrapper field except ``payload`` is kept verbatim in
``metadata.item.fields`` (with the wrapper's key order), so ``domain``, ``created_at``,
``updated_at``, ``payload_guid``, the upstream ``assembly_guid`` and any field this
importer does not know come back on export. The upstream ``assembly_guid`` is an upstream
id: it never names an engine assembly, so an item always becomes a new assembly unless its
``assembly_engine`` block (written by this engine's export) names one.

Export rebuilds the inner document (``legacy.export_document``) and wraps it again:
``display_name``, ``summary``, ``assembly_type``/``assembly_subtype`` come from the record
(edits show), every other wrapper field from ``metadata.item.fields``. The inner ``name``
/ ``tab_name`` and ``description`` follow the record too, unless they differed from the
wrapper's at import (then the inner values are kept as they were).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from typing import Any

from assembly_engine.domain.types import AssemblyKind, AssemblyType
from assembly_engine.services.assemblies.legacy import ENGINE_KEY, ImportedAssembly, InvalidDocument, checks
from assembly_engine.services.assemblies.legacy.scripts import SCRIPT_TYPES, from_script_document
from assembly_engine.services.assemblies.legacy.workflows import from_workflow

ITEM_KEY = "item"  # metadata key holding the wrapper
# Keys that only a legacy document inside ``payload`` has (the API record form has
# ``payload: {script, files}`` or ``{workflow}`` and an ``assembly_kind``).
INNER_MARKERS = ("name", "type", "nodes", "tab_name", "script_encoding", "script_lines", "version")
ITEM_TYPES = ("script", "ansible", "workflow")


def is_item(doc: Mapping[str, Any]) -> bool:
    """Whether ``doc`` (with a ``payload``) is an upstream item rather than an API record."""
    if "assembly_subtype" in doc or "payload_guid" in doc:
        return True
    payload = doc.get("payload")
    if "assembly_kind" in doc or not isinstance(payload, dict) or "workflow" in payload:
        return False
    return any(key in payload for key in INNER_MARKERS)


def _kind_and_type(doc: Mapping[str, Any], payload: Mapping[str, Any]) -> tuple[AssemblyKind, str]:
    where = "document"
    raw_type = doc.get("assembly_type")
    subtype = doc.get("assembly_subtype")
    if raw_type is None:
        if "nodes" in payload or "tab_name" in payload:
            raw_type = "workflow"
        else:
            raw_type = payload.get("type")
    if raw_type == "workflow":
        return AssemblyKind.WORKFLOW, AssemblyType.WORKFLOW.value
    if raw_type == "ansible":
        if subtype not in (None, "ansible"):
            checks.fail(
                f"{where}.assembly_subtype {subtype!r} does not fit assembly_type 'ansible' "
                "(use 'ansible' or leave it out)"
            )
        return AssemblyKind.ANSIBLE, AssemblyType.ANSIBLE.value
    if raw_type == "script":
        if subtype is None:
            subtype = payload.get("type")
        if subtype in SCRIPT_TYPES:
            assert isinstance(subtype, str)
            return AssemblyKind.SCRIPT, subtype
        shown = repr(subtype) if isinstance(subtype, str) else checks.json_kind(subtype)
        checks.fail(
            f"{where}.assembly_subtype {shown} is not a known script language "
            f"({', '.join(SCRIPT_TYPES)}); an item with assembly_type 'script' names its "
            "language in assembly_subtype"
        )
    if raw_type in SCRIPT_TYPES:
        assert isinstance(raw_type, str)
        if subtype not in (None, raw_type):
            checks.fail(f"{where}.assembly_subtype {subtype!r} does not fit assembly_type {raw_type!r}")
        return AssemblyKind.SCRIPT, raw_type
    shown = repr(raw_type) if isinstance(raw_type, str) else checks.json_kind(raw_type)
    checks.fail(
        f"{where}.assembly_type {shown} is not a known item type: use 'script' (with "
        f"assembly_subtype {', '.join(SCRIPT_TYPES)}), 'ansible' or 'workflow'"
    )


def _inside_payload(exc: InvalidDocument) -> str:
    """A legacy-document message, pointed at the item's ``payload``."""
    message = str(exc)
    return "document.payload" + message[len("document") :] if message.startswith("document") else message


def from_item(
    doc: dict[str, Any], file_name: str | None, guid: str | None, tags: list[str]
) -> ImportedAssembly:
    """Import an item (``doc`` without its ``assembly_engine`` block)."""
    payload = doc.get("payload")
    if not isinstance(payload, dict):
        checks.fail(
            "document.payload must be an object (the legacy document the item wraps), got "
            f"{checks.json_kind(payload)}"
        )
    kind, assembly_type = _kind_and_type(doc, payload)
    wrapper_name = doc.get("display_name")
    if wrapper_name is not None:
        checks.display_name(wrapper_name, "document.display_name")
    summary = checks.optional_str(doc, "summary", "document")

    inner = dict(payload)
    note: dict[str, Any] = {
        "fields": {key: copy.deepcopy(val) for key, val in doc.items() if key != "payload"},
        "key_order": list(doc),
    }
    filled: list[str] = []
    if kind is AssemblyKind.WORKFLOW:
        if "tab_name" not in inner and "name" not in inner and wrapper_name is not None:
            inner["tab_name"] = wrapper_name
            filled.append("tab_name")
        try:
            imported = from_workflow(inner, file_name, None, tags)
        except InvalidDocument as exc:
            checks.fail(_inside_payload(exc))
    else:
        expected = AssemblyType.ANSIBLE.value if kind is AssemblyKind.ANSIBLE else assembly_type
        if "type" not in inner:
            inner["type"] = expected
            filled.append("type")
        elif inner["type"] != expected:
            checks.fail(
                f"document.payload.type {inner['type']!r} does not match the item's "
                f"assembly type {expected!r}"
            )
        if "name" not in inner and wrapper_name is not None:
            inner["name"] = wrapper_name
            filled.append("name")
        try:
            imported = from_script_document(inner, None, tags)
        except InvalidDocument as exc:
            checks.fail(_inside_payload(exc))
    if filled:
        note["filled"] = filled
    display_name = wrapper_name if wrapper_name is not None else imported.display_name
    if imported.display_name != display_name:
        note["inner_name"] = imported.display_name
    if "summary" not in doc:
        summary = imported.summary
    inner_description = inner.get("description")
    if "description" in inner and inner_description != summary:
        note["inner_description"] = inner_description
    metadata = dict(imported.metadata)
    metadata[ITEM_KEY] = note
    return dataclasses.replace(
        imported, display_name=display_name, summary=summary, metadata=metadata, source_assembly_guid=guid
    )


def inner_header(note: Mapping[str, Any], display_name: str, summary: str | None) -> tuple[str, str | None]:
    """The name and description the inner document is exported with."""
    name = note.get("inner_name", display_name)
    description = note.get("inner_description", summary)
    return (
        name if isinstance(name, str) else display_name,
        description if isinstance(description, str) or description is None else summary,
    )


def wrap(
    inner: dict[str, Any],
    note: Mapping[str, Any],
    *,
    display_name: str,
    summary: str | None,
    assembly_kind: AssemblyKind,
    assembly_type: str | None,
) -> dict[str, Any]:
    """The item around an exported inner document (its ``assembly_engine`` block moves out)."""
    engine = inner.pop(ENGINE_KEY, None)
    filled = note.get("filled")
    for key in filled if isinstance(filled, list) else []:
        inner.pop(key, None)
    fields_value = note.get("fields")
    fields: dict[str, Any] = copy.deepcopy(fields_value) if isinstance(fields_value, dict) else {}
    fields["display_name"] = display_name
    if "summary" in fields or summary is not None:
        fields["summary"] = summary
    if assembly_kind is AssemblyKind.SCRIPT and assembly_type:
        if fields.get("assembly_type") in SCRIPT_TYPES:
            fields["assembly_type"] = assembly_type
        else:
            fields["assembly_type"] = "script"
            fields["assembly_subtype"] = assembly_type
    values = {**fields, "payload": inner}
    order_value = note.get("key_order")
    order = order_value if isinstance(order_value, list) else []
    out: dict[str, Any] = {key: values[key] for key in order if key in values}
    for key, val in values.items():
        out.setdefault(key, val)
    if engine is not None:
        out[ENGINE_KEY] = engine
    return out
