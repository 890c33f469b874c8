"""A bounded in-memory cache of verified payloads, least recently used first out.

Payloads are write-once, so an entry never goes stale by itself; only a store that
replaces or removes a payload's stored copy evicts it. Entries are what a read returned
after every check (payload_manifest.PayloadImage), with the checksum of their manifest.

Fills race with evictions: a read that fetched a payload just before another thread
replaced or deleted it must not put the old copy back. Every fill therefore carries the
``generation`` taken before its fetch and is dropped if any eviction happened since
(evictions are rare, so a dropped fill costs at most one more read later).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from assembly_engine.storage.contract.payload_manifest import PayloadImage


@dataclass(frozen=True, slots=True)
class CachedPayload:
    image: PayloadImage
    checksum: str  # of the manifest bytes: computed once, compared on every read
    size: int


def image_size(image: PayloadImage) -> int:
    """The bytes an image holds: its manifest and every file."""
    return len(image.manifest_bytes) + len(image.main) + sum(len(data) for data in image.files)


class PayloadCache:
    """Verified payloads by payload GUID, at most ``max_bytes`` of them (0: off).

    A payload larger than the whole budget is not kept. Safe to share between threads."""

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError(f"a cache budget is 0 (off) or more bytes, got {max_bytes}")
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, CachedPayload] = OrderedDict()  # oldest use first
        self._bytes = 0
        self._generation = 0
        self._lock = threading.Lock()

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, payload_guid: object) -> bool:
        return payload_guid in self._entries

    def generation(self) -> int:
        """Take before fetching what :meth:`put` is given."""
        return self._generation

    def get(self, payload_guid: str) -> CachedPayload | None:
        with self._lock:
            entry = self._entries.get(payload_guid)
            if entry is not None:
                self._entries.move_to_end(payload_guid)
            return entry

    def put(self, payload_guid: str, image: PayloadImage, *, since: int) -> None:
        """Keep ``image`` unless an eviction happened after ``since`` was taken."""
        size = image_size(image)
        if size > self.max_bytes:
            return
        entry = CachedPayload(image, image.checksum, size)
        with self._lock:
            if since != self._generation:
                return
            self._drop(payload_guid)
            self._entries[payload_guid] = entry
            self._bytes += size
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def evict(self, payload_guids: Iterable[str]) -> None:
        """Forget these payloads, and every fill whose fetch began before now."""
        with self._lock:
            self._generation += 1
            for payload_guid in payload_guids:
                self._drop(payload_guid)

    def _drop(self, payload_guid: str) -> None:
        entry = self._entries.pop(payload_guid, None)
        if entry is not None:
            self._bytes -= entry.size
