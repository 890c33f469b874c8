"""DevModeService: per-session elevation with password re-check, reason and expiry."""

from __future__ import annotations

import pytest

from assembly_engine.domain.types import Role
from assembly_engine.services.auth.dev_mode import (
    MAX_REASON_LENGTH,
    DevModeService,
    DevModeState,
    InvalidReason,
    NotAdmin,
)
from assembly_engine.services.auth.sessions import InvalidSession, Session, SessionService
from assembly_engine.services.auth.throttle import PasswordGate, PasswordThrottle
from assembly_engine.services.auth.users import AuthError, InvalidCredentials, UserService
from assembly_engine.storage.sqlite.engine_store import SqliteEngineStore
from tests.support import PASSWORD, FakeClock

DEV_TTL = 900


@pytest.fixture
def users(users: UserService) -> UserService:
    users.create("root", PASSWORD, Role.ADMIN)
    users.create("alice", PASSWORD, Role.OPERATOR)
    return users


@pytest.fixture
def sessions(store: SqliteEngineStore, clock: FakeClock, users: UserService) -> SessionService:
    return SessionService(store, ttl_seconds=12 * 3600, clock=clock)


@pytest.fixture
def dev(store: SqliteEngineStore, users: UserService, clock: FakeClock) -> DevModeService:
    return DevModeService(
        store, users, ttl_seconds=DEV_TTL, clock=clock, passwords=PasswordGate(users, PasswordThrottle())
    )


def login(sessions: SessionService, username: str) -> Session:
    return sessions.create(username)[1]


def test_off_by_default(sessions: SessionService, dev: DevModeService) -> None:
    session = login(sessions, "root")
    assert dev.state(session) == DevModeState(
        enabled=False, expires_at=None, ttl_seconds=DEV_TTL, expired_just_now=False
    )


def test_enable_and_disable(sessions: SessionService, dev: DevModeService, store: SqliteEngineStore) -> None:
    session = login(sessions, "root")
    state = dev.enable(session, PASSWORD, "  fix the onboarding script  ")
    assert state.enabled is True
    assert state.expires_at == "2023-11-14T22:28:20Z"  # START + 900 s
    assert state.ttl_seconds == DEV_TTL
    assert state.remaining_seconds == DEV_TTL
    assert state.reason == "fix the onboarding script"
    assert dev.state(session) == state
    row = store.get_session(session.token_hash)
    assert row is not None and row.dev_mode_reason == "fix the onboarding script"

    off = dev.disable(session)
    assert off.enabled is False and off.expires_at is None and off.expired_just_now is False
    assert dev.state(session).enabled is False
    assert dev.is_enabled(session) is False


def test_state_reads_the_store_not_the_snapshot(sessions: SessionService, dev: DevModeService) -> None:
    token, snapshot = sessions.create("root")
    dev.enable(snapshot, PASSWORD, "reason")
    assert snapshot.dev_mode_until is None  # the old snapshot is unchanged...
    assert dev.state(snapshot).enabled is True  # ...but state() is live
    fresh = sessions.resolve(token)
    assert fresh is not None and fresh.dev_mode_until is not None


def test_expiry_and_expired_just_now_once(
    sessions: SessionService, dev: DevModeService, clock: FakeClock
) -> None:
    session = login(sessions, "root")
    dev.enable(session, PASSWORD, "reason")
    clock.advance(DEV_TTL - 1)
    state = dev.state(session)
    assert state.enabled is True and state.remaining_seconds == 1
    clock.advance(1)
    first = dev.state(session)
    assert first.enabled is False and first.expires_at is None
    assert first.expired_just_now is True
    second = dev.state(session)
    assert second.enabled is False and second.expired_just_now is False


def test_reenable_restarts_the_timer(sessions: SessionService, dev: DevModeService, clock: FakeClock) -> None:
    session = login(sessions, "root")
    dev.enable(session, PASSWORD, "first")
    clock.advance(600)
    state = dev.enable(session, PASSWORD, "second")
    assert state.remaining_seconds == DEV_TTL and state.reason == "second"
    clock.advance(600)
    assert dev.state(session).enabled is True


def test_explicit_disable_is_not_an_expiry(
    sessions: SessionService, dev: DevModeService, clock: FakeClock
) -> None:
    session = login(sessions, "root")
    dev.enable(session, PASSWORD, "reason")
    dev.disable(session)
    clock.advance(DEV_TTL + 1)
    assert dev.state(session).expired_just_now is False


def test_wrong_password(sessions: SessionService, dev: DevModeService) -> None:
    session = login(sessions, "root")
    with pytest.raises(InvalidCredentials):
        dev.enable(session, "not the password", "reason")
    assert dev.state(session).enabled is False


def test_operator_refused(sessions: SessionService, dev: DevModeService) -> None:
    session = login(sessions, "alice")
    with pytest.raises(NotAdmin) as excinfo:
        dev.enable(session, PASSWORD, "reason")
    assert excinfo.value.code == "forbidden"
    assert dev.state(session).enabled is False


def test_role_is_checked_live(sessions: SessionService, dev: DevModeService, users: UserService) -> None:
    # The session was opened while alice was an operator; she is an admin now.
    session = login(sessions, "alice")
    users.set_role("alice", Role.ADMIN)
    assert dev.enable(session, PASSWORD, "reason").enabled is True


def test_demotion_ends_dev_mode(sessions: SessionService, dev: DevModeService, users: UserService) -> None:
    users.set_role("alice", Role.ADMIN)
    session = login(sessions, "alice")
    dev.enable(session, PASSWORD, "reason")
    users.set_role("alice", Role.OPERATOR)
    assert dev.state(session).enabled is False
    users.set_role("alice", Role.ADMIN)
    assert dev.state(session).enabled is False  # promotion does not bring it back


@pytest.mark.parametrize("reason", ["", "   ", "x" * (MAX_REASON_LENGTH + 1), "two\nlines", "bell\x07"])
def test_invalid_reason(sessions: SessionService, dev: DevModeService, reason: str) -> None:
    session = login(sessions, "root")
    with pytest.raises(InvalidReason) as excinfo:
        dev.enable(session, PASSWORD, reason)
    assert isinstance(excinfo.value, AuthError) and excinfo.value.message
    assert dev.state(session).enabled is False


def test_longest_reason_is_accepted(sessions: SessionService, dev: DevModeService) -> None:
    session = login(sessions, "root")
    assert dev.enable(session, PASSWORD, "x" * MAX_REASON_LENGTH).enabled is True


def test_per_session_isolation(sessions: SessionService, dev: DevModeService) -> None:
    laptop = login(sessions, "root")
    phone = login(sessions, "root")
    dev.enable(laptop, PASSWORD, "only on the laptop")
    assert dev.state(laptop).enabled is True
    assert dev.state(phone).enabled is False
    dev.enable(phone, PASSWORD, "now the phone too")
    dev.disable(laptop)
    assert dev.state(laptop).enabled is False
    assert dev.state(phone).enabled is True


def test_revoked_or_expired_session(sessions: SessionService, dev: DevModeService, clock: FakeClock) -> None:
    token, session = sessions.create("root")
    dev.enable(session, PASSWORD, "reason")
    sessions.revoke(token)
    assert dev.state(session).enabled is False
    with pytest.raises(InvalidSession):
        dev.enable(session, PASSWORD, "reason")

    other = login(sessions, "root")
    clock.advance(12 * 3600)
    with pytest.raises(InvalidSession):
        dev.enable(other, PASSWORD, "reason")


def test_disabled_admin_session(sessions: SessionService, dev: DevModeService, users: UserService) -> None:
    users.create("second", PASSWORD, Role.ADMIN)
    session = login(sessions, "second")
    dev.enable(session, PASSWORD, "reason")
    users.set_disabled("second", True)
    assert dev.state(session).enabled is False
    with pytest.raises(InvalidSession):
        dev.enable(session, PASSWORD, "reason")


def test_ttl_must_be_positive(store: SqliteEngineStore, users: UserService) -> None:
    with pytest.raises(ValueError):
        DevModeService(store, users, ttl_seconds=0, passwords=PasswordGate(users, PasswordThrottle()))
