"""Tactical RMM's script library: every manifest entry imports with its script, byte for byte."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

from assembly_engine.services.assemblies.formats import (
    ImportedAssembly,
    InvalidDocument,
    NotAnAssembly,
    export_value,
    import_value,
)
from assembly_engine.storage.contract.models import canonical_json
from tests.support import CORPUS

TRMM = CORPUS / "tactical-rmm"
ENTRIES: list[dict[str, Any]] = (
    json.loads((TRMM / "community_scripts.json").read_bytes()) if TRMM.is_dir() else []
)
GUID = "0123456789abcdef0123456789abcdef"
TYPES = {"powershell": "powershell", "cmd": "batch", "python": "python", "shell": "bash"}


def script_of(entry: dict[str, Any]) -> bytes:
    return (TRMM / "scripts" / entry["filename"]).read_bytes()


def export_of(imported: ImportedAssembly, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "display_name": imported.display_name,
        "summary": imported.summary,
        "category": imported.category,
        "assembly_kind": imported.assembly_kind,
        "assembly_type": imported.assembly_type,
        "version": imported.version,
        "metadata": json.loads(canonical_json(imported.metadata)),
        "tags": imported.tags,
        "content": imported.content,
        "assembly_guid": GUID,
        "source": "user",
        "revision": 1,
        "updated_at": "2026-01-01T00:00:00.000Z",
    }
    fields.update(overrides)
    return export_value(**fields)


def test_the_manifest_is_there() -> None:
    assert len(ENTRIES) == 130


def test_corpus_has_the_quirks_the_importer_must_keep() -> None:
    scripts = [script_of(entry) for entry in ENTRIES]
    assert sum(1 for s in scripts if b"\r\n" in s) == 9
    assert sum(1 for s in scripts if s.startswith(b"\xef\xbb\xbf")) == 1
    timeouts = {type(entry.get("default_timeout")).__name__ for entry in ENTRIES}
    assert timeouts == {"str", "int", "NoneType"}


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["filename"] for e in ENTRIES])
def test_every_entry_maps_and_exports_back(entry: dict[str, Any]) -> None:
    script = script_of(entry)
    imported = import_value(copy.deepcopy(entry), file_name=entry["filename"], script=script)
    assert imported.display_name == entry["name"]
    assert imported.summary == entry["description"]
    assert imported.category == entry["category"]
    assert imported.assembly_type == TYPES[entry["shell"]]
    assert imported.tags == entry["supported_platforms"]
    assert imported.content.main == script  # byte for byte: BOM and CRLF kept
    if "default_timeout" in entry:
        assert imported.metadata["timeout_seconds"] == int(entry["default_timeout"])
    else:
        assert "timeout_seconds" not in imported.metadata
    assert imported.metadata["legacy"]["tactical_rmm"] == entry  # every field, verbatim

    exported = export_of(imported)
    assert exported["tactical_rmm"] == entry  # field by field, default_timeout's type too
    assert base64.b64decode(exported["script"]) == script
    assert exported["name"] == entry["name"] and exported["type"] == TYPES[entry["shell"]]
    again = import_value(json.loads(json.dumps(exported)))
    assert again.content.main == script and again.tags == entry["supported_platforms"]
    assert json.dumps(export_of(again)) == json.dumps(exported)


def test_edits_show_in_the_exported_entry() -> None:
    entry = next(e for e in ENTRIES if isinstance(e.get("default_timeout"), str))
    imported = import_value(copy.deepcopy(entry), script=script_of(entry))
    metadata = {**imported.metadata, "timeout_seconds": 42}
    exported = export_of(
        imported, display_name="Renamed", assembly_type="bash", tags=["linux"], metadata=metadata
    )
    block = exported["tactical_rmm"]
    assert block["name"] == "Renamed" and block["shell"] == "shell"
    assert block["default_timeout"] == "42" and block["supported_platforms"] == ["linux"]
    assert block["guid"] == entry["guid"] and block["submittedBy"] == entry["submittedBy"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"shell": "perl"}, "document.shell 'perl' is not a Tactical RMM shell"),
        ({"default_timeout": "soon"}, "document.default_timeout must be a whole number"),
        ({"default_timeout": -5}, "document.default_timeout must be a whole number"),
        ({"supported_platforms": "windows"}, "document.supported_platforms must be a list"),
        ({"name": ""}, "document.name must be a non-empty string"),
    ],
)
def test_bad_entries_are_refused_with_the_field_named(change: dict[str, Any], message: str) -> None:
    entry = {**ENTRIES[0], **change}
    with pytest.raises(InvalidDocument, match=message):
        import_value(entry, script=b"echo\n")


def test_an_entry_without_its_script_is_refused() -> None:
    with pytest.raises(InvalidDocument, match="needs its script"):
        import_value(copy.deepcopy(ENTRIES[0]))


def test_the_whole_manifest_is_not_one_assembly() -> None:
    with pytest.raises(NotAnAssembly, match="a Tactical RMM manifest of 130 entries"):
        import_value(copy.deepcopy(ENTRIES))
    schema = json.loads((TRMM / "community_scripts.schema.json").read_bytes())
    with pytest.raises(NotAnAssembly, match="not an assembly document"):
        import_value(schema)
