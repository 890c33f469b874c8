"""A script check: of a draft (Docs/script-checks.md), and a stored payload's state as the
list, the detail and a revision show it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from assembly_engine.services.answers.base import OpenAnswer, PublishedAsObject
from assembly_engine.services.checks.diagnostics import CheckResult


class CheckDiagnostic(OpenAnswer):
    line: int
    column: int
    end_line: int
    end_column: int
    severity: Literal["error", "warning", "info"]
    code: str
    message: str
    source: str


class CheckerState(OpenAnswer):
    name: str
    available: bool
    timed_out: bool
    seconds: float
    cpu_seconds: float = 0.0
    failed: str | None = None


class CheckAnswer(OpenAnswer):
    """A script check (Docs/script-checks.md)."""

    language: str
    checksum: str
    counts: dict[str, int]
    has_errors: bool
    timed_out: bool
    diagnostics: list[CheckDiagnostic]
    checkers: list[CheckerState]

    @classmethod
    def of(cls, result: CheckResult) -> CheckAnswer:
        # Built from the result's stored form: the fields and their rounding are its own.
        stored = result.to_dict()
        stored["diagnostics"] = [CheckDiagnostic.built(**d) for d in stored["diagnostics"]]
        stored["checkers"] = [CheckerState.built(**c) for c in stored["checkers"]]
        return cls.built(**stored)


class ScriptCheckState(PublishedAsObject):
    """A stored payload's check as a record answer shows it (``checks``)."""


@dataclass(frozen=True)
class CheckCounts(ScriptCheckState):
    """What the list shows of a checked payload."""

    counts: dict[str, int]
    has_errors: bool

    def published(self) -> dict[str, Any]:
        return {"counts": self.counts, "has_errors": self.has_errors}


@dataclass(frozen=True)
class CheckPending(ScriptCheckState):
    """A detail's payload not checked yet (its check is queued)."""

    language: str

    def published(self) -> dict[str, Any]:
        return {"status": "pending", "language": self.language}


@dataclass(frozen=True)
class CheckDone(ScriptCheckState):
    """A detail's payload with its kept result."""

    result: CheckResult

    def published(self) -> dict[str, Any]:
        return {"status": "checked", **self.result.to_dict()}
