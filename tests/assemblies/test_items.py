"""The upstream "items" form: every item imports, keeps every field, and exports back."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from assembly_engine.domain.types import AssemblyKind
from assembly_engine.services.assemblies.formats import (
    ImportedAssembly,
    InvalidDocument,
    export_value,
    import_value,
)
from assembly_engine.storage.contract.models import canonical_json
from tests.legacy_comparison import normalise_for_comparison as normalise
from tests.support import CORPUS

ITEMS = sorted((CORPUS / "items").glob("*.json")) if CORPUS.is_dir() else []
GUID = "0123456789abcdef0123456789abcdef"


def export_of(imported: ImportedAssembly, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "display_name": imported.display_name,
        "summary": imported.summary,
        "category": imported.category,
        "assembly_kind": imported.assembly_kind,
        "assembly_type": imported.assembly_type,
        "version": imported.version,
        "metadata": json.loads(canonical_json(imported.metadata)),  # as the column stores it
        "tags": imported.tags,
        "content": imported.content,
        "assembly_guid": GUID,
        "source": "user",
        "revision": 1,
        "updated_at": "2026-01-01T00:00:00.000Z",
    }
    fields.update(overrides)
    return export_value(**fields)


def workflow_item() -> dict[str, Any]:
    return {
        "assembly_guid": "83fb2768611549ea813f5a046b92e2b2",
        "assembly_type": "workflow",
        "assembly_subtype": None,
        "display_name": "Math Operations",
        "summary": None,
        "domain": "official",
        "created_at": "2025-11-01T07:52:43",
        "updated_at": "2025-11-01T07:52:43",
        "payload_guid": "83fb2768611549ea813f5a046b92e2b2",
        "payload": {
            "assembly_guid": "83fb2768611549ea813f5a046b92e2b2",
            "tab_name": "Math Operations",
            "nodes": [
                {
                    "id": "n1",
                    "type": "math",
                    "position": {"x": 1, "y": 2},
                    "data": {"op": "+"},
                    "dragHandle": ".h",
                    "width": 120,
                }
            ],
            "edges": [{"id": "e1", "source": "n1", "target": "n1", "style": {"stroke": "#fff"}}],
        },
    }


def test_the_items_are_there() -> None:
    assert len(ITEMS) == 2, f"expected the upstream items at {CORPUS / 'items'}"


@pytest.mark.parametrize("path", ITEMS, ids=lambda p: p.name)
def test_corpus_item_imports_with_its_type_and_wrapper(path: Path) -> None:
    item = json.loads(path.read_bytes())
    imported = import_value(item, file_name=path.name)
    assert imported.display_name == item["display_name"]
    assert imported.summary == item["summary"]
    expected_kind = AssemblyKind.SCRIPT if item["assembly_type"] == "script" else AssemblyKind.ANSIBLE
    assert imported.assembly_kind is expected_kind
    assert imported.assembly_type == item["assembly_subtype"]
    inner = item["payload"]
    assert imported.category == inner["category"]
    assert imported.version == inner["version"]
    for key in ("timeout_seconds", "sites", "variables"):  # inner fields the old import dropped
        assert imported.metadata[key] == inner[key]
    wrapper = imported.metadata["item"]["fields"]
    for key in ("assembly_guid", "assembly_subtype", "domain", "created_at", "updated_at", "payload_guid"):
        assert wrapper[key] == item[key]
    script = inner["script"]
    expected = base64.b64decode(script) if inner.get("script_encoding") == "base64" else script.encode()
    assert imported.content.main == expected
    # The upstream id is not an engine id: the item becomes a new assembly.
    assert imported.source_assembly_guid is None


@pytest.mark.parametrize("path", ITEMS, ids=lambda p: p.name)
def test_corpus_item_exports_back_and_reimports_to_a_fixed_point(path: Path) -> None:
    item = json.loads(path.read_bytes())
    exported = export_of(import_value(item))
    assert normalise(exported) == normalise(item)
    assert list(exported)[:-1] == list(item)  # wrapper key order, then assembly_engine
    expected_inner = list(item["payload"])
    if "script_encoding" not in expected_inner:  # a plaintext script comes back as base64
        expected_inner.insert(expected_inner.index("script") + 1, "script_encoding")
    assert list(exported["payload"]) == expected_inner
    again = import_value(json.loads(json.dumps(exported)))
    assert again.source_assembly_guid == GUID  # the engine block names this assembly
    assert json.dumps(export_of(again)) == json.dumps(exported)


def test_workflow_item_with_nodes_in_payload_round_trips() -> None:
    item = workflow_item()
    imported = import_value(item)
    assert imported.assembly_kind is AssemblyKind.WORKFLOW
    assert imported.display_name == "Math Operations"
    assert json.loads(imported.content.main) == item["payload"]  # every UI field kept
    exported = export_of(imported)
    assert normalise(exported) == normalise(item)
    assert json.dumps(export_of(import_value(exported))) == json.dumps(exported)


def test_workflow_item_without_tab_name_takes_the_wrapper_name() -> None:
    item = workflow_item()
    del item["payload"]["tab_name"]
    imported = import_value(item)
    assert imported.display_name == "Math Operations"
    assert normalise(export_of(imported)) == normalise(item)


def test_fields_the_importer_does_not_know_come_back_on_export() -> None:
    item = json.loads(ITEMS[0].read_bytes())
    item["upstream_flag"] = {"nested": [1, 2, {"x": None}]}
    item["payload"]["runner_hint"] = "elevated"
    item["payload"]["variables"][0]["placeholder"] = "e.g. 30"
    exported = export_of(import_value(copy.deepcopy(item)))
    assert exported["upstream_flag"] == item["upstream_flag"]
    assert exported["payload"]["runner_hint"] == "elevated"
    assert exported["payload"]["variables"][0]["placeholder"] == "e.g. 30"
    assert normalise(exported) == normalise(item)


def test_renames_show_in_wrapper_and_inner_document() -> None:
    item = json.loads(ITEMS[0].read_bytes())
    exported = export_of(
        import_value(item), display_name="Renamed", summary="New text", assembly_type="batch"
    )
    assert exported["display_name"] == "Renamed" and exported["payload"]["name"] == "Renamed"
    assert exported["summary"] == "New text" and exported["payload"]["description"] == "New text"
    assert exported["assembly_subtype"] == "batch" and exported["payload"]["type"] == "batch"


def test_inner_name_that_differs_from_the_wrapper_is_kept() -> None:
    item = json.loads(ITEMS[0].read_bytes())
    item["payload"]["name"] = "inner name"
    item["payload"]["description"] = "inner description"
    imported = import_value(item)
    assert imported.display_name == item["display_name"]
    assert normalise(export_of(imported)) == normalise(item)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"assembly_subtype": "perl"}, "assembly_subtype 'perl' is not a known script language"),
        ({"assembly_subtype": None}, "assembly_subtype null is not a known script language"),
        ({"assembly_type": "macro"}, "assembly_type 'macro' is not a known item type"),
        ({"payload": "text"}, "document.payload must be an object"),
        ({"display_name": ""}, "document.display_name must be a non-empty string"),
    ],
)
def test_bad_items_are_refused_with_the_field_named(change: dict[str, Any], message: str) -> None:
    item = json.loads(ITEMS[0].read_bytes())
    item.update(change)
    if change.get("assembly_subtype", "x") is None:
        del item["payload"]["type"]
    with pytest.raises(InvalidDocument, match=message.replace("(", r"\(")):
        import_value(item)


def test_problems_inside_the_payload_name_the_payload() -> None:
    item = json.loads(ITEMS[0].read_bytes())
    item["payload"]["timeout_seconds"] = "soon"
    with pytest.raises(InvalidDocument, match=r"document\.payload\.timeout_seconds"):
        import_value(item)
    item = json.loads(ITEMS[0].read_bytes())
    item["payload"]["type"] = "batch"
    with pytest.raises(InvalidDocument, match="does not match the item's assembly type 'powershell'"):
        import_value(item)


def test_the_api_record_form_keeps_fields_it_does_not_map() -> None:
    record = {
        "display_name": "Saved record",
        "assembly_kind": "script",
        "assembly_type": "bash",
        "revision": 4,
        "is_dirty": False,
        "owner_team": "ops",
        "payload": {"script": "echo hi\n", "files": [], "checksum_hint": "abc"},
    }
    imported = import_value(record)
    assert imported.metadata["legacy"] == {"owner_team": "ops", "payload_fields": {"checksum_hint": "abc"}}
    exported = export_of(imported)
    assert exported["owner_team"] == "ops"
    assert exported["payload_fields"] == {"checksum_hint": "abc"}
