"""The writer thread both write journals share: batches, barriers in order, closing."""

from __future__ import annotations

from assembly_engine.storage.group_commit import GroupCommitWriter


def writer(max_batch: int) -> tuple[GroupCommitWriter[int, str], list[list[int] | str]]:
    """A writer that records what it did, in order: each committed batch (a list) and each
    barrier; not started, so the test runs its loop and sees every batch as queued."""
    done: list[list[int] | str] = []
    return GroupCommitWriter(done.append, done.append, max_batch=max_batch, name="test-writer"), done


def test_waiting_entries_share_one_commit_up_to_the_batch_limit() -> None:
    made, done = writer(max_batch=3)
    for entry in range(7):
        made.put(entry)
    made.close()
    made.run()
    assert done == [[0, 1, 2], [3, 4, 5], [6]]


def test_a_barrier_runs_after_the_entries_before_it_and_before_those_after() -> None:
    made, done = writer(max_batch=10)
    made.put_barrier("first")
    made.put(1)
    made.put(2)
    made.put_barrier("between")
    made.put_barrier("again")
    made.put(3)
    made.close()
    made.run()
    assert done == ["first", [1, 2], "between", "again", [3]]


def test_closing_commits_what_came_before_it_and_ends_the_thread() -> None:
    made, done = writer(max_batch=10)
    made.start()
    for entry in range(5):
        made.put(entry)
    assert made.close()
    assert not made.close()  # once
    assert [entry for batch in done if isinstance(batch, list) for entry in batch] == [0, 1, 2, 3, 4]
