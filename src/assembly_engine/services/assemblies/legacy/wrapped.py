"""The wrapped form: an API record saved to a file, ``{..., payload: {script, files} | {workflow}}``."""

from __future__ import annotations

import copy
from typing import Any

from assembly_engine.domain.types import (
    KIND_TYPES,
    AssemblyKind,
    AssemblyType,
    PayloadType,
    is_valid_assembly_guid,
)
from assembly_engine.services.assemblies.legacy.checks import (
    InvalidDocument,
    category,
    display_name,
    fail,
    json_kind,
    optional_int,
    sites,
    summary,
    timeout,
    variables,
)
from assembly_engine.services.assemblies.legacy.checks import tags as checked_tags
from assembly_engine.services.assemblies.legacy.imported import ImportedAssembly
from assembly_engine.services.assemblies.legacy.playbooks import check_playbook_size
from assembly_engine.services.assemblies.legacy.scripts import files, read_script, script_kind
from assembly_engine.services.assemblies.legacy.workflows import check_workflow, workflow_content
from assembly_engine.services.assemblies.payload_layout import main_file_name
from assembly_engine.storage.contract.models import PayloadContent, PayloadFile

# The fields it maps, and the engine's own state in a record view (``revision``,
# ``is_dirty``, …), which the engine sets itself and does not import.
WRAPPED_KEYS = frozenset(
    {
        "assembly_guid",
        "display_name",
        "name",
        "assembly_kind",
        "assembly_type",
        "type",
        "summary",
        "description",
        "category",
        "version",
        "metadata",
        "tags",
        "payload",
        "source",
        "revision",
        "is_dirty",
        "dirty_since",
        "last_persisted",
        "integrity",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "payload_guid",
    }
)
WRAPPED_PAYLOAD_KEYS = frozenset({"script", "script_encoding", "script_lines", "files", "workflow", "error"})


def _kind_and_type(doc: dict[str, Any], payload: dict[str, Any], where: str) -> tuple[AssemblyKind, str]:
    raw_type = doc.get("assembly_type", doc.get("type"))
    raw_kind = doc.get("assembly_kind")
    if raw_kind is None:
        if "workflow" in payload:
            kind = AssemblyKind.WORKFLOW
        else:
            kind = script_kind(raw_type, f"{where}.assembly_type")[0]
    else:
        try:
            kind = AssemblyKind(raw_kind)
        except ValueError:
            shown = repr(raw_kind) if isinstance(raw_kind, str) else json_kind(raw_kind)
            raise InvalidDocument(
                f"{where}.assembly_kind {shown} is not a known kind "
                f"({', '.join(k.value for k in AssemblyKind)})"
            ) from None
    if kind is AssemblyKind.SCRIPT:
        assembly_type = script_kind(raw_type, f"{where}.assembly_type")[1]
        if assembly_type == AssemblyType.ANSIBLE.value:
            fail(f"{where}.assembly_type 'ansible' needs assembly_kind 'ansible'")
    else:
        assembly_type = next(iter(KIND_TYPES[kind])).value
        if raw_type is not None and raw_type != assembly_type:
            fail(
                f"{where}.assembly_type {raw_type!r} does not fit assembly_kind "
                f"{kind.value!r} (expected {assembly_type!r})"
            )
    return kind, assembly_type


def from_wrapped(doc: dict[str, Any], guid: str | None, tags: list[str]) -> ImportedAssembly:
    where = "document"
    payload = doc["payload"]
    if not isinstance(payload, dict):
        fail(
            f'{where}.payload must be an object ({{"script": ..., "files": [...]}} or '
            f'{{"workflow": {{...}}}}), got {json_kind(payload)}'
        )
    kind, assembly_type = _kind_and_type(doc, payload, where)

    name = display_name(doc.get("display_name", doc.get("name")), f"{where}.display_name")
    record_summary = summary(doc, "summary", where)
    if record_summary is None and "summary" not in doc:
        record_summary = summary(doc, "description", where)
    record_category = category(doc, where)
    version = optional_int(doc, "version", where)

    metadata_value = doc.get("metadata", {})
    if metadata_value is None:
        metadata_value = {}
    if not isinstance(metadata_value, dict):
        fail(f"{where}.metadata must be an object, got {json_kind(metadata_value)}")
    metadata = copy.deepcopy(metadata_value)
    if "timeout_seconds" in metadata:
        timeout(metadata["timeout_seconds"], f"{where}.metadata.timeout_seconds")
    if "sites" in metadata:
        sites(metadata["sites"], f"{where}.metadata.sites")
    if "variables" in metadata:
        variables(metadata["variables"], f"{where}.metadata.variables")
    for key in ("legacy", "legacy_format"):
        if key in metadata and not isinstance(metadata[key], dict):
            fail(f"{where}.metadata.{key} must be an object, got {json_kind(metadata[key])}")

    if "tags" in doc:
        tags = checked_tags(doc["tags"], f"{where}.tags")
    own_guid = doc.get("assembly_guid")
    if own_guid is not None:
        if not is_valid_assembly_guid(own_guid):
            fail(
                f"{where}.assembly_guid {own_guid!r} is not a valid assembly id "
                "(32 or 40 lowercase hex characters)"
            )
        guid = own_guid
    # Fields this form does not map are kept (never dropped silently): top-level ones and
    # unknown payload keys in metadata.legacy, which export writes back as top-level keys.
    extra = {key: copy.deepcopy(val) for key, val in doc.items() if key not in WRAPPED_KEYS}
    extra_payload = {
        key: copy.deepcopy(val) for key, val in payload.items() if key not in WRAPPED_PAYLOAD_KEYS
    }
    if extra_payload:
        extra["payload_fields"] = extra_payload
    if extra:
        legacy = metadata.get("legacy")
        metadata["legacy"] = {**extra, **(legacy if isinstance(legacy, dict) else {})}

    if kind is AssemblyKind.WORKFLOW:
        workflow = payload.get("workflow")
        if not isinstance(workflow, dict):
            fail(
                f"{where}.payload.workflow must be an object with nodes and edges, got {json_kind(workflow)}"
            )
        check_workflow(workflow, f"{where}.payload.workflow")
        content = workflow_content(workflow, f"{where}.payload.workflow")
    else:
        main, _ = read_script(payload, f"{where}.payload")
        if kind is AssemblyKind.ANSIBLE:
            check_playbook_size(len(main), f"{where}.payload.script")
        attached: tuple[PayloadFile, ...] = ()
        if "files" in payload:
            attached, _ = files(payload["files"], f"{where}.payload.files")
        content = PayloadContent(PayloadType.SCRIPT, main_file_name(kind, assembly_type), main, attached)
    return ImportedAssembly(
        display_name=name,
        summary=record_summary,
        category=record_category,
        assembly_kind=kind,
        assembly_type=assembly_type,
        version=version,
        metadata=metadata,
        tags=tags,
        content=content,
        source_assembly_guid=guid,
    )
