"""Contract of the AuditStore interface: an append-only, verifiable chain."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from assembly_engine.storage.contract.reports import VerifyResult
from assembly_engine.storage.formats.audit_chain import (
    LOG_FILE_NAME,
    ZERO_HASH,
    chained_entry,
    entry_line,
    head_path_for,
    verify_file,
)
from tests.storage.contracts.backends import Backend


def fields(action: str, time: str = "2026-01-01T00:00:00.000Z") -> dict[str, Any]:
    return {
        "time": time,
        "user": "admin",
        "role": "admin",
        "session": None,
        "action": action,
        "domain": None,
        "assembly_guid": None,
        "outcome": "success",
        "dev_mode": False,
        "detail": None,
    }


def test_entries_are_numbered_and_chained(backend: Backend) -> None:
    store = backend.audit_store()
    first = store.append(fields("one"))
    second = store.append(fields("two"))
    assert (first["seq"], second["seq"]) == (1, 2)
    assert second["prev_hash"] == first["hash"]
    assert [e["action"] for e in store.entries()] == ["one", "two"]
    assert store.verify().ok and store.verify().entries == 2


def test_announce_sees_each_entry_in_order(backend: Backend) -> None:
    store = backend.audit_store()
    seen: list[int] = []
    for action in ("a", "b", "c"):
        store.append(fields(action), lambda entry: seen.append(entry["seq"]))
    assert seen == [1, 2, 3]


def test_entries_since_a_time(backend: Backend) -> None:
    store = backend.audit_store()
    store.append(fields("old", "2026-01-01T00:00:00.000Z"))
    store.append(fields("new", "2026-01-02T00:00:00.000Z"))
    assert [e["action"] for e in store.entries_since("2026-01-01T12:00:00.000Z")] == ["new"]


def test_a_reopened_chain_continues(backend: Backend) -> None:
    backend.audit_store().append(fields("before"))
    entry = backend.audit_store().append(fields("after"))
    assert entry["seq"] == 2
    assert backend.audit_store().verify().ok


def test_a_copy_verifies_on_its_own(backend: Backend, tmp_path: Path) -> None:
    store = backend.audit_store()
    store.append(fields("copied"))
    store.copy_to(tmp_path / "copy")
    copied = list((tmp_path / "copy").iterdir())
    assert copied


def test_an_entry_is_the_same_on_every_backend(backend: Backend) -> None:
    store = backend.audit_store()
    first = store.append(fields("one"))
    second = store.append(fields("two"))
    assert first == chained_entry(1, ZERO_HASH, fields("one"))
    assert second == chained_entry(2, first["hash"], fields("two"))
    assert store.entries() == [first, second]


def test_a_copy_is_the_file_layout_and_verifies(backend: Backend, tmp_path: Path) -> None:
    store = backend.audit_store()
    for action in ("a", "b", "c"):
        store.append(fields(action))
    store.copy_to(tmp_path / "copy")
    log = tmp_path / "copy" / LOG_FILE_NAME
    assert log.read_bytes() == b"".join(entry_line(e) + b"\n" for e in store.entries())
    assert json.loads(head_path_for(log).read_bytes()) == {"seq": 3, "hash": store.entries()[-1]["hash"]}
    assert verify_file(log) == VerifyResult(True, 3)


def test_concurrent_appends_make_one_chain_in_announced_order(backend: Backend) -> None:
    store = backend.audit_store()
    announced: list[int] = []

    def append_some(worker: int) -> None:
        for n in range(15):
            store.append(fields(f"w{worker}-{n}"), lambda entry: announced.append(entry["seq"]))

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(append_some, range(6)))
    assert announced == list(range(1, 91))
    assert [e["seq"] for e in store.entries()] == announced
    assert store.verify() == VerifyResult(True, 90)
