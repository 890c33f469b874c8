"""Maintenance on the files of one engine home: schema checks, backups, orphan sweeps.

The decisions (who may verify or back up, what counts as referenced, how findings are
reported and audited) are services/maintenance.py's; this module only reads and copies.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..types import DATABASE_FILES, Domain
from .databases import COLUMNS, SCHEMA_VERSION, table_columns
from .journal import JOURNAL_FILE
from .payload_sweep import OrphanSweep
from .payloads import PayloadError, PayloadStore
from .private_files import make_tree_private

if TYPE_CHECKING:
    from . import interfaces

log = logging.getLogger("assembly_engine.maintenance")

BACKUP_ASSEMBLIES = "Assemblies"
BACKUP_PAYLOADS = "Payloads"
BACKUP_LOGS = "Logs"


@dataclass(frozen=True)
class SchemaStatus:
    """How one domain database's schema compares with what this engine expects."""

    file: str
    user_version: int
    missing_columns: tuple[str, ...]
    expected_version: int = SCHEMA_VERSION  # the backend's own numbering

    @property
    def ok(self) -> bool:
        return not self.missing_columns and self.user_version == self.expected_version


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def _snapshot(source: Path, target: Path) -> int:
    """Copy one SQLite database with the online backup API; returns its page count."""
    src = _read_only(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = DELETE")  # a self-contained single file
        return int(dst.execute("PRAGMA page_count").fetchone()[0])
    finally:
        dst.close()
        src.close()


class SharedMaintenance:
    """What every backend's Maintenance does alike: sweeps go to its payload store, and a
    backup folder is started and sealed the same way (every backend writes one layout)."""

    payloads: interfaces.PayloadStore

    def sweep_orphans(
        self, referenced: set[str], *, listed: set[str], grace_seconds: float, remove: bool
    ) -> OrphanSweep:
        return self.payloads.sweep_orphans(
            referenced, listed=listed, grace_seconds=grace_seconds, remove=remove
        )

    def start_backup(self, destination: Path) -> Path:
        """The resolved destination, refused (FileExistsError) unless new or empty."""
        destination = destination.resolve()
        if destination.exists() and any(destination.iterdir()):
            raise FileExistsError(f"{destination} is not empty; give backup a new or empty folder.")
        (destination / BACKUP_ASSEMBLIES).mkdir(parents=True, exist_ok=True)
        return destination

    def seal_backup(self, destination: Path) -> None:
        """A backup holds the password hashes and every assembly: owner-only like a home,
        including files copied from a home made before homes were private."""
        make_tree_private(destination)


class SqliteMaintenance(SharedMaintenance):
    """The SQLite + folders backend of the Maintenance interface (persistence/interfaces.py)."""

    def __init__(self, runtime_root: Path, engine_db: Path, payloads: PayloadStore) -> None:
        self.runtime_root = runtime_root
        self.engine_db = engine_db
        self.payloads = payloads

    def schema(self, domain: Domain) -> SchemaStatus:
        conn = _read_only(self.runtime_root / DATABASE_FILES[domain])
        try:
            columns = table_columns(conn, "assemblies")
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
        return SchemaStatus(DATABASE_FILES[domain], version, tuple(c for c in COLUMNS if c not in columns))

    def copy_stores(self, destination: Path) -> dict[str, int]:
        """Snapshot the journal, every database and the payload folders into ``destination``.

        The journal is copied first: replaying an entry whose change is already in a
        database copy is harmless (replay skips older revisions). The caller holds flushes
        back meanwhile, so no folder a copied row points to is removed before it is copied.
        """
        target_root = destination / BACKUP_ASSEMBLIES
        copied: dict[str, int] = {}
        sources = [self.runtime_root / JOURNAL_FILE]
        sources += [self.runtime_root / DATABASE_FILES[d] for d in Domain]
        for source in sources:
            copied[source.name] = _snapshot(source, target_root / source.name)
        copied[self.engine_db.name] = _snapshot(self.engine_db, destination / self.engine_db.name)
        target_store = PayloadStore(target_root / BACKUP_PAYLOADS)
        count = 0
        for guid in sorted(self.payloads.list_guids()):
            try:
                self.payloads.copy_to(guid, target_store)
                count += 1
            except PayloadError as exc:
                log.warning("backup: payload %s not copied: %s", guid, exc)
        copied["payloads"] = count
        return copied
