"""AccountService.resolve reuses a caller worked out from an unchanged session row
(services/auth/resolved_sessions.py): every change to the session or its user takes
effect on the next request, Dev Mode's expiry is audited once, and last_seen is still
touched. A real engine.db, audit log and fake clock; the store counts its reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from assembly_engine.domain.types import Role
from assembly_engine.services.audit import AuditLog
from assembly_engine.services.auditor import Auditor
from assembly_engine.services.auth.accounts import AccountService
from assembly_engine.services.auth.dev_mode import DevModeService
from assembly_engine.services.auth.sessions import SessionService
from assembly_engine.services.auth.throttle import PasswordGate, PasswordThrottle
from assembly_engine.services.auth.users import UserService
from assembly_engine.storage.contract.engine_records import SessionRow
from assembly_engine.storage.sqlite.audit_log import HashChainedLog
from assembly_engine.storage.sqlite.engine_store import SqliteEngineStore
from tests.support import PASSWORD, FakeClock

DEV_TTL = 900
TOUCH = 60.0


class CountingStore(SqliteEngineStore):
    touches = 0
    reads = 0

    def touch_session(self, token_hash: str, last_seen: float) -> None:
        self.touches += 1
        super().touch_session(token_hash, last_seen)

    def get_session(self, token_hash: str) -> SessionRow | None:
        self.reads += 1
        return super().get_session(token_hash)


@pytest.fixture
def store(tmp_path: Path) -> CountingStore:
    return CountingStore(tmp_path / "engine.db", busy_timeout_ms=2000)


@pytest.fixture
def accounts(tmp_path: Path, store: CountingStore, clock: FakeClock) -> AccountService:
    users = UserService(store, fast_hashing=True, clock=clock)
    users.create("root", PASSWORD, Role.ADMIN)
    users.create("alice", PASSWORD, Role.OPERATOR)
    sessions = SessionService(store, ttl_seconds=3600, clock=clock, touch_interval_seconds=TOUCH)
    passwords = PasswordGate(users, PasswordThrottle())
    dev = DevModeService(store, users, ttl_seconds=DEV_TTL, clock=clock, passwords=passwords)
    auditor = Auditor(AuditLog(HashChainedLog(tmp_path / "Logs" / "audit.log")))
    return AccountService(users, sessions, dev, passwords, auditor, b"k" * 32)


def sign_in(accounts: AccountService, username: str) -> str:
    return accounts.login(username, PASSWORD, "127.0.0.1").token


def test_an_unchanged_session_is_resolved_from_memory(accounts: AccountService, store: CountingStore) -> None:
    token = sign_in(accounts, "alice")
    first, session = accounts.resolve(token, "10.0.0.1")
    reads = store.reads
    for _ in range(5):
        again, same = accounts.resolve(token, "10.0.0.1")
        assert again == first and same == session
    assert store.reads - reads == 5  # one look at the store's row each, no second read for Dev Mode
    moved, _ = accounts.resolve(token, "10.0.0.2")
    assert moved.address == "10.0.0.2" and moved.actor == first.actor and moved.session == first.session


@pytest.mark.parametrize("change", ["sign_out", "revoke_all", "disable", "password", "delete", "promote"])
def test_every_change_takes_effect_on_the_next_request(
    accounts: AccountService, store: CountingStore, change: str
) -> None:
    token = sign_in(accounts, "alice")
    assert accounts.resolve(token)[1] is not None
    assert accounts.resolve(token)[1] is not None  # now from memory
    if change == "sign_out":
        accounts.sessions.revoke(token)
    elif change == "revoke_all":
        accounts.sessions.revoke_all("alice")
    elif change == "disable":
        accounts.users.set_disabled("alice", True)
    elif change == "password":  # an admin's reset ends the user's sessions
        accounts.users.set_password("alice", "another long password 123")
    elif change == "delete":
        accounts.users.delete("alice")
    elif change == "promote":
        accounts.users.set_role("alice", Role.ADMIN)
    caller, session = accounts.resolve(token)
    if change == "promote":
        assert session is not None and caller.actor is not None and caller.actor.role is Role.ADMIN
    else:
        assert session is None and caller.actor is None


def test_expiry_is_judged_on_the_clock(accounts: AccountService, clock: FakeClock) -> None:
    token = sign_in(accounts, "alice")
    accounts.resolve(token)
    clock.advance(3599)
    assert accounts.resolve(token)[1] is not None
    clock.advance(1)
    assert accounts.resolve(token) == (accounts.resolve(None)[0], None)


def test_dev_mode_and_its_expiry_are_seen_at_once_and_audited_once(
    accounts: AccountService, clock: FakeClock
) -> None:
    token = sign_in(accounts, "root")
    caller, session = accounts.resolve(token)
    assert caller.actor is not None and not caller.actor.dev_mode
    assert session is not None
    accounts.dev_mode.enable(session, PASSWORD, "fix a script")
    on, _ = accounts.resolve(token)
    assert on.actor is not None and on.actor.dev_mode
    clock.advance(DEV_TTL - 1)
    assert accounts.resolve(token)[0].actor.dev_mode  # type: ignore[union-attr]
    clock.advance(1)
    for _ in range(3):
        off, _ = accounts.resolve(token)
        assert off.actor is not None and not off.actor.dev_mode
    expiries = [e for e in accounts.auditor.log.entries() if e["action"] == "dev_mode.expire"]
    assert len(expiries) == 1


def test_last_seen_is_still_touched(accounts: AccountService, store: CountingStore, clock: FakeClock) -> None:
    token = sign_in(accounts, "alice")
    accounts.resolve(token)
    touches = store.touches
    for _ in range(3):
        accounts.resolve(token)
    assert store.touches == touches
    clock.advance(TOUCH)
    accounts.resolve(token)
    accounts.resolve(token)
    assert store.touches == touches + 1
    row = store.get_session(accounts.sessions.hash_of(token) or "")
    assert row is not None and row.last_seen == clock()
