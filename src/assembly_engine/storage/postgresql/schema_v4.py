"""Schema version 4: revisions keep large metadata once (issue 23, 5).

Like the embedded databases (storage/sqlite/domain_schema.py): each domain's
``revision_metadata`` holds a revision's metadata of 1 KiB or more once, under its SHA-256,
and ``revisions.metadata_hash`` names it (contract/shared_metadata.py). ``convert`` moves
the metadata of revisions written before out of their rows, in the migration's transaction.
"""

from __future__ import annotations

from typing import Any

from psycopg import Connection

from assembly_engine.storage.contract.shared_metadata import SHARED_FROM_BYTES, split_row
from assembly_engine.storage.postgresql.schema_v1 import DOMAIN_SCHEMAS

NAME = "shared revision metadata"
STATEMENTS: tuple[str, ...] = tuple(
    statement
    for schema in DOMAIN_SCHEMAS.values()
    for statement in (
        f"ALTER TABLE {schema}.revisions ADD COLUMN metadata_hash TEXT",
        f"""CREATE TABLE {schema}.revision_metadata (
            hash          TEXT PRIMARY KEY,
            metadata_json TEXT NOT NULL
        )""",
    )
)


def convert(conn: Connection[Any]) -> None:
    """Move large metadata of existing revisions into revision_metadata."""
    for schema in DOMAIN_SCHEMAS.values():
        large = conn.execute(
            f"SELECT assembly_guid, revision, row_json FROM {schema}.revisions WHERE length(row_json) >= %s",
            (SHARED_FROM_BYTES,),
        ).fetchall()
        for guid, revision, row_json in large:
            split = split_row(row_json)
            if split.metadata_hash is None:
                continue
            conn.execute(
                f"INSERT INTO {schema}.revision_metadata (hash, metadata_json) VALUES (%s, %s) "
                "ON CONFLICT (hash) DO NOTHING",
                (split.metadata_hash, split.metadata_json),
            )
            conn.execute(
                f"UPDATE {schema}.revisions SET row_json = %s, metadata_hash = %s "
                "WHERE assembly_guid = %s AND revision = %s",
                (split.row_json, split.metadata_hash, guid, revision),
            )
