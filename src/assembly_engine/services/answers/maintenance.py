"""Health and the admin maintenance reports."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from assembly_engine.domain.types import Domain
from assembly_engine.services.answers.base import Answer, OpenAnswer


class OfficialSignatures(Answer):
    """The official library's signature state (Docs/official-library.md)."""

    policy: Literal["require", "warn", "off"]
    state: Literal["ok", "warning", "refused", "off"] = Field(
        description="refused: the staging copy was refused and the last good library serves"
    )
    signed_by: str | None = Field(description="the trusted key file that verified the manifest")
    problems: list[str]
    counts: dict[str, int] = Field(description="official assemblies per signature status")


class Health(Answer):
    status: str = Field(description="ok, or read_only: started on a full disk, every write answers 503")
    read_only: str | None = Field(
        default=None, description="why the engine is read-only (disk full) and what its reads hold"
    )
    complete: bool = Field(
        default=True,
        description="false: the journal could not be read, so reads miss changes still queued in it",
    )
    assemblies: dict[str, int]
    queue_depth: int
    cache_warm: bool
    official_signatures: OfficialSignatures
    official_upstream: dict[str, int] = Field(
        description="official assemblies waiting for an admin's choice: update_available, removed_upstream",
    )


# -- maintenance -------------------------------------------------------------------------
class SchemaCheck(OpenAnswer):
    file: str
    ok: bool
    user_version: int
    missing_columns: list[str]


class PayloadProblem(OpenAnswer):
    assembly_guid: str
    display_name: str
    domain: Domain
    payload_guid: str
    where: list[str] = Field(description="cache, database, history and/or journal")


class Verified(BaseModel):
    """The verify report (Docs/assemblies.md §11): ``ok`` when nothing is wrong or left over."""

    # Made with model_construct: ``schema`` is an alias (the name shadows BaseModel.schema),
    # which Answer and its ``built`` refuse; published open, as OpenAnswer is.
    model_config = ConfigDict(extra="forbid", json_schema_extra={"additionalProperties": True})

    ok: bool
    schema_: dict[Domain, SchemaCheck] = Field(alias="schema")
    payloads_checked: int
    missing: list[PayloadProblem]
    corrupt: list[PayloadProblem]
    orphans: list[str]
    recent_unreferenced: list[str]
    stale_temp: list[str]
    removed: list[str]


class AuditChecked(Answer):
    ok: bool
    entries: int
    first_bad_line: int | None
    problem: str | None
    path: str


class Pruned(Answer):
    keep: int
    trash_days: int
    revisions_removed: int
    deleted_purged: int
    payloads_removed: list[str]


class BackedUp(Answer):
    destination: str
    copied: dict[str, int] = Field(description="pages copied per database file, and payload folders")
    seconds: float


class OfficialExported(Answer):
    destination: str
    assemblies: int = Field(description="official assemblies written to the new staging copy")
