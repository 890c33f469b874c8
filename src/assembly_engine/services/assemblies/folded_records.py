"""Where a list search's ``q`` is found, without looking at every record per query.

A search after a change used to case-fold the name, summary and category of every live
record (100,000 of them) for each new query. Here they are folded once per cache
generation and joined into one string per field, so a query is one substring scan in C
plus a step per hit; records are then looked at only if the query found them somewhere
(in a field or, through its payload, in the body).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from assembly_engine.storage.contract.models import CachedAssembly

# Between two records' texts: a query holding it cannot be looked for this way.
SEPARATOR = "\x00"


@dataclass(frozen=True)
class FoldedRecords:
    items: tuple[CachedAssembly, ...]  # the live records, in the cache's order
    names: str  # every name case-folded, joined by SEPARATOR
    name_starts: tuple[int, ...]  # where each record's name starts in ``names``
    others: str  # every summary and category case-folded (two per record), joined likewise
    other_starts: tuple[int, ...]
    by_payload: dict[str, tuple[int, ...]]  # payload GUID -> the records pointing at it

    @classmethod
    def of(cls, items: Iterable[CachedAssembly]) -> FoldedRecords:
        kept = tuple(items)
        names = [a.record.display_name.casefold() for a in kept]
        others: list[str] = []
        by_payload: dict[str, list[int]] = {}
        for number, item in enumerate(kept):
            record = item.record
            others.append((record.summary or "").casefold())
            others.append((record.category or "").casefold())
            by_payload.setdefault(record.payload.payload_guid, []).append(number)
        return cls(
            kept,
            SEPARATOR.join(names),
            _starts(names),
            SEPARATOR.join(others),
            _starts(others),
            {guid: tuple(numbers) for guid, numbers in by_payload.items()},
        )

    def searchable(self, needle: str) -> bool:
        return SEPARATOR not in needle

    def tiers(self, needle: str, body_hits: set[str]) -> dict[int, int]:
        """Record number -> where ``needle`` (case-folded) matched: 0 the name, 1 the summary
        or category, 2 only the body (``body_hits``: the payloads whose bodies match)."""
        found: dict[int, int] = {}
        for payload_guid in body_hits:
            for number in self.by_payload.get(payload_guid, ()):
                found[number] = 2
        for segment in _found_in(self.others, self.other_starts, needle):
            found[segment // 2] = 1
        for number in _found_in(self.names, self.name_starts, needle):
            found[number] = 0
        return found


def _starts(texts: list[str]) -> tuple[int, ...]:
    starts: list[int] = []
    at = 0
    for text in texts:
        starts.append(at)
        at += len(text) + len(SEPARATOR)
    return tuple(starts)


def _found_in(joined: str, starts: tuple[int, ...], needle: str) -> list[int]:
    """The numbers of the texts in ``joined`` that hold ``needle`` (once each, in order)."""
    found: list[int] = []
    at = joined.find(needle)
    while at != -1:
        number = bisect_right(starts, at) - 1
        found.append(number)
        if number + 1 >= len(starts):
            break
        at = joined.find(needle, starts[number + 1])  # on to the next text
    return found
