"""Legacy document import/export: lossless round trip over the corpus, validation, properties."""

from __future__ import annotations

import base64
import copy
import json
import random
import re
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assembly_engine import input_limits as limits
from assembly_engine.domain.types import AssemblyKind, PayloadType
from assembly_engine.input_limits import BIDI_CONTROLS
from assembly_engine.services.assemblies import file_kinds, legacy
from assembly_engine.services.assemblies.legacy import (
    ENGINE_KEY,
    ImportedAssembly,
    InvalidDocument,
    document_from_dict,
    export_document,
    parse_document,
    playbooks,
)
from assembly_engine.storage.contract.models import PayloadContent, PayloadFile, canonical_json
from tests.legacy_comparison import normalise_for_comparison

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
CORPUS_MISSING = f"legacy corpus not found at {CORPUS} (it lives outside the repository)"

GUID = "0123456789abcdef0123456789abcdef"
IDENTITY: dict[str, Any] = {
    "assembly_guid": GUID,
    "source": "user",
    "revision": 3,
    "updated_at": "2024-05-01T12:00:00.000Z",
}


def _corpus_files() -> list[Any]:
    if not CORPUS.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=CORPUS_MISSING), id="corpus")]
    paths = sorted(
        p
        for pattern in (
            "scripts/*.json",
            "workflows/*.json",
            "ansible_playbooks/*.yml",
            "payloads/*/payload.json",
        )
        for p in CORPUS.glob(pattern)
    )
    return [pytest.param(p, id=str(p.relative_to(CORPUS))) for p in paths]


CORPUS_FILES = _corpus_files()
CORPUS_JSON_FILES = [
    param for param in CORPUS_FILES if param.values[0] is None or param.values[0].suffix == ".json"
]


def _corpus(relative: str) -> Path:
    path = CORPUS / relative
    if not path.is_file():
        pytest.skip(CORPUS_MISSING)
    return path


def export_of(imported: ImportedAssembly, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "display_name": imported.display_name,
        "summary": imported.summary,
        "category": imported.category,
        "assembly_kind": imported.assembly_kind,
        "assembly_type": imported.assembly_type,
        "version": imported.version,
        "metadata": imported.metadata,
        "tags": imported.tags,
        "content": imported.content,
        **IDENTITY,
    }
    fields.update(overrides)
    return export_document(**fields)


def stored(metadata: dict[str, Any]) -> dict[str, Any]:
    """Metadata as it comes back from the metadata_json column (sorted keys)."""
    value = json.loads(canonical_json(metadata))
    assert isinstance(value, dict)
    return value


def decoded_script(doc: dict[str, Any]) -> bytes:
    assert doc["script_encoding"] == "base64"
    return base64.b64decode(doc["script"], validate=True)


def original_script_bytes(doc: dict[str, Any]) -> bytes:
    if "script" in doc:
        if doc.get("script_encoding") == "base64":
            return base64.b64decode("".join(doc["script"].split()))
        return str(doc["script"]).encode("utf-8")
    return "\n".join(doc["script_lines"]).encode("utf-8")


def script_doc(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "version": 1,
        "name": "Example",
        "description": "An example.",
        "category": "script",
        "type": "powershell",
        "script": base64.b64encode(b'Write-Host "hi"\n').decode("ascii"),
        "timeout_seconds": 60,
        "sites": {"mode": "all", "values": []},
        "variables": [],
        "files": [],
        "script_encoding": "base64",
    }
    for key, value in changes.items():
        if value is DROP:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


DROP = object()


# ------------------------------------------------------------------ corpus round trip


@pytest.mark.parametrize("path", CORPUS_FILES)
def test_corpus_round_trip_is_lossless(path: Path) -> None:
    raw = path.read_bytes()
    imported = parse_document(raw, file_name=path.name)
    exported = export_of(imported)

    if path.suffix == ".yml":
        assert imported.assembly_kind is AssemblyKind.ANSIBLE
        assert exported["type"] == "ansible"
        assert exported["name"] == path.stem
        assert decoded_script(exported) == raw  # byte for byte
        return
    original = json.loads(raw)
    assert normalise_for_comparison(exported) == normalise_for_comparison(original)
    if "script" in original or "script_lines" in original:
        # Stricter than the normalisation: not even line endings change.
        assert decoded_script(exported) == original_script_bytes(original)
        assert "script_lines" not in exported
    # The engine key is the only addition, and it carries the identity given to export.
    assert exported[ENGINE_KEY] == {**IDENTITY, "display_name": imported.display_name, "tags": []}


@pytest.mark.parametrize("path", CORPUS_FILES)
def test_corpus_reimport_of_export_is_a_fixed_point(path: Path) -> None:
    first = export_of(parse_document(path.read_bytes(), file_name=path.name))
    reimported = parse_document(json.dumps(first).encode("utf-8"), file_name="export.json")
    second = export_of(reimported)
    assert json.dumps(second) == json.dumps(first)  # same keys, values and key order
    assert reimported.source_assembly_guid == GUID
    assert ENGINE_KEY not in json.dumps(reimported.metadata)
    third = export_of(parse_document(json.dumps(second), file_name="again.json"))
    assert third == second


@pytest.mark.parametrize("path", CORPUS_FILES)
def test_corpus_export_survives_sorted_metadata_storage(path: Path) -> None:
    imported = parse_document(path.read_bytes(), file_name=path.name)
    direct = export_of(imported)
    via_storage = export_of(imported, metadata=stored(imported.metadata))
    assert json.dumps(via_storage) == json.dumps(direct)


@pytest.mark.parametrize("path", CORPUS_JSON_FILES)
def test_corpus_original_key_order_is_rebuilt(path: Path) -> None:
    original = json.loads(path.read_bytes())
    exported = export_of(parse_document(path.read_bytes()))
    exported.pop(ENGINE_KEY)
    expected = [key for key in original if key != "script_lines"]
    if "script_encoding" not in original and "script" in original:
        expected.insert(expected.index("script") + 1, "script_encoding")
    assert list(exported) == expected
    for ours, theirs in zip(exported.get("variables", []), original.get("variables", []), strict=True):
        assert list(ours) == list(theirs)


def test_corpus_quirks_are_kept() -> None:
    stray = parse_document(_corpus("scripts/Write_Canary.txt_to_C_.json").read_bytes())
    assert b'"SYSTEM Canary is alive."ddss |' in stray.content.main
    assert stray.metadata["legacy_format"]["had_script_lines"] is True
    assert "script_lines" not in stray.metadata["legacy_format"]  # they agree with script

    hello = parse_document(_corpus("scripts/Hello World.json").read_bytes())
    assert hello.content.main == b"Write-Host $env:Message\n\n\n\n\n"
    assert hello.metadata["sites"] == {"mode": "specific", "values": ["1"]}
    assert hello.metadata["legacy_format"]["script_was_plaintext"] is True

    putty = parse_document(
        _corpus("payloads/8a28afbbf3988832d419776be13400a6ae0a0dab/payload.json").read_bytes()
    )
    assert putty.summary == ""
    assert putty.category == "application"
    assert export_of(putty)["description"] == ""

    no_required = parse_document(
        _corpus("payloads/83fb2768611549ea813f5a046b92e2b2/payload.json").read_bytes()
    )
    assert no_required.metadata["variables"] == [
        {"default": "", "label": "Example", "name": "example", "type": "string"}
    ]
    assert no_required.version == 2
    assert no_required.metadata["timeout_seconds"] == 45


def test_corpus_kinds_types_and_main_files() -> None:
    cases = {
        "scripts/Unlock_AD_Account.json": (AssemblyKind.SCRIPT, "powershell", "script.ps1"),
        "workflows/Math Operations.json": (AssemblyKind.WORKFLOW, "workflow", "workflow.json"),
        "payloads/d7099c3d9d588903b483570926da4739aa99aacf/payload.json": (
            AssemblyKind.ANSIBLE,
            "ansible",
            "playbook.yml",
        ),
        "ansible_playbooks/Write Canary to C Drive Root.yml": (
            AssemblyKind.ANSIBLE,
            "ansible",
            "playbook.yml",
        ),
    }
    for relative, (kind, assembly_type, main_file) in cases.items():
        path = _corpus(relative)
        imported = parse_document(path.read_bytes(), file_name=path.name)
        assert (imported.assembly_kind, imported.assembly_type) == (kind, assembly_type)
        assert imported.content.main_file_name == main_file
    playbook = parse_document(
        _corpus("payloads/d7099c3d9d588903b483570926da4739aa99aacf/payload.json").read_bytes()
    )
    raw_yml = _corpus("ansible_playbooks/Write Canary to C Drive Root.yml").read_bytes()
    assert playbook.content.main == raw_yml  # the plaintext YAML in JSON is the same playbook
    workflow = parse_document(_corpus("workflows/Value Parser.json").read_bytes())
    assert workflow.display_name == "Value Parser"
    assert workflow.content.payload_type is PayloadType.WORKFLOW
    assert json.loads(workflow.content.main) == json.loads(
        _corpus("workflows/Value Parser.json").read_bytes()
    )


# ------------------------------------------------------------------ variables and files


VARIABLES: list[dict[str, Any]] = [
    {
        "name": "message",
        "label": "Message",
        "type": "string",
        "default": "Hello",
        "required": True,
        "description": "Text to print",
    },
    {
        "name": "count",
        "label": "Count",
        "type": "number",
        "default": 3,
        "required": False,
        "description": "How many",
    },
    {"name": "legacy_count", "label": "Count (text)", "type": "number", "default": "30"},
    {
        "name": "force",
        "label": "Force",
        "type": "boolean",
        "default": False,
        "required": False,
        "description": "",
    },
    {
        "name": "admin",
        "label": "Admin account",
        "type": "credential",
        "default": None,
        "required": True,
        "description": "Credential used to run",
    },
    {
        "description": "Pick one",
        "name": "mode",
        "type": "select",
        "label": "Mode",
        "options": ["fast", "safe", {"label": "Custom", "value": "custom"}],
        "default": "safe",
    },
    {"name": "notes", "type": "multiline", "default": "line 1\r\nline 2\n"},
    {"name": "when", "type": "date", "default": "2024-01-31", "placeholder": "YYYY-MM-DD"},
    {"name": "servers", "type": "list", "default": ["a", "b"], "label": None},
    {"name": "Example Variable", "type": "string", "default": "Blah"},
]


def test_variables_of_every_type_round_trip() -> None:
    original = script_doc(variables=copy.deepcopy(VARIABLES))
    imported = parse_document(json.dumps(original))
    assert imported.metadata["variables"] == VARIABLES
    for metadata in (imported.metadata, stored(imported.metadata)):
        exported = export_of(imported, metadata=metadata)
        assert normalise_for_comparison(exported) == normalise_for_comparison(original)
        # Each variable keeps its keys in their original order, even after sorted storage.
        assert [list(v) for v in exported["variables"]] == [list(v) for v in VARIABLES]


def test_binary_attachments_round_trip() -> None:
    rng = random.Random(20240501)
    blobs = {
        "random.bin": rng.randbytes(4096),
        "nul_and_ff.dat": b"\x00\x00\xff\xfe\x80\x00" + bytes(range(256)),
        "empty.txt": b"",
        "utf16.txt": "caf\u00e9".encode("utf-16"),
        "setup (x64).msi": rng.randbytes(1000) + b"\x00",
    }
    entries: list[dict[str, Any]] = [
        {
            "file_name": name,
            "size": len(data),
            "mime_type": "application/octet-stream",
            "data": base64.b64encode(data).decode("ascii"),
        }
        for name, data in blobs.items()
    ]
    entries[1]["mime_type"] = "application/x-custom"
    del entries[2]["size"]  # legacy entries without size/mime_type stay that way
    del entries[3]["mime_type"]
    entries[4] = {
        "data": entries[4]["data"],
        "file_name": entries[4]["file_name"],
        "sha1": "not checked",
        "mime_type": "application/x-msi",
    }
    original = script_doc(files=copy.deepcopy(entries))
    imported = parse_document(json.dumps(original).encode("utf-8"))

    assert [(f.file_name, f.data) for f in imported.content.files] == list(blobs.items())
    assert imported.content.files[1].mime_type == "application/x-custom"
    assert imported.content.files[3].mime_type == "application/octet-stream"
    assert "files" not in imported.metadata
    for metadata in (imported.metadata, stored(imported.metadata)):
        exported = export_of(imported, metadata=metadata)
        assert normalise_for_comparison(exported) == normalise_for_comparison(original)
        assert [list(entry) for entry in exported["files"]] == [list(e) for e in entries]
        decoded = [base64.b64decode(entry["data"]) for entry in exported["files"]]
        assert decoded == list(blobs.values())
    assert export_of(parse_document(json.dumps(export_of(imported)))) == export_of(imported)


def test_attachment_added_in_engine_is_exported_with_full_entry() -> None:
    imported = parse_document(json.dumps(script_doc(files=DROP)))
    assert "files" not in export_of(imported)
    content = PayloadContent(
        imported.content.payload_type,
        imported.content.main_file_name,
        imported.content.main,
        (PayloadFile("tool.exe", b"MZ\x00\x01", "application/vnd.microsoft.portable-executable"),),
    )
    exported = export_of(imported, content=content)
    assert exported["files"] == [
        {
            "file_name": "tool.exe",
            "size": 4,
            "mime_type": "application/vnd.microsoft.portable-executable",
            "data": base64.b64encode(b"MZ\x00\x01").decode("ascii"),
        }
    ]


# ------------------------------------------------------------------ script forms


def test_non_utf8_script_bytes_are_kept_losslessly() -> None:
    body = b"\xff\xfeW\x00r\x00i\x00t\x00e\x00\r\x00\n\x00\x80"
    original = script_doc(script=base64.b64encode(body).decode("ascii"))
    imported = parse_document(json.dumps(original))
    assert imported.content.main == body
    assert imported.metadata["legacy_format"]["script_utf8"] is False
    exported = export_of(imported)
    assert decoded_script(exported) == body
    assert normalise_for_comparison(exported) == normalise_for_comparison(original)


def test_line_endings_and_trailing_newlines_are_kept_byte_for_byte() -> None:
    text = "@echo off\r\necho hi\r\n\r\n"
    imported = parse_document(json.dumps(script_doc(type="batch", script=text, script_encoding=DROP)))
    assert imported.content.main == text.encode("ascii")
    assert imported.content.main_file_name == "script.bat"
    assert decoded_script(export_of(imported)) == text.encode("ascii")


def test_script_wins_over_disagreeing_script_lines() -> None:
    original = script_doc(
        script="echo one\necho two\n",
        script_lines=["echo one", "echo two"],
        script_encoding=DROP,
        type="bash",
    )
    imported = parse_document(json.dumps(original))
    assert imported.content.main == b"echo one\necho two\n"
    notes = imported.metadata["legacy_format"]
    assert notes["script_lines"] == ["echo one", "echo two"]  # kept verbatim, not used
    exported = export_of(imported)
    assert normalise_for_comparison(exported) == normalise_for_comparison(original)
    assert "script_lines" not in exported


def test_script_lines_alone_are_joined_with_newlines() -> None:
    original = script_doc(
        script=DROP, script_encoding=DROP, type="python", script_lines=["print('a')", "print('b')", ""]
    )
    imported = parse_document(json.dumps(original))
    assert imported.content.main == b"print('a')\nprint('b')\n"
    assert imported.content.main_file_name == "script.py"
    exported = export_of(imported)
    # The script takes the place of the script_lines it was folded from.
    assert list(exported)[-3:] == ["script", "script_encoding", ENGINE_KEY]
    assert normalise_for_comparison(exported) == normalise_for_comparison(original)


def test_base64_script_with_line_breaks_is_accepted() -> None:
    body = b"Get-Process\n" * 20
    wrapped = "\n".join(re.findall(".{1,76}", base64.b64encode(body).decode("ascii")))
    original = script_doc(script=wrapped)
    imported = parse_document(json.dumps(original))
    assert imported.content.main == body
    assert normalise_for_comparison(export_of(imported)) == normalise_for_comparison(original)


# ------------------------------------------------------------------ export behaviour


def test_absent_keys_stay_absent_until_the_record_has_a_value() -> None:
    original = script_doc(
        description=DROP,
        category=DROP,
        version=DROP,
        files=DROP,
        variables=DROP,
        sites=DROP,
        timeout_seconds=DROP,
    )
    imported = parse_document(json.dumps(original))
    assert (imported.summary, imported.category, imported.version) == (None, None, None)
    assert set(imported.metadata) == {"legacy_format"}
    exported = export_of(imported)
    assert set(exported) == {"name", "type", "script", "script_encoding", ENGINE_KEY}
    edited = export_of(imported, summary="Now described", version=4)
    assert edited["description"] == "Now described"
    assert edited["version"] == 4


def test_null_fields_stay_null() -> None:
    original = script_doc(description=None, category=None, version=None)
    imported = parse_document(json.dumps(original))
    exported = export_of(imported)
    assert (exported["description"], exported["category"], exported["version"]) == (None,) * 3
    assert normalise_for_comparison(exported) == normalise_for_comparison(original)


def test_unknown_top_level_fields_are_kept_in_place() -> None:
    original = script_doc(author={"name": "ops", "ids": [1, 2]}, legacy_id="abc")
    keys = list(original)
    original = {key: original[key] for key in ["author", *keys[:-1], "legacy_id"]}
    imported = parse_document(json.dumps(original))
    assert imported.metadata["legacy"] == {"author": {"name": "ops", "ids": [1, 2]}, "legacy_id": "abc"}
    exported = export_of(imported)
    exported.pop(ENGINE_KEY)
    assert list(exported) == list(original)
    assert exported == original


def test_export_reflects_edits_to_the_record() -> None:
    imported = parse_document(json.dumps(script_doc()))
    exported = export_of(
        imported,
        display_name="Renamed",
        summary="New text",
        category="application",
        version=7,
        tags=["a", "b"],
    )
    assert (exported["name"], exported["description"]) == ("Renamed", "New text")
    assert (exported["category"], exported["version"]) == ("application", 7)
    assert exported[ENGINE_KEY]["tags"] == ["a", "b"]
    again = parse_document(json.dumps(exported))
    assert again.tags == ["a", "b"]
    assert again.display_name == "Renamed"


def test_workflow_export_keeps_every_field_and_follows_renames() -> None:
    workflow = {
        "tab_name": "Flow",
        "nodes": [{"id": "n1", "position": {"x": 1.5, "y": 2}, "data": {"label": "A"}, "dragHandle": ".h"}],
        "edges": [],
        "viewport": {"zoom": 0.75},
    }
    imported = parse_document(json.dumps(workflow))
    assert imported.summary is None
    assert export_of(imported, display_name="Flow 2")["tab_name"] == "Flow 2"
    exported = export_of(imported)
    exported.pop(ENGINE_KEY)
    assert exported == workflow
    assert "description" not in exported
    assert export_of(imported, summary="Explained")["description"] == "Explained"


def test_workflow_without_a_name_takes_the_file_stem() -> None:
    workflow: dict[str, Any] = {"nodes": [], "edges": []}
    imported = parse_document(json.dumps(workflow), file_name="Nightly Cleanup.json")
    assert imported.display_name == "Nightly Cleanup"
    exported = export_of(imported)
    exported.pop(ENGINE_KEY)
    assert exported == workflow
    assert export_of(imported, display_name="Other")["tab_name"] == "Other"


def test_workflow_exported_without_a_tab_name_imports_back_without_a_file_name() -> None:
    imported = parse_document(json.dumps({"nodes": [], "edges": []}), file_name="Nightly.json")
    exported = export_of(imported)
    assert "tab_name" not in exported  # the record's name travels in the engine block
    again = parse_document(json.dumps(exported))
    assert again.display_name == "Nightly"
    assert json.dumps(export_of(again)) == json.dumps(exported)


def test_document_created_in_the_engine_gets_the_full_legacy_layout() -> None:
    content = PayloadContent(PayloadType.SCRIPT, "script.sh", b"echo hi\n")
    exported = export_document(
        display_name="Made here",
        summary=None,
        category=None,
        assembly_kind="script",
        assembly_type=None,
        version=None,
        metadata={},
        tags=["t"],
        content=content,
        **IDENTITY,
    )
    assert exported == {
        "version": 1,
        "name": "Made here",
        "description": "",
        "category": "script",
        "type": "bash",
        "script": base64.b64encode(b"echo hi\n").decode("ascii"),
        "script_encoding": "base64",
        "timeout_seconds": 3600,
        "sites": {"mode": "all", "values": []},
        "variables": [],
        "files": [],
        ENGINE_KEY: {**IDENTITY, "display_name": "Made here", "tags": ["t"]},
    }


def test_engine_key_is_dropped_on_import() -> None:
    imported = parse_document(json.dumps(script_doc()))
    exported = export_of(imported, tags=["x"])
    reimported = parse_document(json.dumps(exported))
    assert reimported.source_assembly_guid == GUID
    assert reimported.tags == ["x"]
    text = json.dumps(reimported.metadata)
    assert ENGINE_KEY not in text and GUID not in text and IDENTITY["updated_at"] not in text
    assert reimported.metadata == imported.metadata
    assert parse_document(json.dumps(script_doc())).source_assembly_guid is None


# ------------------------------------------------------------------ YAML and wrapped form


PLAYBOOK = (
    "\ufeff---\r\n- name: Restart spooler\r\n  hosts: windows\r\n  tasks:\r\n"
    "    - ansible.windows.win_service:\r\n        name: spooler\r\n        state: restarted\r\n"
)


def test_raw_yaml_is_kept_byte_for_byte() -> None:
    raw = PLAYBOOK.encode("utf-8")
    imported = parse_document(raw, file_name="Scripts/Restart Spooler.yaml")
    assert imported.display_name == "Restart Spooler"
    assert imported.content.main == raw
    exported = export_of(imported)
    assert decoded_script(exported) == raw
    assert exported["type"] == "ansible"
    assert (exported["version"], exported["category"], exported["files"]) == (1, "script", [])
    again = export_of(parse_document(json.dumps(exported)))
    assert again == exported


def test_yaml_playbook_is_detected_without_a_file_name() -> None:
    text = "- name: Ping all\n  hosts: all\n  tasks:\n    - ansible.builtin.ping:\n"
    imported = parse_document(text)
    assert imported.assembly_kind is AssemblyKind.ANSIBLE
    assert imported.display_name == "Ping all"
    assert imported.content.main == text.encode("utf-8")


def _wrapped(imported: ImportedAssembly) -> dict[str, Any]:
    """The API record shape (Docs/assemblies.md §7) of an imported assembly, as saved to a file."""
    payload: dict[str, Any]
    if imported.assembly_kind is AssemblyKind.WORKFLOW:
        payload = {"workflow": json.loads(imported.content.main)}
    else:
        payload = {
            "script": imported.content.text,
            "files": [
                {
                    "file_name": f.file_name,
                    "mime_type": f.mime_type,
                    "size": f.size,
                    "data": base64.b64encode(f.data).decode("ascii"),
                }
                for f in imported.content.files
            ],
        }
    return {
        "assembly_guid": GUID,
        "display_name": imported.display_name,
        "summary": imported.summary,
        "category": imported.category,
        "assembly_kind": imported.assembly_kind.value,
        "assembly_type": imported.assembly_type,
        "version": imported.version,
        "revision": 9,
        "source": "community",
        "is_dirty": False,
        "metadata": stored(imported.metadata),
        "tags": ["wrapped"],
        "payload": payload,
    }


@pytest.mark.parametrize("path", CORPUS_JSON_FILES)
def test_wrapped_form_is_unwrapped(path: Path) -> None:
    imported = parse_document(path.read_bytes())
    unwrapped = document_from_dict(_wrapped(imported))
    assert unwrapped.source_assembly_guid == GUID
    assert unwrapped.tags == ["wrapped"]
    assert unwrapped.content == imported.content
    assert unwrapped.metadata == stored(imported.metadata)
    assert export_of(unwrapped, tags=[]) == export_of(imported)


def test_wrapped_form_with_attachments() -> None:
    data = bytes(range(256)) * 4
    original = script_doc(
        files=[
            {
                "file_name": "blob.bin",
                "size": len(data),
                "mime_type": "application/octet-stream",
                "data": base64.b64encode(data).decode("ascii"),
            }
        ]
    )
    imported = parse_document(json.dumps(original))
    unwrapped = parse_document(json.dumps(_wrapped(imported)))
    assert unwrapped.content.files == (PayloadFile("blob.bin", data),)
    assert unwrapped.tags == ["wrapped"]
    assert export_of(unwrapped, tags=[]) == export_of(imported)


# ------------------------------------------------------------------ validation


def _json(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc).encode("utf-8")


def _file(**changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "file_name": "a.bin",
        "size": 3,
        "mime_type": "text/plain",
        "data": base64.b64encode(b"abc").decode("ascii"),
    }
    for key, value in changes.items():
        if value is DROP:
            entry.pop(key)
        else:
            entry[key] = value
    return entry


WRAPPED = {
    "display_name": "W",
    "assembly_kind": "script",
    "assembly_type": "bash",
    "payload": {"script": "echo"},
}

INVALID: list[Any] = [
    pytest.param(
        b'{"name": "\xff"}', None, "document is not UTF-8 text (byte 0xff at offset 10)", id="not-utf8"
    ),
    pytest.param(
        b"{oops",
        None,
        "document is not valid JSON (Expecting property name enclosed in double quotes at line 1 column 2)",
        id="not-json",
    ),
    pytest.param(b"[1, 2]", None, "document must be a JSON object, got a list", id="array"),
    pytest.param(b'"text"', None, "document must be a JSON object, got the string 'text'", id="string"),
    pytest.param(
        b'{"name": "x", "timeout_seconds": NaN}',
        None,
        "document contains NaN, which is not valid JSON",
        id="nan",
    ),
    pytest.param(
        _json(script_doc(type="cobol")),
        None,
        "document.type 'cobol' is not a known script type (powershell, batch, bash, python)",
        id="unknown-type",
    ),
    pytest.param(_json(script_doc(type=DROP)), None, "document.type is missing", id="missing-type"),
    pytest.param(_json(script_doc(name=DROP)), None, "document.name is missing", id="missing-name"),
    pytest.param(
        _json(script_doc(name="  ")), None, "document.name must be a non-empty string", id="blank-name"
    ),
    pytest.param(
        _json(script_doc(description=5)),
        None,
        "document.description must be a string, got the number 5",
        id="description",
    ),
    pytest.param(
        _json(script_doc(version="1")),
        None,
        "document.version must be a whole number, got the string '1'",
        id="version",
    ),
    pytest.param(
        _json(script_doc(variables={"name": "x"})),
        None,
        "document.variables must be a list of variable objects, got an object",
        id="variables-not-list",
    ),
    pytest.param(
        _json(script_doc(variables=["x"])),
        None,
        "document.variables[0] must be an object",
        id="variable-not-object",
    ),
    pytest.param(
        _json(script_doc(variables=[{"type": "string"}])),
        None,
        "document.variables[0].name is missing",
        id="variable-without-name",
    ),
    pytest.param(
        _json(script_doc(variables=[{"name": "a", "required": "yes"}])),
        None,
        "document.variables[0].required must be true or false",
        id="required",
    ),
    pytest.param(
        _json(script_doc(variables=[{"name": "a", "options": "x,y"}])),
        None,
        "document.variables[0].options must be a list",
        id="options",
    ),
    pytest.param(
        _json(script_doc(variables=[{"name": "a"}, {"name": "a"}])),
        None,
        "document.variables has two variables named 'a'",
        id="duplicate-variable",
    ),
    pytest.param(
        _json(script_doc(timeout_seconds="60")),
        None,
        "document.timeout_seconds must be a whole number of seconds, got the string '60'",
        id="timeout-string",
    ),
    pytest.param(
        _json(script_doc(timeout_seconds=1.5)),
        None,
        "document.timeout_seconds must be a whole number of seconds, got the number 1.5",
        id="timeout-float",
    ),
    pytest.param(
        _json(script_doc(timeout_seconds=True)),
        None,
        "document.timeout_seconds must be a whole number of seconds, got a boolean",
        id="timeout-bool",
    ),
    pytest.param(
        _json(script_doc(timeout_seconds=-1)),
        None,
        "document.timeout_seconds must not be negative",
        id="timeout-negative",
    ),
    pytest.param(_json(script_doc(sites=["all"])), None, "document.sites must be an object", id="sites"),
    pytest.param(
        _json(script_doc(files={})),
        None,
        "document.files must be a list of file objects",
        id="files-not-list",
    ),
    pytest.param(
        _json(script_doc(files=[_file(file_name=DROP)])),
        None,
        "document.files[0].file_name is missing",
        id="file-without-name",
    ),
    pytest.param(
        _json(script_doc(files=[_file(data=DROP)])),
        None,
        "document.files[0].data is missing",
        id="file-without-data",
    ),
    pytest.param(
        _json(script_doc(files=[_file(data="a*c=")])),
        None,
        "document.files[0].data is not valid base64",
        id="file-bad-base64",
    ),
    pytest.param(
        _json(script_doc(files=[_file(data="YW\nJj")])),
        None,
        "document.files[0].data is not valid base64",
        id="file-base64-newline",
    ),
    pytest.param(
        _json(script_doc(files=[_file(size=4)])),
        None,
        "document.files[0].size is 4 but data decodes to 3 bytes",
        id="file-size",
    ),
    pytest.param(
        _json(script_doc(files=[_file(size="3")])),
        None,
        "document.files[0].size must be a whole number of bytes",
        id="file-size-type",
    ),
    pytest.param(
        _json(script_doc(files=[_file(mime_type=None)])),
        None,
        "document.files[0].mime_type must be a non-empty string",
        id="file-mime",
    ),
    pytest.param(
        _json(script_doc(files=[_file(), _file()])),
        None,
        "document.files has two files named 'a.bin'",
        id="duplicate-file",
    ),
    pytest.param(
        _json(script_doc(files=[_file(file_name="../etc/passwd")])),
        None,
        "document.files[0].file_name '../etc/passwd' is not a safe file name: it contains a path separator",
        id="file-name-traversal",
    ),
    pytest.param(
        _json(script_doc(files=[_file(file_name="a\\b.txt")])),
        None,
        "is not a safe file name: it contains a path separator",
        id="backslash",
    ),
    pytest.param(
        _json(script_doc(files=[_file(file_name="a\x00.txt")])),
        None,
        "is not a safe file name: it contains a NUL character",
        id="nul",
    ),
    pytest.param(
        _json(script_doc(files=[_file(file_name="..")])),
        None,
        "is not a safe file name: it contains '..'",
        id="dotdot",
    ),
    pytest.param(
        _json(script_doc(files=[_file(file_name="a..b")])),
        None,
        "is not a safe file name: it contains '..'",
        id="inner-dotdot",
    ),
    pytest.param(
        _json(script_doc(files=[_file(file_name=".bashrc")])),
        None,
        "is not a safe file name: it starts with '.'",
        id="leading-dot",
    ),
    pytest.param(
        _json(script_doc(files=[_file(file_name="tab\there")])),
        None,
        "is not a safe file name: it contains a control character",
        id="control",
    ),
    pytest.param(
        _json(script_doc(files=[_file(file_name="x" * 256)])),
        None,
        "is not a safe file name: it is longer than 255 bytes",
        id="too-long",
    ),
    pytest.param(
        _json(script_doc(script="not base64!")),
        None,
        "document.script is not valid base64",
        id="script-bad-base64",
    ),
    pytest.param(
        _json(script_doc(script_encoding="rot13")),
        None,
        "document.script_encoding 'rot13' is not supported",
        id="script-encoding",
    ),
    pytest.param(_json(script_doc(script=DROP)), None, "document.script is missing", id="script-missing"),
    pytest.param(
        _json(script_doc(script=12)),
        None,
        "document.script must be a string, got the number 12",
        id="script-type",
    ),
    pytest.param(
        _json(script_doc(script_lines="a\nb")),
        None,
        "document.script_lines must be a list of strings",
        id="script-lines",
    ),
    pytest.param(
        b'{"name": "x", "type": "bash", "script": "\\ud800"}',
        None,
        "document.script contains a character that cannot be stored as UTF-8",
        id="lone-surrogate",
    ),
    pytest.param(
        _json({"tab_name": "W", "nodes": {}, "edges": []}),
        None,
        "document.nodes must be a list, got an object",
        id="workflow-nodes",
    ),
    pytest.param(
        _json({"tab_name": "W", "nodes": [], "edges": "none"}),
        None,
        "document.edges must be a list",
        id="workflow-edges",
    ),
    pytest.param(
        _json({"tab_name": "", "nodes": [], "edges": []}),
        None,
        "document.tab_name must be a non-empty string",
        id="workflow-blank-name",
    ),
    pytest.param(
        _json({"nodes": [], "edges": []}), None, "document.tab_name is missing", id="workflow-no-name"
    ),
    pytest.param(
        _json({**script_doc(), ENGINE_KEY: "x"}),
        None,
        "document.assembly_engine must be an object",
        id="engine-key",
    ),
    pytest.param(
        _json({**script_doc(), ENGINE_KEY: {"assembly_guid": "../../x"}}),
        None,
        "document.assembly_engine.assembly_guid '../../x' is not a valid assembly id",
        id="engine-guid",
    ),
    pytest.param(
        _json({**WRAPPED, "payload": "echo"}),
        None,
        "document.payload must be an object",
        id="wrapped-payload",
    ),
    pytest.param(
        _json({**WRAPPED, "assembly_kind": "macro"}),
        None,
        "document.assembly_kind 'macro' is not a known kind (script, workflow, ansible)",
        id="wrapped-kind",
    ),
    pytest.param(
        _json({**WRAPPED, "display_name": None}), None, "document.display_name is missing", id="wrapped-name"
    ),
    pytest.param(
        _json({**WRAPPED, "assembly_kind": "workflow", "assembly_type": "bash"}),
        None,
        "document.assembly_type 'bash' does not fit assembly_kind 'workflow'",
        id="wrapped-type",
    ),
    pytest.param(
        _json({**WRAPPED, "assembly_kind": "workflow"}),
        None,
        "document.assembly_type 'bash' does not fit",
        id="wrapped-workflow-type",
    ),
    pytest.param(
        _json({**WRAPPED, "assembly_type": None, "assembly_kind": "workflow"}),
        None,
        "document.payload.workflow must be an object",
        id="wrapped-workflow",
    ),
    pytest.param(
        _json({**WRAPPED, "assembly_guid": "XYZ"}),
        None,
        "document.assembly_guid 'XYZ' is not a valid assembly id",
        id="wrapped-guid",
    ),
    pytest.param(
        _json({**WRAPPED, "metadata": {"timeout_seconds": "1"}}),
        None,
        "document.metadata.timeout_seconds must be a whole number",
        id="wrapped-metadata",
    ),
    pytest.param(
        _json({**WRAPPED, "payload": {"script": "x", "files": [_file(data=DROP)]}}),
        None,
        "document.payload.files[0].data is missing",
        id="wrapped-file",
    ),
    pytest.param(
        b"- name: x\n  hosts: [all\n",
        "broken.yml",
        "playbook 'broken.yml' is not valid YAML",
        id="yaml-invalid",
    ),
    pytest.param(
        b"# only a comment\n",
        "empty.yml",
        "playbook 'empty.yml' is empty: it needs at least one play",
        id="yaml-empty",
    ),
    pytest.param(
        b"just words\n", "words.yaml", "playbook 'words.yaml' must be a YAML list of plays", id="yaml-scalar"
    ),
    pytest.param(b"greeting: hello\n", None, "document is not valid JSON", id="yaml-not-plays"),
]


@pytest.mark.parametrize(("raw", "file_name", "message"), INVALID)
def test_invalid_documents_are_rejected_with_a_clear_message(
    raw: bytes, file_name: str | None, message: str
) -> None:
    with pytest.raises(InvalidDocument) as caught:
        parse_document(raw, file_name=file_name)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_document_from_dict_rejects_non_objects_and_leaves_input_alone() -> None:
    with pytest.raises(InvalidDocument, match="must be a JSON object, got a list"):
        document_from_dict([])  # type: ignore[arg-type]
    doc = script_doc(variables=copy.deepcopy(VARIABLES), extra={"a": [1]})
    doc[ENGINE_KEY] = {"assembly_guid": GUID, "tags": ["t"]}
    before = copy.deepcopy(doc)
    imported = document_from_dict(doc)
    imported.metadata["variables"][0]["name"] = "changed"
    imported.metadata["legacy"]["extra"]["a"].append(2)
    assert doc == before


# ------------------------------------------------------------------ normalisation


def test_normalisation_rules() -> None:
    plain = {
        "name": "x",
        "type": "batch",
        "script": "a\r\nb\r\n",
        "script_lines": ["a", "b", ""],
        ENGINE_KEY: {"assembly_guid": GUID},
    }
    before = copy.deepcopy(plain)
    assert normalise_for_comparison(plain) == {
        "name": "x",
        "type": "batch",
        "script": base64.b64encode(b"a\nb\n").decode("ascii"),
        "script_encoding": "base64",
    }
    assert plain == before
    lines_only = {"script_lines": ["a", "b"], "type": "bash"}
    assert normalise_for_comparison(lines_only)["script"] == base64.b64encode(b"a\nb").decode()
    workflow = {"tab_name": "W", "nodes": [], "edges": [], ENGINE_KEY: {}}
    assert normalise_for_comparison(workflow) == {"tab_name": "W", "nodes": [], "edges": []}


def test_every_normalisation_is_documented_in_the_module_docstring() -> None:
    doc = legacy.__doc__ or ""
    section = doc.split("Normalisations", 1)[1]
    for phrase in (
        "Key order is ignored",
        "plaintext ``script`` becomes base64",
        "``script_lines`` is folded into ``script``",
        "CRLF line endings",
        "``assembly_engine`` key is removed",
        "upstream item's ``payload``",
    ):
        assert phrase in section
    assert len(re.findall(r"^\d\. ", section, flags=re.MULTILINE)) == 6


# ------------------------------------------------------------------ property test

JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(-(10**9), 10**9)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
# What a one-line name may hold (input_limits): no controls, separators or format
# characters (Cf, the bidi controls among them); names are kept in NFC and never blank.
ONE_LINE = st.characters(
    blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Cf"), blacklist_characters=sorted(BIDI_CONTROLS)
)
NAMES = st.text(ONE_LINE, min_size=1, max_size=20).map(limits.nfc).filter(lambda s: not limits.is_blank(s))
SAFE_FILE_NAMES = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_ ()-]{0,12}(\.[a-z0-9]{1,4})?", fullmatch=True)
UNKNOWN_KEYS = st.sampled_from(["author", "legacy_id", "created", "notes", "x-custom", "icon"])
VARIABLE_TYPES = st.sampled_from(
    ["string", "number", "boolean", "credential", "select", "multiline", "date", "custom"]
)


@st.composite
def variable_lists(draw: st.DrawFn) -> list[dict[str, Any]]:
    names = draw(st.lists(NAMES, max_size=4, unique=True))
    optional: dict[str, st.SearchStrategy[Any]] = {
        "label": st.none() | st.text(ONE_LINE, max_size=10),
        "type": VARIABLE_TYPES,
        # A text default and a description are free text: NUL is refused there (input_limits).
        "default": JSON_VALUES.filter(lambda v: not (isinstance(v, str) and "\x00" in v)),
        "required": st.booleans(),
        "description": st.text(max_size=20).filter(lambda s: "\x00" not in s),
        "options": st.lists(st.text(max_size=5), max_size=3),
        "placeholder": st.text(max_size=5),
    }
    result = []
    for name in names:
        chosen = draw(st.lists(st.sampled_from(sorted(optional)), unique=True))
        items = [("name", name)] + [(key, draw(optional[key])) for key in chosen]
        result.append(dict(draw(st.permutations(items))))
    return result


@st.composite
def file_lists(draw: st.DrawFn) -> list[dict[str, Any]]:
    names = draw(st.lists(SAFE_FILE_NAMES, max_size=3, unique=True))
    entries = []
    for name in names:
        data = draw(st.binary(max_size=64))
        items: list[tuple[str, Any]] = [("file_name", name), ("data", base64.b64encode(data).decode("ascii"))]
        if draw(st.booleans()):
            items.append(("size", len(data)))
        if draw(st.booleans()):
            items.append(
                (
                    "mime_type",
                    draw(st.sampled_from(["application/octet-stream", "text/plain", "application/zip"])),
                )
            )
        if draw(st.booleans()):
            items.append(("checksum", draw(st.text(string.hexdigits, max_size=8))))
        entries.append(dict(draw(st.permutations(items))))
    return entries


@st.composite
def script_documents(draw: st.DrawFn) -> dict[str, Any]:
    items: list[tuple[str, Any]] = [
        ("name", draw(NAMES)),
        ("type", draw(st.sampled_from(["powershell", "batch", "bash", "python", "ansible"]))),
    ]
    form = draw(st.sampled_from(["base64", "plain", "plain+lines", "lines"]))
    if form == "base64":
        body = draw(st.binary(max_size=200))
        items += [("script", base64.b64encode(body).decode("ascii")), ("script_encoding", "base64")]
    elif form == "lines":
        items.append(
            ("script_lines", draw(st.lists(st.text(max_size=20).filter(lambda s: "\n" not in s), max_size=5)))
        )
    else:
        text = draw(st.text(max_size=200))
        items.append(("script", text))
        if form == "plain+lines":
            lines = text.split("\n")
            if draw(st.booleans()) and lines and lines[-1] == "":
                lines = lines[:-1]  # the trailing-newline disagreement seen in the wild
            items.append(("script_lines", lines))
    optional: dict[str, st.SearchStrategy[Any]] = {
        "version": st.none() | st.integers(0, 1000),
        "description": st.none()
        # NUL and lone surrogates are refused
        | st.text(st.characters(codec="utf-8", blacklist_characters="\x00"), max_size=30),
        "category": st.none() | st.sampled_from(["script", "application", "tools"]),
        "timeout_seconds": st.integers(0, 86400),
        "sites": st.fixed_dictionaries(
            {
                "mode": st.sampled_from(["all", "specific"]),
                "values": st.lists(st.text(ONE_LINE, max_size=4), max_size=3),
            }
        ),
        "variables": variable_lists(),
        "files": file_lists(),
    }
    for key in draw(st.lists(st.sampled_from(sorted(optional)), unique=True)):
        items.append((key, draw(optional[key])))
    extras = draw(st.dictionaries(UNKNOWN_KEYS, JSON_VALUES, max_size=2))
    items += list(extras.items())
    return dict(draw(st.permutations(items)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    doc=script_documents(),
    tags=st.lists(st.text(ONE_LINE, max_size=8).filter(lambda s: not limits.is_blank(s)), max_size=3),
)
def test_property_script_documents_round_trip(doc: dict[str, Any], tags: list[str]) -> None:
    before = copy.deepcopy(doc)
    imported = parse_document(json.dumps(doc).encode("utf-8"))
    assert doc == before
    exported = export_of(imported, tags=tags)
    assert normalise_for_comparison(exported) == normalise_for_comparison(doc)
    assert decoded_script(exported) == original_script_bytes(doc)

    via_storage = export_of(imported, metadata=stored(imported.metadata), tags=tags)
    assert via_storage == exported
    assert list(via_storage) == list(exported)

    reimported = parse_document(json.dumps(exported))
    assert reimported.tags == tags
    assert reimported.content == imported.content
    assert export_of(reimported, tags=tags) == exported


# ------------------------------------------------------------------ YAML loader (issue 11)


def test_playbooks_are_parsed_with_the_c_loader_when_pyyaml_has_libyaml(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import yaml

    assert yaml.__with_libyaml__, "this PyYAML was built without libyaml (the C loader)"
    assert playbooks.YAML_LOADER is yaml.CSafeLoader
    used: list[object] = []
    real_load = yaml.load

    def spy(stream: Any, Loader: Any) -> Any:  # noqa: N803 - PyYAML's own spelling
        used.append(Loader)
        return real_load(stream, Loader=Loader)

    monkeypatch.setattr(playbooks.yaml, "load", spy)
    imported = parse_document(b"- hosts: all\n  tasks: []\n", file_name="site.yml")
    assert imported.assembly_kind is AssemblyKind.ANSIBLE
    assert used == [yaml.CSafeLoader]


def test_without_libyaml_the_safe_loader_is_used() -> None:
    import types

    import yaml

    without_c = types.SimpleNamespace(SafeLoader=yaml.SafeLoader)
    assert file_kinds.yaml_loader(without_c) is yaml.SafeLoader
    assert file_kinds.yaml_loader(yaml) is getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    # and the pure-Python loader reads playbooks the same way
    text = "- name: x\n  hosts: all\n  tasks:\n    - debug: {msg: 1}\n"
    assert yaml.load(text, Loader=yaml.SafeLoader) == yaml.load(text, Loader=playbooks.YAML_LOADER)


def test_c_loader_stays_safe() -> None:
    with pytest.raises(InvalidDocument):
        parse_document(b"- !!python/object/apply:os.system ['true']\n", file_name="evil.yml")
