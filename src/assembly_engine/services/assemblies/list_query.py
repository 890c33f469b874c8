"""The list's query: the parameters it takes, their parse, and the filters that look at a
record alone (the list and the deleted view share them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import parse_qsl

from pydantic import BaseModel, Field

from assembly_engine import input_limits as limits
from assembly_engine.domain.types import AssemblyKind, Domain
from assembly_engine.services.assemblies.folders_and_tags import in_folder
from assembly_engine.storage.contract.models import AssemblyRecord
from assembly_engine.storage.contract.signatures import OfficialTrust, SignatureStatus
from assembly_engine.storage.contract.upstream import UpstreamNote, UpstreamState

# Parses are kept per query string only for strings of an ordinary length, so long junk
# query strings cannot pin memory in the parse cache.
PARSE_CACHE_QUERY_BYTES = 1024


@dataclass(frozen=True)
class ListQuery:
    domain: Domain | None = None
    kind: AssemblyKind | None = None
    category: str | None = None  # exact; "" matches assemblies without a category
    folder: str | None = None  # a category path and everything below it ("Windows" has "Windows/Disk")
    tag: str | None = None  # exact: assemblies carrying this tag
    q: str | None = None
    dirty: bool | None = None
    signature: SignatureStatus | None = None  # official records with this status only
    # official records the vendor changed or dropped: update_available | removed_upstream |
    # deprecated | attention (any of the three)
    upstream: str | None = None
    checks: str | None = None  # errors | clean | unchecked (services/checks)
    limit: int = 100
    offset: int = 0
    sort: str = "display_name"
    descending: bool = False


def upstream_flags(record: AssemblyRecord, trust: OfficialTrust) -> set[str]:
    """What the ``upstream`` filter matches an official record by (none for others)."""
    if record.domain is not Domain.OFFICIAL:
        return set()
    note = UpstreamNote.of(record)
    flags = {note.state.value} if note is not None and note.state is not UpstreamState.CURRENT else set()
    entry = trust.entries.get(record.assembly_guid)
    if entry is not None and entry.status == "deprecated":
        flags.add("deprecated")
    return flags | {"attention"} if flags else flags


SORT_KEYS: dict[str, Callable[[AssemblyRecord], Any]] = {
    "display_name": lambda r: r.display_name.casefold(),
    "updated_at": lambda r: r.updated_at,
    "category": lambda r: (r.category or "").casefold(),
    "source": lambda r: r.domain.value,
    "assembly_type": lambda r: r.assembly_type or "",
}


class FacetParams(BaseModel):
    """The list's filters (unknown query parameters are ignored, as query strings go)."""

    domain: Domain | None = None
    kind: AssemblyKind | None = None
    category: str | None = Field(default=None, max_length=limits.CATEGORY_CHARS)
    folder: str | None = Field(default=None, min_length=1, max_length=limits.CATEGORY_CHARS)
    tag: str | None = Field(default=None, min_length=1, max_length=limits.TAG_CHARS)
    q: str | None = Field(default=None, max_length=limits.SEARCH_CHARS)
    dirty: bool | None = None
    signature: SignatureStatus | None = None
    upstream: Literal["update_available", "removed_upstream", "deprecated", "attention"] | None = None
    checks: Literal["errors", "clean", "unchecked"] | None = None

    def to_query(self) -> ListQuery:
        # Each filter is a field of ListQuery of the same name.
        return ListQuery(**{name: getattr(self, name) for name in FacetParams.model_fields})


class PageParams(BaseModel):
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=10_000_000)


class ListParams(FacetParams, PageParams):
    """The list's query: its filters, a page and an order."""

    # A Literal built from the keys, so OpenAPI lists them; mypy cannot evaluate it.
    sort: Literal[tuple(SORT_KEYS)] = "display_name"  # type: ignore[valid-type]
    order: Literal["asc", "desc"] = "asc"

    def to_query(self) -> ListQuery:
        return replace(
            super().to_query(),
            limit=self.limit,
            offset=self.offset,
            sort=self.sort,
            descending=self.order == "desc",
        )


def query_values(query_string: str) -> dict[str, str]:
    return dict(parse_qsl(query_string, keep_blank_values=True))


def parse_list_query(query_string: bytes) -> ListQuery:
    """Query string -> validated query (pydantic's ValidationError if it is not one); clients
    repeat the same few, so parses of ordinary-length strings are kept."""
    if len(query_string) <= PARSE_CACHE_QUERY_BYTES:
        return _kept_parse(query_string)
    return _parse(query_string)


def _parse(query_string: bytes) -> ListQuery:
    return ListParams.model_validate(query_values(query_string.decode("latin-1"))).to_query()


_kept_parse = lru_cache(maxsize=256)(_parse)


def record_matches(record: AssemblyRecord, query: ListQuery) -> bool:
    """The filters that look at the record alone (the list and the deleted view share them)."""
    if query.domain is not None and record.domain is not query.domain:
        return False
    if query.kind is not None and record.assembly_kind is not query.kind:
        return False
    if query.category is not None and (record.category or "") != query.category:
        return False
    if query.folder is not None and not in_folder(record.category or "", query.folder):
        return False
    if query.tag is not None and query.tag not in record.tags:
        return False
    if query.q:
        needle = query.q.casefold()
        return (
            needle in record.display_name.casefold()
            or needle in (record.summary or "").casefold()
            or needle in (record.category or "").casefold()
        )
    return True


def search_tier(record: AssemblyRecord, needle: str, body_hits: set[str]) -> int | None:
    """Where ``q`` matched, ranked: 0 the name, 1 the summary or category, 2 the body
    only (``needle`` is the query case-folded, ``body_hits`` the matching payloads)."""
    if needle in record.display_name.casefold():
        return 0
    if needle in (record.summary or "").casefold() or needle in (record.category or "").casefold():
        return 1
    if record.payload.payload_guid in body_hits:
        return 2
    return None
