"""UserService and SqliteEngineStore basics (the throttle: test_throttle.py)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import pytest
from argon2 import PasswordHasher

from assembly_engine.services.auth.users import (
    AuthError,
    InvalidCredentials,
    InvalidPassword,
    InvalidUsername,
    LastAdmin,
    Role,
    User,
    UserExists,
    UserNotFound,
    UserService,
)
from assembly_engine.storage.contract.errors import SchemaError
from assembly_engine.storage.sqlite.engine_store import SCHEMA_VERSION, SqliteEngineStore
from tests.support import PASSWORD, db_bytes

# -- store -----------------------------------------------------------------------------------


def test_store_pragmas_and_schema(store: SqliteEngineStore) -> None:
    conn = sqlite3.connect(store.path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()
    assert {"users", "sessions", "meta"} <= tables
    assert store.schema_version() == SCHEMA_VERSION
    assert (store.path.stat().st_mode & 0o777) == 0o600


def test_store_migration_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "engine.db"
    first = SqliteEngineStore(path, busy_timeout_ms=1000)
    UserService(first, fast_hashing=True).create("alice", PASSWORD, Role.OPERATOR)
    first.close()
    second = SqliteEngineStore(path, busy_timeout_ms=1000)
    try:
        assert second.schema_version() == SCHEMA_VERSION
        assert [u.username for u in UserService(second, fast_hashing=True).list()] == ["alice"]
    finally:
        second.close()


def test_store_refuses_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "engine.db"
    SqliteEngineStore(path, busy_timeout_ms=1000).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(SchemaError, match="schema version"):
        SqliteEngineStore(path, busy_timeout_ms=1000)


def test_store_role_check_constraint(store: SqliteEngineStore) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        store.insert_user("mallory", "x", "superuser", "2024-01-01T00:00:00Z")


# -- create / read ---------------------------------------------------------------------------


def test_create_and_get(users: UserService) -> None:
    user = users.create("alice", PASSWORD, Role.OPERATOR)
    assert user.username == "alice"
    assert user.role is Role.OPERATOR
    assert user.disabled is False
    assert user.created_at.endswith("Z") and user.created_at == user.updated_at
    assert users.get("alice") == user
    assert users.get("nobody") is None
    assert users.get("not a valid name!") is None


def test_create_accepts_role_as_string(users: UserService) -> None:
    assert users.create("root", PASSWORD, "admin").role is Role.ADMIN
    with pytest.raises(AuthError):
        users.create("bob", PASSWORD, "superuser")


def test_list_is_sorted(users: UserService) -> None:
    for name in ("carol", "Alice", "bob"):
        users.create(name, PASSWORD, Role.OPERATOR)
    assert [u.username for u in users.list()] == ["Alice", "bob", "carol"]


def test_duplicate_is_refused_case_insensitively(users: UserService) -> None:
    users.create("alice", PASSWORD, Role.OPERATOR)
    with pytest.raises(UserExists) as excinfo:
        users.create("alice", PASSWORD, Role.ADMIN)
    assert "alice" in excinfo.value.message
    with pytest.raises(UserExists):
        users.create("ALICE", PASSWORD, Role.OPERATOR)


@pytest.mark.parametrize(
    "name",
    ["", "a" * 65, "has space", "semi;colon", "slash/", "ünïcode", "new\nline", "quote'"],
)
def test_bad_usernames(users: UserService, name: str) -> None:
    with pytest.raises(InvalidUsername):
        users.create(name, PASSWORD, Role.OPERATOR)
    assert users.list() == []


@pytest.mark.parametrize("name", ["a", "a" * 64, "first.last@example-corp_1"])
def test_good_usernames(users: UserService, name: str) -> None:
    assert users.create(name, PASSWORD, Role.OPERATOR).username == name


@pytest.mark.parametrize("password", ["", "short", "1234567", "x" * 1025])
def test_bad_passwords(users: UserService, password: str) -> None:
    with pytest.raises(InvalidPassword):
        users.create("alice", password, Role.OPERATOR)
    assert users.get("alice") is None


# -- authentication ----------------------------------------------------------------------------


def test_authenticate_ok(users: UserService) -> None:
    users.create("alice", PASSWORD, Role.OPERATOR)
    assert users.authenticate("alice", PASSWORD).username == "alice"
    # The stored spelling wins when the caller types another case.
    assert users.authenticate("ALICE", PASSWORD).username == "alice"


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("alice", "wrong password"),
        ("alice", ""),
        ("nobody", PASSWORD),
        ("", PASSWORD),
        ("bad name!", PASSWORD),
        ("alice", PASSWORD + "x" * 2000),
    ],
)
def test_authenticate_refused(users: UserService, username: str, password: str) -> None:
    users.create("alice", PASSWORD, Role.OPERATOR)
    with pytest.raises(InvalidCredentials) as excinfo:
        users.authenticate(username, password)
    assert excinfo.value.message == "Unknown username or wrong password."


def test_disabled_user_cannot_authenticate(users: UserService) -> None:
    users.create("alice", PASSWORD, Role.OPERATOR)
    users.set_disabled("alice", True)
    with pytest.raises(InvalidCredentials) as excinfo:
        users.authenticate("alice", PASSWORD)
    # Same message as for an unknown user: no account enumeration.
    assert excinfo.value.message == "Unknown username or wrong password."
    assert users.verify_password("alice", PASSWORD) is False
    users.set_disabled("alice", False)
    assert users.authenticate("alice", PASSWORD).disabled is False


def test_unknown_user_is_verified_against_a_dummy_hash(
    users: UserService, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    class SpyHasher(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            calls.append(str(hash))
            return super().verify(hash, password)

    monkeypatch.setattr(users, "_hasher", SpyHasher(time_cost=1, memory_cost=1024, parallelism=1))
    with pytest.raises(InvalidCredentials):
        users.authenticate("nobody", PASSWORD)
    assert len(calls) == 1 and calls[0].startswith("$argon2id$")


def test_verify_password(users: UserService) -> None:
    users.create("alice", PASSWORD, Role.OPERATOR)
    assert users.verify_password("alice", PASSWORD) is True
    assert users.verify_password("alice", "nope nope") is False
    assert users.verify_password("ghost", PASSWORD) is False


def test_password_is_argon2id_and_never_stored_in_clear(users: UserService, store: SqliteEngineStore) -> None:
    secret = "Plain-Text-Needle-4711"
    users.create("alice", secret, Role.OPERATOR)
    row = store.get_user("alice")
    assert row is not None
    assert row.password_hash.startswith("$argon2id$")
    assert secret.encode() not in db_bytes(store)
    users.set_password("alice", "Second-Needle-0815")
    assert b"Second-Needle-0815" not in db_bytes(store)


def test_default_hasher_uses_library_defaults(store: SqliteEngineStore) -> None:
    service = UserService(store)
    assert service._hasher.memory_cost == PasswordHasher().memory_cost
    assert service._hasher.time_cost == PasswordHasher().time_cost


def test_weak_hash_is_upgraded_on_login(tmp_path: Path) -> None:
    store = SqliteEngineStore(tmp_path / "engine.db", busy_timeout_ms=1000)
    try:
        UserService(store, fast_hashing=True).create("alice", PASSWORD, Role.OPERATOR)
        weak = store.get_user("alice")
        assert weak is not None and "m=1024" in weak.password_hash
        UserService(store).authenticate("alice", PASSWORD)
        strong = store.get_user("alice")
        assert strong is not None and "m=1024" not in strong.password_hash
    finally:
        store.close()


# -- changes -----------------------------------------------------------------------------------


def test_set_role_and_password(users: UserService) -> None:
    users.create("root", PASSWORD, Role.ADMIN)
    users.create("alice", PASSWORD, Role.OPERATOR)
    assert users.set_role("alice", Role.ADMIN).role is Role.ADMIN
    assert users.set_role("alice", "operator").role is Role.OPERATOR
    users.set_password("alice", "a brand new one")
    assert users.verify_password("alice", "a brand new one")
    assert not users.verify_password("alice", PASSWORD)
    with pytest.raises(InvalidPassword):
        users.set_password("alice", "short")


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.set_role("ghost", Role.ADMIN),
        lambda s: s.set_disabled("ghost", True),
        lambda s: s.set_password("ghost", PASSWORD),
    ],
)
def test_changes_to_unknown_user(users: UserService, change: Callable[[UserService], User]) -> None:
    with pytest.raises(UserNotFound):
        change(users)


def test_two_store_handles_on_one_file(tmp_path: Path) -> None:
    # The server and a CLI command may open engine.db at the same time.
    path = tmp_path / "engine.db"
    stores = [SqliteEngineStore(path, busy_timeout_ms=5000) for _ in range(2)]
    try:
        services = [UserService(s, fast_hashing=True) for s in stores]
        errors: list[BaseException] = []

        def create_many(service: UserService, prefix: str) -> None:
            try:
                for i in range(15):
                    service.create(f"{prefix}{i}", PASSWORD, Role.OPERATOR)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [
            threading.Thread(target=create_many, args=(svc, name))
            for svc, name in zip(services, ("a", "b"), strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert services[0].count() == services[1].count() == 30
    finally:
        for store in stores:
            store.close()


def test_last_enabled_admin_is_protected(users: UserService) -> None:
    users.create("root", PASSWORD, Role.ADMIN)
    with pytest.raises(LastAdmin):
        users.set_disabled("root", True)
    with pytest.raises(LastAdmin):
        users.set_role("root", Role.OPERATOR)
    with pytest.raises(LastAdmin):
        users.delete("root")
    users.create("second", PASSWORD, Role.ADMIN)
    assert users.set_disabled("root", True).disabled is True
    with pytest.raises(LastAdmin):
        users.set_role("second", Role.OPERATOR)


def test_delete_user(users: UserService) -> None:
    users.create("root", PASSWORD, Role.ADMIN)
    users.create("alice", PASSWORD, Role.OPERATOR)
    assert users.delete("alice") is True
    assert users.delete("alice") is False
    assert users.get("alice") is None


# -- bootstrap admin ---------------------------------------------------------------------------


def test_bootstrap_admin_generated_once(users: UserService, store: SqliteEngineStore) -> None:
    generated = users.ensure_bootstrap_admin(None)
    assert generated is not None and len(generated) >= 20
    admin = users.authenticate("admin", generated)
    assert admin.role is Role.ADMIN
    assert generated.encode() not in db_bytes(store)
    # Second start: users exist, nothing is created or printed again.
    assert users.ensure_bootstrap_admin(None) is None
    assert users.ensure_bootstrap_admin("another password") is None
    assert [u.username for u in users.list()] == ["admin"]
    assert users.verify_password("admin", generated)


def test_bootstrap_admin_with_given_password(users: UserService) -> None:
    assert users.ensure_bootstrap_admin("from the environment") is None
    assert users.authenticate("admin", "from the environment").role is Role.ADMIN


def test_bootstrap_admin_rejects_weak_given_password(users: UserService) -> None:
    with pytest.raises(InvalidPassword, match="ENGINE_ADMIN_PASSWORD"):
        users.ensure_bootstrap_admin("short")
    assert users.list() == []


def test_bootstrap_admin_skipped_when_users_exist(users: UserService) -> None:
    users.create("alice", PASSWORD, Role.OPERATOR)
    assert users.ensure_bootstrap_admin(None) is None
    assert users.get("admin") is None


def test_bootstrap_admin_race_creates_one_admin(users: UserService) -> None:
    results: list[str | None] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        barrier.wait()
        results.append(users.ensure_bootstrap_admin(None))

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert users.verify_password("admin", winners[0])


def test_engine_db_of_version_3_gains_the_must_change_flag(tmp_path: Path) -> None:
    """An engine.db written before version 4 keeps its users; none must change a password."""
    path = tmp_path / "engine.db"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE users (username TEXT PRIMARY KEY COLLATE NOCASE, password_hash TEXT NOT NULL, "
        "role TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, "
        "updated_at TEXT NOT NULL)"
    )
    conn.execute("INSERT INTO users VALUES ('old', 'hash', 'admin', 0, 'then', 'then')")
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()
    store = SqliteEngineStore(path, busy_timeout_ms=1000)
    try:
        assert store.schema_version() == SCHEMA_VERSION
        old = store.get_user("old")
        assert old is not None and not old.must_change_password
    finally:
        store.close()


def test_passwords_chosen_by_someone_else_must_be_changed(store: SqliteEngineStore) -> None:
    users = UserService(store, fast_hashing=True)
    generated = users.ensure_bootstrap_admin(None)
    assert generated is not None and users.get("admin").must_change_password  # type: ignore[union-attr]
    assert users.create("alice", PASSWORD, Role.OPERATOR).must_change_password
    assert not users.set_password("alice", PASSWORD + "-own", chosen_by_owner=True).must_change_password
    assert users.set_password("alice", PASSWORD + "-reset").must_change_password


def test_a_given_bootstrap_password_need_not_be_changed(store: SqliteEngineStore) -> None:
    users = UserService(store, fast_hashing=True)
    assert users.ensure_bootstrap_admin(PASSWORD) is None
    assert not users.get("admin").must_change_password  # type: ignore[union-attr]
