"""GroupedSync: concurrent writers share fsyncs, and none returns before one covers it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from assembly_engine.storage.files.durable_files import GroupedSync


def test_one_sync_covers_every_change_made_before_it_began() -> None:
    group, syncs = GroupedSync(), []
    first, second = group.changed(), group.changed()
    group.durable(first, lambda: syncs.append("sync"))
    group.durable(second, lambda: syncs.append("sync"))  # covered by the first
    assert syncs == ["sync"]
    third = group.changed()
    group.durable(third, lambda: syncs.append("sync"))  # made after it: needs its own
    assert syncs == ["sync", "sync"]


def test_a_failed_sync_covers_nobody() -> None:
    group = GroupedSync()
    ticket = group.changed()

    def failing() -> None:
        raise OSError(5, "Input/output error")

    with pytest.raises(OSError):
        group.durable(ticket, failing)
    syncs: list[str] = []
    group.durable(ticket, lambda: syncs.append("sync"))
    assert syncs == ["sync"]


def test_writers_that_change_during_a_sync_share_the_next_one() -> None:
    others = 15
    group, syncs = GroupedSync(), []
    first_sync_started = threading.Event()
    others_changed = threading.Barrier(others + 1)

    def sync() -> None:
        syncs.append("sync")
        if len(syncs) == 1:  # the first writer's sync lasts until every other one changed
            first_sync_started.set()
            others_changed.wait(timeout=30)

    def first() -> None:
        group.durable(group.changed(), sync)

    def other(_: int) -> None:
        first_sync_started.wait(timeout=30)
        ticket = group.changed()
        others_changed.wait(timeout=30)
        group.durable(ticket, sync)

    with ThreadPoolExecutor(others + 1) as pool:
        done = [pool.submit(first), *(pool.submit(other, n) for n in range(others))]
        for future in done:
            future.result(timeout=60)
    # The first sync began before the others changed, so it covers none of them; one
    # more sync covers all fifteen.
    assert syncs == ["sync", "sync"]
