"""How a node learns what the other nodes changed: LISTEN/NOTIFY, then catch-up by seq.

A notification only wakes the feed; what it applies is always read from the write queue
(every change after the last one this node applied, in sequence order), so a lost or
merged notification costs at most one poll interval, never a change. The same catch-up
runs after every reconnect, on every poll tick, and whenever the cache asks (a change the
shared queue refused is planned again only after it). A node further behind than the
queue's retention (the changes it missed were purged) reloads every domain instead.

It also tells the cache which of its queued changes another node flushed, and each
domain's shared flush state, so ``is_dirty`` and the queue view agree on every node.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import psycopg

from assembly_engine.database_url import redact
from assembly_engine.domain.types import Domain
from assembly_engine.storage.cache.assembly_cache import AssemblyCache
from assembly_engine.storage.cache.refusals import QueuedChangesPending
from assembly_engine.storage.contract.errors import EngineError
from assembly_engine.storage.postgresql.pool import APPLICATION_NAME
from assembly_engine.storage.postgresql.write_queue import (
    CHANGES_CHANNEL,
    FLUSHED_CHANNEL,
    RELOAD_CHANNEL,
    PostgresWriteQueue,
)

log = logging.getLogger("assembly_engine.change_feed")

FEED_APPLICATION_NAME = f"{APPLICATION_NAME}-feed"
POLL_SECONDS = 1.0
WAKE_SECONDS = 0.2
MAX_BACKOFF_SECONDS = 10.0
BATCH = 1000


class ChangeFeed:
    def __init__(
        self,
        url: str,
        queue: PostgresWriteQueue,
        cache: AssemblyCache,
        *,
        applied_seq: int,
        reload_all: Callable[[], object],
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        """``applied_seq``: the last change the cache already reflects (read before the
        cache loaded the tables); ``reload_all`` reloads every domain from its table."""
        self._url = url
        self._queue = queue
        self._cache = cache
        self._applied = applied_seq
        self._reload_all = reload_all
        self.poll_seconds = poll_seconds
        self._catching_up = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: psycopg.Connection | None = None
        self.connected = threading.Event()  # LISTENing now (tests wait on it)
        # Domains another node rewrote outside the queue (official sync), to reload.
        self._reloads: set[Domain] = set()
        cache.catch_up = self.catch_up

    @property
    def applied_seq(self) -> int:
        return self._applied

    # -- catching up -------------------------------------------------------------------
    def catch_up(self, *, known_last: int | None = None, flushes: bool = True) -> None:
        """Apply every committed change after the last one applied; then (``flushes``)
        what others flushed. ``known_last``: the newest seq a notification named, when
        nothing else is known to have changed. Safe from any thread; raises Unavailable
        when PostgreSQL is away."""
        with self._catching_up:
            # This node's own commits are in its cache already: no need to read them back.
            self._applied = self._queue.skip_own(self._applied, known_last)
            if known_last is None or known_last > self._applied:
                self._read_changes()
            if flushes:
                dirty = self._cache.dirty_seqs()
                if dirty:
                    self._cache.mark_flushed(self._queue.flushed(list(dirty)), dirty)
                self._cache.flusher.share_state(self._queue.flush_states())
            for domain in sorted(self._reloads):
                try:
                    self._cache.reload_domain(domain)
                    self._reloads.discard(domain)
                except QueuedChangesPending as exc:  # its queued changes are not flushed yet here
                    log.info("reloading %s after a sync elsewhere waits: %s", domain.value, exc)

    def _read_changes(self) -> None:
        while True:
            changes = self._queue.changes_after(self._applied, BATCH)
            if not changes:
                return
            if changes[0][0].seq != self._applied + 1:
                self._reload(changes[0][0].seq)
                continue
            self._cache.apply_remote(changes)
            self._applied = changes[-1][0].seq
            if len(changes) < BATCH:
                return

    def _reload(self, first_kept: int) -> None:
        """The changes between the last applied and ``first_kept`` were purged: only the
        tables hold them now."""
        log.warning(
            "this node missed changes %d-%d, which were flushed and purged meanwhile; "
            "reloading every domain from PostgreSQL",
            self._applied + 1,
            first_kept - 1,
        )
        last = self._queue.last_seq()
        self._reload_all()
        self._applied = last

    # -- listening ---------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="change-feed", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                self._listen()
                backoff = 0.5
            except (psycopg.Error, EngineError, OSError) as exc:
                self.connected.clear()
                if self._stop.is_set():
                    return
                log.warning("change feed lost PostgreSQL (%s); retrying in %.1fs", exc, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            finally:
                self._close_connection()

    def _listen(self) -> None:
        conn = psycopg.connect(
            self._url, autocommit=True, connect_timeout=10, application_name=FEED_APPLICATION_NAME
        )
        self._conn = conn
        for channel in (CHANGES_CHANNEL, FLUSHED_CHANNEL, RELOAD_CHANNEL):
            conn.execute(f"LISTEN {channel}")
        self.connected.set()
        log.info("change feed listening on %s", redact(self._url))
        self.catch_up()  # whatever happened while not listening
        next_poll = time.monotonic() + self.poll_seconds
        while not self._stop.is_set():
            # Short waits, so stop() is quick; a catch-up on a notification or each poll.
            # A notification of changes alone needs no flush state: flushes notify too.
            changed: int | None = None
            other = False
            for note in conn.notifies(timeout=WAKE_SECONDS, stop_after=1):
                if note.channel == CHANGES_CHANNEL and note.payload.isdigit():
                    changed = max(changed or 0, int(note.payload))
                    continue
                other = True
                if note.channel == RELOAD_CHANNEL and note.payload in {d.value for d in Domain}:
                    self._reloads.add(Domain(note.payload))
            if self._stop.is_set():
                return
            if other or time.monotonic() >= next_poll:
                self.catch_up()
                next_poll = time.monotonic() + self.poll_seconds
            elif changed is not None:
                self.catch_up(known_last=changed, flushes=False)

    def _close_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except psycopg.Error:
                pass

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
