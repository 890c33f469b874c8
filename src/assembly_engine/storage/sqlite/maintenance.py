"""Maintenance on the files of one engine home: schema checks, backups, orphan sweeps.

The decisions (who may verify or back up, what counts as referenced, how findings are
reported and audited) are services/maintenance.py's; this module only reads and copies.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from assembly_engine.domain.types import DATABASE_FILES, Domain
from assembly_engine.storage.backup.layout import SharedMaintenance
from assembly_engine.storage.contract.maintenance import BACKUP_ASSEMBLIES, BACKUP_PAYLOADS, SchemaStatus
from assembly_engine.storage.sqlite.databases import COLUMNS, SCHEMA_VERSION, table_columns
from assembly_engine.storage.sqlite.journal import JOURNAL_FILE
from assembly_engine.storage.sqlite.payload_folders import PayloadError, PayloadStore

if TYPE_CHECKING:
    pass

log = logging.getLogger("assembly_engine.maintenance")


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


class SqliteMaintenance(SharedMaintenance):
    """The SQLite + folders backend of the Maintenance interface (storage/contract/interfaces.py)."""

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
        return SchemaStatus(
            DATABASE_FILES[domain], version, tuple(c for c in COLUMNS if c not in columns), SCHEMA_VERSION
        )

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
