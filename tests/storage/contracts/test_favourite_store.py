"""Contract of the EngineStore's favourites: per user, bounded, gone with their user."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.storage.contracts.backends import Backend

NOW = "2026-01-01T00:00:00Z"


def guid(index: int) -> str:
    return f"{index:032x}"


def test_favourites_are_kept_per_user_newest_first(backend: Backend) -> None:
    store = backend.engine_store()
    store.insert_user("alice", "hash", "operator", NOW)
    store.insert_user("bob", "hash", "operator", NOW)
    assert store.add_favourite("alice", guid(1), 10.0, 5) == "added"
    assert store.add_favourite("ALICE", guid(2), 20.0, 5) == "added"  # names fold ASCII case
    assert store.add_favourite("alice", guid(1), 30.0, 5) == "kept"
    assert [f.assembly_guid for f in store.list_favourites("Alice")] == [guid(2), guid(1)]
    assert store.list_favourites("alice")[1].added_at == 10.0  # kept: not moved to the top
    assert store.list_favourites("bob") == []
    assert store.remove_favourite("alice", guid(2))
    assert not store.remove_favourite("alice", guid(2))
    assert not store.remove_favourite("bob", guid(1))
    assert [f.assembly_guid for f in store.list_favourites("alice")] == [guid(1)]


def test_the_cap_holds_under_concurrent_adds(backend: Backend) -> None:
    store = backend.engine_store()
    store.insert_user("carol", "hash", "operator", NOW)
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda i: store.add_favourite("carol", guid(i), float(i), 10), range(30)))
    assert outcomes.count("added") == 10 and outcomes.count("full") == 20
    assert len(store.list_favourites("carol")) == 10


def test_favourites_go_with_their_user_and_need_one(backend: Backend) -> None:
    store = backend.engine_store()
    store.insert_user("dave", "hash", "operator", NOW)
    assert store.add_favourite("dave", guid(1), 1.0, 5) == "added"
    assert store.delete_user("dave")
    assert store.list_favourites("dave") == []
    assert store.add_favourite("dave", guid(1), 1.0, 5) == "no_user"
    store.insert_user("dave", "hash", "operator", NOW)  # a new account of the same name starts empty
    assert store.list_favourites("dave") == []
