"""Contract of the PayloadStore interface: write-once content checked by checksum."""

from __future__ import annotations

import pytest

from assembly_engine.persistence.models import PayloadContent, PayloadFile
from assembly_engine.persistence.payloads import PayloadError
from assembly_engine.types import Integrity, PayloadType

from .conftest import Backend


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
    assert store.sweep_orphans({kept}, grace_seconds=3600, remove=True).recent == (orphan,)
    assert store.exists(orphan)
    assert store.sweep_orphans({kept}, remove=True).removed == (orphan,)
    assert store.list_guids() == {kept}
