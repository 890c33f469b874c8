"""The assembly list: its query, which assemblies match, and the page as bytes with its ETag.

Clients poll the list, so answers are kept as rendered bytes per (query string, admin view)
while the cache's generation holds: an unchanged list costs a lookup, and a client that
sends the ETag back gets a 304 without anything being rendered.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import parse_qsl

import orjson
from pydantic import BaseModel, Field

from assembly_engine import input_limits as limits
from assembly_engine.domain.types import AssemblyKind, Domain
from assembly_engine.services.assemblies.views import record_view
from assembly_engine.services.auth import policy
from assembly_engine.services.caller import Auditor, Caller
from assembly_engine.storage.cache.assembly_cache import AssemblyCache
from assembly_engine.storage.contract.models import AssemblyRecord, CachedAssembly
from assembly_engine.storage.contract.signatures import OfficialTrust, SignatureStatus

LIST_CACHE_SIZE = 64


@dataclass(frozen=True)
class ListQuery:
    domain: Domain | None = None
    kind: AssemblyKind | None = None
    category: str | None = None  # exact; "" matches assemblies without a category
    q: str | None = None
    dirty: bool | None = None
    signature: SignatureStatus | None = None  # official records with this status only
    limit: int = 100
    offset: int = 0
    sort: str = "display_name"
    descending: bool = False


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
    q: str | None = Field(default=None, max_length=limits.SEARCH_CHARS)
    dirty: bool | None = None
    signature: SignatureStatus | None = None

    def to_query(self) -> ListQuery:
        return ListQuery(
            domain=self.domain,
            kind=self.kind,
            category=self.category,
            q=self.q,
            dirty=self.dirty,
            signature=self.signature,
        )


class PageParams(BaseModel):
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=10_000_000)


class ListParams(FacetParams, PageParams):
    """The list's query: its filters, a page and an order."""

    # A Literal built from the keys, so OpenAPI lists them; mypy cannot evaluate it.
    sort: Literal[tuple(SORT_KEYS)] = "display_name"  # type: ignore[valid-type]
    order: Literal["asc", "desc"] = "asc"

    def to_query(self) -> ListQuery:
        return ListQuery(
            domain=self.domain,
            kind=self.kind,
            category=self.category,
            q=self.q,
            dirty=self.dirty,
            signature=self.signature,
            limit=self.limit,
            offset=self.offset,
            sort=self.sort,
            descending=self.order == "desc",
        )


def query_values(query_string: str) -> dict[str, str]:
    return dict(parse_qsl(query_string, keep_blank_values=True))


@lru_cache(maxsize=256)
def parse_list_query(query_string: bytes) -> ListQuery:
    """Query string -> validated query (pydantic's ValidationError if it is not one); clients
    repeat the same few, so parses are kept."""
    return ListParams.model_validate(query_values(query_string.decode("latin-1"))).to_query()


def record_matches(record: AssemblyRecord, query: ListQuery) -> bool:
    """The filters that look at the record alone (the list and the deleted view share them)."""
    if query.domain is not None and record.domain is not query.domain:
        return False
    if query.kind is not None and record.assembly_kind is not query.kind:
        return False
    if query.category is not None and (record.category or "") != query.category:
        return False
    if query.q:
        needle = query.q.casefold()
        return (
            needle in record.display_name.casefold()
            or needle in (record.summary or "").casefold()
            or needle in (record.category or "").casefold()
        )
    return True


class GenerationCache:
    """Values derived from the cache, kept (LRU) while the cache's generation is unchanged."""

    def __init__(self, size: int = LIST_CACHE_SIZE) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[Any, tuple[int, Any]] = OrderedDict()

    def get(self, key: Any, generation: int) -> Any | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None or hit[0] != generation:
                return None
            self._items.move_to_end(key)
            return hit[1]

    def put(self, key: Any, generation: int, value: Any) -> None:
        with self._lock:
            self._items[key] = (generation, value)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


@dataclass(frozen=True)
class RenderedPage:
    etag: str  # weak: the cache's generation and the query
    body: bytes


class Listing:
    """The list and its facet counts, read from the cache's snapshots."""

    def __init__(self, cache: AssemblyCache, auditor: Auditor, trust: Callable[[], OfficialTrust]) -> None:
        self._cache = cache
        self._trust = trust  # the official library's signature state as it is now
        self._seen_trust: OfficialTrust | None = None
        self._auditor = auditor
        self._matches = GenerationCache()  # filtered + sorted snapshots per query
        self._pages = GenerationCache()  # rendered answers per query string and view

    def allowed(self, caller: Caller) -> None:
        self._auditor.require(policy.may_read(caller.actor), caller, "assembly.list")
        trust = self._trust()
        if trust is not self._seen_trust:  # a sync judged the signatures again: statuses may differ
            self._seen_trust = trust
            self._matches = GenerationCache()
            self._pages = GenerationCache()

    def kept_page(self, caller: Caller, query_string: bytes) -> RenderedPage | None:
        """The page already rendered for this query and view, if nothing changed since
        (cheap: answered on the event loop). Checks the sign-in first."""
        self.allowed(caller)
        page: RenderedPage | None = self._pages.get((query_string, caller.is_admin), self._cache.generation)
        return page

    def render(self, caller: Caller, query_string: bytes) -> RenderedPage:
        """Parse the query, render its page and keep it (raises ValidationError for a bad query)."""
        query = parse_list_query(query_string)
        key = (query_string, caller.is_admin)
        generation = self._cache.generation  # read first: a later change means a new tag
        items, total = self.search(caller, query)
        body = orjson.dumps({"items": items, "total": total, "queue": {"depth": self._cache.depth()}})
        tag = hashlib.sha256(b"%s|%d" % key).hexdigest()[:16]
        page = RenderedPage(f'W/"{generation}-{tag}"', body)
        self._pages.put(key, generation, page)
        return page

    def search(self, caller: Caller, query: ListQuery) -> tuple[list[dict[str, Any]], int]:
        """One page of the list and the number of matches."""
        self.allowed(caller)
        items = self._matching(query)
        page = items[query.offset : query.offset + query.limit]
        trust = self._trust()
        return [record_view(a, include_payload_guid=caller.is_admin, trust=trust) for a in page], len(items)

    def facets(self, caller: Caller, query: ListQuery) -> dict[str, Any]:
        """How many assemblies each domain, kind and category filter would show, given the
        search and the other filters (a facet's own filter is left out of its counts)."""
        self.allowed(caller)
        key = ("facets", query.domain, query.kind, query.category, query.q, query.dirty, query.signature)
        generation = self._cache.generation
        counted: dict[str, Any] | None = self._matches.get(key, generation)
        if counted is None:
            counted = self._count_facets(query)
            self._matches.put(key, generation, counted)
        return counted

    def _matching(self, query: ListQuery) -> list[CachedAssembly]:
        key = (
            query.domain,
            query.kind,
            query.category,
            query.q,
            query.dirty,
            query.signature,
            query.sort,
            query.descending,
        )
        generation = self._cache.generation
        items: list[CachedAssembly] | None = self._matches.get(key, generation)
        if items is None:
            items = self._filtered(query)
            sort_key = SORT_KEYS[query.sort]
            items.sort(key=lambda a: (sort_key(a.record), a.record.assembly_guid), reverse=query.descending)
            self._matches.put(key, generation, items)
        return items

    def _filtered(self, query: ListQuery) -> list[CachedAssembly]:
        items = [
            a
            for a in self._cache.items(query.domain)
            if (query.dirty is None or a.state.is_dirty is query.dirty) and record_matches(a.record, query)
        ]
        if query.signature is not None:  # a status only official records have
            trust = self._trust()
            items = [
                a
                for a in items
                if a.record.domain is Domain.OFFICIAL and trust.status_of(a.record) is query.signature
            ]
        return items

    def _count_facets(self, query: ListQuery) -> dict[str, Any]:
        searched = self._filtered(ListQuery(q=query.q, dirty=query.dirty, signature=query.signature))
        domains = {d.value: 0 for d in Domain}
        kinds = {k.value: 0 for k in AssemblyKind}
        categories: dict[str, int] = {}
        for item in searched:
            record = item.record
            category = record.category or ""
            in_domain = query.domain is None or record.domain is query.domain
            in_kind = query.kind is None or record.assembly_kind is query.kind
            in_category = query.category is None or category == query.category
            if in_kind and in_category:
                domains[record.domain.value] += 1
            if in_domain and in_category:
                kinds[record.assembly_kind.value] += 1
            if in_domain and in_kind:
                categories[category] = categories.get(category, 0) + 1
        ordered = dict(sorted(categories.items(), key=lambda pair: (pair[0].casefold(), pair[0])))
        return {"domain": domains, "kind": kinds, "category": ordered, "total": sum(domains.values())}
