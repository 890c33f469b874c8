"""Garbage-collector tuning for building the cache, in one place.

Loading builds hundreds of thousands of long-lived objects (records, entries): each
collection meanwhile would rescan the growing heap again and again. So the cyclic
collector is paused while they are built, and once built they move to the permanent
generation (``gc.freeze``), out of the way of every later collection.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused(*, then_freeze: bool) -> Iterator[None]:
    """Pause the cyclic collector while many long-lived objects are built; with
    ``then_freeze``, move everything alive afterwards out of later collections."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        if then_freeze:
            freeze_long_lived()


def freeze_long_lived() -> None:
    """Everything alive now lives as long as the engine: keep it out of later collections."""
    gc.freeze()
