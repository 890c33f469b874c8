"""Contract of the PayloadStore interface: write-once content checked by checksum."""

from __future__ import annotations

from pathlib import Path

import pytest

from assembly_engine.domain.types import Integrity, PayloadType
from assembly_engine.storage.contract.models import PayloadContent, PayloadFile
from assembly_engine.storage.contract.payload_manifest import image_of
from assembly_engine.storage.contract.reports import SweepScope
from assembly_engine.storage.sqlite.payload_folders import (
    InvalidFileName,
    InvalidPayloadGuid,
    PayloadError,
    PayloadExists,
)
from assembly_engine.storage.sqlite.payload_folders import PayloadStore as FolderPayloadStore
from tests.storage.contracts.backends import Backend


def content(text: str = "Write-Host 'hi'\n") -> PayloadContent:
    return PayloadContent(
        PayloadType.SCRIPT,
        "script.ps1",
        text.encode(),
        files=(PayloadFile("notes.txt", b"\x00binary", "text/plain"),),
    )


def test_written_content_reads_back_byte_for_byte(backend: Backend) -> None:
    store = backend.payloads()
    ref = store.write_new(content())
    assert store.exists(ref.payload_guid)
    assert ref.payload_guid in store.list_guids()
    read = store.read(ref.payload_guid, ref.checksum)
    assert read.main == content().main and read.files == content().files
    assert store.ref_for(ref.payload_guid) == ref
    assert store.check(ref.payload_guid, ref.checksum) is Integrity.OK


def test_each_write_gets_its_own_guid(backend: Backend) -> None:
    store = backend.payloads()
    first, second = store.write_new(content()), store.write_new(content())
    assert first.payload_guid != second.payload_guid
    assert first.checksum == second.checksum  # the same content, the same checksum


def test_missing_and_mismatched_payloads_are_told_apart(backend: Backend) -> None:
    store = backend.payloads()
    ref = store.write_new(content())
    assert store.check("0" * 32) is Integrity.MISSING
    assert store.check(ref.payload_guid, "f" * 64) is Integrity.CORRUPT
    with pytest.raises(PayloadError):
        store.read("0" * 32)


def test_delete_is_idempotent(backend: Backend) -> None:
    store = backend.payloads()
    ref = store.write_new(content())
    store.delete(ref.payload_guid)
    store.delete(ref.payload_guid)
    assert not store.exists(ref.payload_guid)
    assert store.check(ref.payload_guid) is Integrity.MISSING


def test_sweep_reports_then_removes_only_the_unreferenced(backend: Backend) -> None:
    store = backend.payloads()
    kept = store.write_new(content("kept")).payload_guid
    orphan = store.write_new(content("orphan")).payload_guid
    found = store.sweep_orphans({kept})
    assert (found.orphans, found.removed) == ((orphan,), ())
    assert store.exists(orphan)
    # A grace period protects what may belong to a write in progress.
    assert store.sweep_orphans({kept}, SweepScope(grace_seconds=3600, remove=True)).recent == (orphan,)
    assert store.exists(orphan)
    assert store.sweep_orphans({kept}, SweepScope(remove=True)).removed == (orphan,)
    assert store.list_guids() == {kept}


def test_a_guid_is_written_once(backend: Backend) -> None:
    store = backend.payloads()
    guid = "ab" * 16
    ref = store.write_with_guid(guid, content())
    with pytest.raises(PayloadExists):
        store.write_with_guid(guid, content("other"))
    assert store.read(guid, ref.checksum).main == content().main


@pytest.mark.parametrize("guid", ["", "0" * 31, "A" * 32, "../" + "0" * 29, "0" * 32 + "\x00"])
def test_a_malformed_guid_is_the_callers_error(backend: Backend, guid: str) -> None:
    store = backend.payloads()
    for call in (store.exists, store.read, store.check, store.ref_for, store.delete):
        with pytest.raises(InvalidPayloadGuid):
            call(guid)
    assert store.manifest_bytes(guid) is None


@pytest.mark.parametrize("name", ["", ".hidden", "a/b", "a\\b", "nul\x00", "tab\t", "x" * 256])
def test_unsafe_attachment_names_are_refused(backend: Backend, name: str) -> None:
    store = backend.payloads()
    bad = PayloadContent(
        PayloadType.SCRIPT, "script.ps1", b"x", files=(PayloadFile(name, b"", "text/plain"),)
    )
    with pytest.raises(InvalidFileName):
        store.write_new(bad)
    assert store.list_guids() == set()


def test_names_and_bytes_round_trip_exactly(backend: Backend) -> None:
    store = backend.payloads()
    written = PayloadContent(
        PayloadType.BINARY,
        "tool.py",
        bytes(range(256)),
        files=(
            PayloadFile("rapport-é.xlsx", b"\xff" * 70_000, "application/vnd.ms-excel"),
            PayloadFile("empty.txt", b"", "text/plain"),
            PayloadFile("a" * 251 + ".txt", b"long name", "text/plain"),
        ),
    )
    ref = store.write_new(written)
    assert ref.size_bytes == 256 + 70_000 + 9
    assert store.read(ref.payload_guid, ref.checksum) == written
    assert store.ref_for(ref.payload_guid) == ref


def test_sweep_judges_only_what_was_listed(backend: Backend) -> None:
    store = backend.payloads()
    listed = store.write_new(content("listed")).payload_guid
    unlisted = store.write_new(content("written after the listing")).payload_guid
    found = store.sweep_orphans(set(), SweepScope(listed={listed}, remove=True))
    assert (found.orphans, found.removed) == ((listed,), (listed,))
    assert store.list_guids() == {unlisted}


def folder_store(tmp_path: Path) -> FolderPayloadStore:
    return FolderPayloadStore(tmp_path / "staging" / "Payloads")


def test_a_copy_from_a_folder_store_keeps_the_manifest_byte_for_byte(
    backend: Backend, tmp_path: Path
) -> None:
    staging, target = folder_store(tmp_path), backend.payloads()
    ref = staging.write_new(content())
    assert staging.copy_to(ref.payload_guid, target) == ref
    assert target.manifest_bytes(ref.payload_guid) == staging.manifest_bytes(ref.payload_guid)
    assert target.read_image(ref.payload_guid, ref.checksum) == staging.read_image(ref.payload_guid)
    # Copying again finds the identical copy and writes nothing; so does the quick path.
    assert staging.copy_to(ref.payload_guid, target) == ref
    assert staging.copy_to(ref.payload_guid, target, trust_identical=True) == ref


def test_a_copy_back_to_a_folder_store_is_the_same_payload(backend: Backend, tmp_path: Path) -> None:
    source, back = backend.payloads(), folder_store(tmp_path)
    ref = source.write_new(content("exported"))
    assert source.copy_to(ref.payload_guid, back) == ref
    assert back.read(ref.payload_guid, ref.checksum) == source.read(ref.payload_guid)


def test_a_different_copy_under_the_guid_is_replaced(backend: Backend, tmp_path: Path) -> None:
    staging, target = folder_store(tmp_path), backend.payloads()
    ref = staging.write_new(content("the staging copy"))
    other = image_of(content("an older, different copy"), ref.payload_guid)
    target.install_copy(ref.payload_guid, other)
    assert target.check(ref.payload_guid, ref.checksum) is Integrity.CORRUPT
    assert staging.copy_to(ref.payload_guid, target, trust_identical=True) == ref
    assert target.read(ref.payload_guid, ref.checksum).main == b"the staging copy"


def test_a_copy_survives_a_reopen(backend: Backend, tmp_path: Path) -> None:
    staging = folder_store(tmp_path)
    ref = staging.write_new(content())
    staging.copy_to(ref.payload_guid, backend.payloads())
    assert backend.payloads().ref_for(ref.payload_guid) == ref
