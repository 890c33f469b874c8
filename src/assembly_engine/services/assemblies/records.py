"""How a use case makes the record of a change: one constructor for every new revision.

Create, clone and import make a first revision; an import over an existing assembly, a
restore and an undelete make the next revision of one. They differ only in where the
columns a person describes come from (:class:`Details`) and which payload the revision
points at, so they all go through :func:`new_record`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from assembly_engine.domain.clock import utc_now
from assembly_engine.domain.description import description
from assembly_engine.domain.types import DATABASE_FILES, AssemblyKind, Domain
from assembly_engine.services.assemblies.formats import ImportedAssembly
from assembly_engine.services.assemblies.inputs import NewAssembly
from assembly_engine.services.errors import IntegrityFailed
from assembly_engine.storage.contract.models import AssemblyRecord, CachedAssembly, PayloadRef
from assembly_engine.storage.contract.upstream import UpstreamNote, with_note


@dataclass(frozen=True)
class Details:
    """The columns that say what an assembly is: all but its id, domain, revision, payload
    and who made it when."""

    display_name: str
    assembly_kind: AssemblyKind
    assembly_type: str | None
    summary: str | None
    category: str | None
    version: int | None
    metadata_json: str
    tags_json: str
    # What reading the stored row had to repair: copied values keep saying they are stand-ins.
    load_problem: str | None = None

    @classmethod
    def given(cls, source: NewAssembly | ImportedAssembly) -> Details:
        """What a create request or an imported document says."""
        return cls(
            **description(source),
            metadata_json=json.dumps(source.metadata, ensure_ascii=False),
            tags_json=json.dumps(source.tags, ensure_ascii=False),
        )

    @classmethod
    def of(cls, record: AssemblyRecord) -> Details:
        """What a stored record says (its JSON columns as stored, not re-encoded)."""
        return cls(**{f.name: getattr(record, f.name) for f in dataclasses.fields(cls)})

    def renamed(self, display_name: str) -> Details:
        return dataclasses.replace(self, display_name=display_name)

    def columns(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it deep-copies, and a batch import makes 10,000 of these.
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def new_record(
    guid: str,
    domain: Domain,
    details: Details,
    payload: PayloadRef,
    *,
    author: str | None,
    now: str,
    since: AssemblyRecord | None = None,
) -> AssemblyRecord:
    """The record of a change ``author`` makes at ``now``: a new assembly's first revision,
    or, with ``since`` (the assembly's record before the change), its next one, which keeps
    the assembly's creation stamps and revision counter (the cache numbers the revision)."""
    if since is None:
        revision, created_at, created_by = 1, now, author
    else:
        revision, created_at, created_by = since.revision, since.created_at, since.created_by
    record = AssemblyRecord(
        assembly_guid=guid,
        domain=domain,
        payload=payload,
        revision=revision,
        created_at=created_at,
        created_by=created_by,
        updated_at=now,
        updated_by=author,
        **details.columns(),
    )
    if domain is Domain.OFFICIAL:
        # An official record's vendor note is the engine's bookkeeping: a change keeps the
        # one it started from and never takes one from a document or a body.
        record = with_note(record, UpstreamNote.of(since) if since is not None else None)
    return record


def next_revision(
    since: AssemblyRecord,
    details: Details,
    payload: PayloadRef,
    *,
    author: str | None,
    now: str | None = None,
) -> AssemblyRecord:
    """The record of the change that follows ``since`` (the assembly's record before it)."""
    return new_record(
        since.assembly_guid,
        since.domain,
        details,
        payload,
        author=author,
        now=utc_now() if now is None else now,
        since=since,
    )


def require_whole_row(item: CachedAssembly) -> None:
    """Refuse to show, copy or rewrite a record whose stored row is damaged.

    The list still shows such a record (with what could be read), so it can be found and
    deleted; a detail, export, clone or update would present or persist the repaired
    stand-in values as if they were the stored ones.
    """
    problem = item.record.row_problem
    if problem is not None:
        raise IntegrityFailed(
            f"Assembly {item.assembly_guid} cannot be read: its row in "
            f"{DATABASE_FILES[item.domain]} is damaged ({problem[:500]}). Restore the row "
            "from a backup, fix it with the sqlite3 shell, re-import the assembly over it, "
            "or delete it."
        )
