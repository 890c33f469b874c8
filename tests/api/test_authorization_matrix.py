"""Who may change what (Docs/assemblies.md §8, §14.1): every mutating endpoint × every kind of caller ×
every domain, each cell its own test, with the exact status and error code.

Every refusal must leave the engine exactly as it was: cache, write queue, journal, payload
folders, the three domain databases and the user table (``snapshot()``).

``MUTATIONS`` is the parametrize list of mutating endpoints; the import endpoint joins it by
adding one more ``Mutation``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from assembly_engine.domain.types import Domain, Role
from assembly_engine.services.assemblies.inputs import AssemblyChanges
from assembly_engine.services.auth.policy import Actor
from assembly_engine.services.caller import Caller
from assembly_engine.storage.contract.upstream import UpstreamNote, UpstreamState, with_note
from tests.api.support import (
    ADMIN,
    ADMIN_DEV,
    ADMIN_EXPIRED,
    ANONYMOUS,
    BACKENDS,
    CALLERS,
    DEV_MODE_REASON,
    DISABLED,
    DOMAINS,
    OPERATOR,
    OPERATOR_NAME,
    OPERATOR_PASSWORD,
    ApiEngine,
    assert_unchanged,
    create_body,
    plant_assembly,
    snapshot,
    unique_name,
)
from tests.support import ADMIN_PASSWORD

# Every cell on both backends: the embedded storage and a cluster node on PostgreSQL.
API_BACKENDS = BACKENDS

NOT_APPLICABLE = "n-a"
MATRIX_TARGET_USER = "matrix-target-user"
MATRIX_TARGET_PASSWORD = "matrix-target-password"

# Which rule of Docs/assemblies.md §8 guards an endpoint.
WRITE = "write"  # user domain: any signed-in user; official/community: admin + Dev Mode
ADMIN_AND_DEV_MODE = "admin+dev_mode"  # whatever the domain
ADMIN_ONLY = "admin"  # Dev Mode not needed


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    body: Any = None


@dataclass(frozen=True)
class Mutation:
    """One mutating endpoint: how to aim it at a domain, and what success looks like."""

    name: str
    rule: str
    success_status: int
    per_domain: bool
    prepare: Callable[[ApiEngine, str], Call]  # plants what the call needs; no request yet
    check_success: Callable[[ApiEngine, str, httpx.Response], None]


# -- the endpoints -------------------------------------------------------------------------


def _prepare_create(api: ApiEngine, domain: str) -> Call:
    return Call("POST", "/api/assemblies", create_body(domain))


def _check_create(api: ApiEngine, domain: str, response: httpx.Response) -> None:
    body = response.json()
    assert body["source"] == domain
    assert body["is_dirty"] is True
    cached = api.services.storage.cache.get(body["assembly_guid"])
    assert cached is not None and cached.domain.value == domain


def _prepare_update(api: ApiEngine, domain: str) -> Call:
    guid = plant_assembly(api.services, domain)
    return Call("PUT", f"/api/assemblies/{guid}", {"display_name": unique_name("renamed")})


def _check_update(api: ApiEngine, domain: str, response: httpx.Response) -> None:
    body = response.json()
    assert body["source"] == domain
    assert body["revision"] == 2
    cached = api.services.storage.cache.get(body["assembly_guid"])
    assert cached is not None and cached.record.display_name == body["display_name"]


def _prepare_delete(api: ApiEngine, domain: str) -> Call:
    return Call("DELETE", f"/api/assemblies/{plant_assembly(api.services, domain)}")


def _check_delete(api: ApiEngine, domain: str, response: httpx.Response) -> None:
    body = response.json()
    assert body["status"] == "queued_delete"
    assert body["source"] == domain
    assert api.services.storage.cache.get(body["assembly_guid"]) is None


def _prepare_clone(api: ApiEngine, domain: str) -> Call:
    source = plant_assembly(api.services, "user")
    return Call("POST", f"/api/assemblies/{source}/clone", {"target_domain": domain})


def _check_clone(api: ApiEngine, domain: str, response: httpx.Response) -> None:
    body = response.json()
    assert body["source"] == domain
    assert body["revision"] == 1
    assert api.services.storage.cache.get(body["assembly_guid"]) is not None


def _prepare_flush(api: ApiEngine, domain: str) -> Call:
    plant_assembly(api.services, domain)  # something queued in that domain
    return Call("POST", "/api/assemblies/dev-mode/write", {"domain": domain})


def _check_flush(api: ApiEngine, domain: str, response: httpx.Response) -> None:
    body = response.json()
    assert body["results"][domain]["error"] is None
    assert body["results"][domain]["persisted"] >= 1
    assert body["queue"]["domains"][domain]["pending"] == 0


def _prepare_sync(api: ApiEngine, domain: str) -> Call:
    plant_assembly(api.services, "official")  # not staged: the sync keeps it, flagged
    return Call("POST", "/api/assemblies/official/sync")


def _check_sync(api: ApiEngine, domain: str, response: httpx.Response) -> None:
    body = response.json()
    assert body["staging_count"] == 0  # the test staging root is empty
    kept = api.services.storage.cache.items(Domain.OFFICIAL)
    assert kept and body["runtime_count"] == body["removed_upstream"] == len(kept) and body["matches"]
    states = {(n.state if (n := UpstreamNote.of(item.record)) else None) for item in kept}
    assert states == {UpstreamState.REMOVED_UPSTREAM}  # never silently deleted


def _prepare_user_create(api: ApiEngine, domain: str) -> Call:
    return Call(
        "POST",
        "/api/users",
        {"username": unique_name("new-user"), "password": "new-user-password", "role": "operator"},
    )


def _check_user_create(api: ApiEngine, domain: str, response: httpx.Response) -> None:
    body = response.json()
    assert body["role"] == "operator"
    assert api.services.users.get(body["username"]) is not None


def _prepare_user_update(api: ApiEngine, domain: str) -> Call:
    if api.services.users.get(MATRIX_TARGET_USER) is None:
        api.services.users.create(MATRIX_TARGET_USER, MATRIX_TARGET_PASSWORD, "operator")
    current = api.services.users.get(MATRIX_TARGET_USER)
    assert current is not None
    # Flip the flag, so a refusal that still wrote something would be visible.
    return Call("PATCH", f"/api/users/{MATRIX_TARGET_USER}", {"disabled": not current.disabled})


def _check_user_update(api: ApiEngine, domain: str, response: httpx.Response) -> None:
    body = response.json()
    assert body["username"] == MATRIX_TARGET_USER
    stored = api.services.users.get(MATRIX_TARGET_USER)
    assert stored is not None and stored.disabled is body["disabled"]


def legacy_document(name: str, naming: str | None = None) -> dict[str, Any]:
    """A legacy script document; ``naming`` puts an existing GUID in its engine block."""
    document: dict[str, Any] = {
        "version": 1,
        "name": name,
        "description": "imported",
        "category": "script",
        "type": "powershell",
        "script": "V3JpdGUtSG9zdCAnaW1wb3J0ZWQn",
        "script_encoding": "base64",
        "timeout_seconds": 60,
        "sites": {"mode": "all", "values": []},
        "variables": [],
        "files": [],
    }
    if naming is not None:
        document["assembly_engine"] = {
            "assembly_guid": naming,
            "source": "official",
            "revision": 1,
            "updated_at": "2026-01-01T00:00:00Z",
            "tags": [],
        }
    return document


def _prepare_import(api: ApiEngine, domain: str) -> Call:
    return Call(
        "POST",
        "/api/assemblies/import",
        {"document": legacy_document(unique_name("imported")), "domain": domain},
    )


def _check_import(api: ApiEngine, domain: str, response: httpx.Response) -> None:
    body = response.json()
    assert body["source"] == domain and body["revision"] == 1
    cached = api.services.storage.cache.get(body["assembly_guid"])
    assert cached is not None and cached.domain.value == domain


def _admin_dev_caller() -> Caller:
    return Caller(Actor("admin", Role.ADMIN, True), session="planted-by-tests")


def _prepare_restore(api: ApiEngine, domain: str) -> Call:
    guid = plant_assembly(api.services, domain)
    api.services.assemblies.editing.update(
        _admin_dev_caller(), guid, AssemblyChanges(payload={"script": "Write-Host 'second'\n"})
    )
    return Call("POST", f"/api/assemblies/{guid}/revisions/1/restore", {"expected_revision": 2})


def _check_restore(api: ApiEngine, domain: str, response: httpx.Response) -> None:
    body = response.json()
    assert body["source"] == domain and body["revision"] == 3
    content = api.services.assemblies.resolve_payload(body["assembly_guid"])
    assert content.text == "Write-Host 'planted'\n"


def _prepare_undelete(api: ApiEngine, domain: str) -> Call:
    guid = plant_assembly(api.services, domain)
    api.services.assemblies.editing.delete(_admin_dev_caller(), guid)
    return Call("POST", f"/api/assemblies/{guid}/undelete")


def _check_undelete(api: ApiEngine, domain: str, response: httpx.Response) -> None:
    body = response.json()
    assert body["source"] == domain and body["revision"] == 2
    assert api.services.storage.cache.get(body["assembly_guid"]) is not None


def _prepare_upstream(api: ApiEngine, domain: str) -> Call:
    guid = plant_assembly(api.services, "official")
    # As an official sync leaves an assembly the vendor no longer ships: waiting for a choice.
    removed = UpstreamNote("vendor-checksum", None, UpstreamState.REMOVED_UPSTREAM)
    api.services.storage.cache.update(guid, lambda record: with_note(record, removed))
    return Call("POST", f"/api/assemblies/{guid}/upstream", {"action": "keep_local"})


def _check_upstream(api: ApiEngine, domain: str, response: httpx.Response) -> None:
    body = response.json()
    assert body["source"] == "official" and body["upstream"]["state"] == "current"


MUTATIONS: list[Mutation] = [
    Mutation("create", WRITE, 201, True, _prepare_create, _check_create),
    Mutation("update", WRITE, 200, True, _prepare_update, _check_update),
    Mutation("delete", WRITE, 202, True, _prepare_delete, _check_delete),
    Mutation("clone", WRITE, 201, True, _prepare_clone, _check_clone),
    Mutation("import", WRITE, 201, True, _prepare_import, _check_import),
    Mutation("restore", WRITE, 200, True, _prepare_restore, _check_restore),
    Mutation("undelete", WRITE, 200, True, _prepare_undelete, _check_undelete),
    Mutation("dev_mode_write", ADMIN_AND_DEV_MODE, 200, True, _prepare_flush, _check_flush),
    Mutation("official_sync", ADMIN_AND_DEV_MODE, 200, False, _prepare_sync, _check_sync),
    Mutation("upstream_choice", ADMIN_AND_DEV_MODE, 200, False, _prepare_upstream, _check_upstream),
    Mutation("user_create", ADMIN_ONLY, 201, False, _prepare_user_create, _check_user_create),
    Mutation("user_update", ADMIN_ONLY, 200, False, _prepare_user_update, _check_user_update),
]


# -- the expected answer of each cell ------------------------------------------------------


def expected(mutation: Mutation, caller: str, domain: str) -> tuple[int, str | None]:
    """(status, error code) — error None when the call is allowed."""
    if caller in (ANONYMOUS, DISABLED):
        return 401, "unauthorized"
    if mutation.rule == ADMIN_ONLY:
        return (403, "forbidden") if caller == OPERATOR else (mutation.success_status, None)
    if mutation.rule == WRITE and domain == "user":
        return mutation.success_status, None
    if caller == OPERATOR:
        return 403, "forbidden"
    if caller in (ADMIN, ADMIN_EXPIRED):
        return 403, "dev_mode_required"
    assert caller == ADMIN_DEV
    return mutation.success_status, None


def _cells() -> list[Any]:
    cells = []
    for mutation in MUTATIONS:
        domains = DOMAINS if mutation.per_domain else (NOT_APPLICABLE,)
        for caller in CALLERS:
            for domain in domains:
                status, error = expected(mutation, caller, domain)
                outcome = error or f"{status}"
                cells.append(
                    pytest.param(
                        mutation,
                        caller,
                        domain,
                        id=f"{mutation.name}-{caller}-{domain}-{outcome}",
                    )
                )
    return cells


def assert_refusal(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "message"}
    assert body["error"] == error
    assert isinstance(body["message"], str) and body["message"].strip()
    if error == "dev_mode_required":
        # The refusal tells the admin how to get on (Docs/assemblies.md §8).
        assert "enable Dev Mode" in body["message"]
        assert "Assemblies admin controls" in body["message"]
        assert "/api/assemblies/dev-mode/switch" in body["message"]


@pytest.mark.parametrize(("mutation", "caller", "domain"), _cells())
def test_matrix(api: ApiEngine, mutation: Mutation, caller: str, domain: str) -> None:
    call = mutation.prepare(api, domain)
    status, error = expected(mutation, caller, domain)
    before = snapshot(api.services)
    response = api.request(caller, call.method, call.url, json=call.body)
    if error is None:
        assert response.status_code == status, response.text
        mutation.check_success(api, domain, response)
    else:
        assert_refusal(response, status, error)
        assert_unchanged(before, snapshot(api.services))


def test_every_cell_is_listed() -> None:
    per_domain = sum(1 for m in MUTATIONS if m.per_domain)
    other = len(MUTATIONS) - per_domain
    assert len(_cells()) == len(CALLERS) * (per_domain * len(DOMAINS) + other)
    ids = [cell.id for cell in _cells()]
    assert len(ids) == len(set(ids))


# -- escalation paths ----------------------------------------------------------------------


@pytest.mark.parametrize("real_domain", ["official", "community"])
@pytest.mark.parametrize(
    ("caller", "error"),
    [
        (OPERATOR, "forbidden"),
        (ADMIN, "dev_mode_required"),
        (ADMIN_EXPIRED, "dev_mode_required"),
    ],
)
def test_update_claiming_user_domain_is_judged_by_real_domain(
    api: ApiEngine, real_domain: str, caller: str, error: str
) -> None:
    guid = plant_assembly(api.services, real_domain)
    before = snapshot(api.services)
    response = api.request(
        caller,
        "PUT",
        f"/api/assemblies/{guid}",
        json={
            "domain": "user",
            "display_name": "hijacked",
            "payload": {"script": "Remove-Item -Recurse C:\\\n"},
        },
    )
    assert_refusal(response, 403, error)
    assert_unchanged(before, snapshot(api.services))
    cached = api.services.storage.cache.get(guid)
    assert cached is not None
    assert cached.domain.value == real_domain and cached.record.display_name != "hijacked"


@pytest.mark.parametrize("real_domain", ["official", "community"])
@pytest.mark.parametrize("caller", [OPERATOR, ADMIN, ADMIN_EXPIRED])
def test_import_claiming_user_domain_never_overwrites_the_named_assembly(
    api: ApiEngine, real_domain: str, caller: str
) -> None:
    guid = plant_assembly(api.services, real_domain)
    original = api.services.storage.cache.get(guid)
    assert original is not None
    response = api.request(
        caller,
        "POST",
        "/api/assemblies/import",
        json={"document": legacy_document("hijack", naming=guid), "domain": "user"},
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["assembly_guid"] != guid and created["source"] == "user"
    assert api.services.storage.cache.get(guid) == original  # untouched, same revision and payload


@pytest.mark.parametrize("real_domain", ["official", "community"])
@pytest.mark.parametrize(
    ("caller", "error"),
    [
        (OPERATOR, "forbidden"),
        (ADMIN, "dev_mode_required"),
        (ADMIN_EXPIRED, "dev_mode_required"),
    ],
)
def test_import_into_the_named_protected_domain_is_refused(
    api: ApiEngine, real_domain: str, caller: str, error: str
) -> None:
    guid = plant_assembly(api.services, real_domain)
    before = snapshot(api.services)
    response = api.request(
        caller,
        "POST",
        "/api/assemblies/import",
        json={"document": legacy_document("hijack", naming=guid), "domain": real_domain},
    )
    assert_refusal(response, 403, error)
    assert_unchanged(before, snapshot(api.services))


def test_import_naming_own_user_assembly_replaces_it_in_place(api: ApiEngine) -> None:
    guid = plant_assembly(api.services, "user")
    response = api.request(
        OPERATOR,
        "POST",
        "/api/assemblies/import",
        json={"document": legacy_document("replaced", naming=guid), "domain": "user"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["assembly_guid"] == guid and response.json()["revision"] == 2
    cached = api.services.storage.cache.get(guid)
    assert cached is not None and cached.record.display_name == "replaced"


@pytest.mark.parametrize("real_domain", ["official", "community"])
def test_delete_with_if_match_of_official_by_operator_is_refused(api: ApiEngine, real_domain: str) -> None:
    guid = plant_assembly(api.services, real_domain)
    before = snapshot(api.services)
    response = api.request(OPERATOR, "DELETE", f"/api/assemblies/{guid}", headers={"If-Match": "1"})
    assert_refusal(response, 403, "forbidden")
    assert_unchanged(before, snapshot(api.services))


def test_dev_mode_of_one_session_does_not_elevate_another(api: ApiEngine) -> None:
    # ADMIN and ADMIN_DEV are two sessions of the same account "admin".
    assert api.dev_mode_enabled(api.tokens[ADMIN_DEV]) is True
    assert api.dev_mode_enabled(api.tokens[ADMIN]) is False
    me = api.request(ADMIN, "GET", "/api/auth/me").json()
    assert me["user"] == {"username": "admin", "role": "admin"}
    assert me["dev_mode"]["enabled"] is False
    before = snapshot(api.services)
    response = api.request(ADMIN, "POST", "/api/assemblies", json=create_body("official"))
    assert_refusal(response, 403, "dev_mode_required")
    assert_unchanged(before, snapshot(api.services))
    # ... and the elevated session still is.
    assert api.dev_mode_enabled(api.tokens[ADMIN_DEV]) is True


@pytest.mark.parametrize(
    "value",
    ["false", "true", 1, 0, None, [True], {"value": True}],
    ids=["str-false", "str-true", "int-1", "int-0", "null", "list", "object"],
)
@pytest.mark.parametrize("session", [ADMIN, ADMIN_DEV])
def test_dev_mode_switch_needs_a_json_boolean(api: ApiEngine, session: str, value: Any) -> None:
    token = api.tokens[session]
    was_enabled = api.dev_mode_enabled(token)
    count = len(api.audit_entries())
    response = api.request(
        session,
        "POST",
        "/api/assemblies/dev-mode/switch",
        json={"enabled": value, "password": ADMIN_PASSWORD, "reason": DEV_MODE_REASON},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_document"
    assert "enabled" in response.json()["message"]
    assert api.dev_mode_enabled(token) is was_enabled
    assert len(api.audit_entries()) == count


def test_dev_mode_enable_with_wrong_password_stays_off(api: ApiEngine) -> None:
    token = api.tokens[ADMIN]
    assert api.dev_mode_enabled(token) is False
    response = api.request(
        ADMIN,
        "POST",
        "/api/assemblies/dev-mode/switch",
        json={"enabled": True, "password": "not-the-admin-password", "reason": DEV_MODE_REASON},
    )
    assert_refusal(response, 403, "forbidden")
    assert api.dev_mode_enabled(token) is False
    before = snapshot(api.services)
    refused = api.request(ADMIN, "POST", "/api/assemblies", json=create_body("community"))
    assert_refusal(refused, 403, "dev_mode_required")
    assert_unchanged(before, snapshot(api.services))


def test_dev_mode_enable_without_password_stays_off(api: ApiEngine) -> None:
    token = api.tokens[ADMIN]
    response = api.request(
        ADMIN, "POST", "/api/assemblies/dev-mode/switch", json={"enabled": True, "reason": DEV_MODE_REASON}
    )
    assert response.status_code == 403, response.text
    assert api.dev_mode_enabled(token) is False


def test_operator_cannot_switch_dev_mode(api: ApiEngine) -> None:
    response = api.request(
        OPERATOR,
        "POST",
        "/api/assemblies/dev-mode/switch",
        json={"enabled": True, "password": OPERATOR_PASSWORD, "reason": "let me in"},
    )
    assert_refusal(response, 403, "forbidden")
    assert api.dev_mode_enabled(api.tokens[OPERATOR]) is False
    before = snapshot(api.services)
    refused = api.request(OPERATOR, "POST", "/api/assemblies", json=create_body("official"))
    assert_refusal(refused, 403, "forbidden")
    assert_unchanged(before, snapshot(api.services))


@pytest.mark.parametrize("caller", [ANONYMOUS, DISABLED])
def test_signed_out_callers_cannot_switch_dev_mode(api: ApiEngine, caller: str) -> None:
    response = api.request(
        caller,
        "POST",
        "/api/assemblies/dev-mode/switch",
        json={"enabled": True, "password": ADMIN_PASSWORD, "reason": "let me in"},
    )
    assert_refusal(response, 401, "unauthorized")


def test_operator_cannot_promote_themselves(api: ApiEngine) -> None:
    before = snapshot(api.services)
    response = api.request(OPERATOR, "PATCH", f"/api/users/{OPERATOR_NAME}", json={"role": "admin"})
    assert_refusal(response, 403, "forbidden")
    assert_unchanged(before, snapshot(api.services))
    operator = api.services.users.get(OPERATOR_NAME)
    assert operator is not None and operator.role.value == "operator"


def test_operator_can_clone_official_into_user(api: ApiEngine) -> None:
    source = plant_assembly(api.services, "official")
    response = api.request(
        OPERATOR, "POST", f"/api/assemblies/{source}/clone", json={"target_domain": "user"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["source"] == "user"


ANONYMOUS_WRITES = [
    pytest.param("PUT", "", {"display_name": "probe"}, id="update"),
    pytest.param("DELETE", "", None, id="delete"),
    pytest.param("POST", "/clone", {"target_domain": "user"}, id="clone"),
]


@pytest.mark.parametrize(("method", "suffix", "body"), ANONYMOUS_WRITES)
def test_anonymous_write_to_a_known_guid_is_unauthorized(
    api: ApiEngine, method: str, suffix: str, body: Any
) -> None:
    guid = plant_assembly(api.services, "user")
    before = snapshot(api.services)
    response = api.request(ANONYMOUS, method, f"/api/assemblies/{guid}{suffix}", json=body)
    assert_refusal(response, 401, "unauthorized")
    assert_unchanged(before, snapshot(api.services))


@pytest.mark.parametrize(("method", "suffix", "body"), ANONYMOUS_WRITES)
def test_anonymous_write_to_an_unknown_guid_is_unauthorized(
    api: ApiEngine, method: str, suffix: str, body: Any
) -> None:
    """Anonymous callers must not learn which GUIDs exist: 401, never 404."""
    unknown = "0123456789abcdef" * 2
    assert api.services.storage.cache.get(unknown) is None
    before = snapshot(api.services)
    response = api.request(ANONYMOUS, method, f"/api/assemblies/{unknown}{suffix}", json=body)
    assert_refusal(response, 401, "unauthorized")
    assert_unchanged(before, snapshot(api.services))
