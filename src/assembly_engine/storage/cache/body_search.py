"""Keeps the search index current with the cache, and asks it which live assemblies match.

Every new payload's body is handed over when it is written (``note``), before its change
is acknowledged, and a search first indexes everything handed over: a change is findable
as soon as it is acknowledged, long before the flush. The index is keyed by payload GUID
(write-once content), and the cache says which payloads are live, so a delete or an
update never has to touch the index: a body nothing points at any more just never
matches a live record. Whatever the index lacks (a first boot, a deleted or damaged
index file, another node's change in a cluster) is read from the payload store and
added: by a background builder after boot, and by any search that comes first.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from assembly_engine.storage.contract.errors import STORAGE_FAILURES, EngineError, IndexDamaged
from assembly_engine.storage.contract.interfaces import PayloadStore, SearchIndex
from assembly_engine.storage.contract.models import PayloadContent
from assembly_engine.storage.contract.search_terms import MatchLine, SearchTerms, best_line

log = logging.getLogger("assembly_engine.search")

# Bodies read and indexed per transaction while building: bounds the memory a build holds.
BUILD_BATCH = 200
# Handed-over bodies are indexed by a search, or in the background once they hold this
# much text or have waited this long: a write never pays for tokenising, memory stays bounded.
PENDING_BYTES = 8 * 1024 * 1024
PENDING_SECONDS = 10.0
BUILD_DELAY = 1.0  # seconds after boot before the background build starts
# A bulk write (a batch import, a sync apply) holds the background indexing until it has
# been over this long: a client sends its batches back to back.
BULK_QUIET_SECONDS = 3.0


class BodySearch:
    def __init__(
        self,
        index: SearchIndex,
        payloads: PayloadStore,
        live: Callable[[], set[str]],
        generation: Callable[[], int],
    ) -> None:
        self._index = index
        self._payloads = payloads
        self._live = live  # the payload GUIDs of the cache's live records
        self._generation = generation  # the cache's: unchanged means the live set is too
        self._checked: int | None = None  # the generation whose live set is all indexed
        self._lock = threading.Lock()  # one indexer at a time; searches wait for it
        self._pending: dict[str, str] = {}  # handed-over bodies not indexed yet
        self._pending_bytes = 0
        self._wake = threading.Event()  # set when the pending bodies should be indexed now
        self._pending_lock = threading.Lock()  # held briefly by writers: never waits on the index
        self._known: set[str] = set()  # payload GUIDs the index holds (or cannot: unreadable)
        self._builder: threading.Thread | None = None
        self._closed = False
        self._bulk_writes = 0  # bulk writes under way (under _pending_lock)
        self._bulk_ended = float("-inf")  # when the last one ended (time.monotonic)
        self._let_go = False  # a bulk write let handed-over bodies go unindexed

    def note(self, payload_guid: str, content: PayloadContent) -> None:
        """A new payload's body, to index (cheap: a write never waits for the index)."""
        try:
            text = content.text
        except UnicodeDecodeError:
            return  # not text: nothing to search in
        with self._pending_lock:
            self._pending[payload_guid] = text
            self._pending_bytes += len(text)
            full = self._pending_bytes >= PENDING_BYTES
            if full and self._bulk_writes:
                # Let them go rather than index them now: they are live payloads the index
                # lacks, read back from the payload store once the bulk write is over.
                self._pending, self._pending_bytes, full = {}, 0, False
                self._let_go = True
        if full:
            self._wake.set()

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Hold the background indexing while a bulk write runs, and BULK_QUIET_SECONDS
        after: tokenising would compete with its writes for the interpreter. A search
        meanwhile still brings the index current first."""
        with self._pending_lock:
            self._bulk_writes += 1
        try:
            yield
        finally:
            with self._pending_lock:
                self._bulk_writes -= 1
                self._bulk_ended = time.monotonic()

    def _held_for(self) -> float:
        """Seconds the background indexing is still held by bulk writes (0: not held)."""
        with self._pending_lock:
            if self._bulk_writes:
                return BULK_QUIET_SECONDS
            return max(0.0, self._bulk_ended + BULK_QUIET_SECONDS - time.monotonic())

    def start_building(self) -> None:
        """Index in the background what the index lacks (after boot)."""
        self._builder = threading.Thread(target=self._build_quietly, name="search-index-build", daemon=True)
        self._builder.start()

    def _build_quietly(self) -> None:
        # Not at once: threads share one interpreter lock, and the engine is still starting
        # (a search before then builds what it needs itself).
        self._wake.wait(BUILD_DELAY)
        try:
            self.bring_current()
        except Exception:  # noqa: BLE001 - the next search builds again and reports
            log.exception("building the search index failed")
        while not self._closed:  # then index handed-over bodies now and then
            self._wake.wait(PENDING_SECONDS)
            self._wake.clear()
            while not self._closed and (held := self._held_for()) > 0:
                self._wake.wait(held)
                self._wake.clear()
            try:
                with self._lock:
                    if not self._closed:
                        self._index_new()
            except IndexDamaged:
                pass  # the next search finds it and builds again
            except Exception:  # noqa: BLE001 - kept for the next search, which reports
                log.exception("indexing new bodies for search failed")

    def bring_current(self) -> int:
        """Index every handed-over body and every live payload the index lacks; returns how
        many bodies were added. An index found damaged is emptied and built again."""
        with self._lock:
            if self._closed:
                return 0
            try:
                return self._add_missing()
            except IndexDamaged as exc:
                return self._rebuild(exc)

    def _rebuild(self, cause: IndexDamaged) -> int:
        log.warning("%s Building the search index again.", cause)
        self._index.reset()
        self._known.clear()
        self._checked = None
        return self._add_missing()

    def _add_pending(self) -> int:
        with self._pending_lock:
            pending, self._pending, self._pending_bytes = self._pending, {}, 0
        if pending:
            # If this fails the bodies are dropped: they are live payloads the index lacks,
            # so the next search reads them from the payload store.
            self._index.add(sorted(pending.items()))
            self._known.update(pending)
        return len(pending)

    def _index_new(self) -> None:
        """Index the handed-over bodies, and those a bulk write let go (holds ``_lock``)."""
        if self._let_go:
            self._let_go = False
            self._add_missing()  # reads them back from the payload store
        else:
            self._add_pending()

    def _add_missing(self) -> int:
        generation = self._generation()  # read first: a change after it is checked next time
        added = self._add_pending()
        if generation == self._checked:
            return added
        unknown = self._live() - self._known
        if unknown:
            self._known.update(self._index.held(unknown))
            missing = sorted(unknown - self._known)
            for start in range(0, len(missing), BUILD_BATCH):
                if self._closed:  # shutting down: the rest is built at the next start
                    return added
                batch = [
                    (guid, text)
                    for guid in missing[start : start + BUILD_BATCH]
                    if (text := self._read(guid))
                ]
                self._index.add(batch)
                self._known.update(missing[start : start + BUILD_BATCH])
                added += len(batch)
        self._checked = generation
        return added

    def _read(self, payload_guid: str) -> str:
        """A payload's body as text ("" when it is missing or not text: nothing to find)."""
        try:
            return self._payloads.read(payload_guid).text
        except UnicodeDecodeError:
            return ""
        except EngineError as exc:
            log.warning("payload %s not indexed for search: %s", payload_guid, exc)
            return ""
        except STORAGE_FAILURES as exc:
            log.warning("payload %s not indexed for search: %s", payload_guid, exc)
            return ""

    def matching(self, terms: SearchTerms) -> set[str]:
        """Payload GUIDs whose bodies hold every term (the index brought current first)."""
        if terms.empty:
            return set()
        self.bring_current()
        try:
            return self._index.matching(terms)
        except IndexDamaged as exc:
            with self._lock:
                self._rebuild(exc)
            return self._index.matching(terms)

    def match_line(self, payload_guid: str, terms: SearchTerms) -> MatchLine | None:
        try:
            text = self._index.body(payload_guid)
        except IndexDamaged:
            return None  # the next search rebuilds; the hit stands without its line
        return None if text is None else best_line(text, terms)

    def match_lines(self, payload_guids: Sequence[str], terms: SearchTerms) -> dict[str, MatchLine]:
        """The matching line of each body (a page's body-only hits), read in one go."""
        if not payload_guids:
            return {}
        try:
            texts = self._index.bodies(payload_guids)
        except IndexDamaged:
            return {}  # the next search rebuilds; the hits stand without their lines
        lines = {guid: best_line(text, terms) for guid, text in texts.items()}
        return {guid: line for guid, line in lines.items() if line is not None}

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        with self._lock:
            self._index.close()
