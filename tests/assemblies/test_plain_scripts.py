"""Plain script files: type from extension or shebang, name and category from the path."""

from __future__ import annotations

import base64
import json
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

GUID = "0123456789abcdef0123456789abcdef"
BOM_CRLF = b"\xef\xbb\xbfWrite-Host 'hi'\r\nexit 0\r\n"


def export_of(imported: ImportedAssembly) -> dict[str, Any]:
    return export_value(
        display_name=imported.display_name,
        summary=imported.summary,
        category=imported.category,
        assembly_kind=imported.assembly_kind,
        assembly_type=imported.assembly_type,
        version=imported.version,
        metadata=json.loads(canonical_json(imported.metadata)),
        tags=imported.tags,
        content=imported.content,
        assembly_guid=GUID,
        source="user",
        revision=1,
        updated_at="2026-01-01T00:00:00.000Z",
    )


@pytest.mark.parametrize(
    ("file_name", "raw", "expected"),
    [
        ("Reset.ps1", b"Get-Date\n", "powershell"),
        ("clean.BAT", b"@echo off\r\n", "batch"),
        ("clean.cmd", b"@echo off\r\n", "batch"),
        ("check.sh", b"echo hi\n", "bash"),
        ("tool.py", b"print(1)\n", "python"),
        ("check", b"#!/bin/bash\necho hi\n", "bash"),
        ("check", b"#!/bin/sh\necho hi\n", "bash"),
        ("tool", b"#!/usr/bin/env python3\nprint(1)\n", "python"),
        ("tool.tool", b"#!/usr/bin/python3.11 -u\nprint(1)\n", "python"),
        ("ps", b"#!/usr/bin/env pwsh\nGet-Date\n", "powershell"),
    ],
)
def test_type_comes_from_the_extension_or_the_shebang(file_name: str, raw: bytes, expected: str) -> None:
    imported = import_value(raw, file_name=file_name)
    assert imported.assembly_kind is AssemblyKind.SCRIPT
    assert imported.assembly_type == expected
    assert imported.content.main == raw


def test_name_and_category_come_from_the_path_and_bytes_are_kept() -> None:
    imported = import_value(BOM_CRLF, file_name="Windows/Network/Reset Adapter.ps1")
    assert imported.display_name == "Reset Adapter"
    assert imported.category == "Windows/Network"
    assert imported.content.main == BOM_CRLF  # BOM and CRLF kept
    assert imported.metadata["legacy_format"] == {
        "source_format": "plain-script",
        "file_name": "Reset Adapter.ps1",
        "folder": "Windows/Network",
    }


def test_a_legacy_tree_kind_folder_is_not_a_category() -> None:
    assert import_value(b"x\n", file_name="Scripts/Windows/a.ps1").category == "Windows"
    assert import_value(b"x\n", file_name="Scripts/a.ps1").category is None
    assert import_value(b"x\n", file_name="a.ps1").category is None


def test_text_that_is_not_utf8_is_kept_byte_for_byte() -> None:
    raw = b"@echo off\r\necho \xe9t\xe9\r\n"
    assert import_value(raw, file_name="latin.bat").content.main == raw


def test_export_gives_the_legacy_document_and_reimports_to_a_fixed_point() -> None:
    imported = import_value(BOM_CRLF, file_name="Windows/Reset.ps1")
    exported = export_of(imported)
    assert base64.b64decode(exported["script"]) == BOM_CRLF
    assert {k: v for k, v in exported.items() if k not in ("script", "assembly_engine")} == {
        "version": 1,
        "name": "Reset",
        "description": "",
        "category": "Windows",
        "type": "powershell",
        "script_encoding": "base64",
        "timeout_seconds": 3600,
        "sites": {"mode": "all", "values": []},
        "variables": [],
        "files": [],
    }
    again = import_value(json.loads(json.dumps(exported)))
    assert again.content.main == BOM_CRLF
    assert json.dumps(export_of(again)) == json.dumps(exported)


def test_a_raw_playbook_in_a_folder_gets_its_category() -> None:
    imported = import_value("- hosts: all\n  tasks: []\n", file_name="Linux/site.yml")
    assert imported.assembly_kind is AssemblyKind.ANSIBLE and imported.category == "Linux"


@pytest.mark.parametrize(
    ("file_name", "message"),
    [
        ("../escape/a.ps1", "no '..'"),
        ("Windows/ .ps1", "no name"),
    ],
)
def test_bad_file_names_are_refused(file_name: str, message: str) -> None:
    with pytest.raises(InvalidDocument, match=message):
        import_value(b"x\n", file_name=file_name)


def test_a_file_without_extension_or_shebang_is_no_plain_script() -> None:
    with pytest.raises(InvalidDocument, match="not valid JSON"):
        import_value(b"echo hi\n", file_name="notes")


def test_the_input_limits_hold_for_plain_scripts_items_and_tactical_rmm_entries() -> None:
    with pytest.raises(InvalidDocument, match="limit is 200 characters"):
        import_value(b"x\n", file_name="n" * 201 + ".ps1")
    with pytest.raises(InvalidDocument, match="folder path"):
        import_value(b"x\n", file_name="/".join(["f" * 50] * 5) + "/a.ps1")
    entry = {"name": "ok", "shell": "cmd", "filename": "a.bat", "extra": 2**70}
    with pytest.raises(InvalidDocument, match="signed 64-bit"):
        import_value(entry, script=b"echo\n")
    item = {
        "assembly_type": "script",
        "assembly_subtype": "bash",
        "display_name": "x",
        "payload": {"name": "x", "type": "bash", "script": "echo\n"},
        "extra": -(2**70),
    }
    with pytest.raises(InvalidDocument, match="signed 64-bit"):
        import_value(item)
