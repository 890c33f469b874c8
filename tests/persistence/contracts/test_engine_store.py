"""Contract of the EngineStore interface: users, sessions with Dev Mode, secrets."""

from __future__ import annotations

from assembly_engine.persistence.errors import EngineError, StorageFailed

from .conftest import Backend

NOW = "2026-01-01T00:00:00Z"


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
    assert store.update_user("admin", NOW, role="operator") == "last_admin"
    assert store.update_user("admin", NOW, disabled=True) == "last_admin"
    assert store.update_user("nobody", NOW, role="operator") == "not_found"
    store.insert_user("second", "hash", "admin", NOW)
    assert store.update_user("admin", NOW, role="operator") == "updated"
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
