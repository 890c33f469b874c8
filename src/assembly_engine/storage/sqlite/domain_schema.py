"""The assemblies table and its history: layout, creation and migration of older files."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from assembly_engine.storage.contract.errors import SchemaError
from assembly_engine.storage.contract.models import COLUMNS
from assembly_engine.storage.contract.shared_metadata import SHARED_FROM_BYTES, split_row
from assembly_engine.storage.sqlite.connection import immediate, with_retry

log = logging.getLogger("assembly_engine.databases")

# 3: revisions keep large metadata once, in revision_metadata (migrate_history_layout)
SCHEMA_VERSION = 3

CREATE_ASSEMBLIES = """
CREATE TABLE IF NOT EXISTS assemblies (
    assembly_guid      TEXT PRIMARY KEY,
    display_name       TEXT NOT NULL,
    summary            TEXT,
    category           TEXT,
    assembly_kind      TEXT NOT NULL,
    assembly_type      TEXT,
    version            INTEGER,
    revision           INTEGER NOT NULL DEFAULT 1,
    metadata_json      TEXT,
    tags_json          TEXT,
    payload_guid       TEXT NOT NULL,
    payload_type       TEXT NOT NULL,
    payload_size_bytes INTEGER,
    payload_checksum   TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    created_by         TEXT,
    updated_by         TEXT
)
"""
CREATE_INDEXES = (
    "CREATE INDEX IF NOT EXISTS assemblies_kind ON assemblies(assembly_kind)",
    "CREATE INDEX IF NOT EXISTS assemblies_payload ON assemblies(payload_guid)",
)

# Version history (runtime databases only: the staging copy keeps none). Each revision is
# the assemblies row as it was (``row_json``: the row in COLUMNS order), its large metadata
# kept once in ``revision_metadata`` under ``metadata_hash`` (contract/shared_metadata.py);
# a deleted assembly keeps its revisions and gets a row in ``deleted_assemblies`` until
# undeleted or purged by retention.
CREATE_HISTORY = (
    """CREATE TABLE IF NOT EXISTS revisions (
    assembly_guid TEXT NOT NULL,
    revision      INTEGER NOT NULL,
    action        TEXT NOT NULL,
    row_json      TEXT NOT NULL,
    payload_guid  TEXT NOT NULL,
    recorded_at   TEXT NOT NULL,
    metadata_hash TEXT,
    PRIMARY KEY (assembly_guid, revision)
) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS revision_metadata (
    hash          TEXT PRIMARY KEY,
    metadata_json TEXT NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS revisions_payload ON revisions(payload_guid)",
    """CREATE TABLE IF NOT EXISTS deleted_assemblies (
    assembly_guid TEXT PRIMARY KEY,
    revision      INTEGER NOT NULL,
    deleted_at    TEXT NOT NULL,
    deleted_by    TEXT,
    row_json      TEXT NOT NULL
)""",
)


def create_history_schema(conn: sqlite3.Connection) -> None:
    for statement in CREATE_HISTORY:
        conn.execute(statement)
    if "metadata_hash" not in table_columns(conn, "revisions"):
        migrate_history_layout(conn)


def migrate_history_layout(conn: sqlite3.Connection) -> None:
    """Bring revisions of the first layout (every row whole) to the shared-metadata one, in
    one transaction: a crash leaves the old layout, and the next start does it again."""
    with immediate(conn):
        conn.execute("ALTER TABLE revisions ADD COLUMN metadata_hash TEXT")
        large = conn.execute(
            "SELECT assembly_guid, revision, row_json FROM revisions WHERE length(row_json) >= ?",
            (SHARED_FROM_BYTES,),
        ).fetchall()
        for guid, revision, row_json in large:
            split = split_row(row_json)
            if split.metadata_hash is None:
                continue
            conn.execute(
                "INSERT OR IGNORE INTO revision_metadata (hash, metadata_json) VALUES (?, ?)",
                (split.metadata_hash, split.metadata_json),
            )
            conn.execute(
                "UPDATE revisions SET row_json = ?, metadata_hash = ? "
                "WHERE assembly_guid = ? AND revision = ?",
                (split.row_json, split.metadata_hash, guid, revision),
            )
    if large:
        log.warning("migrated %d revision(s) to shared metadata", len(large))


# Without these the table is not an assemblies table of any version we know.
CORE_COLUMNS = ("assembly_guid", "display_name", "assembly_kind", "payload_guid")

# Columns older layouts lacked, and how ALTER TABLE adds them (SQLite cannot add a NOT NULL
# column without a default, hence the defaults).
MIGRATABLE_COLUMNS: dict[str, str] = {
    "summary": "TEXT",
    "category": "TEXT",
    "assembly_type": "TEXT",
    "version": "INTEGER",
    "revision": "INTEGER NOT NULL DEFAULT 1",
    "metadata_json": "TEXT",
    "tags_json": "TEXT",
    "payload_type": "TEXT NOT NULL DEFAULT 'script'",
    "payload_size_bytes": "INTEGER",
    "payload_checksum": "TEXT",
    "created_at": "TEXT NOT NULL DEFAULT '1970-01-01T00:00:00.000Z'",
    "updated_at": "TEXT NOT NULL DEFAULT '1970-01-01T00:00:00.000Z'",
    "created_by": "TEXT",
    "updated_by": "TEXT",
}


def table_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def create_schema(conn: sqlite3.Connection) -> None:
    conn.execute(CREATE_ASSEMBLIES)
    for statement in CREATE_INDEXES:
        conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def validate_and_migrate(conn: sqlite3.Connection, path: Path) -> list[str]:
    """Bring the assemblies table to the current layout; return the columns added.

    Idempotent. Raises :class:`SchemaError` for a layout we cannot migrate.
    """

    def migrate() -> list[str]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            columns = table_columns(conn, "assemblies")
            if not columns:
                create_schema(conn)
                conn.execute("COMMIT")
                return list(COLUMNS)
            missing_core = [c for c in CORE_COLUMNS if c not in columns]
            if missing_core:
                raise SchemaError(
                    f"{path}: table 'assemblies' has an unknown layout: it lacks the required "
                    f"column(s) {', '.join(missing_core)} (found: {', '.join(columns)}). "
                    "Move the file aside or restore it from a backup."
                )
            added = [c for c in COLUMNS if c not in columns]
            for column in added:
                conn.execute(f"ALTER TABLE assemblies ADD COLUMN {column} {MIGRATABLE_COLUMNS[column]}")
            for statement in CREATE_INDEXES:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
            return added
        except BaseException:
            # SQLite rolls back by itself on some errors (SQLITE_FULL): a ROLLBACK then
            # raises "no transaction is active" and would hide the real cause.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    added = with_retry(migrate, what=f"migrating {path.name}", budget_seconds=30.0)
    if added and added != list(COLUMNS):
        log.warning("%s: migrated schema, added column(s) %s", path, ", ".join(added))
    return added


STAMP_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS content_stamp (value TEXT NOT NULL)",
    *(
        f"CREATE TRIGGER IF NOT EXISTS content_stamp_forget_on_{op.lower()} AFTER {op} ON assemblies "
        "BEGIN DELETE FROM content_stamp; END"
        for op in ("INSERT", "UPDATE", "DELETE")
    ),
)
