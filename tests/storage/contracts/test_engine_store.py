"""Contract of the EngineStore interface: users, sessions with Dev Mode, secrets."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from assembly_engine.storage.contract.engine_records import UserChange
from assembly_engine.storage.contract.errors import EngineError, StorageFailed
from assembly_engine.storage.contract.token_records import NewToken
from tests.storage.contracts.backends import Backend

NOW = "2026-01-01T00:00:00Z"
T = TypeVar("T")


def test_users_are_unique_case_insensitively(backend: Backend) -> None:
    store = backend.engine_store()
    assert store.insert_user("alice", "hash-1", "admin", NOW)
    assert not store.insert_user("ALICE", "hash-2", "operator", NOW)
    assert store.get_user("Alice") is not None
    assert [u.username for u in store.list_users()] == ["alice"]
    assert store.count_users() == 1
    assert not store.insert_user("bob", "hash", "operator", NOW, only_if_empty=True)


def test_the_last_enabled_admin_cannot_be_demoted_or_disabled(backend: Backend) -> None:
    store = backend.engine_store()
    store.insert_user("admin", "hash", "admin", NOW)
    assert store.update_user("admin", NOW, UserChange(role="operator")) == "last_admin"
    assert store.update_user("admin", NOW, UserChange(disabled=True)) == "last_admin"
    assert store.update_user("nobody", NOW, UserChange(role="operator")) == "not_found"
    store.insert_user("second", "hash", "admin", NOW)
    assert store.update_user("admin", NOW, UserChange(role="operator")) == "updated"
    user = store.get_user("admin")
    assert user is not None and user.role == "operator"


def test_sessions_live_until_revoked_and_go_with_their_user(backend: Backend) -> None:
    store = backend.engine_store()
    store.insert_user("alice", "hash", "operator", NOW)
    session = store.insert_session("token-hash", "alice", 100.0, 200.0)
    assert session is not None and session.role == "operator" and not session.revoked
    assert store.insert_session("other", "nobody", 100.0, 200.0) is None
    store.touch_session("token-hash", 150.0)
    seen = store.get_session("token-hash")
    assert seen is not None and seen.last_seen == 150.0
    assert store.revoke_session("token-hash")
    assert not store.revoke_session("token-hash")
    revoked = store.get_session("token-hash")
    assert revoked is not None and revoked.revoked
    store.insert_session("second", "alice", 100.0, 200.0)
    assert store.delete_user("alice")
    assert store.get_session("second") is None


def test_revoking_a_users_sessions_can_spare_one(backend: Backend) -> None:
    store = backend.engine_store()
    store.insert_user("alice", "hash", "operator", NOW)
    for token in ("a", "b", "c"):
        store.insert_session(token, "alice", 100.0, 200.0)
    assert store.revoke_user_sessions("alice", except_hash="b") == 2
    assert [s.token_hash for s in store.list_sessions("alice") if not s.revoked] == ["b"]
    assert store.purge_sessions(200.0) == 3
    assert store.list_sessions("alice") == []


def test_dev_mode_is_set_on_a_live_session_and_expires_once(backend: Backend) -> None:
    store = backend.engine_store()
    store.insert_user("alice", "hash", "admin", NOW)
    store.insert_session("t", "alice", 100.0, 200.0)
    assert not store.set_dev_mode("t", 150.0, "fix", now=250.0)  # the session has expired
    assert store.set_dev_mode("t", 150.0, "fix", now=120.0)
    on = store.get_session("t")
    assert on is not None and (on.dev_mode_until, on.dev_mode_reason) == (150.0, "fix")
    assert not store.clear_expired_dev_mode("t", 140.0)
    assert store.clear_expired_dev_mode("t", 160.0)
    assert not store.clear_expired_dev_mode("t", 160.0)


def test_secrets_are_created_once_and_survive_a_restart(backend: Backend) -> None:
    store = backend.engine_store()
    first = store.secret("names")
    assert store.secret("names") == first and len(first) == 32
    assert store.secret("other") != first
    store.close()
    assert backend.engine_store().secret("names") == first


def test_storage_failures_use_the_shared_vocabulary() -> None:
    assert issubclass(StorageFailed, EngineError) and StorageFailed.code == "storage_error"


def test_names_fold_ascii_case_only_everywhere(backend: Backend) -> None:
    store = backend.engine_store()
    assert store.insert_user("Alice", "hash", "operator", NOW)
    assert store.insert_user("élodie", "hash", "operator", NOW)
    assert store.insert_user("Élodie", "hash", "operator", NOW)  # not ASCII: a different name
    assert [u.username for u in store.list_users()] == ["Alice", "Élodie", "élodie"]  # code point order
    store.insert_session("s1", "ALICE", 100.0, 200.0)
    store.insert_session("s2", "alice", 100.0, 200.0)
    assert [s.username for s in store.list_sessions("aLiCe")] == ["Alice", "Alice"]
    assert store.revoke_user_sessions("ALICE", except_hash="s1") == 1
    assert store.update_user("alice", NOW, UserChange(revoke_sessions=True)) == "updated"
    assert all(s.revoked for s in store.list_sessions("Alice"))
    store.set_password_hash("ALICE", "rehashed")
    user = store.get_user("alice")
    assert user is not None and user.password_hash == "rehashed"
    assert store.delete_user("ALICE") and store.get_user("Alice") is None


def test_update_user_changes_the_user_and_its_sessions_together(backend: Backend) -> None:
    store = backend.engine_store()
    store.insert_user("admin", "hash", "admin", NOW)
    store.insert_user("alice", "hash", "admin", NOW)
    for token in ("keep", "drop"):
        store.insert_session(token, "alice", 100.0, 200.0)
        store.set_dev_mode(token, 180.0, "fix", now=110.0)
    later = "2026-01-02T00:00:00Z"
    assert (
        store.update_user(
            "alice", later, UserChange(role="operator", revoke_sessions_except="keep", clear_dev_mode=True)
        )
        == "updated"
    )
    kept, dropped = store.get_session("keep"), store.get_session("drop")
    assert kept is not None and not kept.revoked and kept.role == "operator"
    assert kept.dev_mode_until is None and kept.dev_mode_reason is None
    assert dropped is not None and dropped.revoked
    user = store.get_user("alice")
    assert user is not None and user.updated_at == later and user.created_at == NOW


def test_a_disabled_user_gets_no_session(backend: Backend) -> None:
    store = backend.engine_store()
    store.insert_user("admin", "hash", "admin", NOW)
    store.insert_user("alice", "hash", "operator", NOW)
    assert store.update_user("alice", NOW, UserChange(disabled=True)) == "updated"
    assert store.insert_session("t", "alice", 100.0, 200.0) is None


def race(count: int, work: Callable[[int], T]) -> list[T]:
    """Run ``work(0..count-1)`` in threads released together; their results in order."""
    barrier = threading.Barrier(count)

    def start(index: int) -> T:
        barrier.wait()
        return work(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(start, range(count)))


def test_nodes_bootstrapping_at_once_create_one_first_admin(backend: Backend) -> None:
    nodes = [backend.engine_store() for _ in range(3)]
    created = race(3, lambda i: nodes[i].insert_user(f"admin{i}", "hash", "admin", NOW, only_if_empty=True))
    assert created.count(True) == 1
    assert nodes[0].count_users() == 1


def test_two_nodes_cannot_both_demote_the_last_two_admins(backend: Backend) -> None:
    nodes = [backend.engine_store() for _ in range(2)]
    nodes[0].insert_user("a0", "hash", "admin", NOW)
    nodes[0].insert_user("a1", "hash", "admin", NOW)
    results = race(2, lambda i: nodes[i].update_user(f"a{i}", NOW, UserChange(role="operator")))
    assert sorted(results) == ["last_admin", "updated"]
    assert len([u for u in nodes[0].list_users() if u.role == "admin"]) == 1


def test_nodes_asking_for_a_new_secret_at_once_get_the_same_bytes(backend: Backend) -> None:
    nodes = [backend.engine_store() for _ in range(3)]
    values = race(3, lambda i: nodes[i].secret("csrf"))
    assert len(set(values)) == 1 and len(values[0]) == 32


def test_api_tokens_are_found_by_hash_and_judged_against_their_owner(backend: Backend) -> None:
    store = backend.engine_store()
    store.insert_user("alice", "hash", "admin", NOW)
    store.insert_user("bob", "hash", "operator", NOW)
    made = store.insert_token(
        NewToken("tok_1", "hash-1", "ALICE", "runner", ("assemblies:read",), 100.0, 200.0)
    )
    assert made is not None
    assert (made.id, made.username, made.name) == ("tok_1", "alice", "runner")
    assert made.scopes == ("assemblies:read",)
    assert (made.created_role, made.role) == ("admin", "admin")
    assert not made.user_disabled and not made.revoked
    assert made.last_used is None and (made.created_at, made.expires_at) == (100.0, 200.0)
    assert (
        store.insert_token(NewToken("tok_x", "hash-x", "nobody", "n", ("metrics:read",), 100.0, 200.0))
        is None
    )
    store.insert_token(
        NewToken(
            "tok_2",
            "hash-2",
            "bob",
            "ci",
            (
                "assemblies:read",
                "assemblies:write",
            ),
            101.0,
            300.0,
        )
    )
    found = store.get_token_by_hash("hash-2")
    assert found is not None and found.id == "tok_2"
    assert found.scopes == ("assemblies:read", "assemblies:write")
    assert store.get_token_by_hash("unknown") is None and store.get_token("tok_9") is None
    assert [t.id for t in store.list_tokens()] == ["tok_1", "tok_2"]
    assert [t.id for t in store.list_tokens("Bob")] == ["tok_2"]
    # The owner's current role and state come with the row; the role at creation stays.
    store.insert_user("carol", "hash", "admin", NOW)
    assert store.update_user("alice", NOW, UserChange(role="operator")) == "updated"
    demoted = store.get_token("tok_1")
    assert demoted is not None and (demoted.created_role, demoted.role) == ("admin", "operator")
    store.update_user("bob", NOW, UserChange(disabled=True))
    disabled = store.get_token_by_hash("hash-2")
    assert disabled is not None and disabled.user_disabled
    assert (
        store.insert_token(NewToken("tok_3", "hash-3", "bob", "late", ("assemblies:read",), 100.0, 200.0))
        is None
    )


def test_api_tokens_are_revoked_once_touched_forward_and_go_with_their_user(backend: Backend) -> None:
    store = backend.engine_store()
    store.insert_user("alice", "hash", "operator", NOW)
    store.insert_token(NewToken("tok_1", "hash-1", "alice", "runner", ("assemblies:read",), 100.0, 200.0))
    store.touch_token("tok_1", 150.0)
    store.touch_token("tok_1", 120.0)  # an older use never moves it back
    seen = store.get_token("tok_1")
    assert seen is not None and seen.last_used == 150.0
    assert store.revoke_token("tok_1")
    assert not store.revoke_token("tok_1")
    assert not store.revoke_token("tok_unknown")
    revoked = store.get_token_by_hash("hash-1")
    assert revoked is not None and revoked.revoked
    reopened = backend.engine_store()
    assert [(t.id, t.revoked) for t in reopened.list_tokens()] == [("tok_1", True)]
    assert store.delete_user("alice")
    assert store.get_token("tok_1") is None and store.list_tokens() == []


def test_a_password_chosen_for_a_user_is_flagged_until_changed(backend: Backend) -> None:
    store = backend.engine_store()
    assert store.insert_user("chosen", "hash", "operator", NOW, must_change_password=True)
    assert store.insert_user("own", "hash", "operator", NOW)
    chosen, own = store.get_user("chosen"), store.get_user("own")
    assert chosen is not None and chosen.must_change_password
    assert own is not None and not own.must_change_password
    # Changing anything else keeps the flag; only an explicit value changes it.
    assert store.update_user("chosen", NOW, UserChange(disabled=True)) == "updated"
    assert store.get_user("chosen").must_change_password  # type: ignore[union-attr]
    assert (
        store.update_user("chosen", NOW, UserChange(password_hash="new", must_change_password=False))
        == "updated"
    )
    after = store.get_user("chosen")
    assert after is not None and not after.must_change_password and after.password_hash == "new"
    assert store.update_user("own", NOW, UserChange(must_change_password=True)) == "updated"
    assert [u.must_change_password for u in store.list_users()] == [False, True]
