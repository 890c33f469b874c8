"""The ``assemblies`` command line (Docs/assemblies.md §11), run as a real subprocess.

Every command is exercised with no engine running (the CLI starts one in-process) and a
representative subset — status, import, flush, verify, backup, users add — while a real
``assemblies serve`` (EngineProcess) runs on the same home, so the CLI goes over HTTP with
the token of ``<home>/cli.json``. Homes and staging copies live in tmp_path only: the
staging library is a copy of the repository's Data/Engine/Assemblies.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import httpx
import pytest

from assembly_engine.cli.main import main as cli_main
from assembly_engine.storage.sqlite.payload_folders import PayloadStore
from tests.cli.support import Cli
from tests.engine_process import EngineProcess, free_port
from tests.support import CORPUS, script_content, wait_until

DOMAINS = ("official", "community", "user")
DATABASES = {"official": "official.db", "community": "community.db", "user": "user_created.db"}
OLD = time.time() - 7 * 24 * 3600  # an mtime far beyond verify's grace period


# --------------------------------------------------------------------------- helpers


def staged_rows(staging: Path) -> list[tuple[str, str]]:
    """(assembly_guid, payload_guid) of every official row in a staging copy."""
    return db_rows(staging / "official.db")


def db_rows(path: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [(a, p) for a, p in conn.execute("SELECT assembly_guid, payload_guid FROM assemblies")]
    finally:
        conn.close()


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.is_file())


def payload_dirs(home: Path) -> set[str]:
    root = home / "Assemblies" / "Payloads"
    return {p.name for p in root.iterdir() if p.is_dir()}


def referenced_payloads(home: Path) -> set[str]:
    return {p for name in DATABASES.values() for _, p in db_rows(home / "Assemblies" / name)}


def comparable(document: dict[str, Any]) -> str:
    rest = {k: v for k, v in document.items() if k != "assembly_engine"}
    return json.dumps(rest, sort_keys=True)


def exported_documents(folder: Path) -> list[str]:
    return sorted(comparable(json.loads(p.read_text(encoding="utf-8"))) for p in folder.rglob("*.json"))


# ------------------------------------------------------------------ help and --json


def _command_paths() -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = [()]

    def walk(group: click.Group, prefix: tuple[str, ...]) -> None:
        ctx = click.Context(group)
        for name in group.list_commands(ctx):  # lazy subcommands load here
            command = group.get_command(ctx, name)
            assert command is not None, name
            paths.append((*prefix, name))
            if isinstance(command, click.Group):
                walk(command, (*prefix, name))

    walk(cli_main, ())
    return paths


EXPECTED_COMMANDS = {
    ("serve",),
    ("sync-official",),
    ("status",),
    ("flush",),
    ("verify",),
    ("import",),
    ("export",),
    ("users",),
    ("users", "add"),
    ("users", "list"),
    ("users", "set-role"),
    ("users", "disable"),
    ("users", "passwd"),
    ("backup",),
    ("audit",),
    ("audit", "verify"),
}


def test_every_command_of_the_spec_exists() -> None:
    assert EXPECTED_COMMANDS <= set(_command_paths())


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "main")
def test_help(cli: Cli, path: tuple[str, ...]) -> None:
    result = cli.run(*path, "--help")
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("Usage:"), result.stdout
    assert " ".join(path) in first
    assert "--help" in result.stdout
    assert not cli.home.exists(), "--help must not start an engine"


def test_every_reporting_command_has_json() -> None:
    def options(command: click.Command) -> set[str]:
        return {opt for p in command.params for opt in getattr(p, "opts", [])}

    for path in _command_paths():
        command: click.Command = cli_main
        for name in path:
            assert isinstance(command, click.Group)
            found = command.get_command(click.Context(command), name)  # lazy ones load here
            assert found is not None, path
            command = found
        if isinstance(command, click.Group) or path == ("serve",):
            continue
        assert "--json" in options(command), path


# ------------------------------------------------------------- in-process: status etc.


def test_status_in_process(cli: Cli) -> None:
    data = cli.json("status")
    assert data["engine"] == "in-process engine"
    assert data["assemblies"] == {"official": len(staged_rows(cli.staging)), "community": 0, "user": 0}
    assert data["queue"]["depth"] == 0
    assert set(data["queue"]["domains"]) == set(DOMAINS)
    human = cli.ok("status")
    assert "queue depth: 0" in human
    for domain in DOMAINS:
        assert domain in human


def test_status_counts_the_official_signatures(cli: Cli, tmp_path: Path) -> None:
    # The staging copy is the shipped library, signed by the repository's key (trusted by
    # default): every official assembly is verified.
    count = len(staged_rows(cli.staging))
    signatures = cli.json("status")["official_signatures"]
    assert (signatures["policy"], signatures["state"]) == ("warn", "ok")
    assert signatures["counts"] == {"verified": count, "modified": 0, "unsigned": 0}
    assert f"official signatures (warn): ok; {count} verified, 0 modified, 0 unsigned" in cli.ok("status")

    # A copy with one flipped payload byte, on a home of its own: under warn it is synced,
    # and status counts the one assembly that no longer matches as modified.
    tampered = Cli(home=tmp_path / "tampered-home", staging=tmp_path / "tampered-staging")
    shutil.copytree(cli.staging, tampered.staging)
    folder = sorted(p for p in (tampered.staging / "Payloads").iterdir() if p.is_dir())[0]
    target = sorted(p for p in folder.iterdir() if p.name != "manifest.json")[0]
    data = bytearray(target.read_bytes())
    data[0] ^= 0x01
    target.write_bytes(bytes(data))
    marked = tampered.json("status")["official_signatures"]
    assert marked["state"] == "warning"
    assert marked["counts"] == {"verified": count - 1, "modified": 1, "unsigned": 0}
    assert any("payload corrupt" in problem for problem in marked["problems"]), marked
    human = tampered.ok("status")
    assert f"official signatures (warn): warning; {count - 1} verified, 1 modified, 0 unsigned" in human
    assert "payload corrupt" in human


def test_sync_official_prints_counts_and_matches(cli: Cli) -> None:
    count = len(staged_rows(cli.staging))
    report = cli.json("sync-official")
    assert report["staging_count"] == report["runtime_count"] == count
    assert report["problems"] == [] and report["matches"] is True
    human = cli.ok("sync-official")
    assert f"staging:  {cli.staging}  {count} assemblies" in human
    assert f"runtime:  {cli.home / 'Assemblies'}  {count} assemblies" in human
    assert "counts match" in human


def test_sync_official_reports_a_staging_row_whose_payload_is_missing(cli: Cli) -> None:
    rows = staged_rows(cli.staging)
    assembly_guid, payload_guid = rows[0]
    shutil.rmtree(cli.staging / "Payloads" / payload_guid)

    report = cli.json("sync-official", code=1)
    assert report["matches"] is False
    assert report["staging_count"] == len(rows)
    assert len(report["problems"]) == 1
    assert payload_guid in report["problems"][0] and assembly_guid in report["problems"][0]

    human = cli.run("sync-official")
    assert human.returncode == 1
    assert "MISMATCH" in human.stdout
    assert f"{len(rows)} assemblies" in human.stdout
    assert payload_guid in human.stderr

    # the runtime row points at a payload that was never copied: verify sees it missing
    verify = cli.json("verify", code=1)
    assert [m["assembly_guid"] for m in verify["missing"]] == [assembly_guid]
    assert verify["missing"][0]["payload_guid"] == payload_guid


def test_sync_official_reports_a_corrupt_staging_payload(cli: Cli) -> None:
    rows = staged_rows(cli.staging)
    _, payload_guid = rows[-1]
    folder = cli.staging / "Payloads" / payload_guid
    for file in folder.iterdir():
        if file.is_file() and file.name != "manifest.json":
            file.write_bytes(file.read_bytes() + b"tampered")
    report = cli.json("sync-official", code=1)
    assert report["matches"] is False
    assert any(payload_guid in problem for problem in report["problems"]), report


def test_flush_in_process(cli: Cli) -> None:
    body = cli.json("flush")
    assert set(body["results"]) == set(DOMAINS)
    assert all(r["persisted"] == 0 and r["error"] is None for r in body["results"].values())
    body = cli.json("flush", "--domain", "community")
    assert set(body["results"]) == {"community"}
    bad = cli.run("flush", "--domain", "nope")
    assert bad.returncode == 2 and "nope" in bad.stderr


# -------------------------------------------------------------------------- import


def test_import_corpus_tree_reports_every_file(cli: Cli) -> None:
    files = corpus_files()
    trmm = CORPUS / "tactical-rmm"
    entries = json.loads((trmm / "community_scripts.json").read_bytes())
    scripts = {trmm / "scripts" / entry["filename"] for entry in entries}
    documents = [
        p for p in files if p.suffix in (".json", ".yml") and "tactical-rmm" not in p.parts
    ] + sorted(scripts)
    assert len(documents) >= 20 and any(p.name == "README.md" for p in files)

    report = cli.json("import", CORPUS)  # README.md is skipped, but it is not a document: exit 0
    by_path = {Path(item["path"]).resolve(): item for item in report["files"]}
    assert set(by_path) == {p.resolve() for p in files}
    for path in documents:
        item = by_path[path.resolve()]
        assert item["status"] == "imported", item
        assert len(item["assembly_guid"]) == 32 and item["display_name"]
    readme = by_path[(CORPUS / "README.md").resolve()]
    assert readme["status"] == "skipped" and readme["reason"]
    assert report["imported"] == len(documents) and report["skipped"] == len(files) - len(documents)
    assert report["failed"] == 0

    status = cli.json("status")
    assert status["assemblies"]["user"] == len(documents)
    guids = {item["assembly_guid"] for item in report["files"] if item["status"] == "imported"}
    assert {a for a, _ in db_rows(cli.home / "Assemblies" / "user_created.db")} == guids


def test_import_human_output_has_progress_and_summary(cli: Cli) -> None:
    result = cli.run("import", CORPUS / "scripts", CORPUS / "README.md", cli.home.parent / "absent.json")
    scripts = sorted((CORPUS / "scripts").glob("*.json"))
    total = len(scripts)  # documents sent; the README and the absent path are decided locally
    assert result.returncode == 1, result.stderr
    assert "importing" in result.stderr and f"{total}/{total}" in result.stderr  # the progress bar
    assert "docs/s" in result.stderr
    lines = result.stdout.splitlines()
    for script in scripts:
        assert any(line.startswith("imported") and str(script) in line for line in lines), script
    # README given by name is no assembly document: skipped, and the path held nothing
    assert any(line.startswith("skipped") and "README.md: not an assembly document" in line for line in lines)
    assert any(line.startswith("failed") and "absent.json: no such file or folder" in line for line in lines)
    assert f"nothing importable in {CORPUS / 'README.md'}" in result.stderr
    assert lines[-1] == f"{len(scripts)} imported, 1 skipped, 1 failed"


def test_import_gives_a_reason_for_each_skip(cli: Cli, tmp_path: Path) -> None:
    tree = tmp_path / "legacy"
    (tree / "Scripts").mkdir(parents=True)
    shutil.copy(CORPUS / "scripts" / "Hello World.json", tree / "Scripts" / "Hello World.json")
    (tree / "Scripts" / "broken.json").write_text("{not json", encoding="utf-8")
    (tree / "Scripts" / "notes.txt").write_text("hello", encoding="utf-8")
    (tree / "Scripts" / "binary.yml").write_bytes(b"\xff\xfe\x00garbage")
    (tree / "Scripts" / "alien.json").write_text(json.dumps({"foo": 1}), encoding="utf-8")
    (tree / "Scripts" / "empty.json").write_text("{}", encoding="utf-8")
    (tree / "Scripts" / "refused.json").write_text(
        json.dumps({"name": "x", "type": "perl", "script": "print 1"}), encoding="utf-8"
    )

    report = cli.json("import", tree, code=1)
    by_name = {Path(item["path"]).name: item for item in report["files"]}
    assert set(by_name) == {
        "Hello World.json",
        "broken.json",
        "notes.txt",
        "binary.yml",
        "alien.json",
        "empty.json",
        "refused.json",
    }
    assert by_name["Hello World.json"]["status"] == "imported"
    assert by_name["broken.json"]["status"] == "failed"
    assert "not valid JSON" in by_name["broken.json"]["reason"]
    assert by_name["notes.txt"]["status"] == "skipped"
    assert "not an assembly document" in by_name["notes.txt"]["reason"]
    assert by_name["binary.yml"]["status"] == "failed" and "UTF-8" in by_name["binary.yml"]["reason"]
    for name in ("alien.json", "empty.json"):  # JSON, but no assembly: what was expected
        assert by_name[name]["status"] == "skipped"
        assert by_name[name]["reason"].startswith("not an assembly document")
        assert "expected a legacy script document" in by_name[name]["reason"]
    assert by_name["refused.json"]["status"] == "failed"
    assert "'perl' is not a known script type" in by_name["refused.json"]["reason"]
    assert report["imported"] == 1 and report["skipped"] == 3 and report["failed"] == 3
    assert report["empty_paths"] == []

    clean = cli.json("import", CORPUS / "workflows")
    assert clean["skipped"] == 0 and clean["imported"] == len(list((CORPUS / "workflows").glob("*.json")))


def test_import_of_a_folder_with_nothing_importable_exits_1(cli: Cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "README.md").write_text("# hi\n", encoding="utf-8")
    (notes / "manifest.json").write_text(json.dumps({"name": "pkg", "version": "1.0"}), encoding="utf-8")
    report = cli.json("import", empty, notes, code=1)
    assert report["imported"] == 0 and report["failed"] == 0 and report["skipped"] == 2
    assert report["empty_paths"] == [str(empty), str(notes)]
    # One good path next to an empty one still exits 1: the empty one was named.
    mixed = cli.json("import", CORPUS / "workflows", empty, code=1)
    assert mixed["imported"] == 2 and mixed["empty_paths"] == [str(empty)]


def test_import_tactical_rmm_library_in_one_command(cli: Cli, tmp_path: Path) -> None:
    trmm = CORPUS / "tactical-rmm"
    entries = json.loads((trmm / "community_scripts.json").read_bytes())
    report = cli.json("import", trmm)
    assert report["imported"] == len(entries) == 130 and report["failed"] == 0
    skipped = {
        Path(item["path"]).name: item["reason"] for item in report["files"] if item["status"] == "skipped"
    }
    assert set(skipped) == {"community_scripts.json", "community_scripts.schema.json"}
    assert skipped["community_scripts.schema.json"].startswith("not an assembly document")
    out = tmp_path / "out"
    cli.json("export", "--domain", "user", "--out", out)
    exported = [json.loads(p.read_text(encoding="utf-8")) for p in out.rglob("*.json")]
    by_guid = {doc["tactical_rmm"]["guid"]: doc for doc in exported}
    assert len(by_guid) == 130
    for entry in entries:
        doc = by_guid[entry["guid"]]
        assert doc["tactical_rmm"] == entry
        assert base64.b64decode(doc["script"]) == (trmm / "scripts" / entry["filename"]).read_bytes()


PLAIN_TREE: dict[str, bytes] = {
    "Windows/Network/Reset Adapter.ps1": b"\xef\xbb\xbfRestart-NetAdapter *\r\n",
    "Windows/cleanup.cmd": b"@echo off\r\ndel /q %TEMP%\\*\r\n",
    "Windows/legacy.bat": b"@echo off\r\necho \xe9t\xe9\r\n",  # not UTF-8
    "Linux/check-disk": b"#!/bin/bash\ndf -h\n",
    "Linux/report.py": b"print('ok')\n",
    "Linux/tidy.sh": b"rm -rf /tmp/x\n",
    "Playbooks/site.yml": b"- hosts: all\n  tasks: []\n",
    "notes.txt": b"not a script\n",
}


def test_import_a_folder_of_plain_scripts_and_export_them_raw(cli: Cli, tmp_path: Path) -> None:
    tree = tmp_path / "my-scripts"
    for relative, data in PLAIN_TREE.items():
        (tree / relative).parent.mkdir(parents=True, exist_ok=True)
        (tree / relative).write_bytes(data)
    report = cli.json("import", tree)
    assert report["imported"] == 7 and report["skipped"] == 1 and report["failed"] == 0
    items = cli.json("status")["assemblies"]["user"]
    assert items == 7

    legacy = tmp_path / "legacy"
    cli.json("export", "--domain", "user", "--out", legacy)
    documents = {
        json.loads(p.read_text(encoding="utf-8"))["name"]: json.loads(p.read_text("utf-8"))
        for p in legacy.rglob("*.json")
    }
    assert documents["Reset Adapter"]["category"] == "Windows/Network"
    assert documents["Reset Adapter"]["type"] == "powershell"
    assert documents["cleanup"]["type"] == "batch" and documents["check-disk"]["type"] == "bash"
    assert base64.b64decode(documents["legacy"]["script"]) == PLAIN_TREE["Windows/legacy.bat"]

    raw = tmp_path / "raw"
    written = cli.json("export", "--domain", "user", "--out", raw, "--format", "raw")["written"]
    assert len(written) == 7
    back = {p.relative_to(raw).as_posix(): p.read_bytes() for p in raw.rglob("*") if p.is_file()}
    expected = {k: v for k, v in PLAIN_TREE.items() if k != "notes.txt"}
    assert back == expected  # same paths, same bytes (CRLF, BOM, encoding)


def test_import_into_official_lands_in_official(cli: Cli) -> None:
    before = len(staged_rows(cli.staging))
    report = cli.json("import", "--domain", "official", CORPUS / "scripts" / "Hello World.json")
    assert report["imported"] == 1
    guid = report["files"][0]["assembly_guid"]
    # the next command boots a fresh in-process engine, which rebuilds official from staging:
    # the import survived because it was persisted and mirrored to the staging copy
    status = cli.json("status")
    assert status["assemblies"]["official"] == before + 1
    assert status["assemblies"]["user"] == 0
    assert guid in {a for a, _ in staged_rows(cli.staging)}
    assert guid in {a for a, _ in db_rows(cli.home / "Assemblies" / "official.db")}
    assert cli.json("sync-official")["runtime_count"] == before + 1


# -------------------------------------------------------------------------- export


def test_export_round_trip_through_a_fresh_home(cli: Cli, tmp_path: Path) -> None:
    imported = cli.json("import", CORPUS)["imported"]
    first = tmp_path / "export-1"
    written = cli.json("export", "--domain", "user", "--out", first)["written"]
    assert len(written) == imported
    assert {p.name for p in first.iterdir()} == {"Scripts", "Workflows", "Ansible_Playbooks"}
    assert len(list(first.rglob("*.json"))) == imported
    for item in written:
        document = json.loads(Path(item["path"]).read_text(encoding="utf-8"))
        assert document["assembly_engine"]["assembly_guid"] == item["assembly_guid"]

    fresh = Cli(home=tmp_path / "home-2", staging=cli.staging)
    again = fresh.json("import", first)
    assert again["imported"] == imported and again["skipped"] == 0
    second = tmp_path / "export-2"
    assert f"{imported} assemblies exported to" in fresh.ok("export", "--domain", "user", "--out", second)
    assert len(list(second.rglob("*.json"))) == imported
    assert exported_documents(first) == exported_documents(second)


def test_export_twice_into_the_same_folder_does_not_duplicate(cli: Cli, tmp_path: Path) -> None:
    imported = cli.json("import", CORPUS / "workflows")["imported"]
    out = tmp_path / "out"
    cli.json("export", "--domain", "user", "--out", out)
    assert len(list(out.rglob("*.json"))) == imported
    again = cli.run("export", "--domain", "user", "--out", out, "--json")
    if again.returncode == 0:  # either refuse a non-empty folder, or leave one file per assembly
        assert len(list(out.rglob("*.json"))) == imported
    else:
        assert again.stderr.startswith("error: ") and len(list(out.rglob("*.json"))) == imported


def test_export_one_guid_and_usage_errors(cli: Cli, tmp_path: Path) -> None:
    report = cli.json("import", CORPUS / "ansible_playbooks")
    guid = report["files"][0]["assembly_guid"]
    out = tmp_path / "one"
    written = cli.json("export", guid, "--out", out)["written"]
    assert [w["assembly_guid"] for w in written] == [guid]
    path = Path(written[0]["path"])
    assert path.parent == out / "Ansible_Playbooks"
    assert json.loads(path.read_text(encoding="utf-8"))["assembly_engine"]["assembly_guid"] == guid

    neither = cli.run("export", "--out", out)
    assert neither.returncode == 2 and "GUID or --domain" in neither.stderr
    both = cli.run("export", guid, "--domain", "user", "--out", out)
    assert both.returncode == 2
    unknown = cli.run("export", uuid.uuid4().hex, "--out", out, "--json")
    assert unknown.returncode == 1 and unknown.stderr.startswith("error: ")


# --------------------------------------------------------------------------- users


def test_users_in_process_then_checked_by_signing_in(cli: Cli) -> None:
    alice = cli.json("users", "add", "alice", "--password-stdin", input="alice-password-1\n")
    assert alice["username"] == "alice" and alice["role"] == "operator"
    assert "created bob (admin)" in cli.ok(
        "users", "add", "bob", "--role", "admin", "--password-stdin", input="bob-password-1\n"
    )
    duplicate = cli.run("users", "add", "alice", "--password-stdin", input="whatever-pass\n")
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr

    assert cli.json("users", "set-role", "alice", "admin")["role"] == "admin"
    assert cli.json("users", "disable", "bob")["disabled"] is True
    assert "password of alice changed" in cli.ok(
        "users", "passwd", "alice", "--password-stdin", input="alice-password-2\n"
    )
    listed = {u["username"]: u for u in cli.json("users", "list")}
    assert set(listed) == {"admin", "alice", "bob"}
    assert listed["alice"]["role"] == "admin" and listed["alice"]["disabled"] is False
    assert listed["bob"]["disabled"] is True and listed["bob"]["role"] == "admin"

    engine = EngineProcess(cli.home, cli.staging).start()
    try:

        def login(user: str, password: str) -> int:
            return httpx.post(
                f"{engine.url}/api/auth/login", json={"username": user, "password": password}, timeout=30
            ).status_code

        assert login("alice", "alice-password-2") == 200
        assert login("alice", "alice-password-1") != 200
        assert login("bob", "bob-password-1") != 200
    finally:
        engine.stop()


# -------------------------------------------------------------------- verify --fix


def test_verify_fix_removes_old_orphans_and_nothing_else(cli: Cli) -> None:
    cli.json("import", CORPUS / "scripts")
    root = cli.home / "Assemblies" / "Payloads"
    referenced = referenced_payloads(cli.home)
    assert payload_dirs(cli.home) == referenced

    template = sorted(referenced)[0]
    old = {uuid.uuid4().hex for _ in range(2)}
    for guid in old:
        shutil.copytree(root / template, root / guid)
    written = PayloadStore(root).write_new(script_content("Write-Host 'orphan'\n")).payload_guid
    old.add(written)
    for guid in old:
        os.utime(root / guid, (OLD, OLD))
    young = uuid.uuid4().hex
    shutil.copytree(root / template, root / young)
    # An hour ahead: it stays within verify's grace period however slowly the CLI runs below.
    soon = time.time() + 3600
    os.utime(root / young, (soon, soon))

    report = cli.json("verify", code=1)
    assert report["ok"] is False
    assert set(report["orphans"]) == old
    assert report["recent_unreferenced"] == [young]
    assert report["removed"] == [] and report["missing"] == [] and report["corrupt"] == []
    assert payload_dirs(cli.home) == referenced | old | {young}  # verify alone changes nothing
    human = cli.run("verify")
    assert human.returncode == 1 and "verify: PROBLEMS FOUND" in human.stdout
    for guid in old:
        assert f"orphan payload: {guid}" in human.stdout

    fixed = cli.json("verify", "--fix")
    assert set(fixed["removed"]) == old and set(fixed["orphans"]) == old
    assert fixed["ok"] is True
    assert payload_dirs(cli.home) == referenced | {young}
    for guid in referenced:
        assert (root / guid).is_dir()

    after = cli.json("verify")
    assert after["ok"] is True and after["orphans"] == [] and after["recent_unreferenced"] == [young]
    scripts = len(list((CORPUS / "scripts").glob("*.json")))
    assert after["payloads_checked"] == len(staged_rows(cli.staging)) + scripts


def test_verify_reports_missing_and_corrupt_payloads(cli: Cli) -> None:
    report = cli.json("import", CORPUS / "scripts")
    guids = [item["assembly_guid"] for item in report["files"]]
    rows = dict(db_rows(cli.home / "Assemblies" / "user_created.db"))
    root = cli.home / "Assemblies" / "Payloads"
    gone, damaged = guids[0], guids[1]
    shutil.rmtree(root / rows[gone])
    for file in (root / rows[damaged]).iterdir():
        if file.name != "manifest.json":
            file.write_bytes(file.read_bytes() + b"\n# tampered\n")

    result = cli.json("verify", code=1)
    assert all(entry["ok"] for entry in result["schema"].values())
    assert [(m["assembly_guid"], m["payload_guid"]) for m in result["missing"]] == [(gone, rows[gone])]
    assert [(c["assembly_guid"], c["payload_guid"]) for c in result["corrupt"]] == [(damaged, rows[damaged])]
    assert result["orphans"] == []
    fix = cli.json("verify", "--fix", code=1)  # --fix removes orphans only; the problems stay
    assert fix["removed"] == [] and fix["missing"] and fix["corrupt"]
    assert (root / rows[damaged]).is_dir()
    human = cli.run("verify").stdout
    assert "missing: " in human and gone in human and "corrupt: " in human and damaged in human


# --------------------------------------------------------------------------- backup


def test_backup_in_process_restores(cli: Cli, tmp_path: Path) -> None:
    imported = cli.json("import", CORPUS / "scripts")["imported"]
    dest = tmp_path / "backup"
    result = cli.json("backup", dest)
    assert Path(result["destination"]) == dest.resolve()
    assert result["copied"]["payloads"] == len(payload_dirs(cli.home))
    for name in DATABASES.values():
        assert (dest / "Assemblies" / name).is_file()
    assert (dest / "engine.db").is_file() and (dest / "Logs" / "audit.log").is_file()
    assert not (dest / "cli.json").exists()
    assert payload_dirs(dest) == payload_dirs(cli.home)

    refused = cli.run("backup", dest)
    assert refused.returncode == 1 and "not empty" in refused.stderr

    restored = Cli(home=tmp_path / "restored", staging=cli.staging)
    shutil.copytree(dest, restored.home)
    status = restored.json("status")
    assert status["assemblies"]["user"] == imported
    assert restored.json("verify")["ok"] is True


# --------------------------------------------------------------------------- audit


def test_audit_verify_names_the_edited_line(cli: Cli) -> None:
    cli.json("import", CORPUS / "workflows")
    intact = cli.json("audit", "verify")
    assert intact["ok"] is True and intact["entries"] >= 2 and intact["first_bad_line"] is None
    assert "intact" in cli.ok("audit", "verify")

    log = cli.home / "Logs" / "audit.log"
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    entry = json.loads(lines[1])
    entry["detail"] = "something else entirely"
    lines[1] = json.dumps(entry, separators=(",", ":")) + "\n"
    log.write_text("".join(lines), encoding="utf-8")

    tampered = cli.json("audit", "verify", code=1)
    assert tampered["ok"] is False and tampered["first_bad_line"] == 2
    assert "line 2" in tampered["problem"]
    human = cli.run("audit", "verify")
    assert human.returncode == 1 and "line 2" in human.stdout and "TAMPERED" in human.stdout


# ------------------------------------------------------------ against a running engine


def test_status_import_flush_against_running_engine(cli: Cli, running: EngineProcess) -> None:
    status = cli.json("status")
    assert status["engine"] == "running engine"
    assert status["assemblies"]["user"] == 0

    scripts = sorted((CORPUS / "scripts").glob("*.json"))
    report = cli.json("import", CORPUS / "scripts")
    assert report["imported"] == len(scripts) and report["skipped"] == 0
    user_db = cli.home / "Assemblies" / "user_created.db"
    queued = cli.json("status")
    assert queued["assemblies"]["user"] == len(scripts)
    assert queued["queue"]["domains"]["user"]["pending"] == len(scripts)
    assert db_rows(user_db) == []  # flush interval is 60 s: nothing written yet

    flushed = cli.json("flush", "--domain", "user")
    assert flushed["results"] == {"user": {"persisted": len(scripts), "error": None, "refused": []}}
    assert {a for a, _ in db_rows(user_db)} == {f["assembly_guid"] for f in report["files"]}
    assert cli.json("status")["queue"]["depth"] == 0

    with running.client() as http:  # the running engine serves what the CLI imported
        headers = running.login()
        for item in report["files"]:
            assert http.get(f"/api/assemblies/{item['assembly_guid']}", headers=headers).status_code == 200

    official = len(staged_rows(cli.staging))
    into_official = cli.json("import", "--domain", "official", CORPUS / "workflows" / "Math Operations.json")
    guid = into_official["files"][0]["assembly_guid"]
    assert cli.json("status")["assemblies"]["official"] == official + 1
    assert cli.json("flush", "--domain", "official")["results"]["official"]["persisted"] == 1
    assert guid in {a for a, _ in staged_rows(cli.staging)}  # persisted official changes reach staging


def test_verify_against_running_engine(cli: Cli, running: EngineProcess) -> None:
    cli.json("import", CORPUS / "workflows")
    report = cli.json("verify")
    assert report["ok"] is True
    assert report["payloads_checked"] == len(staged_rows(cli.staging)) + 2
    community = cli.home / "Assemblies" / "community.db"
    version = report["schema"]["community"]["user_version"]
    conn = sqlite3.connect(community)
    try:
        conn.execute("PRAGMA user_version = 999")
        conn.commit()
        broken = cli.json("verify", code=1)
        assert broken["schema"]["community"]["ok"] is False
        assert broken["schema"]["community"]["user_version"] == 999
        assert broken["schema"]["user"]["ok"] is True
    finally:
        conn.execute(f"PRAGMA user_version = {int(version)}")
        conn.commit()
        conn.close()
    root = cli.home / "Assemblies" / "Payloads"
    orphan = PayloadStore(root).write_new(script_content("echo orphan\n")).payload_guid
    os.utime(root / orphan, (OLD, OLD))
    assert cli.json("verify", code=1)["orphans"] == [orphan]
    assert cli.json("verify", "--fix")["removed"] == [orphan]
    assert not (root / orphan).exists()
    assert cli.json("verify")["ok"] is True


def test_backup_against_running_engine(cli: Cli, running: EngineProcess, tmp_path: Path) -> None:
    report = cli.json("import", CORPUS / "scripts")  # queued only: backup must carry the journal
    dest = tmp_path / "backup"
    result = cli.json("backup", dest)
    assert result["copied"]["payloads"] >= len(staged_rows(cli.staging)) + report["imported"]
    assert (dest / "Assemblies" / "journal.db").is_file()

    restored = Cli(home=tmp_path / "restored", staging=cli.staging)
    shutil.copytree(dest, restored.home)
    assert "backup written to" in cli.ok("backup", tmp_path / "backup-2")
    assert restored.json("status")["assemblies"]["user"] == report["imported"]
    assert restored.json("verify")["ok"] is True


def test_users_add_against_running_engine(cli: Cli, running: EngineProcess) -> None:
    user = cli.json(
        "users", "add", "erin", "--role", "operator", "--password-stdin", input="erin-password-1\n"
    )
    assert user["username"] == "erin"
    response = httpx.post(
        f"{running.url}/api/auth/login", json={"username": "erin", "password": "erin-password-1"}, timeout=30
    )
    assert response.status_code == 200
    assert "erin" in {u["username"] for u in cli.json("users", "list")}
    assert cli.json("users", "disable", "erin")["disabled"] is True
    response = httpx.post(
        f"{running.url}/api/auth/login", json={"username": "erin", "password": "erin-password-1"}, timeout=30
    )
    assert response.status_code != 200
    assert cli.json("users", "disable", "erin", "--enable")["disabled"] is False
    response = httpx.post(
        f"{running.url}/api/auth/login", json={"username": "erin", "password": "erin-password-1"}, timeout=30
    )
    assert response.status_code == 200
    assert "erin" in cli.ok("users", "list")
    missing = cli.run("users", "set-role", "nobody", "admin")
    assert missing.returncode == 1 and missing.stderr.startswith("error: ")
    short = cli.run("users", "add", "frank", "--password-stdin", input="short\n")
    assert short.returncode == 1 and "8 characters" in short.stderr


def test_second_serve_on_the_same_home_is_refused(cli: Cli, running: EngineProcess) -> None:
    result = cli.run("serve", "--port", str(free_port()), timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "already running" in result.stderr and str(cli.home / "Assemblies") in result.stderr
    assert httpx.get(f"{running.url}/api/health", timeout=10).status_code == 200


# -------------------------------------------------------- backup under a write load


@dataclass
class Load:
    acked: dict[str, tuple[str, str]] = field(default_factory=dict)  # guid -> (summary, script)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def snapshot(self) -> dict[str, tuple[str, str]]:
        with self.lock:
            return dict(self.acked)


def write_load(url: str, headers: dict[str, str], load: Load) -> None:
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        number = 0
        while not load.stop.is_set():
            number += 1
            token = f"{number:05d}-{uuid.uuid4().hex[:8]}"
            script = f"echo {token}\n"
            body = {
                "display_name": f"load {token}",
                "assembly_kind": "script",
                "assembly_type": "bash",
                "summary": token,
                "payload": {"script": script},
            }
            try:
                response = http.post("/api/assemblies", json=body)
            except httpx.HTTPError as exc:
                load.errors.append(repr(exc))
                return
            if response.status_code != 201:
                load.errors.append(f"{response.status_code}: {response.text[:300]}")
                return
            with load.lock:
                load.acked[response.json()["assembly_guid"]] = (token, script)


def test_backup_during_write_load_keeps_every_acknowledged_change(cli: Cli, tmp_path: Path) -> None:
    engine = EngineProcess(cli.home, cli.staging, flush_interval=0.2).start()
    load = Load()
    try:
        worker = threading.Thread(target=write_load, args=(engine.url, engine.login(), load), daemon=True)
        worker.start()
        wait_until(lambda: len(load.snapshot()) >= 40 or load.errors, "40 acknowledged writes")
        before = load.snapshot()
        dest = tmp_path / "backup"
        backup = cli.run("backup", dest, "--json")
        wait_until(lambda: len(load.snapshot()) > len(before) or load.errors, "more writes")
        load.stop.set()
        worker.join(timeout=60)
        assert backup.returncode == 0, backup.stderr
        assert not load.errors, load.errors
        assert len(before) >= 40
        assert len(load.snapshot()) > len(before), "the load must keep writing while the backup runs"
    finally:
        load.stop.set()
        engine.stop()

    restored_home = tmp_path / "restored"
    shutil.copytree(dest, restored_home)
    restored = EngineProcess(restored_home, cli.staging).start()
    try:
        headers = restored.login()
        with restored.client() as http:
            for guid, (summary, script) in before.items():
                response = http.get(f"/api/assemblies/{guid}", headers=headers)
                assert response.status_code == 200, (guid, response.text)
                data = response.json()
                assert data["summary"] == summary
                assert data["payload"]["script"] == script
                assert data["integrity"] == "ok"
        restored_cli = Cli(home=restored_home, staging=cli.staging)
        verify = restored_cli.json("verify")
        # The payload folders are copied after the journal and database snapshots, so the
        # backup may also hold the folders of writes acknowledged after them: unreferenced
        # there, reported as orphans once older than the grace period (the restored
        # engine's orphan sweep removes them). Nothing may be missing or corrupt.
        assert verify["missing"] == [] and verify["corrupt"] == [], verify
        assert all(check["ok"] for check in verify["schema"].values()), verify
        assert verify["ok"] is True or verify["orphans"], verify
    finally:
        restored.stop()


def test_audit_verify_while_the_running_engine_writes(cli: Cli) -> None:
    engine = EngineProcess(cli.home, cli.staging).start()
    load = Load()
    try:
        headers = engine.login()
        workers = [
            threading.Thread(target=write_load, args=(engine.url, headers, load), daemon=True)
            for _ in range(2)
        ]
        for worker in workers:
            worker.start()
        wait_until(lambda: len(load.snapshot()) >= 50 or load.errors, "50 acknowledged writes")
        # An intact log must verify as intact every time; stop at the first false alarm.
        problems: list[str] = []
        deadline = time.monotonic() + 15
        attempts = 0
        while not problems and attempts < 25 and time.monotonic() < deadline:
            attempts += 1
            result = cli.run("audit", "verify", "--json")
            report = json.loads(result.stdout)
            if result.returncode != 0 or not report["ok"]:
                problems.append(f"attempt {attempts}: {report['problem']}")
        load.stop.set()
        for worker in workers:
            worker.join(timeout=60)
        assert not load.errors, load.errors
        assert problems == [], problems
    finally:
        load.stop.set()
        engine.stop()
    assert cli.json("audit", "verify")["ok"] is True  # at rest the same log is intact
