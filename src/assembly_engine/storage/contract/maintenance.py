"""What maintenance reports and the layout of a backup, alike for every backend."""

from __future__ import annotations

from dataclasses import dataclass

BACKUP_ASSEMBLIES = "Assemblies"


BACKUP_PAYLOADS = "Payloads"


BACKUP_LOGS = "Logs"


@dataclass(frozen=True)
class SchemaStatus:
    """How one domain database's schema compares with what this engine expects."""

    file: str
    user_version: int
    missing_columns: tuple[str, ...]
    expected_version: int  # the backend's own numbering

    @property
    def ok(self) -> bool:
        return not self.missing_columns and self.user_version == self.expected_version
