"""Tests for the payload store: layout, integrity, path safety, write-once, gc, mirroring."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assembly_engine.domain.types import Integrity, PayloadType
from assembly_engine.storage.contract.models import PayloadContent, PayloadFile, PayloadRef
from assembly_engine.storage.contract.payload_manifest import new_payload_guid
from assembly_engine.storage.contract.reports import SweepScope
from assembly_engine.storage.sqlite import payload_folders as payloads_module
from assembly_engine.storage.sqlite.payload_folders import (
    InvalidFileName,
    InvalidPayloadGuid,
    PayloadCorrupt,
    PayloadError,
    PayloadExists,
    PayloadMissing,
    PayloadStore,
)

LOGGER = "assembly_engine.payloads"
SENTINEL_TEXT = b"do not touch\n"


@pytest.fixture()
def store(tmp_path: Path) -> PayloadStore:
    return PayloadStore(tmp_path / "Assemblies" / "Payloads")


@pytest.fixture()
def outside(tmp_path: Path) -> Path:
    """A directory outside the store root holding a sentinel file."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "sentinel.txt").write_bytes(SENTINEL_TEXT)
    return folder


def assert_untouched(outside: Path) -> None:
    assert sorted(p.name for p in outside.iterdir()) == ["sentinel.txt"]
    assert (outside / "sentinel.txt").read_bytes() == SENTINEL_TEXT


def script(text: str = "Write-Host 'hi'\r\n", *files: PayloadFile) -> PayloadContent:
    return PayloadContent(PayloadType.SCRIPT, "script.ps1", text.encode("utf-8"), tuple(files))


BINARY_BLOB = bytes(range(256)) * 4


# ------------------------------------------------------------------ basic lifecycle


def test_root_is_created(tmp_path: Path) -> None:
    root = tmp_path / "a" / "b" / "Payloads"
    store = PayloadStore(root)
    assert root.is_dir()
    assert store.root == root
    assert store.list_guids() == set()


def test_new_guid_is_32_lowercase_hex() -> None:
    guid = new_payload_guid()
    assert len(guid) == 32
    assert set(guid) <= set("0123456789abcdef")
    assert guid != new_payload_guid()


def test_create_read_replace_delete_lifecycle(store: PayloadStore) -> None:
    first = store.write_new(script("echo one"))
    assert isinstance(first, PayloadRef)
    assert first.payload_type is PayloadType.SCRIPT
    assert first.size_bytes == len(b"echo one")
    assert store.exists(first.payload_guid)
    assert store.list_guids() == {first.payload_guid}
    assert store.read(first.payload_guid, first.checksum).text == "echo one"
    assert store.check(first.payload_guid, first.checksum) is Integrity.OK
    assert store.ref_for(first.payload_guid) == first

    # A content change is a new payload; the old folder goes only after the switch.
    second = store.write_new(script("echo two"))
    assert second.payload_guid != first.payload_guid
    assert second.checksum != first.checksum
    assert store.list_guids() == {first.payload_guid, second.payload_guid}
    store.delete(first.payload_guid)
    assert not store.exists(first.payload_guid)
    assert store.list_guids() == {second.payload_guid}
    assert store.read(second.payload_guid).text == "echo two"

    store.delete(second.payload_guid)
    store.delete(second.payload_guid)  # idempotent
    assert store.list_guids() == set()
    assert list(store.root.iterdir()) == []  # no temp folders left behind


def test_folder_layout_and_manifest(store: PayloadStore) -> None:
    content = PayloadContent(
        PayloadType.SCRIPT,
        "playbook.yml",
        b"- hosts: all\n",
        (
            PayloadFile("inventory.ini", b"[web]\nhost1\n", "text/plain"),
            PayloadFile("blob.bin", BINARY_BLOB),
        ),
    )
    ref = store.write_new(content)
    folder = store.path_for(ref.payload_guid)
    assert folder == store.root / ref.payload_guid
    assert sorted(p.name for p in folder.iterdir()) == ["files", "manifest.json", "playbook.yml"]
    assert (folder / "playbook.yml").read_bytes() == b"- hosts: all\n"
    # Attachments are raw bytes on disk, not base64.
    assert (folder / "files" / "blob.bin").read_bytes() == BINARY_BLOB
    assert (folder / "files" / "inventory.ini").read_bytes() == b"[web]\nhost1\n"

    manifest_bytes = (folder / "manifest.json").read_bytes()
    assert ref.checksum == hashlib.sha256(manifest_bytes).hexdigest()
    manifest = json.loads(manifest_bytes)
    assert manifest["payload_type"] == "script"
    assert manifest["main"]["name"] == "playbook.yml"
    assert manifest["main"]["sha256"] == hashlib.sha256(b"- hosts: all\n").hexdigest()
    assert [f["name"] for f in manifest["files"]] == ["inventory.ini", "blob.bin"]
    blob_entry = manifest["files"][1]
    assert blob_entry == {
        "name": "blob.bin",
        "mime_type": "application/octet-stream",
        "size": len(BINARY_BLOB),
        "sha256": hashlib.sha256(BINARY_BLOB).hexdigest(),
    }
    assert ref.size_bytes == len(b"- hosts: all\n") + len(b"[web]\nhost1\n") + len(BINARY_BLOB)


def test_no_files_folder_without_attachments(store: PayloadStore) -> None:
    ref = store.write_new(script())
    assert sorted(p.name for p in store.path_for(ref.payload_guid).iterdir()) == [
        "manifest.json",
        "script.ps1",
    ]


def test_attachments_round_trip_as_raw_bytes(store: PayloadStore) -> None:
    files = (
        PayloadFile("report.xlsx", b"PK\x03\x04" + BINARY_BLOB, "application/vnd.ms-excel"),
        PayloadFile("empty.txt", b"", "text/plain"),
        PayloadFile("Ünïcødé name (1).bin", b"\x00\xff\x00"),
    )
    content = script("param($x)\n", *files)
    ref = store.write_new(content)
    assert store.read(ref.payload_guid) == content
    on_disk = store.path_for(ref.payload_guid) / "files" / "report.xlsx"
    assert on_disk.read_bytes() == b"PK\x03\x04" + BINARY_BLOB


def test_workflow_and_binary_payloads(store: PayloadStore) -> None:
    workflow = PayloadContent(PayloadType.WORKFLOW, "workflow.json", b'{"nodes":[],"edges":[]}')
    binary = PayloadContent(PayloadType.BINARY, "tool.py", b"\x00\x01\xfe\xff not utf-8 \x80")
    for content in (workflow, binary):
        ref = store.write_new(content)
        assert ref.payload_type is content.payload_type
        assert store.read(ref.payload_guid) == content


def test_deterministic_manifest_for_deterministic_builds(tmp_path: Path) -> None:
    guid = "0123456789abcdef0123456789abcdef"
    content = script("x", PayloadFile("a.txt", b"a"))
    ref_a = PayloadStore(tmp_path / "a").write_with_guid(guid, content)
    ref_b = PayloadStore(tmp_path / "b").write_with_guid(guid, content)
    assert ref_a == ref_b


def test_write_once(store: PayloadStore) -> None:
    guid = new_payload_guid()
    ref = store.write_with_guid(guid, script("first"))
    with pytest.raises(PayloadExists) as info:
        store.write_with_guid(guid, script("second"))
    assert info.value.payload_guid == guid
    assert store.read(guid, ref.checksum).text == "first"
    assert [p.name for p in store.root.iterdir()] == [guid]  # no temp folder left


def test_write_with_guid_rejects_empty_directory_squatter(store: PayloadStore) -> None:
    guid = new_payload_guid()
    (store.root / guid).mkdir()
    with pytest.raises(PayloadExists):
        store.write_with_guid(guid, script())


# --------------------------------------------------------------------- file names


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".",
        "..",
        ".hidden",
        "../escape.txt",
        "sub/file.txt",
        "/etc/passwd",
        "back\\slash.txt",
        "nul\x00byte.txt",
        "new\nline.txt",
        "x" * 256,
        "é" * 128,  # 256 bytes in UTF-8
        "\udcff.bin",  # lone surrogate, cannot be a file name
    ],
)
def test_bad_attachment_names_are_rejected(store: PayloadStore, outside: Path, name: str) -> None:
    with pytest.raises(InvalidFileName) as info:
        store.write_new(script("x", PayloadFile(name, b"data")))
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, PayloadError)
    assert info.value.file_name == name
    assert list(store.root.iterdir()) == []
    assert_untouched(outside)


def test_longest_allowed_name_is_accepted(store: PayloadStore) -> None:
    content = script("x", PayloadFile("x" * 251 + ".txt", b"ok"))
    ref = store.write_new(content)
    assert store.read(ref.payload_guid) == content


def test_duplicate_attachment_names_are_rejected(store: PayloadStore) -> None:
    with pytest.raises(InvalidFileName, match="more than once"):
        store.write_new(script("x", PayloadFile("a.txt", b"1"), PayloadFile("a.txt", b"2")))
    assert list(store.root.iterdir()) == []


@pytest.mark.parametrize(
    "main_name",
    ["script", "script.exe", "../script.ps1", ".ps1", "manifest.json", "a/b.sh", ""],
)
def test_bad_main_file_names_are_rejected(store: PayloadStore, main_name: str) -> None:
    with pytest.raises(InvalidFileName):
        store.write_new(PayloadContent(PayloadType.SCRIPT, main_name, b"x"))
    assert list(store.root.iterdir()) == []


@pytest.mark.parametrize(
    "main_name", ["script.ps1", "run.bat", "run.sh", "main.py", "playbook.yml", "workflow.json"]
)
def test_allowed_main_file_extensions(store: PayloadStore, main_name: str) -> None:
    content = PayloadContent(PayloadType.SCRIPT, main_name, b"x")
    assert store.read(store.write_new(content).payload_guid) == content


# ---------------------------------------------------------------------- integrity


def test_edited_file_is_corrupt(store: PayloadStore, caplog: pytest.LogCaptureFixture) -> None:
    ref = store.write_new(script("original", PayloadFile("a.bin", b"abc")))
    (store.path_for(ref.payload_guid) / "files" / "a.bin").write_bytes(b"abd")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert store.check(ref.payload_guid) is Integrity.CORRUPT
    assert any(r.levelno == logging.WARNING and ref.payload_guid in r.getMessage() for r in caplog.records)
    with pytest.raises(PayloadCorrupt) as info:
        store.read(ref.payload_guid)
    assert ref.payload_guid in str(info.value)
    assert info.value.payload_guid == ref.payload_guid


def test_edited_main_file_is_corrupt(store: PayloadStore) -> None:
    ref = store.write_new(script("original"))
    (store.path_for(ref.payload_guid) / "script.ps1").write_text("tampered")
    assert store.check(ref.payload_guid, ref.checksum) is Integrity.CORRUPT
    with pytest.raises(PayloadCorrupt):
        store.read(ref.payload_guid)


def test_consistently_edited_manifest_fails_the_record_checksum(store: PayloadStore) -> None:
    # Someone edits the script and fixes up the manifest to match: the folder is
    # self-consistent, but the checksum the record holds no longer matches.
    ref = store.write_new(script("original"))
    folder = store.path_for(ref.payload_guid)
    (folder / "script.ps1").write_bytes(b"evil")
    manifest = json.loads((folder / "manifest.json").read_bytes())
    manifest["main"]["size"] = 4
    manifest["main"]["sha256"] = hashlib.sha256(b"evil").hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert store.check(ref.payload_guid) is Integrity.OK
    assert store.check(ref.payload_guid, ref.checksum) is Integrity.CORRUPT
    with pytest.raises(PayloadCorrupt, match="checksum"):
        store.read(ref.payload_guid, ref.checksum)


@pytest.mark.parametrize(
    "manifest",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'{"format": 1}',
        b'{"format": 99, "payload_type": "script", "main": {}, "files": []}',
        b"[" * 100_000,
    ],
)
def test_unreadable_manifest_is_corrupt(store: PayloadStore, manifest: bytes) -> None:
    ref = store.write_new(script())
    (store.path_for(ref.payload_guid) / "manifest.json").write_bytes(manifest)
    assert store.check(ref.payload_guid) is Integrity.CORRUPT
    with pytest.raises(PayloadCorrupt):
        store.read(ref.payload_guid)


def test_manifest_naming_a_path_outside_is_corrupt(store: PayloadStore, outside: Path) -> None:
    ref = store.write_new(script("x", PayloadFile("a.txt", b"a")))
    folder = store.path_for(ref.payload_guid)
    manifest = json.loads((folder / "manifest.json").read_bytes())
    manifest["files"][0]["name"] = "../../../outside/sentinel.txt"
    manifest["files"][0]["size"] = len(SENTINEL_TEXT)
    manifest["files"][0]["sha256"] = hashlib.sha256(SENTINEL_TEXT).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(PayloadCorrupt):
        store.read(ref.payload_guid)
    assert_untouched(outside)


def test_deleted_file_is_missing(store: PayloadStore, caplog: pytest.LogCaptureFixture) -> None:
    ref = store.write_new(script("x", PayloadFile("a.txt", b"a")))
    (store.path_for(ref.payload_guid) / "files" / "a.txt").unlink()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert store.check(ref.payload_guid, ref.checksum) is Integrity.MISSING
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and r.name == LOGGER]
    assert warnings and ref.payload_guid in warnings[0].getMessage()
    with pytest.raises(PayloadMissing) as info:
        store.read(ref.payload_guid)
    assert ref.payload_guid in str(info.value)
    assert info.value.payload_guid == ref.payload_guid


def test_deleted_folder_and_manifest_are_missing(store: PayloadStore) -> None:
    ref = store.write_new(script())
    (store.path_for(ref.payload_guid) / "manifest.json").unlink()
    assert store.check(ref.payload_guid) is Integrity.MISSING
    shutil.rmtree(store.path_for(ref.payload_guid))
    assert store.check(ref.payload_guid) is Integrity.MISSING
    never_written = new_payload_guid()
    with pytest.raises(PayloadMissing, match=never_written):
        store.read(never_written)
    with pytest.raises(PayloadMissing):
        store.ref_for(never_written)


def test_non_regular_files_are_corrupt(store: PayloadStore) -> None:
    ref = store.write_new(script("x", PayloadFile("a.txt", b"a")))
    folder = store.path_for(ref.payload_guid)
    (folder / "script.ps1").unlink()
    (folder / "script.ps1").mkdir()
    assert store.check(ref.payload_guid) is Integrity.CORRUPT

    other = store.write_new(script("x", PayloadFile("a.txt", b"a")))
    shutil.rmtree(store.path_for(other.payload_guid) / "files")
    (store.path_for(other.payload_guid) / "files").write_bytes(b"not a dir")
    assert store.check(other.payload_guid) is Integrity.CORRUPT


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.timeout(20)
def test_fifo_in_place_of_a_file_is_corrupt_and_does_not_hang(store: PayloadStore) -> None:
    ref = store.write_new(script())
    main = store.path_for(ref.payload_guid) / "script.ps1"
    main.unlink()
    os.mkfifo(main)
    assert store.check(ref.payload_guid) is Integrity.CORRUPT


def test_extra_unlisted_files_are_ignored(store: PayloadStore) -> None:
    ref = store.write_new(script())
    (store.path_for(ref.payload_guid) / ".DS_Store").write_bytes(b"junk")
    assert store.check(ref.payload_guid, ref.checksum) is Integrity.OK


def test_empty_expected_checksum_means_not_given(store: PayloadStore) -> None:
    ref = store.write_new(script())
    assert store.check(ref.payload_guid, "") is Integrity.OK
    assert store.check(ref.payload_guid, "0" * 64) is Integrity.CORRUPT


# -------------------------------------------------------------- GUIDs and traversal

BAD_GUIDS = [
    "../../etc",
    "/etc/passwd",
    "..",
    ".",
    "",
    "0123456789ABCDEF0123456789ABCDEF",  # uppercase hex
    "0123456789abcdef0123456789abcde",  # 31 chars
    "0123456789abcdef0123456789abcdef0",  # 33 chars
    "0123456789abcdef0123456789abcde\x00",  # NUL byte
    "0123456789abcdef0123456789abcdef\n",  # trailing newline
    "0123456789abcdef-0123-456789abcde",
    "0123456789abcdef0123456789abcdeg",
    "../outside/sentinel.txt",
    "12345678-1234-1234-1234-123456789abc",  # dashed uuid form
]


@pytest.mark.parametrize("guid", BAD_GUIDS)
def test_malformed_guids_are_rejected_everywhere(store: PayloadStore, outside: Path, guid: str) -> None:
    other = PayloadStore(outside.parent / "other")
    calls = [
        lambda: store.path_for(guid),
        lambda: store.exists(guid),
        lambda: store.read(guid),
        lambda: store.check(guid),
        lambda: store.ref_for(guid),
        lambda: store.delete(guid),
        lambda: store.write_with_guid(guid, script()),
        lambda: store.copy_to(guid, other),
    ]
    for call in calls:
        with pytest.raises(InvalidPayloadGuid) as info:
            call()
        assert isinstance(info.value, ValueError)
    assert list(store.root.iterdir()) == []
    assert list(other.root.iterdir()) == []
    assert_untouched(outside)


def test_non_string_guid_is_rejected(store: PayloadStore) -> None:
    with pytest.raises(InvalidPayloadGuid):
        store.path_for(None)  # type: ignore[arg-type]


def test_guid_folder_symlinked_outside_is_rejected(store: PayloadStore, outside: Path) -> None:
    guid = new_payload_guid()
    # Make the outside folder look like a payload so a naive reader would serve it.
    PayloadStore(outside.parent / "decoy").write_with_guid(guid, script("secret"))
    shutil.copytree(outside.parent / "decoy" / guid, outside / "payload")
    (store.root / guid).symlink_to(outside / "payload", target_is_directory=True)
    before = sorted(str(p.relative_to(outside)) for p in outside.rglob("*"))

    with pytest.raises(InvalidPayloadGuid):
        store.path_for(guid)
    with pytest.raises(PayloadCorrupt):
        store.read(guid)
    assert store.check(guid) is Integrity.CORRUPT
    with pytest.raises(PayloadCorrupt):
        store.ref_for(guid)
    # The GUID's place is taken (by something corrupt): it is not free to write into.
    assert store.exists(guid)
    with pytest.raises(PayloadExists):
        store.write_with_guid(guid, script("overwrite"))
    with pytest.raises(PayloadCorrupt):
        store.copy_to(guid, PayloadStore(outside.parent / "elsewhere"))
    assert store.list_guids() == set()
    assert store.sweep_orphans(set()).orphans == ()
    store.sweep_orphans(set(), SweepScope(remove=True))
    assert (store.root / guid).is_symlink()
    assert sorted(str(p.relative_to(outside)) for p in outside.rglob("*")) == before

    # delete removes the link itself, never what it points to.
    store.delete(guid)
    assert not os.path.lexists(store.root / guid)
    assert not store.exists(guid)
    assert list(store.root.iterdir()) == []
    assert sorted(str(p.relative_to(outside)) for p in outside.rglob("*")) == before
    assert (outside / "sentinel.txt").read_bytes() == SENTINEL_TEXT
    assert (outside / "payload" / "script.ps1").read_bytes() == b"secret"


def test_copy_to_replaces_a_symlinked_target_without_following_it(tmp_path: Path, outside: Path) -> None:
    staging = PayloadStore(tmp_path / "staging")
    runtime = PayloadStore(tmp_path / "runtime")
    content = script("good")
    ref = staging.write_new(content)
    (runtime.root / ref.payload_guid).symlink_to(outside, target_is_directory=True)
    assert staging.copy_to(ref.payload_guid, runtime) == ref
    assert not (runtime.root / ref.payload_guid).is_symlink()
    assert runtime.read(ref.payload_guid, ref.checksum) == content
    assert [p.name for p in runtime.root.iterdir()] == [ref.payload_guid]
    assert_untouched(outside)


def test_guid_folder_symlinked_inside_root_is_rejected(store: PayloadStore) -> None:
    real = store.write_new(script())
    alias = new_payload_guid()
    (store.root / alias).symlink_to(store.root / real.payload_guid, target_is_directory=True)
    with pytest.raises(InvalidPayloadGuid):
        store.path_for(alias)
    assert store.check(alias) is Integrity.CORRUPT
    assert store.list_guids() == {real.payload_guid}


def test_symlinked_file_inside_folder_is_corrupt(store: PayloadStore, outside: Path) -> None:
    ref = store.write_new(script("x", PayloadFile("a.txt", SENTINEL_TEXT)))
    folder = store.path_for(ref.payload_guid)
    # Same bytes as the sentinel, so only the symlink check can catch it.
    (folder / "files" / "a.txt").unlink()
    (folder / "files" / "a.txt").symlink_to(outside / "sentinel.txt")
    assert store.check(ref.payload_guid) is Integrity.CORRUPT
    with pytest.raises(PayloadCorrupt):
        store.read(ref.payload_guid)
    store.delete(ref.payload_guid)
    assert not store.exists(ref.payload_guid)
    assert_untouched(outside)


def test_symlinked_manifest_and_files_dir_are_corrupt(store: PayloadStore, outside: Path) -> None:
    ref = store.write_new(script("x", PayloadFile("a.txt", b"a")))
    folder = store.path_for(ref.payload_guid)
    shutil.copytree(folder / "files", outside / "files")
    shutil.rmtree(folder / "files")
    (folder / "files").symlink_to(outside / "files", target_is_directory=True)
    assert store.check(ref.payload_guid) is Integrity.CORRUPT

    other = store.write_new(script())
    manifest = store.path_for(other.payload_guid) / "manifest.json"
    shutil.copy(manifest, outside / "manifest.json")
    manifest.unlink()
    manifest.symlink_to(outside / "manifest.json")
    assert store.check(other.payload_guid) is Integrity.CORRUPT

    store.delete(ref.payload_guid)
    store.delete(other.payload_guid)
    assert (outside / "files" / "a.txt").read_bytes() == b"a"
    assert (outside / "manifest.json").exists()
    assert (outside / "sentinel.txt").read_bytes() == SENTINEL_TEXT


def test_root_reached_through_a_symlink_still_works(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    store = PayloadStore(tmp_path / "link")
    ref = store.write_new(script("via link"))
    assert store.read(ref.payload_guid).text == "via link"
    assert (real / ref.payload_guid).is_dir()


# ------------------------------------------------------------------- orphans and gc


def test_orphans_found_and_removed(store: PayloadStore) -> None:
    kept = store.write_new(script("kept")).payload_guid
    orphan_a = store.write_new(script("a")).payload_guid
    orphan_b = store.write_new(script("b")).payload_guid
    (store.root / "README.txt").write_text("not a payload")
    (store.root / "not-a-guid").mkdir()

    referenced = {kept, "0" * 32, "garbage"}  # references to absent folders are fine
    assert store.sweep_orphans(referenced).orphans == tuple(sorted([orphan_a, orphan_b]))
    assert set(store.sweep_orphans(referenced, SweepScope(remove=True)).removed) == {orphan_a, orphan_b}
    assert store.list_guids() == {kept}
    assert store.read(kept).text == "kept"
    assert (store.root / "README.txt").exists()
    assert (store.root / "not-a-guid").is_dir()
    assert store.sweep_orphans(referenced, SweepScope(remove=True)).removed == ()


def test_crash_leftover_temp_folder(store: PayloadStore) -> None:
    kept = store.write_new(script("kept")).payload_guid
    # A crash between writing the temp folder and renaming it leaves this behind.
    guid = new_payload_guid()
    leftover = store.root / f".tmp-{guid}-deadbeef"
    leftover.mkdir()
    (leftover / "script.ps1").write_bytes(b"half written")

    assert store.list_guids() == {kept}
    assert not store.exists(guid)
    assert store.sweep_orphans({kept}).orphans == ()
    with pytest.raises(PayloadMissing):
        store.read(guid)

    assert store.sweep_orphans({kept}, SweepScope(remove=True)).removed == (leftover.name,)
    assert not leftover.exists()
    assert store.list_guids() == {kept}
    assert store.write_with_guid(guid, script("redo")).payload_guid == guid


def test_temp_folder_grace_period(store: PayloadStore) -> None:
    fresh = store.root / f".tmp-{new_payload_guid()}-00000000"
    fresh.mkdir()
    stale = store.root / f".tmp-{new_payload_guid()}-11111111"
    stale.mkdir()
    old = time.time() - 7200
    os.utime(stale, (old, old))
    sweep = store.sweep_orphans(set(), SweepScope(grace_seconds=3600, remove=True))
    assert sweep.removed == sweep.stale_temp == (stale.name,)
    assert fresh.exists()
    assert store.remove_leftover_temp(min_age_seconds=3600) == set()
    assert store.remove_leftover_temp() == {fresh.name}


def test_young_orphans_are_reported_not_removed(store: PayloadStore) -> None:
    young = store.write_new(script("young")).payload_guid
    old = store.write_new(script("old")).payload_guid
    past = time.time() - 7200
    os.utime(store.root / old, (past, past))
    sweep = store.sweep_orphans(set(), SweepScope(grace_seconds=3600, remove=True))
    assert (sweep.orphans, sweep.recent, sweep.removed) == ((old,), (young,), (old,))
    assert store.list_guids() == {young}


def test_gc_during_a_write_keeps_the_write_in_progress(
    store: PayloadStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write_file = payloads_module.write_new_file
    removed_mid_write: list[set[str]] = []

    def write_then_collect(path: Path, data: bytes, mode: int = 0o644) -> None:
        real_write_file(path, data, mode)
        if path.name == "manifest.json":  # the temp folder is complete, not yet renamed
            removed_mid_write.append(set(store.sweep_orphans(set(), SweepScope(remove=True)).removed))

    monkeypatch.setattr(payloads_module, "write_new_file", write_then_collect)
    ref = store.write_new(script("in flight"))
    assert removed_mid_write == [set()]
    assert store.read(ref.payload_guid).text == "in flight"


def test_failed_write_leaves_no_temp_folder(store: PayloadStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "rename", refuse)
    with pytest.raises(OSError):
        store.write_new(script())
    monkeypatch.undo()
    assert list(store.root.iterdir()) == []


# ------------------------------------------------------------------------ copy_to


def test_copy_to_mirrors_and_is_idempotent(tmp_path: Path) -> None:
    staging = PayloadStore(tmp_path / "staging" / "Payloads")
    runtime = PayloadStore(tmp_path / "runtime" / "Payloads")
    content = script("x", PayloadFile("a.bin", BINARY_BLOB))
    ref = staging.write_new(content)

    copied = staging.copy_to(ref.payload_guid, runtime)
    assert copied == ref
    assert runtime.read(ref.payload_guid, ref.checksum) == content
    folder = runtime.path_for(ref.payload_guid)
    before = {p.name: p.stat().st_ino for p in folder.rglob("*")}

    assert staging.copy_to(ref.payload_guid, runtime) == ref
    assert {p.name: p.stat().st_ino for p in folder.rglob("*")} == before  # not rewritten
    assert runtime.list_guids() == {ref.payload_guid}
    assert [p.name for p in runtime.root.iterdir()] == [ref.payload_guid]

    # And back the other way (Dev Mode mirroring runtime -> staging).
    back = runtime.write_new(script("dev edit"))
    assert runtime.copy_to(back.payload_guid, staging) == back
    assert staging.read(back.payload_guid).text == "dev edit"


def test_copy_to_repairs_a_corrupt_target(tmp_path: Path) -> None:
    staging = PayloadStore(tmp_path / "staging")
    runtime = PayloadStore(tmp_path / "runtime")
    content = script("good", PayloadFile("a.txt", b"a"))
    ref = staging.write_new(content)
    staging.copy_to(ref.payload_guid, runtime)

    (runtime.path_for(ref.payload_guid) / "files" / "a.txt").write_bytes(b"bad")
    assert runtime.check(ref.payload_guid) is Integrity.CORRUPT
    assert staging.copy_to(ref.payload_guid, runtime) == ref
    assert runtime.read(ref.payload_guid, ref.checksum) == content

    # A half-empty folder (e.g. manifest gone) is replaced too.
    (runtime.path_for(ref.payload_guid) / "manifest.json").unlink()
    assert staging.copy_to(ref.payload_guid, runtime) == ref
    assert runtime.check(ref.payload_guid, ref.checksum) is Integrity.OK

    # A different but valid payload under the same GUID is replaced by the source.
    shutil.rmtree(runtime.path_for(ref.payload_guid))
    runtime.write_with_guid(ref.payload_guid, script("different"))
    assert staging.copy_to(ref.payload_guid, runtime) == ref
    assert runtime.read(ref.payload_guid) == content
    assert [p.name for p in runtime.root.iterdir()] == [ref.payload_guid]


def test_copy_to_refuses_a_damaged_source(tmp_path: Path) -> None:
    staging = PayloadStore(tmp_path / "staging")
    runtime = PayloadStore(tmp_path / "runtime")
    ref = staging.write_new(script("x"))
    (staging.path_for(ref.payload_guid) / "script.ps1").write_bytes(b"y")
    with pytest.raises(PayloadCorrupt):
        staging.copy_to(ref.payload_guid, runtime)
    with pytest.raises(PayloadMissing):
        staging.copy_to(new_payload_guid(), runtime)
    assert runtime.list_guids() == set()


def test_ref_for_recomputes_from_disk(store: PayloadStore) -> None:
    content = script("abc", PayloadFile("a.txt", b"12345"))
    ref = store.write_new(content)
    assert store.ref_for(ref.payload_guid) == PayloadRef(
        ref.payload_guid, PayloadType.SCRIPT, 8, ref.checksum
    )


# ------------------------------------------------------------------ property test

_NAME_ALPHABET = st.characters(
    codec="utf-8",
    exclude_categories=("Cc", "Cs"),
    exclude_characters="/\\",
)
_file_names = st.text(_NAME_ALPHABET, min_size=1, max_size=60).filter(
    lambda name: not name.startswith(".") and len(name.encode("utf-8")) <= 255
)
_main_names = st.builds(
    lambda stem, ext: stem + ext,
    _file_names.filter(lambda s: len(s.encode("utf-8")) <= 250 and s.lower() != "manifest"),
    st.sampled_from([".ps1", ".bat", ".sh", ".py", ".yml", ".json"]),
)
_payload_files = st.builds(
    PayloadFile,
    file_name=_file_names,
    data=st.binary(max_size=2048),
    mime_type=st.sampled_from(["application/octet-stream", "text/plain", "image/png", ""]),
)
_contents = st.builds(
    PayloadContent,
    payload_type=st.sampled_from(list(PayloadType)),
    main_file_name=_main_names,
    main=st.binary(max_size=4096),
    files=st.lists(_payload_files, max_size=5, unique_by=lambda f: f.file_name).map(tuple),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=_contents)
def test_any_content_round_trips(tmp_path_factory: pytest.TempPathFactory, content: PayloadContent) -> None:
    # tmp_path_factory (session scoped) rather than tmp_path: one fresh root per example.
    store = PayloadStore(tmp_path_factory.mktemp("roundtrip") / "Payloads")
    ref = store.write_new(content)
    assert store.read(ref.payload_guid, ref.checksum) == content
    assert store.ref_for(ref.payload_guid) == ref
    assert ref.size_bytes == len(content.main) + sum(f.size for f in content.files)
    for item in content.files:
        on_disk = store.path_for(ref.payload_guid) / "files" / item.file_name
        assert on_disk.read_bytes() == item.data
