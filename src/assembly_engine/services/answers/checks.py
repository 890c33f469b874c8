"""A script check of a draft (Docs/script-checks.md)."""

from __future__ import annotations

from typing import Literal

from assembly_engine.services.answers.base import DictAnswer


class CheckDiagnostic(DictAnswer):
    line: int
    column: int
    end_line: int
    end_column: int
    severity: Literal["error", "warning", "info"]
    code: str
    message: str
    source: str


class CheckerState(DictAnswer):
    name: str
    available: bool
    timed_out: bool
    seconds: float
    cpu_seconds: float = 0.0
    failed: str | None = None


class CheckAnswer(DictAnswer):
    """A script check (Docs/script-checks.md)."""

    language: str
    checksum: str
    counts: dict[str, int]
    has_errors: bool
    timed_out: bool
    diagnostics: list[CheckDiagnostic]
    checkers: list[CheckerState]
