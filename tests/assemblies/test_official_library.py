"""The shipped official library: its sources in library/official/ and the staging build.

Every source must validate and be usable as it stands (syntax of each script language,
playbook and workflow shape, variables actually read by the script), and the build must be
reproducible and all-or-nothing. Builds run on temporary roots only: the repository's
staging root is never written by tests.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from assembly_engine.domain.types import (
    KIND_TYPES,
    AssemblyKind,
    AssemblyType,
    Domain,
    Integrity,
    is_valid_assembly_guid,
    is_valid_payload_guid,
)

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
SOURCE_ROOT = REPOSITORY_ROOT / "library" / "official"
BUILD_SCRIPT = REPOSITORY_ROOT / "tools" / "build_official_library.py"

MINIMUM_PER_TYPE: dict[AssemblyType, int] = {
    AssemblyType.POWERSHELL: 4,
    AssemblyType.BASH: 3,
    AssemblyType.BATCH: 2,
    AssemblyType.PYTHON: 2,
    AssemblyType.ANSIBLE: 2,
    AssemblyType.WORKFLOW: 1,
}


def _load_build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_official_library", BUILD_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module


build_lib = _load_build_module()


@pytest.fixture(scope="module")
def sources() -> list[Any]:
    return list(build_lib.load_sources(SOURCE_ROOT))


def _of_type(sources: list[Any], atype: AssemblyType) -> list[Any]:
    return [s for s in sources if s.assembly_type is atype]


def _ids(sources: list[Any]) -> list[str]:
    return [s.slug for s in sources]


# ---------------------------------------------------------------------------- sources


def test_every_source_validates_and_the_library_is_big_enough(sources: list[Any]) -> None:
    assert len(sources) >= 14
    folders = sorted(p.name for p in SOURCE_ROOT.iterdir() if p.is_dir() and p.name[0] != ".")
    assert sorted(s.slug for s in sources) == folders
    assert (SOURCE_ROOT / "README.md").is_file()


def test_counts_per_type_meet_the_minimums(sources: list[Any]) -> None:
    counts = Counter(s.assembly_type for s in sources)
    for atype, minimum in MINIMUM_PER_TYPE.items():
        assert counts[atype] >= minimum, f"{atype.value}: {counts[atype]} < {minimum}"


def test_kind_and_type_agree(sources: list[Any]) -> None:
    for source in sources:
        assert source.assembly_type in KIND_TYPES[source.kind], source.slug


def test_guids_are_valid_and_unique(sources: list[Any]) -> None:
    assembly_guids = [s.assembly_guid for s in sources]
    payload_guids = [s.payload_guid for s in sources]
    assert all(re.fullmatch(r"[0-9a-f]{32}", g) for g in assembly_guids)
    assert all(is_valid_assembly_guid(g) for g in assembly_guids)
    assert all(is_valid_payload_guid(g) for g in payload_guids)
    assert len(set(assembly_guids)) == len(assembly_guids)
    assert len(set(payload_guids)) == len(payload_guids)
    assert not set(assembly_guids) & set(payload_guids)
    assert len({s.name.casefold() for s in sources}) == len(sources)


def test_metadata_files_have_the_documented_shape(sources: list[Any]) -> None:
    for source in sources:
        doc = json.loads(source.metadata_path.read_text(encoding="utf-8"))
        assert set(doc) == set(build_lib.REQUIRED_KEYS), source.slug
        assert doc["sites"] == {"mode": "all", "values": []}, source.slug
        assert doc["version"] == 1, source.slug
        assert doc["created_at"].endswith("Z"), source.slug
        assert doc["tags"], f"{source.slug}: give it at least one tag"


# Patterns by which each language reads an assembly variable from the environment.
VARIABLE_READERS: dict[AssemblyType, Callable[[str], str]] = {
    AssemblyType.POWERSHELL: lambda name: rf"(?i)\$env:{name}\b",
    AssemblyType.BASH: lambda name: rf"\$\{{?{name}\b",
    AssemblyType.BATCH: lambda name: rf"(?i)%{name}%",
    AssemblyType.PYTHON: lambda name: rf"environ(?:\.get\(|\[)\s*[\"']{name}[\"']",
    AssemblyType.ANSIBLE: lambda name: rf"lookup\('(?:ansible\.builtin\.)?env',\s*'{name}'\)",
}


def test_every_declared_variable_is_read_by_the_payload(sources: list[Any]) -> None:
    for source in sources:
        if source.kind is AssemblyKind.WORKFLOW:
            assert source.variables == [], f"{source.slug}: workflows take no variables"
            continue
        text = source.content.decode("utf-8")
        reader = VARIABLE_READERS[source.assembly_type]
        for variable in source.variables:
            assert re.search(reader(variable["name"]), text), (
                f"{source.payload_path}: variable {variable['name']} is never read"
            )


HEADER_COMMENT: dict[AssemblyType, str] = {
    AssemblyType.POWERSHELL: r"\A# \S",
    AssemblyType.BASH: r"\A#!/usr/bin/env bash\n# \S",
    AssemblyType.BATCH: r"\A@echo off\r\nrem \S",
    AssemblyType.PYTHON: r'\A"""\S',
    AssemblyType.ANSIBLE: r"\A---\n# \S",
}


def test_every_script_starts_with_a_header_comment(sources: list[Any]) -> None:
    for source in sources:
        if source.kind is AssemblyKind.WORKFLOW:
            continue
        text = source.content.decode("utf-8")
        assert re.match(HEADER_COMMENT[source.assembly_type], text), source.payload_path
        # The header names the variables the script reads, so operators see them first.
        head = "\n".join(text.splitlines()[:12])
        for variable in source.variables:
            assert variable["name"] in head, f"{source.payload_path}: header omits {variable}"


def test_destructive_switches_are_safe_by_default(sources: list[Any]) -> None:
    safe_defaults = {
        "DryRun": "true",
        "AllowReboot": "false",
        "ReleaseFirst": "false",
        "RestartIfInactive": "false",
        "IncludeDependents": "false",
    }
    for source in sources:
        for variable in source.variables:
            if variable["name"] in safe_defaults:
                assert variable["default"] == safe_defaults[variable["name"]], source.slug
    cleanup = [s for s in sources if "cleanup" in s.tags and s.kind is AssemblyKind.SCRIPT]
    assert cleanup and all(any(v["name"] == "DryRun" for v in s.variables) for s in cleanup)


def test_batch_files_use_crlf_line_endings(sources: list[Any]) -> None:
    for source in _of_type(sources, AssemblyType.BATCH):
        assert source.content.count(b"\n") == source.content.count(b"\r\n"), source.slug


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_scripts_pass_bash_n(sources: list[Any]) -> None:
    scripts = _of_type(sources, AssemblyType.BASH)
    assert scripts
    for source in scripts:
        result = subprocess.run(
            ["bash", "-n", str(source.payload_path)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, f"{source.payload_path}: {result.stderr}"


def test_python_scripts_compile(sources: list[Any]) -> None:
    scripts = _of_type(sources, AssemblyType.PYTHON)
    assert scripts
    for source in scripts:
        compile(source.content.decode("utf-8"), str(source.payload_path), "exec")


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_scripts_reject_bad_input_with_exit_code_2(sources: list[Any]) -> None:
    # Every bash script validates its numeric inputs before touching the system.
    bad_inputs = {
        "linux-disk-usage-alert": {"ThresholdPercent": "lots"},
        "linux-top-memory-processes": {"ProcessCount": "-1"},
        "linux-systemd-unit-check": {"UnitName": ""},
        "linux-compress-old-logs": {"LogDirectory": "/"},
        "tls-certificate-expiry-check": {"Endpoints": ""},
    }
    by_slug = {s.slug: s for s in _of_type(sources, AssemblyType.BASH)}
    for slug, env in bad_inputs.items():
        result = subprocess.run(
            ["bash", str(by_slug[slug].payload_path)],
            env={"PATH": "/usr/bin:/bin", **env},
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert result.returncode == 2, f"{slug}: {result.stdout}{result.stderr}"
        assert "ERROR" in result.stderr, slug


def test_python_scripts_reject_missing_input_with_exit_code_2(sources: list[Any]) -> None:
    for source in _of_type(sources, AssemblyType.PYTHON):
        result = subprocess.run(
            [sys.executable, str(source.payload_path)],
            env={},
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert result.returncode == 2, f"{source.slug}: {result.stdout}{result.stderr}"


def test_playbooks_are_lists_of_plays_with_hosts_and_tasks(sources: list[Any]) -> None:
    playbooks = _of_type(sources, AssemblyType.ANSIBLE)
    assert playbooks
    for source in playbooks:
        plays = yaml.safe_load(source.content)
        assert isinstance(plays, list) and plays, source.slug
        for play in plays:
            assert isinstance(play, dict), source.slug
            assert isinstance(play.get("hosts"), str) and play["hosts"], source.slug
            assert isinstance(play.get("tasks"), list) and play["tasks"], source.slug
            for task in play["tasks"]:
                assert isinstance(task, dict) and task.get("name"), source.slug


def test_workflow_edges_reference_existing_nodes(sources: list[Any]) -> None:
    workflows = _of_type(sources, AssemblyType.WORKFLOW)
    assert workflows
    library = {s.assembly_guid for s in sources}
    for source in workflows:
        canvas = json.loads(source.content)
        assert isinstance(canvas["tab_name"], str) and canvas["tab_name"]
        node_ids = [node["id"] for node in canvas["nodes"]]
        assert len(set(node_ids)) == len(node_ids)
        for node in canvas["nodes"]:
            assert {"x", "y"} <= set(node["position"]) and node["data"]["label"]
            if "assembly_guid" in node["data"]:
                assert node["data"]["assembly_guid"] in library
        edge_ids = [edge["id"] for edge in canvas["edges"]]
        assert edge_ids and len(set(edge_ids)) == len(edge_ids)
        for edge in canvas["edges"]:
            assert edge["source"] in node_ids and edge["target"] in node_ids


# ------------------------------------------------------------------------ validation


def _copy_library(tmp_path: Path) -> Path:
    root = tmp_path / "official"
    shutil.copytree(SOURCE_ROOT, root, ignore=shutil.ignore_patterns(".*", "__pycache__"))
    return root


def _edit_json(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")


BROKEN_SOURCES: list[tuple[str, str, Callable[[Path], object], str]] = [
    (
        "missing-field",
        "windows-disk-space-report/assembly.json",
        lambda p: _edit_json(p, lambda d: d.pop("timeout_seconds")),
        "timeout_seconds",
    ),
    (
        "kind-type-mismatch",
        "linux-disk-usage-alert/assembly.json",
        lambda p: _edit_json(p, lambda d: d.update(kind="ansible")),
        "does not belong to kind",
    ),
    (
        "bad-guid",
        "http-health-probe/assembly.json",
        lambda p: _edit_json(p, lambda d: d.update(assembly_guid="NOT-A-GUID")),
        "assembly_guid",
    ),
    (
        "variable-shape",
        "tcp-port-reachability/assembly.json",
        lambda p: _edit_json(p, lambda d: d["variables"][0].pop("label")),
        "variables[0]",
    ),
    (
        "variable-name",
        "tcp-port-reachability/assembly.json",
        lambda p: _edit_json(p, lambda d: d["variables"][0].update(name="bad name")),
        "environment variable name",
    ),
    (
        "workflow-json",
        "workflow-disk-cleanup-report/workflow.json",
        lambda p: p.write_text('{"tab_name": "x", "nodes": [', encoding="utf-8"),
        "not valid JSON",
    ),
    (
        "workflow-edge",
        "workflow-disk-cleanup-report/workflow.json",
        lambda p: _edit_json(p, lambda d: d["edges"][0].update(target="node-nowhere")),
        "does not name a node",
    ),
    (
        "playbook-yaml",
        "ansible-patch-debian-ubuntu/playbook.yml",
        lambda p: p.write_text("- name: x\n  hosts: [unclosed\n", encoding="utf-8"),
        "not valid YAML",
    ),
    (
        "playbook-no-tasks",
        "ansible-patch-debian-ubuntu/playbook.yml",
        lambda p: p.write_text("- name: x\n  hosts: all\n", encoding="utf-8"),
        "tasks",
    ),
    (
        "python-syntax",
        "directory-size-report/script.py",
        lambda p: p.write_text("def broken(:\n", encoding="utf-8"),
        "syntax error",
    ),
    (
        "wrong-payload-name",
        "windows-restart-service/script.ps1",
        lambda p: p.rename(p.with_name("restart.ps1")),
        "unexpected file",
    ),
]


@pytest.mark.parametrize(
    ("relative", "breaker", "message"),
    [case[1:] for case in BROKEN_SOURCES],
    ids=[case[0] for case in BROKEN_SOURCES],
)
def test_invalid_sources_fail_with_a_message_naming_the_file(
    tmp_path: Path, relative: str, breaker: Callable[[Path], object], message: str
) -> None:
    root = _copy_library(tmp_path)
    target = root / relative
    breaker(target)
    with pytest.raises(build_lib.SourceError) as excinfo:
        build_lib.load_sources(root)
    text = str(excinfo.value)
    assert str(target.parent) in text, text
    assert message in text, text


def test_duplicate_assembly_guid_is_rejected(tmp_path: Path) -> None:
    root = _copy_library(tmp_path)
    guid = json.loads((root / "http-health-probe/assembly.json").read_text())["assembly_guid"]
    _edit_json(root / "directory-size-report/assembly.json", lambda d: d.update(assembly_guid=guid))
    with pytest.raises(build_lib.SourceError, match="also used by"):
        build_lib.load_sources(root)


def test_check_command_reports_errors_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert build_lib.main(["--check", "--source", str(SOURCE_ROOT)]) == 0
    root = _copy_library(tmp_path)
    _edit_json(root / "windows-disk-space-report/assembly.json", lambda d: d.update(timeout_seconds=0))
    assert build_lib.main(["--check", "--source", str(root)]) == 1
    assert "windows-disk-space-report/assembly.json" in capsys.readouterr().err


# ----------------------------------------------------------------------------- build


def _rows(db: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT * FROM assemblies ORDER BY assembly_guid").fetchall()
    finally:
        conn.close()


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_building_twice_gives_identical_rows_and_payloads(tmp_path: Path, sources: list[Any]) -> None:
    first = build_lib.build(sources, tmp_path / "one")
    second = build_lib.build(build_lib.load_sources(SOURCE_ROOT), tmp_path / "two")
    rows_one, rows_two = _rows(first.out / "official.db"), _rows(second.out / "official.db")
    assert len(rows_one) == len(sources)
    assert rows_one == rows_two
    checksums = [r.payload.checksum for r in first.records]
    assert checksums == [r.payload.checksum for r in second.records]
    assert _tree(first.out / "Payloads") == _tree(second.out / "Payloads")
    # The shipped file is self-contained: no WAL companions next to it.
    assert sorted(p.name for p in first.out.iterdir()) == ["Payloads", "official.db"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temp folders left"


def test_built_rows_follow_the_sources(tmp_path: Path, sources: list[Any]) -> None:
    from assembly_engine.storage.sqlite.databases import ConnectionOptions, DomainDatabase
    from assembly_engine.storage.sqlite.payload_folders import PayloadStore

    out = build_lib.build(sources, tmp_path / "stage").out
    database = DomainDatabase(Domain.OFFICIAL, out / "official.db", ConnectionOptions(shared_cache=False))
    try:
        assert database.validate() == []
        records = {r.assembly_guid: r for r in database.load()}
    finally:
        database.close()
    store = PayloadStore(out / "Payloads")
    assert store.list_guids() == {s.payload_guid for s in sources}
    for source in sources:
        record = records[source.assembly_guid]
        assert record.display_name == source.name
        assert record.summary == source.description
        assert record.category == source.category
        assert record.assembly_kind is source.kind
        assert record.assembly_type == source.assembly_type.value
        assert record.version == 1 and record.revision == 1
        assert record.created_at == record.updated_at == source.created_at
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record.created_at)
        assert record.created_by == record.updated_by == "assembly-engine"
        assert record.tags == source.tags
        metadata = record.metadata
        assert metadata["timeout_seconds"] == source.timeout_seconds
        assert metadata["sites"] == source.sites
        assert metadata["variables"] == source.variables
        assert record.payload.payload_guid == source.payload_guid
        assert store.check(source.payload_guid, record.payload.checksum) is Integrity.OK
        content = store.read(source.payload_guid, record.payload.checksum)
        assert content.main == source.content
        assert content.main_file_name == source.payload_path.name


def test_payload_guid_changes_when_the_source_changes(tmp_path: Path) -> None:
    root = _copy_library(tmp_path)
    before = {s.slug: s.payload_guid for s in build_lib.load_sources(root)}
    script = root / "linux-top-memory-processes" / "script.sh"
    script.write_bytes(script.read_bytes() + b"# changed\n")
    after = {s.slug: s.payload_guid for s in build_lib.load_sources(root)}
    changed = {slug for slug in before if before[slug] != after[slug]}
    assert changed == {"linux-top-memory-processes"}


def test_rebuild_replaces_official_files_and_keeps_the_rest(tmp_path: Path, sources: list[Any]) -> None:
    out = tmp_path / "stage"
    build_lib.build(sources, out)
    stray = out / "Payloads" / ("0" * 32)
    stray.mkdir()
    (out / "official.db-wal").write_bytes(b"stale")
    (out / "community.db").write_bytes(b"not ours")
    build_lib.build(sources, out)
    assert not stray.exists()
    assert not (out / "official.db-wal").exists()
    assert (out / "community.db").read_bytes() == b"not ours"
    assert len(_rows(out / "official.db")) == len(sources)


def test_failed_build_keeps_the_previous_staging_copy(
    tmp_path: Path, sources: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "stage"
    build_lib.build(sources[:3], out)
    before_rows = _rows(out / "official.db")
    before_tree = _tree(out / "Payloads")

    def explode(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(build_lib, "_swap_into", explode)
    with pytest.raises(OSError, match="disk full"):
        build_lib.build(sources, out)
    assert _rows(out / "official.db") == before_rows
    assert _tree(out / "Payloads") == before_tree
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stage"], "temp folders left"


def test_failed_swap_puts_the_old_files_back(
    tmp_path: Path, sources: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "stage"
    build_lib.build(sources[:3], out)
    before_rows = _rows(out / "official.db")
    real_replace = build_lib.os.replace

    def replace(src: Any, dst: Any) -> None:
        # Fail while moving the new Payloads/ in: the old one is already moved aside.
        if Path(src).name == "Payloads" and ".build-" in Path(src).parent.name:
            raise OSError("simulated rename failure")
        real_replace(src, dst)

    monkeypatch.setattr(build_lib.os, "replace", replace)
    with pytest.raises(OSError, match="simulated"):
        build_lib.build(sources, out)
    monkeypatch.undo()
    assert _rows(out / "official.db") == before_rows
    assert len(list((out / "Payloads").iterdir())) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stage"], "temp folders left"


def test_command_line_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    assert build_lib.main(["--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"into {out}" in printed and "script/powershell" in printed
    assert (out / "official.db").is_file() and (out / "Payloads").is_dir()
