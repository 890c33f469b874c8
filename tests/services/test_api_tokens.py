"""TokenService on a real engine.db: expiry on the clock, "last used" written at most once
a minute, and refusals audited by token id without the secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from assembly_engine.domain.types import Role
from assembly_engine.services.audit import AuditLog
from assembly_engine.services.auditor import Auditor
from assembly_engine.services.auth.api_tokens import TokenService
from assembly_engine.services.auth.policy import Actor
from assembly_engine.services.caller import Caller
from assembly_engine.services.errors import EngineError
from assembly_engine.storage.sqlite.audit_log import HashChainedLog
from assembly_engine.storage.sqlite.engine_store import SqliteEngineStore
from tests.support import FakeClock

NOW = "2026-01-01T00:00:00Z"


class CountingStore(SqliteEngineStore):
    touches = 0

    def touch_token(self, token_id: str, last_used: float) -> None:
        self.touches += 1
        super().touch_token(token_id, last_used)


@pytest.fixture
def setup(tmp_path: Path, clock: FakeClock) -> tuple[CountingStore, TokenService, Path]:
    store = CountingStore(tmp_path / "engine.db")
    store.insert_user("olga", "hash", "operator", NOW)
    audit_path = tmp_path / "Logs" / "audit.log"
    service = TokenService(store, Auditor(AuditLog(HashChainedLog(audit_path))), 90, clock)
    return store, service, audit_path


OLGA = Caller(Actor("olga", Role.OPERATOR, False), "session-olga")


def test_last_used_is_written_at_most_once_a_minute(
    setup: tuple[CountingStore, TokenService, Path], clock: FakeClock
) -> None:
    store, service, _ = setup
    made = service.create(OLGA, "runner", ["assemblies:read"], 1)
    for _ in range(50):
        service.authenticate(made.token, scope="assemblies:read", address="127.0.0.1", action="GET /x")
        clock.advance(1)
    assert store.touches == 1
    clock.advance(60)
    service.authenticate(made.token, scope="assemblies:read", address="127.0.0.1", action="GET /x")
    assert store.touches == 2
    listed = service.list(OLGA)
    assert listed.items[0].last_used_at is not None


def test_a_token_expires_on_the_clock_and_refusals_name_its_id_only(
    setup: tuple[CountingStore, TokenService, Path], clock: FakeClock
) -> None:
    _, service, audit_path = setup
    made = service.create(OLGA, "runner", ["assemblies:read"], 2)
    clock.advance(2 * 86400 - 1)
    use = service.authenticate(made.token, scope="assemblies:read", address="127.0.0.1", action="GET /x")
    assert use.caller.username == "olga" and use.caller.scopes == frozenset({"assemblies:read"})
    assert use.caller.actor is not None and not use.caller.actor.dev_mode
    with pytest.raises(EngineError) as scope:
        service.authenticate(made.token, scope="assemblies:write", address="127.0.0.1", action="POST /x")
    assert scope.value.code == "insufficient_scope" and "assemblies:write" in str(scope.value)
    clock.advance(1)
    with pytest.raises(EngineError) as expired:
        service.authenticate(made.token, scope="assemblies:read", address="127.0.0.1", action="GET /x")
    assert expired.value.code == "unauthorized" and "expired" in str(expired.value)
    assert service.list(OLGA).items[0].status == "expired"
    audit = audit_path.read_text()
    assert f"token {made.id}" in audit and made.token not in audit
    assert made.token[4:] not in audit


def test_tokens_cannot_make_tokens_and_lifetimes_are_bounded(
    setup: tuple[CountingStore, TokenService, Path],
) -> None:
    _, service, _ = setup
    made = service.create(OLGA, "runner", ["assemblies:read", "assemblies:write"], 90)
    use = service.authenticate(made.token, scope="assemblies:read", address=None, action="GET /x")
    with pytest.raises(EngineError) as refused:
        service.create(use.caller, "child", ["assemblies:read"], 1)
    assert refused.value.code == "forbidden"
    with pytest.raises(Exception, match="ENGINE_TOKEN_MAX_DAYS"):
        service.create(OLGA, "too long", ["assemblies:read"], 91)
    assert len(service.list(OLGA).items) == 1
