"""Every document of ../shared/corpus, in every format: import, export, re-import, and not a
field lost (after the documented normalisations)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from assembly_engine.services.assemblies.formats import (
    ImportedAssembly,
    export_value,
    import_value,
)
from assembly_engine.storage.contract.models import canonical_json
from tests.legacy_comparison import normalise_for_comparison as normalise
from tests.support import CORPUS

GUID = "0123456789abcdef0123456789abcdef"


def _cases() -> list[Any]:
    """(label, what import_value gets, the original to compare with, script bytes or None)."""
    if not CORPUS.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no corpus at {CORPUS}"))]
    cases = []
    for path in sorted(CORPUS.rglob("*")):
        relative = path.relative_to(CORPUS)
        if not path.is_file() or relative.parts[0] == "tactical-rmm":
            continue
        if path.suffix == ".json":
            cases.append(pytest.param(("json", path.name, path.read_bytes(), None), id=str(relative)))
        elif path.suffix == ".yml":
            cases.append(pytest.param(("yaml", path.name, path.read_bytes(), None), id=str(relative)))
    trmm = CORPUS / "tactical-rmm"
    for entry in json.loads((trmm / "community_scripts.json").read_bytes()):
        script = (trmm / "scripts" / entry["filename"]).read_bytes()
        cases.append(
            pytest.param(
                ("trmm", entry["filename"], json.dumps(entry).encode(), script),
                id=f"tactical-rmm/{entry['filename']}",
            )
        )
    return cases


CASES = _cases()


def test_every_corpus_folder_is_covered() -> None:
    labels = {param.id.split("/")[0] for param in CASES}
    assert labels >= {"scripts", "workflows", "ansible_playbooks", "payloads", "items", "tactical-rmm"}
    assert sum(1 for param in CASES if param.id.startswith("tactical-rmm/")) == 130


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


def imported_from(case: tuple[str, str, bytes, bytes | None]) -> ImportedAssembly:
    form, file_name, raw, script = case
    if form == "trmm":
        return import_value(json.loads(raw), file_name=file_name, script=script)
    return import_value(raw, file_name=file_name)


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of a JSON value with its path (an empty object or list is a leaf too)."""
    if isinstance(value, dict) and value:
        for key, child in value.items():
            yield from leaves(child, f"{path}.{key}")
    elif isinstance(value, list) and value:
        for index, child in enumerate(value):
            yield from leaves(child, f"{path}[{index}]")
    else:
        yield path, value


def comparable(
    case: tuple[str, str, bytes, bytes | None], exported: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(original, export) as the documented normalisations compare them."""
    form, _, raw, script = case
    if form == "trmm":  # the entry is kept whole; its script is the document's script
        assert script is not None
        original = {"tactical_rmm": json.loads(raw), "script": base64.b64encode(script).decode()}
        return original, {"tactical_rmm": exported["tactical_rmm"], "script": exported["script"]}
    if form == "yaml":
        return {"script": base64.b64encode(raw).decode()}, {"script": exported["script"]}
    return normalise(json.loads(raw)), normalise(exported)


@pytest.mark.parametrize("case", CASES)
def test_import_export_reimport_is_lossless(case: tuple[str, str, bytes, bytes | None]) -> None:
    exported = export_of(imported_from(case))
    original, ours = comparable(case, exported)
    assert ours == original
    again = import_value(json.loads(json.dumps(exported)))
    assert json.dumps(export_of(again)) == json.dumps(exported)


@pytest.mark.parametrize("case", CASES)
def test_no_field_of_the_document_is_lost(case: tuple[str, str, bytes, bytes | None]) -> None:
    exported = export_of(imported_from(case))
    original, ours = comparable(case, exported)
    found = dict(leaves(ours))
    for path, value in leaves(original):
        assert path in found, f"{path} was lost"
        assert found[path] == value, f"{path} changed: {value!r} -> {found[path]!r}"
