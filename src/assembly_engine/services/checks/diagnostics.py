"""What a check answers: diagnostics with positions, and which checkers ran.

Positions are 1-based lines and columns, as editors and ShellCheck count them; an end
equal to the start marks a point.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
# A hostile script can make a checker report one diagnostic per character: the answer,
# the cache and the editor need only the first few hundred.
MAX_DIAGNOSTICS = 500

# The main payload file's name tells its language (payload_layout.main_file_name).
LANGUAGE_OF_FILE: dict[str, str] = {
    "script.ps1": "powershell",
    "script.bat": "batch",
    "script.sh": "bash",
    "script.py": "python",
    "playbook.yml": "ansible",
    "workflow.json": "workflow",
}
LANGUAGES = tuple(LANGUAGE_OF_FILE.values())


@dataclass(frozen=True)
class Diagnostic:
    line: int
    column: int
    end_line: int
    end_column: int
    severity: Severity
    code: str
    message: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        # Spelled out: dataclasses.asdict deep-copies every field, and a result holds up
        # to MAX_DIAGNOSTICS of these (a bulk import's checks spent a quarter of their
        # time in it).
        return {
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "source": self.source,
        }

    @classmethod
    def at(
        cls,
        line: int,
        column: int,
        severity: Severity,
        code: str,
        message: str,
        source: str,
        end: tuple[int, int] | None = None,
    ) -> Diagnostic:
        end_line, end_column = end if end is not None else (line, column)
        return cls(line, column, end_line, end_column, severity, code, message, source)


@dataclass(frozen=True)
class CheckerRun:
    """One checker's part of a check: whether it could run and how it ended."""

    name: str
    available: bool
    timed_out: bool = False
    failed: str | None = None  # why it ended without an answer (crash, memory limit)
    seconds: float = 0.0  # wall-clock time of the check
    cpu_seconds: float = 0.0  # CPU time of its process (load tells apart from cost)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckerRun:
        return cls(
            str(data["name"]),
            bool(data["available"]),
            bool(data.get("timed_out", False)),
            data.get("failed"),
            float(data.get("seconds", 0.0)),
            float(data.get("cpu_seconds", 0.0)),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "available": self.available,
            "timed_out": self.timed_out,
            "seconds": round(self.seconds, 4),
            "cpu_seconds": round(self.cpu_seconds, 4),
        }
        if self.failed is not None:
            out["failed"] = self.failed
        return out


@dataclass(frozen=True)
class CheckResult:
    language: str
    checksum: str
    diagnostics: tuple[Diagnostic, ...] = ()
    checkers: tuple[CheckerRun, ...] = field(default_factory=tuple)

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
        for d in self.diagnostics:
            counts[d.severity] += 1
        return counts

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)

    @property
    def timed_out(self) -> bool:
        return any(c.timed_out for c in self.checkers)

    def to_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "checksum": self.checksum,
            "counts": self.counts,
            "has_errors": self.has_errors,
            "timed_out": self.timed_out,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
            "checkers": [c.to_dict() for c in self.checkers],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        """A result as to_dict wrote it (a stored one); KeyError/TypeError when damaged."""
        return cls(
            str(data["language"]),
            str(data["checksum"]),
            tuple(Diagnostic(**item) for item in data["diagnostics"]),
            tuple(CheckerRun.from_dict(item) for item in data["checkers"]),
        )


def sorted_capped(diagnostics: list[Diagnostic]) -> tuple[Diagnostic, ...]:
    ranked = sorted(diagnostics, key=lambda d: (d.line, d.column, SEVERITIES.index(d.severity), d.code))
    return tuple(ranked[:MAX_DIAGNOSTICS])
