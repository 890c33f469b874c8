"""Group commit: the writer thread of both backends' write journals.

Whatever was submitted while the last commit ran goes into the next one (up to a batch
limit), so many waiting writers share one durable commit. The writer also takes
barriers, work that must happen in order between commits (a flush's cleanup, a wait for
everything submitted so far): a barrier runs once the entries before it are committed.
Closing commits what came before it, then ends the thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

Entry = TypeVar("Entry")
Barrier = TypeVar("Barrier")


@dataclass(frozen=True, slots=True)
class _InOrder(Generic[Barrier]):
    work: Barrier


_STOP = object()


class GroupCommitWriter(Generic[Entry, Barrier]):
    """One writer thread: ``commit`` takes each batch, ``barrier`` each barrier's work."""

    def __init__(
        self,
        commit: Callable[[list[Entry]], None],
        barrier: Callable[[Barrier], None],
        *,
        max_batch: int,
        name: str,
    ) -> None:
        self.max_batch = max_batch
        self.closed = False
        self._commit = commit
        self._barrier = barrier
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread = threading.Thread(target=self.run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def put(self, entry: Entry) -> None:
        self._queue.put(entry)

    def put_barrier(self, work: Barrier) -> None:
        self._queue.put(_InOrder(work))

    def close(self) -> bool:
        """Finish everything put so far and end the thread; False if already closed."""
        if self.closed:
            return False
        self.closed = True
        self._queue.put(_STOP)
        if self._thread.is_alive():
            self._thread.join()
        return True

    def run(self) -> None:
        """Commit batches and run barriers in the order they came, until closed (the
        thread's loop; a test may call it in its own thread)."""
        while True:
            item = self._queue.get()  # waits for work; then takes what else is there
            batch: list[Entry] = []
            while True:
                if item is _STOP:
                    if batch:
                        self._commit(batch)
                    return
                if isinstance(item, _InOrder):
                    if batch:
                        self._commit(batch)
                        batch = []
                    self._barrier(item.work)
                else:
                    batch.append(item)  # type: ignore[arg-type]  # neither the stop nor a barrier: an entry
                    if len(batch) >= self.max_batch:
                        break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._commit(batch)
