"""The assembly list: which assemblies match its query (``list_query.py``), and the page as
bytes with its ETag.

Clients poll the list, so answers are kept as rendered bytes per (parsed query, admin view)
while the cache's generation holds: an unchanged list costs a lookup, and a client that
sends the ETag back gets a 304 without anything being rendered. Keys are parsed queries,
not query strings, so junk parameters or reordering cannot multiply the kept pages, and
the kept pages share a byte budget.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError

from assembly_engine.domain.types import AssemblyKind, Domain
from assembly_engine.services.answers.records import Facets, ListItem, ListPage, QueueDepth, SearchMatch
from assembly_engine.services.assemblies.folded_records import FoldedRecords
from assembly_engine.services.assemblies.folders_and_tags import in_folder, most_used_tags
from assembly_engine.services.assemblies.list_query import (
    SORT_KEYS,
    ListQuery,
    parse_list_query,
    record_matches,
    search_tier,
    upstream_flags,
)
from assembly_engine.services.auditor import Auditor
from assembly_engine.services.auth import policy
from assembly_engine.services.caller import Caller
from assembly_engine.services.checks.gate import ScriptChecks
from assembly_engine.storage.cache.assembly_cache import AssemblyCache
from assembly_engine.storage.contract.models import CachedAssembly
from assembly_engine.storage.contract.search_terms import query_terms
from assembly_engine.storage.contract.signatures import OfficialTrust

LIST_CACHE_SIZE = 64
# What rendered pages may hold in all; a page larger than a quarter of it is not kept.
PAGE_CACHE_BYTES = 32 * 1024 * 1024
# Body hits of this many searches are kept: at 100,000 assemblies one set can hold 100,000 GUIDs.
BODY_HITS_KEPT = 8


class GenerationCache:
    """Values derived from the cache, kept (LRU) while the cache's generation is unchanged;
    with ``max_bytes``, values are sized by ``len()`` and the cache holds at most that many."""

    def __init__(self, size: int = LIST_CACHE_SIZE, max_bytes: int | None = None) -> None:
        self._size = size
        self._max_bytes = max_bytes
        self._bytes = 0
        self._lock = threading.Lock()
        self._items: OrderedDict[Any, tuple[object, Any]] = OrderedDict()

    @property
    def kept_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Any, generation: object) -> Any | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None or hit[0] != generation:
                return None
            self._items.move_to_end(key)
            return hit[1]

    def put(self, key: Any, generation: object, value: Any) -> None:
        size = len(value) if self._max_bytes is not None else 0
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old[1]) if self._max_bytes is not None else 0
            if self._max_bytes is not None and size > self._max_bytes // 4:
                return  # too large to be worth its share of the budget: rendered each time
            self._items[key] = (generation, value)
            self._bytes += size
            while len(self._items) > self._size or (
                self._max_bytes is not None and self._bytes > self._max_bytes
            ):
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= len(dropped) if self._max_bytes is not None else 0


@dataclass(frozen=True)
class RenderedPage:
    etag: str  # weak: the cache's generation, the checks' at rendering, and the query
    body: bytes
    payloads: tuple[str, ...] = ()  # the rows' payloads, whose check counts the page shows
    checks_generation: int = 0  # the checks' generation the counts are current at

    def __len__(self) -> int:
        return len(self.body)


class Listing:
    """The list and its facet counts, read from the cache's snapshots."""

    def __init__(self, cache: AssemblyCache, auditor: Auditor, trust: Callable[[], OfficialTrust]) -> None:
        self._cache = cache
        self._trust = trust  # the official library's signature state as it is now
        self._seen_trust: OfficialTrust | None = None
        self._trust_epoch = 0  # counts the signature states seen: a new one changes the rows
        self._auditor = auditor
        self._matches = GenerationCache()  # filtered + sorted snapshots per query
        self._body = GenerationCache(size=BODY_HITS_KEPT)  # matching payloads per search
        self._folds = GenerationCache(size=1)  # the records' searched fields, folded once
        self._pages = GenerationCache(max_bytes=PAGE_CACHE_BYTES)  # rendered answers per query and view
        self.checks: ScriptChecks | None = None  # check counts per row, when wired

    def _generation(self, with_checks: bool = False) -> str:
        """The cache's generation and the signatures'; with the checks' too for what the
        check results decide (the ``checks`` filter). Pages show counts, but are kept
        across results for other rows (``_still_current``): a background sweep of 100,000
        scripts must not make every request filter, sort and render again."""
        trust = self._trust()
        if trust is not self._seen_trust:  # a sync judged the signatures again: statuses may differ
            self._seen_trust = trust
            self._trust_epoch += 1
        if with_checks and self.checks is not None:
            return f"{self._cache.generation}.{self._trust_epoch}.{self.checks.generation}"
        return f"{self._cache.generation}.{self._trust_epoch}"

    def _checks_generation(self) -> int:
        return self.checks.generation if self.checks is not None else 0

    def _still_current(self, key: Any, generation: str, page: RenderedPage) -> RenderedPage | None:
        """``page`` if no row of it got a check result since it was rendered (then kept as
        current at the checks' present generation, so the next request looks at nothing)."""
        checks = self.checks
        if checks is None or page.checks_generation == checks.generation:
            return page
        now = checks.generation  # read first: a result arriving during the look is seen next time
        if checks.changed_since(page.payloads, page.checks_generation):
            return None
        current = replace(page, checks_generation=now)
        self._pages.put(key, generation, current)
        return current

    def allowed(self, caller: Caller) -> None:
        self._auditor.require(policy.may_read(caller.actor), caller, "assembly.list")

    def kept_page(self, caller: Caller, query_string: bytes) -> RenderedPage | None:
        """The page already rendered for this query and view, if nothing changed since
        (cheap: answered on the event loop). Checks the sign-in first."""
        self.allowed(caller)
        try:
            query = parse_list_query(query_string)
        except ValidationError:
            return None  # render() raises it again, for the route to answer
        key = (query, caller.is_admin)
        generation = self._generation(with_checks=query.checks is not None)  # the filter's rows move
        page: RenderedPage | None = self._pages.get(key, generation)
        return None if page is None else self._still_current(key, generation, page)

    def render(self, caller: Caller, query_string: bytes) -> RenderedPage:
        """Parse the query, render its page and keep it (raises ValidationError for a bad query)."""
        query = parse_list_query(query_string)
        key = (query, caller.is_admin)
        generation = self._generation(with_checks=query.checks is not None)  # read first: see kept_page
        checks_generation = self._checks_generation()
        items, total, payloads = self._page(caller, query)
        answer = ListPage.built(items=items, total=total, queue=QueueDepth.built(depth=self._cache.depth()))
        body = answer.__pydantic_serializer__.to_json(answer, exclude_unset=True)
        tag = hashlib.sha256(repr(key).encode()).hexdigest()[:16]
        page = RenderedPage(f'W/"{generation}.{checks_generation}-{tag}"', body, payloads, checks_generation)
        self._pages.put(key, generation, page)
        return page

    def _page(self, caller: Caller, query: ListQuery) -> tuple[list[ListItem], int, tuple[str, ...]]:
        """One page of the list, the number of matches and the page's payloads."""
        self.allowed(caller)
        items = self._matching(query)
        page = items[query.offset : query.offset + query.limit]
        trust = self._trust()
        matches = self._body_matches(page, query)
        views = [
            ListItem.of(item, admin=caller.is_admin, trust=trust, **self._row_extras(item, matches))
            for item in page
        ]
        return views, len(items), tuple(item.record.payload.payload_guid for item in page)

    def _body_matches(self, page: list[CachedAssembly], query: ListQuery) -> dict[str, SearchMatch]:
        """The matching line of each row found in its body only, by payload (one index read
        for the page)."""
        if not query.q or self._cache.search is None:
            return {}
        needle = query.q.casefold()
        body_only = [
            item.record.payload.payload_guid
            for item in page
            if search_tier(item.record, needle, set()) is None  # matched in the body only
        ]
        lines = self._cache.search.match_lines(body_only, query_terms(query.q))
        return {guid: SearchMatch.built(line=found.line, text=found.text) for guid, found in lines.items()}

    def _row_extras(self, item: CachedAssembly, matches: dict[str, SearchMatch]) -> dict[str, Any]:
        """A row's ``checks`` (when checks are wired) and its body ``match``, if any."""
        extras: dict[str, Any] = {}
        payload_guid = item.record.payload.payload_guid
        if self.checks is not None:
            extras["checks"] = self.checks.counts(payload_guid)
        found = matches.get(payload_guid)
        if found is not None:
            extras["match"] = found
        return extras

    def facets(self, caller: Caller, query: ListQuery) -> Facets:
        """How many assemblies each domain, kind and category filter would show, given the
        search and the other filters (a facet's own filter is left out of its counts)."""
        self.allowed(caller)
        # the counts depend on the filters alone, not on the page or the order
        key = ("facets", replace(query, limit=0, offset=0, sort="", descending=False))
        generation = self._generation(with_checks=query.checks is not None)
        counted: Facets | None = self._matches.get(key, generation)
        if counted is None:
            counted = self._count_facets(query)
            self._matches.put(key, generation, counted)
        return counted

    def _matching(self, query: ListQuery) -> list[CachedAssembly]:
        key = replace(query, limit=0, offset=0)  # one sorted list serves every page
        generation = self._generation(with_checks=query.checks is not None)
        items: list[CachedAssembly] | None = self._matches.get(key, generation)
        if items is None:
            items = self._filtered(query)
            sort_key = SORT_KEYS[query.sort]
            items.sort(key=lambda a: (sort_key(a.record), a.record.assembly_guid), reverse=query.descending)
            if query.q:  # ranked: name hits first, body-only hits last (a stable sort keeps the order within)
                needle, hits = query.q.casefold(), self._body_hits(query.q)
                items.sort(key=lambda a: search_tier(a.record, needle, hits) or 0)
            self._matches.put(key, generation, items)
        return items

    def _body_hits(self, q: str) -> set[str]:
        """Payload GUIDs whose bodies match ``q`` (kept while the cache is unchanged)."""
        if self._cache.search is None:
            return set()
        generation = self._cache.generation  # bodies change with records, not with check results
        hits: set[str] | None = self._body.get(q, generation)
        if hits is None:
            hits = self._cache.search.matching(query_terms(q))
            self._body.put(q, generation, hits)
        return hits

    def _folded(self) -> FoldedRecords:
        generation = self._cache.generation  # read first: a change meanwhile folds again next time
        folded: FoldedRecords | None = self._folds.get("all", generation)
        if folded is None:
            folded = FoldedRecords.of(self._cache.items())
            self._folds.put("all", generation, folded)
        return folded

    def _searched(self, query: ListQuery) -> list[CachedAssembly]:
        """The records ``q`` matches (any other filter not applied yet), in the cache's order."""
        assert query.q
        needle, hits = query.q.casefold(), self._body_hits(query.q)
        folded = self._folded()
        if not folded.searchable(needle):
            return [a for a in folded.items if search_tier(a.record, needle, hits) is not None]
        return [folded.items[n] for n in sorted(folded.tiers(needle, hits))]

    def _filtered(self, query: ListQuery) -> list[CachedAssembly]:
        fields = replace(query, q=None)
        items = [
            a
            for a in (self._searched(query) if query.q else self._cache.items(query.domain))
            if (query.dirty is None or a.state.is_dirty is query.dirty)
            and record_matches(a.record, fields)
            and self._checks_match(a, query.checks)
        ]
        if query.signature is not None:  # a status only official records have
            trust = self._trust()
            items = [
                a
                for a in items
                if a.record.domain is Domain.OFFICIAL and trust.status_of(a.record) is query.signature
            ]
        if query.upstream is not None:
            trust = self._trust()
            items = [a for a in items if query.upstream in upstream_flags(a.record, trust)]
        return items

    def _checks_match(self, item: CachedAssembly, wanted: str | None) -> bool:
        if wanted is None or self.checks is None:
            return True
        counted = self.checks.counts(item.record.payload.payload_guid)
        if wanted == "unchecked":
            return counted is None
        return counted is not None and counted.has_errors is (wanted == "errors")

    def _count_facets(self, query: ListQuery) -> Facets:
        searched = self._filtered(
            # every filter but the facets' own: each facet counts what the others let through
            replace(query, domain=None, kind=None, category=None, folder=None, tag=None)
        )
        domains = {d.value: 0 for d in Domain}
        kinds = {k.value: 0 for k in AssemblyKind}
        categories: dict[str, int] = {}
        tags: dict[str, int] = {}
        for item in searched:
            record = item.record
            category = record.category or ""
            record_tags = record.tags if record.tags_json != "[]" else ()  # most have none: skip the decode
            in_domain = query.domain is None or record.domain is query.domain
            in_kind = query.kind is None or record.assembly_kind is query.kind
            in_category = (query.category is None or category == query.category) and (
                query.folder is None or in_folder(category, query.folder)
            )
            in_tag = query.tag is None or query.tag in record_tags
            if in_kind and in_category and in_tag:
                domains[record.domain.value] += 1
            if in_domain and in_category and in_tag:
                kinds[record.assembly_kind.value] += 1
            if in_domain and in_kind and in_tag:
                categories[category] = categories.get(category, 0) + 1
            if in_domain and in_kind and in_category:
                for tag in set(record_tags):
                    tags[tag] = tags.get(tag, 0) + 1
        ordered = dict(sorted(categories.items(), key=lambda pair: (pair[0].casefold(), pair[0])))
        return Facets.built(
            domain=domains,
            kind=kinds,
            category=ordered,
            tags=most_used_tags(tags, query.tag),
            total=sum(domains.values()),
        )
