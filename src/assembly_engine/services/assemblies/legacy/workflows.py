"""Workflow canvases ``{tab_name, nodes, edges, ...}``, kept whole as ``workflow.json``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assembly_engine import input_limits as limits
from assembly_engine.domain.types import AssemblyKind, AssemblyType, PayloadType
from assembly_engine.services.assemblies.legacy.checks import (
    check,
    display_name,
    fail,
    json_kind,
    name_stem,
    summary,
)
from assembly_engine.services.assemblies.legacy.imported import ImportedAssembly
from assembly_engine.services.assemblies.payload_layout import WORKFLOW_FILE_NAME, workflow_bytes
from assembly_engine.storage.contract.models import PayloadContent


def check_workflow(workflow: Mapping[str, Any], where: str) -> None:
    if "nodes" not in workflow:
        fail(f"{where}.nodes is missing: a workflow needs a nodes list")
    if not isinstance(workflow["nodes"], list):
        fail(f"{where}.nodes must be a list, got {json_kind(workflow['nodes'])}")
    if "edges" in workflow and not isinstance(workflow["edges"], list):
        fail(f"{where}.edges must be a list, got {json_kind(workflow['edges'])}")
    if "tab_name" in workflow:
        display_name(workflow["tab_name"], f"{where}.tab_name")
    summary(workflow, "description", where)
    name = workflow.get("name")
    if "tab_name" not in workflow and isinstance(name, str) and name.strip():
        check(limits.name_problem(name, f"{where}.name", limits.DISPLAY_NAME_CHARS, visible=True))


def workflow_content(workflow: Mapping[str, Any], where: str) -> PayloadContent:
    """The payload of a checked workflow, in the engine's one workflow encoding."""
    try:
        main = workflow_bytes(workflow)
    except UnicodeEncodeError:
        fail(f"{where} contains a character that cannot be stored as UTF-8 (a lone surrogate)")
    return PayloadContent(PayloadType.WORKFLOW, WORKFLOW_FILE_NAME, main)


def workflow_display_name(workflow: Mapping[str, Any]) -> str | None:
    """The workflow's own name: ``tab_name``, else a non-empty ``name``."""
    if "tab_name" in workflow:
        return str(workflow["tab_name"])
    name = workflow.get("name")
    return name if isinstance(name, str) and name.strip() else None


def from_workflow(
    doc: dict[str, Any],
    file_name: str | None,
    guid: str | None,
    tags: list[str],
    *,
    exported_name: str | None = None,
) -> ImportedAssembly:
    check_workflow(doc, "document")
    content = workflow_content(doc, "document")
    legacy_format: dict[str, Any] = {"source_format": "workflow-json"}
    name = workflow_display_name(doc)
    if name is None:
        # A workflow without a name of its own: the record's name its export carries, or
        # the file's name.
        name = exported_name or name_stem(file_name)
        if name is None:
            fail(
                "document.tab_name is missing: a workflow needs a tab_name "
                "(or import it from a file whose name can be used)"
            )
        check(limits.name_problem(name, "file_name", limits.DISPLAY_NAME_CHARS, visible=True))
        legacy_format["derived_name"] = name
    return ImportedAssembly(
        display_name=name,
        summary=doc.get("description"),
        category=None,
        assembly_kind=AssemblyKind.WORKFLOW,
        assembly_type=AssemblyType.WORKFLOW.value,
        version=None,
        metadata={"legacy_format": legacy_format},
        tags=tags,
        content=content,
        source_assembly_guid=guid,
    )
