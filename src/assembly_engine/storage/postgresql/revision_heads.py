"""The revision heads: where a shared queue decides which node's change of an assembly wins.

``revision_heads`` holds each assembly's live revision as the queue last committed it. A
change moves its head only from the revision it was planned on (``JournalEntry.
base_revision``), inside the transaction that queues it, so of two nodes that planned
revision N+1 of one assembly the second finds no row to move and is refused.

:func:`move_heads` moves a whole batch's heads in two statements (its creates, its other
changes); only a change whose head did not move takes :func:`move_head`'s slower path, which
adopts a head written without the queue or says why it cannot move.
"""

from __future__ import annotations

from typing import Any

from assembly_engine.domain.types import Domain
from assembly_engine.storage.contract.journal_entry import JournalEntry
from assembly_engine.storage.postgresql.schema_v1 import DOMAIN_SCHEMAS

_CREATE_HEADS = (
    "INSERT INTO revision_heads (domain, assembly_guid, revision) "
    "SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[]) "
    "ON CONFLICT (assembly_guid) DO UPDATE SET domain = EXCLUDED.domain, "
    "revision = EXCLUDED.revision, deleted = FALSE WHERE revision_heads.deleted "
    "RETURNING assembly_guid"
)
_MOVE_HEADS = (
    "UPDATE revision_heads AS h SET revision = c.revision, deleted = c.deleted "
    "FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::boolean[], %s::bigint[]) "
    "AS c(domain, assembly_guid, revision, deleted, base) "
    "WHERE h.domain = c.domain AND h.assembly_guid = c.assembly_guid AND NOT h.deleted "
    "AND h.revision = c.base RETURNING h.assembly_guid"
)


def move_heads(conn: Any, entries: list[JournalEntry]) -> list[str | None]:
    """Move the heads of ``entries``: for each, None, or why it could not move. (A node
    has one change of an assembly in flight at a time, so a batch names an assembly
    once; should it not, the changes go one by one, in order.)"""
    if len({e.assembly_guid for e in entries}) != len(entries):
        return [move_head(conn, e) for e in entries]
    creates = [e for e in entries if e.base_revision is None]
    others = [e for e in entries if e.base_revision is not None]
    moved: set[str] = set()
    if creates:
        columns = ([e.record.domain.value for e in creates], [e.assembly_guid for e in creates])
        rows = conn.execute(_CREATE_HEADS, (*columns, [e.record.revision for e in creates])).fetchall()
        moved.update(row[0] for row in rows)
    if others:
        rows = conn.execute(
            _MOVE_HEADS,
            (
                [e.record.domain.value for e in others],
                [e.assembly_guid for e in others],
                [e.record.revision for e in others],
                [e.op == "delete" for e in others],
                [e.base_revision for e in others],
            ),
        ).fetchall()
        moved.update(row[0] for row in rows)
    return [None if e.assembly_guid in moved else move_head(conn, e) for e in entries]


def move_head(conn: Any, entry: JournalEntry) -> str | None:
    """Move the assembly's head as the change says; None, or why it cannot move."""
    domain, guid, revision = entry.record.domain.value, entry.assembly_guid, entry.record.revision
    if entry.base_revision is None:  # a create: nothing live may hold the id
        moved = conn.execute(
            "INSERT INTO revision_heads (domain, assembly_guid, revision) VALUES (%s, %s, %s) "
            "ON CONFLICT (assembly_guid) DO UPDATE SET domain = EXCLUDED.domain, "
            "revision = EXCLUDED.revision, deleted = FALSE WHERE revision_heads.deleted RETURNING 1",
            (domain, guid, revision),
        ).fetchone()
        return None if moved is not None else _why(conn, entry)
    deleted = entry.op == "delete"
    update = (
        "UPDATE revision_heads SET revision = %s, deleted = %s WHERE domain = %s AND assembly_guid = %s "
        "AND NOT deleted AND revision = %s RETURNING 1"
    )
    params = (revision, deleted, domain, guid, entry.base_revision)
    if conn.execute(update, params).fetchone() is not None:
        return None
    if _adopt_row(conn, entry.record.domain, guid) and conn.execute(update, params).fetchone():
        return None
    return _why(conn, entry)


def _adopt_row(conn: Any, domain: Domain, guid: str) -> bool:
    """An assembly written to its domain table without the queue (official sync, a
    seeded community, a migrated library) has no head yet: its row is the head."""
    adopted = conn.execute(
        f"INSERT INTO revision_heads (domain, assembly_guid, revision) "
        f"SELECT %s, assembly_guid, revision FROM {DOMAIN_SCHEMAS[domain]}.assemblies "
        f"WHERE assembly_guid = %s ON CONFLICT DO NOTHING RETURNING 1",
        (domain.value, guid),
    ).fetchone()
    return adopted is not None


def _why(conn: Any, entry: JournalEntry) -> str:
    guid = entry.assembly_guid
    heads = conn.execute(
        "SELECT domain, revision, deleted FROM revision_heads WHERE assembly_guid = %s AND NOT deleted",
        (guid,),
    ).fetchall()
    if not heads:
        return f"Assembly {guid} was deleted through another engine node meanwhile; nothing was changed."
    domain, revision, _ = heads[0]
    if entry.base_revision is None:
        return f"An assembly with id {guid} was created in the {domain} domain through another engine node."
    return (
        f"Assembly {guid} was changed through another engine node: you changed revision "
        f"{entry.base_revision}, the current revision is {revision}. "
        "Reload it and apply your change again."
    )
