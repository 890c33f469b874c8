"""Script check results as every check result store keeps them (services/checks).

A result is found by the checksum of the checked content (SHA-256 of language and text)
and the versions of the checkers that produced it, so an unchanged script is never
checked twice, on any node, while a new checker version checks it again. The store is a
cache of answers that can always be computed again: losing it costs checks, never data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StoredCheck:
    checksum: str  # hex SHA-256 of the language and the text checked
    checkers: str  # the checker versions that answered (services/checks/versions.py)
    language: str
    result: str  # the check's answer as JSON (services/checks/diagnostics.CheckResult)
    checked_at: float  # seconds since the epoch

    # The column order both backends select in.
    COLUMNS = "checksum, checkers, language, result, checked_at"

    @classmethod
    def from_row(cls, row: Sequence[Any] | None) -> StoredCheck | None:
        """A row selected as :attr:`COLUMNS` (None: no such result)."""
        if row is None:
            return None
        return cls(str(row[0]), str(row[1]), str(row[2]), str(row[3]), float(row[4]))
