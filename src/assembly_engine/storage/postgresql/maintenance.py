"""Maintenance on the cluster database: schema checks, orphan sweeps and backups.

A backup writes the layout an embedded home's backup writes (and an embedded engine boots
from): ``Assemblies/`` with the three domain databases and their history, ``journal.db``
with the changes still queued and ``Payloads/<guid>/`` folders, and ``engine.db`` with
users, sessions and secrets. Everything is read in ONE read-only REPEATABLE READ
transaction, so the copy is the library at one instant even while other nodes write; the
files are written by backup/embedded_writer.py, so the layout cannot drift.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from itertools import groupby
from pathlib import Path
from typing import Any

from psycopg import Connection
from psycopg_pool import ConnectionPool

from assembly_engine.domain.types import DATABASE_FILES, Domain
from assembly_engine.storage.backup.embedded_writer import (
    JOURNAL_FILE,
    FolderPayloadStore,
    write_domain,
    write_engine_db,
    write_journal,
)
from assembly_engine.storage.backup.layout import SharedMaintenance
from assembly_engine.storage.contract.engine_records import USER_COLUMNS
from assembly_engine.storage.contract.history import HistoryWrite
from assembly_engine.storage.contract.interfaces import PayloadStore
from assembly_engine.storage.contract.journal_entry import JournalEntry
from assembly_engine.storage.contract.maintenance import BACKUP_ASSEMBLIES, BACKUP_PAYLOADS, SchemaStatus
from assembly_engine.storage.contract.models import COLUMNS, AssemblyRecord, PayloadContent, PayloadFile
from assembly_engine.storage.contract.payload_manifest import MANIFEST_NAME, PayloadError, parse_manifest
from assembly_engine.storage.contract.shared_metadata import join_row
from assembly_engine.storage.postgresql.errors import translated
from assembly_engine.storage.postgresql.migrations import MIGRATIONS, applied_versions
from assembly_engine.storage.postgresql.schema_v1 import DOMAIN_SCHEMAS

log = logging.getLogger("assembly_engine.maintenance")

ENGINE_FILE = "engine.db"  # at the top of a backup, as in an embedded home
ATTACHMENTS = "files/"

# The columns schema_v1 gives each domain's history tables (the assemblies table has COLUMNS).
HISTORY_COLUMNS: dict[str, tuple[str, ...]] = {
    "revisions": ("assembly_guid", "revision", "action", "row_json", "payload_guid", "recorded_at"),
    "deleted_assemblies": ("assembly_guid", "revision", "deleted_at", "deleted_by", "row_json"),
}


def _select(conn: Connection[Any], schema: str, table: str) -> list[tuple[Any, ...]]:
    if table == "revisions":  # whole rows again: the backup's own store shares metadata itself
        rows = conn.execute(
            f"SELECT {', '.join('r.' + c for c in HISTORY_COLUMNS[table])}, m.metadata_json "
            f"FROM {schema}.revisions AS r "
            f"LEFT JOIN {schema}.revision_metadata AS m ON m.hash = r.metadata_hash"
        ).fetchall()
        return [(*r[:3], join_row(r[3], r[6]), *r[4:6]) for r in rows]
    return conn.execute(f"SELECT {', '.join(HISTORY_COLUMNS[table])} FROM {schema}.{table}").fetchall()


class PostgresMaintenance(SharedMaintenance):
    """The PostgreSQL backend of the Maintenance interface (storage/contract/interfaces.py)."""

    def __init__(self, pool: ConnectionPool, payloads: PayloadStore) -> None:
        self._pool = pool
        self.payloads = payloads

    # -- schema ----------------------------------------------------------------------------
    def schema(self, domain: Domain) -> SchemaStatus:
        """The domain's tables as this engine expects them; ``user_version`` is the newest
        migration applied (a column lacking in a history table is named ``table.column``)."""
        schema = DOMAIN_SCHEMAS[domain]
        with translated("checking the schema"), self._pool.connection() as conn:
            found: dict[str, set[str]] = {}
            for table, column in conn.execute(
                "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = %s",
                (schema,),
            ):
                found.setdefault(table, set()).add(column)
            applied = applied_versions(conn)
        missing = [c for c in COLUMNS if c not in found.get("assemblies", set())]
        for table, columns in HISTORY_COLUMNS.items():
            missing += [f"{table}.{c}" for c in columns if c not in found.get(table, set())]
        return SchemaStatus(
            f"postgresql:{schema}",
            max(applied, default=0),
            tuple(missing),
            expected_version=MIGRATIONS[-1].version,
        )

    # -- backup (started and sealed by SharedMaintenance) ---------------------------------
    def copy_stores(self, destination: Path) -> dict[str, int]:
        """Write every store into ``destination`` from one snapshot of the database; returns
        the page count of each file written and the number of payloads copied."""
        target_root = destination / BACKUP_ASSEMBLIES
        copied: dict[str, int] = {}
        with translated("taking a backup"), self._pool.connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            copied[JOURNAL_FILE] = self._copy_queue(conn, target_root / JOURNAL_FILE)
            for domain in Domain:
                path = target_root / DATABASE_FILES[domain]
                copied[path.name] = self._copy_domain(conn, domain, path)
            copied[ENGINE_FILE] = self._copy_engine(conn, destination / ENGINE_FILE)
            copied["payloads"] = self._copy_payloads(conn, FolderPayloadStore(target_root / BACKUP_PAYLOADS))
        return copied

    @staticmethod
    def _copy_queue(conn: Connection[Any], path: Path) -> int:
        return write_journal(
            path,
            (
                JournalEntry(
                    int(seq),
                    op,
                    AssemblyRecord.from_json(json.loads(record_json)),
                    created_at,
                    note,
                    action,
                    actor,
                )
                for seq, op, record_json, created_at, note, action, actor in conn.execute(
                    "SELECT seq, op, record_json, created_at, note, action, actor "
                    "FROM write_queue WHERE flushed_at IS NULL ORDER BY seq"
                )
            ),
        )

    @staticmethod
    def _copy_domain(conn: Connection[Any], domain: Domain, path: Path) -> int:
        schema = DOMAIN_SCHEMAS[domain]
        rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM {schema}.assemblies").fetchall()
        history = HistoryWrite(
            revisions=_select(conn, schema, "revisions"),
            deletions=_select(conn, schema, "deleted_assemblies"),
        )
        stamp = None
        if domain is Domain.OFFICIAL:
            found = conn.execute("SELECT value FROM official.content_stamp").fetchone()
            stamp = None if found is None else str(found[0])
        return write_domain(domain, path, rows, history, stamp)

    @staticmethod
    def _copy_engine(conn: Connection[Any], path: Path) -> int:
        return write_engine_db(
            path,
            users=[
                (name, hashed, role, int(disabled), created, updated, int(must_change))
                for name, hashed, role, disabled, created, updated, must_change in conn.execute(
                    f"SELECT {USER_COLUMNS} FROM users"
                )
            ],
            sessions=[
                (*row[:7], int(row[7]))
                for row in conn.execute(
                    "SELECT token_hash, username, created_at, expires_at, last_seen, "
                    "dev_mode_until, dev_mode_reason, revoked FROM sessions"
                )
            ],
            meta=[(key, bytes(value)) for key, value in conn.execute("SELECT key, value FROM engine_meta")],
        )

    @staticmethod
    def _payload_files(conn: Connection[Any]) -> Iterator[tuple[str, dict[str, bytes]]]:
        """Each payload's files by name, streamed (a server-side cursor: one payload in
        memory at a time)."""
        with conn.cursor(name="backup_payload_files") as cursor:
            cursor.itersize = 64
            cursor.execute("SELECT payload_guid, file_name, content FROM payload_files ORDER BY payload_guid")
            for guid, rows in groupby(cursor, key=lambda row: row[0]):
                yield guid, {name: bytes(content) for _, name, content in rows}

    def _copy_payloads(self, conn: Connection[Any], target: FolderPayloadStore) -> int:
        count = 0
        for guid, files in self._payload_files(conn):
            manifest_bytes = files.get(MANIFEST_NAME)
            if manifest_bytes is None:
                continue  # no manifest: a payload that never finished is no payload
            try:
                manifest = parse_manifest(manifest_bytes, guid)
                content = PayloadContent(
                    manifest.payload_type,
                    manifest.main.name,
                    files[manifest.main.name],
                    tuple(
                        PayloadFile(e.name, files[ATTACHMENTS + e.name], e.mime_type) for e in manifest.files
                    ),
                )
                ref = target.write_with_guid(guid, content)
            except (PayloadError, ValueError, KeyError) as exc:
                log.warning("backup: payload %s not copied: %s", guid, exc)
                continue
            if ref.checksum != hashlib.sha256(manifest_bytes).hexdigest():
                target.delete(guid)
                log.warning("backup: payload %s not copied: its manifest is not in the engine's form", guid)
                continue
            count += 1
        return count
