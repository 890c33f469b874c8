"""SessionService: opaque tokens, hashed storage, expiry, revocation and CSRF tokens."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from assembly_engine.domain.types import Role
from assembly_engine.services.auth.sessions import SessionService, hash_token
from assembly_engine.services.auth.users import InvalidCredentials, UserService
from assembly_engine.storage.sqlite.engine_store import SqliteEngineStore
from tests.support import PASSWORD, FakeClock, db_bytes

TTL = 3600


@pytest.fixture
def users(users: UserService) -> UserService:
    users.create("root", PASSWORD, Role.ADMIN)
    users.create("alice", PASSWORD, Role.OPERATOR)
    return users


@pytest.fixture
def sessions(store: SqliteEngineStore, clock: FakeClock, users: UserService) -> SessionService:
    return SessionService(store, ttl_seconds=TTL, clock=clock)


def test_token_is_long_urlsafe_and_unique(sessions: SessionService) -> None:
    tokens = {sessions.create("alice")[0] for _ in range(20)}
    assert len(tokens) == 20
    for token in tokens:
        assert len(token) >= 43  # 32 random bytes = 256 bits
        assert re.fullmatch(r"[A-Za-z0-9_-]+", token)


def test_create_returns_session_with_role(sessions: SessionService, clock: FakeClock) -> None:
    token, session = sessions.create("alice")
    assert session.token_hash == hash_token(token)
    assert session.username == "alice"
    assert session.role is Role.OPERATOR
    assert session.created_at == clock.now
    assert session.expires_at == clock.now + TTL
    assert session.dev_mode_until is None and session.dev_mode_reason is None
    assert sessions.resolve(token) == session


def test_create_uses_the_stored_spelling(sessions: SessionService) -> None:
    _, session = sessions.create("ALICE")
    assert session.username == "alice"


def test_create_for_unknown_or_disabled_user(sessions: SessionService, users: UserService) -> None:
    with pytest.raises(InvalidCredentials):
        sessions.create("ghost")
    users.set_disabled("alice", True)
    with pytest.raises(InvalidCredentials):
        sessions.create("alice")


def test_only_the_hash_is_stored(sessions: SessionService, store: SqliteEngineStore) -> None:
    token, session = sessions.create("alice")
    raw = db_bytes(store)
    assert token.encode() not in raw
    assert session.token_hash.encode() in raw
    conn = sqlite3.connect(store.path)
    try:
        stored = [row[0] for row in conn.execute("SELECT token_hash FROM sessions")]
    finally:
        conn.close()
    assert stored == [hash_token(token)]
    assert re.fullmatch(r"[0-9a-f]{64}", stored[0])


@pytest.mark.parametrize("bad", [None, "", "not-a-token", "x" * 10_000, "\ud800surrogate"])
def test_resolve_unknown_or_garbage(sessions: SessionService, bad: str | None) -> None:
    sessions.create("alice")
    assert sessions.resolve(bad) is None


def test_the_hash_itself_is_not_a_token(sessions: SessionService) -> None:
    _, session = sessions.create("alice")
    assert sessions.resolve(session.token_hash) is None


def test_expiry(sessions: SessionService, clock: FakeClock) -> None:
    token, _ = sessions.create("alice")
    clock.advance(TTL - 1)
    assert sessions.resolve(token) is not None
    clock.advance(1)
    assert sessions.resolve(token) is None


def test_expired_sessions_are_purged(
    sessions: SessionService, clock: FakeClock, store: SqliteEngineStore
) -> None:
    old, _ = sessions.create("alice")
    clock.advance(TTL + 1)
    sessions.create("alice")
    assert len(store.list_sessions("alice")) == 1
    assert store.get_session(hash_token(old)) is None


def test_last_seen_updates_sparingly(
    sessions: SessionService, clock: FakeClock, store: SqliteEngineStore
) -> None:
    token, session = sessions.create("alice")
    clock.advance(30)
    sessions.resolve(token)
    row = store.get_session(session.token_hash)
    assert row is not None and row.last_seen == session.created_at
    clock.advance(31)
    sessions.resolve(token)
    row = store.get_session(session.token_hash)
    assert row is not None and row.last_seen == clock.now


def test_revoke(sessions: SessionService) -> None:
    token, _ = sessions.create("alice")
    other, _ = sessions.create("alice")
    assert sessions.revoke(token) is True
    assert sessions.revoke(token) is False
    assert sessions.resolve(token) is None
    assert sessions.resolve(other) is not None
    assert sessions.revoke(None) is False


def test_revoke_all_with_exception(sessions: SessionService) -> None:
    keep, kept = sessions.create("alice")
    gone = [sessions.create("alice")[0] for _ in range(3)]
    admin, _ = sessions.create("root")
    assert sessions.revoke_all("alice", except_hash=kept.token_hash) == 3
    assert sessions.resolve(keep) is not None
    assert all(sessions.resolve(t) is None for t in gone)
    assert sessions.resolve(admin) is not None
    assert sessions.revoke_all("alice") == 1
    assert sessions.resolve(keep) is None


def test_disabling_a_user_revokes_their_sessions(sessions: SessionService, users: UserService) -> None:
    tokens = [sessions.create("alice")[0] for _ in range(2)]
    users.set_disabled("alice", True)
    assert all(sessions.resolve(t) is None for t in tokens)
    # Re-enabling does not bring old sessions back.
    users.set_disabled("alice", False)
    assert all(sessions.resolve(t) is None for t in tokens)
    assert sessions.resolve(sessions.create("alice")[0]) is not None


def test_disabled_user_session_resolves_to_none_even_if_not_revoked(
    sessions: SessionService, store: SqliteEngineStore
) -> None:
    token, _ = sessions.create("alice")
    # Flip the flag behind the service's back: resolve() must still refuse.
    conn = sqlite3.connect(store.path)
    conn.execute("UPDATE users SET disabled = 1 WHERE username = 'alice'")
    conn.commit()
    conn.close()
    assert sessions.resolve(token) is None


def test_deleted_user_session_resolves_to_none(sessions: SessionService, users: UserService) -> None:
    token, _ = sessions.create("alice")
    users.delete("alice")
    assert sessions.resolve(token) is None


def test_password_change_keeps_only_the_current_session(sessions: SessionService, users: UserService) -> None:
    current, current_session = sessions.create("alice")
    other, _ = sessions.create("alice")
    users.set_password("alice", "a fresh password", keep_token_hash=current_session.token_hash)
    assert sessions.resolve(current) is not None
    assert sessions.resolve(other) is None
    users.set_password("alice", "yet another password")
    assert sessions.resolve(current) is None


def test_role_is_read_live(sessions: SessionService, users: UserService) -> None:
    token, _ = sessions.create("alice")
    users.set_role("alice", Role.ADMIN)
    resolved = sessions.resolve(token)
    assert resolved is not None and resolved.role is Role.ADMIN


def test_sessions_survive_a_restart(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "engine.db"
    first = SqliteEngineStore(path, busy_timeout_ms=1000)
    UserService(first, fast_hashing=True).create("alice", PASSWORD, Role.OPERATOR)
    token, _ = SessionService(first, TTL, clock).create("alice")
    csrf = SessionService(first, TTL, clock).csrf_token_for(token)
    first.close()
    second = SqliteEngineStore(path, busy_timeout_ms=1000)
    try:
        service = SessionService(second, TTL, clock)
        assert service.resolve(token) is not None
        assert service.check_csrf(token, csrf)
    finally:
        second.close()


# -- CSRF --------------------------------------------------------------------------------------


def test_csrf_token_is_bound_to_the_session(sessions: SessionService) -> None:
    token, session = sessions.create("alice")
    other, _ = sessions.create("alice")
    csrf = sessions.csrf_token_for(token)
    assert re.fullmatch(r"[0-9a-f]{64}", csrf)
    assert csrf == sessions.csrf_token_for(token)  # stable for the session
    assert csrf != sessions.csrf_token_for(other)
    assert csrf not in (token, session.token_hash)
    assert sessions.check_csrf(token, csrf) is True
    assert sessions.check_csrf(other, csrf) is False


@pytest.mark.parametrize("presented", [None, "", "0" * 64, "é" * 64, "\ud800"])
def test_csrf_rejects_wrong_values(sessions: SessionService, presented: str | None) -> None:
    token, _ = sessions.create("alice")
    assert sessions.check_csrf(token, presented) is False


def test_csrf_without_session_token(sessions: SessionService) -> None:
    token, _ = sessions.create("alice")
    assert sessions.check_csrf(None, sessions.csrf_token_for(token)) is False


def test_csrf_secret_differs_per_store(tmp_path: Path, clock: FakeClock) -> None:
    values = []
    for name in ("a.db", "b.db"):
        store = SqliteEngineStore(tmp_path / name, busy_timeout_ms=1000)
        try:
            values.append(SessionService(store, TTL, clock).csrf_token_for("same-token"))
        finally:
            store.close()
    assert values[0] != values[1]


def test_ttl_must_be_positive(store: SqliteEngineStore) -> None:
    with pytest.raises(ValueError):
        SessionService(store, ttl_seconds=0)
