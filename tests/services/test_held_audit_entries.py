"""Audit entries the store refuses (PostgreSQL away, a full disk) are held and written late,
marked so, once an append works again; a flood of them is bounded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assembly_engine.domain.types import Role
from assembly_engine.services import auditor as auditor_module
from assembly_engine.services.audit import AuditLog, Outcome
from assembly_engine.services.auditor import Auditor
from assembly_engine.services.auth.policy import Actor
from assembly_engine.services.caller import Caller
from assembly_engine.storage.contract.errors import Unavailable
from assembly_engine.storage.sqlite.audit_log import HashChainedLog

OLGA = Caller(Actor("olga", Role.OPERATOR, False), "session-olga")


class AwayLog(HashChainedLog):
    """The chained log, refusing every append while ``away``; ``takes`` more appends first
    when set (a store that comes back for a moment)."""

    away = False
    takes: int | None = None

    def append(self, fields: dict[str, Any], announce: Any = None) -> dict[str, Any]:
        if self.away:
            if not self.takes:
                raise Unavailable("PostgreSQL could not be reached while recording an audit entry")
            self.takes -= 1
        return super().append(fields, announce)


def written(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def held_while_away(tmp_path: Path, details: list[str]) -> tuple[Path, AwayLog, Auditor]:
    """An auditor whose store is away and holds one refused entry per detail."""
    path = tmp_path / "audit.log"
    store = AwayLog(path)
    auditor = Auditor(AuditLog(store))
    store.away = True
    for detail in details:
        auditor.record(OLGA, "assembly.update", Outcome.DENIED, detail=detail)
    return path, store, auditor


def test_refused_entries_are_written_late_in_order_once_the_store_works(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    store = AwayLog(path)
    auditor = Auditor(AuditLog(store))
    store.away = True
    auditor.record(OLGA, "assembly.update", Outcome.DENIED, detail="first")
    auditor.record(OLGA, "assembly.delete", Outcome.DENIED)
    assert not path.exists() or written(path) == []
    store.away = False
    auditor.record(OLGA, "assembly.list", Outcome.DENIED, detail="after")
    entries = written(path)
    assert [(e["action"], e["outcome"]) for e in entries] == [
        ("assembly.list", "denied"),
        ("assembly.update", "denied"),
        ("assembly.delete", "denied"),
    ]
    assert entries[0]["detail"] == "after"
    assert entries[1]["detail"].startswith("first (recorded late: it happened at ")
    assert "when the audit store could not be written" in entries[2]["detail"]
    auditor.record(OLGA, "assembly.list", Outcome.DENIED, detail="again")
    assert len(written(path)) == 4  # written once
    assert store.verify().ok


def test_a_flood_while_the_store_is_away_keeps_the_newest_and_says_how_many_went(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auditor_module, "HELD_LIMIT", 3)
    path, store, auditor = held_while_away(tmp_path, [f"refusal {number}" for number in range(5)])
    store.away = False
    auditor.record(OLGA, "assembly.list", Outcome.DENIED, detail="back")
    entries = written(path)
    assert [e["action"] for e in entries] == ["assembly.list", "audit.dropped", *["assembly.update"] * 3]
    assert entries[1]["detail"].startswith("2 audit entries were lost")
    assert [e["detail"].split(" (")[0] for e in entries[2:]] == ["refusal 2", "refusal 3", "refusal 4"]


def test_a_store_gone_again_keeps_what_it_did_not_take(tmp_path: Path) -> None:
    path, store, auditor = held_while_away(tmp_path, [f"held {number}" for number in range(3)])
    store.takes = 2  # the new entry and the first held one, then away again
    auditor.record(OLGA, "assembly.list", Outcome.DENIED, detail="brief")
    assert [e["detail"].split(" (")[0] for e in written(path)] == ["brief", "held 0"]
    store.away = False
    auditor.record(OLGA, "assembly.list", Outcome.DENIED, detail="back")
    assert [e["detail"].split(" (")[0] for e in written(path)] == [
        "brief",
        "held 0",
        "back",
        "held 1",
        "held 2",
    ]
    assert store.verify().ok
