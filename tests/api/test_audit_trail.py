"""The audit trail written by the API (Docs/assemblies.md §9).

Each action and each denial appends exactly one entry with every field; the chain detects
edited, deleted and reordered lines; no password or token ever reaches a log.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from assembly_engine.api.app import create_app
from assembly_engine.config import Settings
from assembly_engine.services.auditor import AnonymousRefusals
from assembly_engine.services.auth.sessions import hash_token
from assembly_engine.storage.formats.audit_chain import FIELDS, entry_hash, verify_file
from tests.api.support import (
    ADMIN,
    ADMIN_DEV,
    ANONYMOUS,
    DEV_MODE_REASON,
    OPERATOR,
    OPERATOR_NAME,
    OPERATOR_PASSWORD,
    ApiEngine,
    bearer,
    create_body,
    expire_dev_mode,
    login,
    plant_assembly,
    unique_name,
)
from tests.support import ADMIN_PASSWORD, wait_until

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
# Every session id the audit log used for a token, to check that it stays the same.
SESSION_IDS: dict[str, str] = {}


def new_entries(api: ApiEngine, count: int) -> list[dict[str, Any]]:
    return api.audit_entries()[count:]


def one_new_entry(api: ApiEngine, count: int) -> dict[str, Any]:
    entries = new_entries(api, count)
    assert len(entries) == 1, json.dumps(entries, indent=1)
    return entries[0]


def check_entry(
    entry: dict[str, Any],
    *,
    action: str,
    outcome: str,
    user: str | None,
    role: str | None,
    token: str | None,
    domain: str | None = None,
    guid: str | None = None,
    dev_mode: bool = False,
) -> None:
    """Every field of Docs/assemblies.md §9 is there and has the expected value."""
    assert set(entry) == set(FIELDS)
    assert ISO_UTC.fullmatch(entry["time"]), entry["time"]
    written = datetime.fromisoformat(entry["time"].replace("Z", "+00:00"))
    assert abs((datetime.now(UTC) - written).total_seconds()) < 120
    assert entry["action"] == action
    assert entry["outcome"] == outcome
    assert entry["user"] == user
    assert entry["role"] == role
    assert entry["domain"] == domain
    assert entry["assembly_guid"] == guid
    assert entry["dev_mode"] is dev_mode
    assert entry["detail"] is None or isinstance(entry["detail"], str)
    assert entry["hash"] == entry_hash(entry)
    if token is None:
        assert entry["session"] is None
        return
    session = entry["session"]
    assert isinstance(session, str) and len(session) >= 16
    assert session != token and token not in session
    assert session != hash_token(token) and session not in hash_token(token)
    assert session == SESSION_IDS.setdefault(token, session), "one session, one audit session id"
    line = json.dumps(entry)
    assert token not in line


# -- sign-in -------------------------------------------------------------------------------


def test_login_success_writes_one_entry(api: ApiEngine) -> None:
    count = len(api.audit_entries())
    token = login(api.client, OPERATOR_NAME, OPERATOR_PASSWORD)
    entry = one_new_entry(api, count)
    check_entry(entry, action="login", outcome="success", user=OPERATOR_NAME, role="operator", token=token)
    # A second session of the same user has another audit session id.
    count = len(api.audit_entries())
    api.request(OPERATOR, "POST", "/api/users", json={"username": "x-refused", "password": "password123"})
    denial = one_new_entry(api, count)
    assert denial["session"] and denial["session"] != entry["session"]


@pytest.mark.parametrize(
    "username", [OPERATOR_NAME, "nobody-by-that-name"], ids=["wrong-password", "unknown-user"]
)
def test_login_failure_writes_one_entry(api: ApiEngine, username: str) -> None:
    password = "definitely-the-wrong-password"
    count = len(api.audit_entries())
    response = api.client.post("/api/auth/login", json={"username": username, "password": password})
    api.client.cookies.clear()
    assert response.status_code == 401
    entry = one_new_entry(api, count)
    if username == OPERATOR_NAME:
        check_entry(entry, action="login", outcome="failed", user=username, role=None, token=None)
    else:  # a name no account has is never written down as typed (it may be a password)
        check_entry(entry, action="login", outcome="failed", user=entry["user"], role=None, token=None)
        assert re.fullmatch(r"unknown-user:[0-9a-f]{16}", entry["user"]), entry["user"]
        logs = api.settings.logs_dir
        assert username not in (logs / "audit.log").read_text(encoding="utf-8")
        assert username not in (logs / "engine.log").read_text(encoding="utf-8")
    assert password not in json.dumps(entry)


def test_logout_writes_one_entry(api: ApiEngine) -> None:
    token = login(api.client, OPERATOR_NAME, OPERATOR_PASSWORD)
    count = len(api.audit_entries())
    assert api.client.post("/api/auth/logout", headers=bearer(token)).status_code == 200
    api.client.cookies.clear()
    entry = one_new_entry(api, count)
    check_entry(entry, action="logout", outcome="success", user=OPERATOR_NAME, role="operator", token=token)


# -- Dev Mode ------------------------------------------------------------------------------


def switch(api: ApiEngine, token: str, enabled: bool, password: str = ADMIN_PASSWORD) -> httpx.Response:
    api.client.cookies.clear()
    return api.client.post(
        "/api/assemblies/dev-mode/switch",
        headers=bearer(token),
        json={"enabled": enabled, "password": password, "reason": DEV_MODE_REASON},
    )


def test_dev_mode_on_off_and_expiry_each_write_one_entry(api: ApiEngine) -> None:
    token = login(api.client, "admin", ADMIN_PASSWORD)

    count = len(api.audit_entries())
    assert switch(api, token, True).status_code == 200
    entry = one_new_entry(api, count)
    check_entry(
        entry,
        action="dev_mode.enable",
        outcome="success",
        user="admin",
        role="admin",
        token=token,
        dev_mode=True,
    )
    assert entry["detail"] == DEV_MODE_REASON

    count = len(api.audit_entries())
    assert switch(api, token, False).status_code == 200
    entry = one_new_entry(api, count)
    check_entry(
        entry,
        action="dev_mode.disable",
        outcome="success",
        user="admin",
        role="admin",
        token=token,
        dev_mode=entry["dev_mode"],
    )

    count = len(api.audit_entries())
    assert switch(api, token, True, password="not-the-password").status_code == 403
    entry = one_new_entry(api, count)
    check_entry(entry, action="dev_mode.enable", outcome="denied", user="admin", role="admin", token=token)
    assert "not-the-password" not in json.dumps(entry)

    assert switch(api, token, True).status_code == 200
    expire_dev_mode(api.services, token)
    count = len(api.audit_entries())
    me = api.client.get("/api/auth/me", headers=bearer(token))
    assert me.status_code == 200 and me.json()["dev_mode"]["enabled"] is False
    entry = one_new_entry(api, count)
    check_entry(entry, action="dev_mode.expire", outcome="success", user="admin", role="admin", token=token)
    # Recorded once: the next requests do not record it again.
    count = len(api.audit_entries())
    assert api.client.get("/api/assemblies/dev-mode", headers=bearer(token)).json()["enabled"] is False
    assert api.client.get("/api/auth/me", headers=bearer(token)).status_code == 200
    assert new_entries(api, count) == []


def test_expiry_is_recorded_before_the_denial_it_causes(api: ApiEngine) -> None:
    token = login(api.client, "admin", ADMIN_PASSWORD)
    assert switch(api, token, True).status_code == 200
    expire_dev_mode(api.services, token)
    count = len(api.audit_entries())
    api.client.cookies.clear()
    refused = api.client.post("/api/assemblies", headers=bearer(token), json=create_body("official"))
    assert refused.status_code == 403 and refused.json()["error"] == "dev_mode_required"
    expiry, denial = new_entries(api, count)
    check_entry(expiry, action="dev_mode.expire", outcome="success", user="admin", role="admin", token=token)
    check_entry(
        denial,
        action="assembly.create",
        outcome="denied",
        user="admin",
        role="admin",
        token=token,
        domain="official",
    )


# -- assembly changes ----------------------------------------------------------------------

WRITERS = [
    pytest.param(OPERATOR, OPERATOR_NAME, "operator", "user", id="operator-user"),
    pytest.param(ADMIN, "admin", "admin", "user", id="admin-user"),
    pytest.param(ADMIN_DEV, "admin", "admin", "official", id="admin_dev_mode-official"),
    pytest.param(ADMIN_DEV, "admin", "admin", "community", id="admin_dev_mode-community"),
]


@pytest.mark.parametrize(("caller", "user", "role", "domain"), WRITERS)
def test_create_update_delete_each_write_one_entry(
    api: ApiEngine, caller: str, user: str, role: str, domain: str
) -> None:
    token = api.tokens[caller]
    dev_mode = caller == ADMIN_DEV
    expected = {"user": user, "role": role, "token": token, "domain": domain, "dev_mode": dev_mode}

    count = len(api.audit_entries())
    created = api.request(caller, "POST", "/api/assemblies", json=create_body(domain))
    assert created.status_code == 201, created.text
    guid = created.json()["assembly_guid"]
    check_entry(one_new_entry(api, count), action="assembly.create", outcome="success", guid=guid, **expected)

    count = len(api.audit_entries())
    updated = api.request(
        caller,
        "PUT",
        f"/api/assemblies/{guid}",
        json={"summary": "changed", "payload": {"script": "Write-Host 2\n"}},
    )
    assert updated.status_code == 200, updated.text
    check_entry(one_new_entry(api, count), action="assembly.update", outcome="success", guid=guid, **expected)

    count = len(api.audit_entries())
    deleted = api.request(caller, "DELETE", f"/api/assemblies/{guid}")
    assert deleted.status_code == 202, deleted.text
    check_entry(one_new_entry(api, count), action="assembly.delete", outcome="success", guid=guid, **expected)


@pytest.mark.parametrize(("caller", "user", "role", "domain"), WRITERS)
def test_clone_writes_one_entry_naming_the_clone(
    api: ApiEngine, caller: str, user: str, role: str, domain: str
) -> None:
    source = plant_assembly(api.services, "user")
    count = len(api.audit_entries())
    cloned = api.request(caller, "POST", f"/api/assemblies/{source}/clone", json={"target_domain": domain})
    assert cloned.status_code == 201, cloned.text
    entry = one_new_entry(api, count)
    check_entry(
        entry,
        action="assembly.clone",
        outcome="success",
        user=user,
        role=role,
        token=api.tokens[caller],
        domain=domain,
        guid=cloned.json()["assembly_guid"],
        dev_mode=caller == ADMIN_DEV,
    )


def test_reads_write_no_entry(api: ApiEngine) -> None:
    guid = plant_assembly(api.services, "user")
    count = len(api.audit_entries())
    for url in (
        "/api/assemblies",
        f"/api/assemblies/{guid}",
        "/api/assemblies/queue",
        "/api/assemblies/dev-mode",
        "/api/auth/me",
    ):
        assert api.request(OPERATOR, "GET", url).status_code == 200, url
    assert new_entries(api, count) == []


def test_stale_delete_writes_one_failed_entry(api: ApiEngine) -> None:
    guid = plant_assembly(api.services, "user")
    count = len(api.audit_entries())
    response = api.request(OPERATOR, "DELETE", f"/api/assemblies/{guid}", headers={"If-Match": "7"})
    assert response.status_code == 409 and response.json()["error"] == "conflict"
    check_entry(
        one_new_entry(api, count),
        action="assembly.delete",
        outcome="failed",
        user=OPERATOR_NAME,
        role="operator",
        token=api.tokens[OPERATOR],
        domain="user",
        guid=guid,
    )


def test_stale_update_writes_one_failed_entry(api: ApiEngine) -> None:
    guid = plant_assembly(api.services, "user")
    count = len(api.audit_entries())
    response = api.request(
        OPERATOR, "PUT", f"/api/assemblies/{guid}", headers={"If-Match": "7"}, json={"summary": "stale"}
    )
    assert response.status_code == 409 and response.json()["error"] == "conflict"
    check_entry(
        one_new_entry(api, count),
        action="assembly.update",
        outcome="failed",
        user=OPERATOR_NAME,
        role="operator",
        token=api.tokens[OPERATOR],
        domain="user",
        guid=guid,
    )


# -- flush and official sync ---------------------------------------------------------------


@pytest.mark.parametrize("domain", ["user", "community", None], ids=["user", "community", "all"])
def test_flush_writes_one_entry(api: ApiEngine, domain: str | None) -> None:
    plant_assembly(api.services, domain or "official")
    count = len(api.audit_entries())
    body = {"domain": domain} if domain else {}
    response = api.request(ADMIN_DEV, "POST", "/api/assemblies/dev-mode/write", json=body)
    assert response.status_code == 200, response.text
    check_entry(
        one_new_entry(api, count),
        action="flush",
        outcome="success",
        user="admin",
        role="admin",
        token=api.tokens[ADMIN_DEV],
        domain=domain,
        dev_mode=True,
    )


def test_official_sync_writes_one_entry(api: ApiEngine) -> None:
    count = len(api.audit_entries())
    response = api.request(ADMIN_DEV, "POST", "/api/assemblies/official/sync")
    assert response.status_code == 200, response.text
    check_entry(
        one_new_entry(api, count),
        action="official.sync",
        outcome="success",
        user="admin",
        role="admin",
        token=api.tokens[ADMIN_DEV],
        domain="official",
        dev_mode=True,
    )


# -- user management -----------------------------------------------------------------------


def test_user_create_and_update_each_write_one_entry(api: ApiEngine) -> None:
    name, password, new_password = unique_name("audited"), "first-password-1", "second-password-2"
    token = api.tokens[ADMIN]
    count = len(api.audit_entries())
    created = api.request(
        ADMIN, "POST", "/api/users", json={"username": name, "password": password, "role": "operator"}
    )
    assert created.status_code == 201, created.text
    entry = one_new_entry(api, count)
    check_entry(entry, action="user.create", outcome="success", user="admin", role="admin", token=token)
    assert name in (entry["detail"] or "")
    assert password not in json.dumps(entry)

    # Promoting and resetting a password re-check the admin's own password (noted in the entry).
    recheck = {"current_password": ADMIN_PASSWORD}
    for change in ({"role": "admin", **recheck}, {"password": new_password, **recheck}, {"disabled": True}):
        count = len(api.audit_entries())
        response = api.request(ADMIN, "PATCH", f"/api/users/{name}", json=change)
        assert response.status_code == 200, response.text
        entry = one_new_entry(api, count)
        check_entry(entry, action="user.update", outcome="success", user="admin", role="admin", token=token)
        assert name in (entry["detail"] or "")
        assert new_password not in json.dumps(entry)


# -- denials -------------------------------------------------------------------------------

DENIALS = [
    pytest.param(
        OPERATOR,
        "POST",
        "/api/assemblies",
        create_body("official"),
        "assembly.create",
        "official",
        id="operator-create-official",
    ),
    pytest.param(
        ADMIN,
        "POST",
        "/api/assemblies",
        create_body("community"),
        "assembly.create",
        "community",
        id="admin-without-dev-mode-create-community",
    ),
    # Refused before its body is read (api/limits.py), so no domain is known yet.
    pytest.param(
        ANONYMOUS,
        "POST",
        "/api/assemblies",
        create_body("user"),
        "request.unauthenticated",
        None,
        id="anonymous-create-user",
    ),
    pytest.param(
        OPERATOR,
        "POST",
        "/api/assemblies/dev-mode/write",
        {"domain": "user"},
        "flush",
        "user",
        id="operator-flush",
    ),
    pytest.param(
        ADMIN,
        "POST",
        "/api/assemblies/official/sync",
        None,
        "official.sync",
        "official",
        id="admin-without-dev-mode-sync",
    ),
    pytest.param(
        OPERATOR,
        "POST",
        "/api/users",
        {"username": "sneaky", "password": "sneaky-password"},
        "user.create",
        None,
        id="operator-create-user",
    ),
    pytest.param(
        OPERATOR,
        "POST",
        "/api/assemblies/dev-mode/switch",
        {"enabled": True, "password": OPERATOR_PASSWORD, "reason": "x"},
        "dev_mode.enable",
        None,
        id="operator-dev-mode",
    ),
]


@pytest.mark.parametrize(("caller", "method", "url", "body", "action", "domain"), DENIALS)
def test_denial_writes_one_entry(
    api: ApiEngine, caller: str, method: str, url: str, body: Any, action: str, domain: str | None
) -> None:
    if caller == ANONYMOUS:
        # Anonymous refusals are counted per address and minute, and only the first of a
        # minute is written at once: give this one a fresh count.
        api.services.auditor.refusals = AnonymousRefusals()
    count = len(api.audit_entries())
    response = api.request(caller, method, url, json=body)
    assert response.status_code in (401, 403), response.text
    entry = one_new_entry(api, count)
    user, role = {ANONYMOUS: (None, None), OPERATOR: (OPERATOR_NAME, "operator"), ADMIN: ("admin", "admin")}[
        caller
    ]
    check_entry(
        entry,
        action=action,
        outcome="denied",
        user=user,
        role=role,
        token=api.tokens.get(caller),
        domain=domain,
    )
    assert entry["detail"]  # the reason of the refusal
    assert OPERATOR_PASSWORD not in json.dumps(entry)


def test_denial_of_an_update_names_the_real_domain(api: ApiEngine) -> None:
    guid = plant_assembly(api.services, "official")
    count = len(api.audit_entries())
    response = api.request(
        OPERATOR, "PUT", f"/api/assemblies/{guid}", json={"domain": "user", "summary": "x"}
    )
    assert response.status_code == 403
    check_entry(
        one_new_entry(api, count),
        action="assembly.update",
        outcome="denied",
        user=OPERATOR_NAME,
        role="operator",
        token=api.tokens[OPERATOR],
        domain="official",
        guid=guid,
    )


# -- tampering -----------------------------------------------------------------------------


@pytest.fixture
def audit_copy(api: ApiEngine, tmp_path: Path) -> tuple[Path, list[str]]:
    """A copy of the live audit log (and its head file) after a few more actions."""
    for _ in range(3):
        plant_assembly(api.services, "user")
    logs = api.settings.logs_dir
    target = tmp_path / "Logs"
    target.mkdir()
    for name in ("audit.log", "audit.log.head"):
        shutil.copy2(logs / name, target / name)
    path = target / "audit.log"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 10
    return path, lines


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def test_intact_copy_verifies(audit_copy: tuple[Path, list[str]]) -> None:
    path, lines = audit_copy
    result = verify_file(path)
    assert result.ok, result.problem
    assert result.entries == len(lines)
    assert result.first_bad_line is None


def _edit(lines: list[str], index: int) -> list[str]:
    entry = json.loads(lines[index])
    entry["outcome"] = "denied" if entry["outcome"] == "success" else "success"
    changed = list(lines)
    changed[index] = json.dumps(entry, separators=(",", ":"))
    return changed


def _forge(lines: list[str], index: int) -> list[str]:
    entry = json.loads(lines[index])
    entry["detail"] = "nothing to see here"
    entry["hash"] = entry_hash(entry)
    changed = list(lines)
    changed[index] = json.dumps(entry, separators=(",", ":"))
    return changed


def _delete(lines: list[str], index: int) -> list[str]:
    return lines[:index] + lines[index + 1 :]


def _swap(lines: list[str], index: int) -> list[str]:
    changed = list(lines)
    changed[index], changed[index + 1] = changed[index + 1], changed[index]
    return changed


@pytest.mark.parametrize(
    ("tamper", "line"),
    [
        pytest.param(_edit, 1, id="edit-first-line"),
        pytest.param(_edit, 5, id="edit-line-5"),
        pytest.param(_forge, 4, id="edit-and-rehash-line-4"),
        pytest.param(_delete, 3, id="delete-line-3"),
        pytest.param(_delete, 1, id="delete-first-line"),
        pytest.param(_swap, 6, id="reorder-lines-6-and-7"),
    ],
)
def test_tampering_is_reported_at_the_first_bad_line(
    audit_copy: tuple[Path, list[str]], tamper: Any, line: int
) -> None:
    path, lines = audit_copy
    write_lines(path, tamper(lines, line - 1))
    result = verify_file(path)
    assert not result.ok
    assert result.first_bad_line == line, result.problem
    assert result.problem and f"line {line}" in result.problem
    assert result.entries == line - 1


def test_deleting_the_last_line_is_reported(audit_copy: tuple[Path, list[str]]) -> None:
    path, lines = audit_copy
    write_lines(path, lines[:-1])
    result = verify_file(path)
    assert not result.ok
    assert result.first_bad_line == len(lines), result.problem


def _cli_verify(home: Path, staging: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ENGINE_")}
    env["ENGINE_STAGING_ROOT"] = str(staging)
    return subprocess.run(
        [sys.executable, "-m", "assembly_engine.cli.main", "--home", str(home), "audit", "verify"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def test_cli_audit_verify(audit_copy: tuple[Path, list[str]], tmp_path: Path) -> None:
    path, lines = audit_copy
    home = path.parent.parent  # <tmp>/Logs/audit.log -> <tmp> is a home with only logs
    staging = tmp_path / "cli-staging"
    staging.mkdir()
    intact = _cli_verify(home, staging)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    write_lines(path, _delete(lines, 2))
    broken = _cli_verify(home, staging)
    assert broken.returncode != 0
    assert "line 3" in broken.stdout + broken.stderr


# -- no secret in any log ------------------------------------------------------------------


@pytest.fixture
def debug_engine(settings: Settings) -> Iterator[TestClient]:
    debug = dataclasses.replace(settings, log_level="DEBUG")
    with TestClient(create_app(debug, console_log=False)) as client:
        yield client


def test_no_password_or_token_in_any_log(
    debug_engine: TestClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = debug_engine
    secrets: list[str] = [ADMIN_PASSWORD]

    def sign_in(username: str, password: str) -> str:
        response = client.post("/api/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        secrets.extend([response.json()["token"], response.json()["csrf_token"]])
        for cookie in ("ae_session", "ae_csrf"):
            value = client.cookies.get(cookie)
            if value:
                secrets.append(value)
        client.cookies.clear()
        return str(response.json()["token"])

    for wrong in ("wrong-password-one", "wrong-password-two"):
        secrets.append(wrong)
        failed = client.post("/api/auth/login", json={"username": "admin", "password": wrong})
        assert failed.status_code == 401
    admin = sign_in("admin", ADMIN_PASSWORD)
    secrets.append("wrong-dev-mode-password")
    refused = client.post(
        "/api/assemblies/dev-mode/switch",
        headers=bearer(admin),
        json={"enabled": True, "password": "wrong-dev-mode-password", "reason": "try"},
    )
    assert refused.status_code == 403
    enabled = client.post(
        "/api/assemblies/dev-mode/switch",
        headers=bearer(admin),
        json={"enabled": True, "password": ADMIN_PASSWORD, "reason": "maintenance"},
    )
    assert enabled.status_code == 200

    first, second = "secret-operator-first-pw", "secret-operator-second-pw"
    secrets.extend([first, second])
    created = client.post(
        "/api/users",
        headers=bearer(admin),
        json={"username": "secret-op", "password": first, "role": "operator"},
    )
    assert created.status_code == 201
    operator = sign_in("secret-op", first)
    changed = client.patch(
        "/api/users/secret-op",
        headers=bearer(admin),
        json={"password": second, "current_password": ADMIN_PASSWORD},
    )
    assert changed.status_code == 200
    assert client.get("/api/auth/me", headers=bearer(operator)).status_code == 401  # ended
    operator = sign_in("secret-op", second)
    made = client.post("/api/assemblies", headers=bearer(operator), json=create_body("user"))
    assert made.status_code == 201
    bogus = "bogus-token-" + hashlib.sha256(b"not a session").hexdigest()
    secrets.append(bogus)
    assert client.get("/api/auth/me", headers=bearer(bogus)).status_code == 401
    assert client.post("/api/auth/logout", headers=bearer(operator)).status_code == 200

    logs = settings.logs_dir

    def logout_logged() -> bool:  # the last entry, in both logs
        last = (logs / "audit.log").read_text(encoding="utf-8").splitlines()[-1]
        return bool(json.loads(last)["action"] == "logout") and (
            "AUDIT logout" in (logs / "engine.log").read_text(encoding="utf-8")
        )

    wait_until(logout_logged, "the logout's entry in audit.log and engine.log")
    audit_lines = (logs / "audit.log").read_text(encoding="utf-8").splitlines()
    engine_log = (logs / "engine.log").read_text(encoding="utf-8")
    texts = {
        "audit.log": "\n".join(audit_lines),
        "audit.log.head": (logs / "audit.log.head").read_text(encoding="utf-8"),
        "engine.log": engine_log,
        "caplog": caplog.text + "\n".join(r.getMessage() for r in caplog.records),
    }
    for where, text in texts.items():
        assert text.strip() or where == "caplog"
        for secret in secrets:
            assert secret not in text, f"a secret ({secret[:6]}…) appears in {where}"
        assert "$argon2" not in text, f"a password hash appears in {where}"
    # engine.log carries one readable line per audit entry.
    assert sum(1 for line in engine_log.splitlines() if " AUDIT " in line) == len(audit_lines)
    assert caplog.records, "the engine logs through the standard logging module"
