"""A node whose database went away: every store answers Unavailable (503 with Retry-After,
nothing changed), never a driver exception."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from psycopg_pool import ConnectionPool

from assembly_engine.domain.types import PayloadType
from assembly_engine.storage.contract.errors import Unavailable
from assembly_engine.storage.contract.models import PayloadContent
from assembly_engine.storage.postgresql.audit_store import PostgresAuditStore
from assembly_engine.storage.postgresql.engine_store import PostgresEngineStore
from assembly_engine.storage.postgresql.payload_store import PostgresPayloadStore
from assembly_engine.storage.postgresql.pool import create_pool
from tests.postgresql_server import PostgresServer

AUDIT_FIELDS = {
    "time": "2026-01-01T00:00:00.000Z",
    "user": None,
    "role": None,
    "session": None,
    "action": "probe",
    "domain": None,
    "assembly_guid": None,
    "outcome": "success",
    "dev_mode": False,
    "detail": None,
}


@pytest.fixture
def lost_pool(postgresql_server: PostgresServer, migrated_template: str) -> Iterator[ConnectionPool]:
    """A node's pool whose database was dropped (its connections ended) after it opened."""
    name, url = postgresql_server.create_database(template=migrated_template)
    pool = create_pool(url, min_size=1, max_size=2, timeout=2.0, connect_timeout=2)
    try:
        postgresql_server.drop_database(name)
        yield pool
    finally:
        pool.close()


CALLS: dict[str, Callable[[ConnectionPool], object]] = {
    "payload write": lambda pool: PostgresPayloadStore(pool).write_new(
        PayloadContent(PayloadType.SCRIPT, "script.ps1", b"x")
    ),
    "payload check": lambda pool: PostgresPayloadStore(pool).check("0" * 32),
    "user insert": lambda pool: PostgresEngineStore(pool).insert_user(
        "a", "h", "admin", "t", only_if_empty=True
    ),
    "session read": lambda pool: PostgresEngineStore(pool).get_session("token"),
    # Tokens are not cached on a node (Docs/tokens-and-sso.md): no database, no token.
    "api token read": lambda pool: PostgresEngineStore(pool).get_token_by_hash("0" * 64),
    "audit append": lambda pool: PostgresAuditStore(pool).append(dict(AUDIT_FIELDS)),
    "audit verify": lambda pool: PostgresAuditStore(pool).verify(),
}


@pytest.mark.parametrize("call", list(CALLS.values()), ids=list(CALLS))
def test_a_lost_database_is_unavailable(
    lost_pool: ConnectionPool, call: Callable[[ConnectionPool], object]
) -> None:
    with pytest.raises(Unavailable) as caught:
        call(lost_pool)
    assert caught.value.retry_after > 0 and "nothing was changed" in caught.value.message
