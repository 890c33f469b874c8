"""Property-based fuzzing of the REST API with schemathesis (Docs/assemblies.md §7).

The OpenAPI document the engine serves at ``/openapi.json`` drives the generation. Every
operation is exercised with positive (schema-valid) and negative (schema-violating) data,
as an operator and as an admin, and every answer must:

- never be a 5xx (``not_a_server_error``);
- conform to the document: a documented status code, the documented content type and the
  documented response schema;
- if it is not a 2xx, be the engine's error shape ``{"error": ..., "message": ...}``.

The engine runs in-process through ``TestClient`` (its lifespan opens real SQLite files and
payload folders under a temporary home). Generation is derandomized, so a run is
reproducible; shrinking is off because each failure is reported with its request.

What the run leaves out, and why:

- ``POST /api/auth/logout`` would revoke the very token the run is using, and so would
  ``DELETE /api/auth/sessions/{session_id}``; ``POST /api/auth/end-other-sessions`` would
  end the sessions of the run's other callers of the same user (test_account.py covers both).
- ``PATCH /api/users/{username}`` is kept, but its ``username`` is pinned to a sacrificial
  account, so the admin run can never disable, demote or re-password itself or the operator.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.schemas import APIOperation, BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from assembly_engine.api.app import create_app
from tests.support import ADMIN_PASSWORD, temp_settings

OPERATOR = ("fuzz-operator", "operator-password-1")
VICTIM = ("fuzz-victim", "victim-password-1")
BASE_URL = "http://testserver"
MAX_EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SEED_FILE = "notes.txt"
EXCLUDED = {
    ("POST", "/api/auth/logout"),
    ("DELETE", "/api/auth/sessions/{session_id}"),
    ("POST", "/api/auth/end-other-sessions"),
    ("POST", "/api/admin/backup"),
}


@dataclass
class FuzzEngine:
    client: TestClient
    tokens: dict[str, str]
    schema: BaseSchema
    seen_statuses: dict[str, set[int]] = field(default_factory=dict)


def _login(client: TestClient, username: str, password: str) -> str:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


@pytest.fixture(scope="module")
def fuzz_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzEngine]:
    root: Path = tmp_path_factory.mktemp("fuzz")
    settings = temp_settings(root, lock_retry_seconds=1.0, import_max_bytes=1024 * 1024)
    with TestClient(create_app(settings, console_log=False)) as client:
        admin = _login(client, "admin", ADMIN_PASSWORD)
        auth = {"Authorization": f"Bearer {admin}"}
        for username, password in (OPERATOR, VICTIM):
            created = client.post(
                "/api/users",
                headers=auth,
                json={"username": username, "password": password, "role": "operator"},
            )
            assert created.status_code == 201, created.text
        operator = _login(client, *OPERATOR)
        # The jar now holds the last session cookie; the run must authenticate by token only.
        client.cookies.clear()
        document = client.get("/openapi.json").json()
        schema = schemathesis.openapi.from_dict(document)
        yield FuzzEngine(client, {"admin": admin, "operator": operator}, schema)


def _seed(engine: FuzzEngine) -> str:
    """A fresh user-domain assembly with one attachment, for runs that aim at a real id."""
    operator = {"Authorization": f"Bearer {engine.tokens['operator']}"}
    seeded = engine.client.post(
        "/api/assemblies",
        headers=operator,
        json={
            "display_name": "Fuzz seed",
            "assembly_kind": "script",
            "assembly_type": "powershell",
            "summary": "an assembly that pinned path parameters point at",
            "metadata": {"timeout_seconds": 30},
            "tags": ["fuzz"],
            "payload": {
                "script": "Write-Host 'seed'\n",
                "files": [
                    {
                        "file_name": SEED_FILE,
                        "mime_type": "text/plain",
                        "data": base64.b64encode(b"seed notes").decode("ascii"),
                    },
                ],
            },
        },
    )
    assert seeded.status_code == 201, seeded.text
    guid: str = seeded.json()["assembly_guid"]
    return guid


def _enable_dev_mode(engine: FuzzEngine) -> None:
    """Dev Mode on for the admin's session (the fuzzed switch may have turned it off)."""
    # The fuzzed switch and password changes guess passwords from this very client, so the
    # throttle has every reason to hold it back: start it afresh, as a restart would.
    engine.client.app.state.services.throttle.clear()  # type: ignore[attr-defined]
    enabled = engine.client.post(
        "/api/assemblies/dev-mode/switch",
        headers={"Authorization": f"Bearer {engine.tokens['admin']}"},
        json={"enabled": True, "password": ADMIN_PASSWORD, "reason": "fuzzing privileged operations"},
    )
    assert enabled.status_code == 200, enabled.text


def _send(client: TestClient, case: schemathesis.Case, token: str) -> httpx.Response:
    """Send a generated case through the in-process client (the lifespan-started app)."""
    kwargs = case.as_transport_kwargs(base_url=BASE_URL, headers={"Authorization": f"Bearer {token}"})
    request: dict[str, Any] = {
        "method": kwargs["method"],
        "url": kwargs["url"],
        "headers": kwargs.get("headers") or {},
        "params": kwargs.get("params") or None,
    }
    if "json" in kwargs:
        request["content"] = json.dumps(kwargs["json"]).encode("utf-8")
        request["headers"] = {**request["headers"], "Content-Type": "application/json"}
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        if isinstance(data, bytes | str):
            request["content"] = data
        else:
            request["data"] = data
    cookies = kwargs.get("cookies") or {}
    if cookies:
        request["headers"] = {
            **request["headers"],
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        }
    return client.request(**request)


def _error_shape_problem(response: httpx.Response) -> str | None:
    if 200 <= response.status_code < 300:
        return None
    if not response.headers.get("content-type", "").startswith("application/json"):
        return f"non-2xx answer is not JSON: {response.headers.get('content-type')!r}"
    try:
        body = response.json()
    except ValueError:
        return "non-2xx answer is not valid JSON"
    # check_failed alone also carries the diagnostics that refused the save (Docs/script-checks.md).
    extra = (
        {"diagnostics", "counts", "checkers"}
        if isinstance(body, dict) and body.get("error") == "check_failed"
        else set()
    )
    if not isinstance(body, dict) or not {"error", "message"} <= set(body) <= {"error", "message"} | extra:
        return f"non-2xx body is not {{error, message}}: {body!r}"
    if not (
        isinstance(body["error"], str)
        and body["error"]
        and isinstance(body["message"], str)
        and body["message"].strip()
    ):
        return f"non-2xx body has an empty or non-string error/message: {body!r}"
    return None


def _pinned_path_parameters(operation: APIOperation) -> dict[str, str]:
    """Path parameters fixed in every run of an operation (never the caller's own account)."""
    return {"username": VICTIM[0]} if "{username}" in operation.path else {}


def _fuzz_operation(
    engine: FuzzEngine,
    operation: APIOperation,
    role: str,
    mode: GenerationMode,
    path_parameters: dict[str, str],
    failures: list[str],
) -> None:
    token = engine.tokens[role]
    label = f"[{role}/{mode.value}] {operation.method.upper()} {operation.path}"
    found: list[str] = []
    # A generated id that spells another route's path (``/api/assemblies/facets``) is that
    # route's request, answered by its own schema: not a case of this operation.
    other_routes = {o.path for o in _operations(engine.schema) if "{" not in o.path} - {operation.path}
    strategy = operation.as_strategy(mode, path_parameters=path_parameters or None)

    @hypothesis_settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=strategy)
    def run(case: schemathesis.Case) -> None:
        if found or case.formatted_path in other_routes:
            return  # one failure per operation and mode is enough; another route's case is none
        response = _send(engine.client, case, token)
        engine.seen_statuses.setdefault(label, set()).add(response.status_code)
        problems: list[str] = []
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            problems.extend(f"{type(f).__name__}: {f.title}: {f.message}" for f in group.exceptions)
        shape = _error_shape_problem(response)
        if shape is not None:
            problems.append(shape)
        if problems:
            request = response.request
            found.append(
                f"{label}\n  request: {request.method} {request.url} body={request.content[:300]!r}\n"
                f"  answer: {response.status_code} {response.text[:300]}\n  - " + "\n  - ".join(problems)
            )

    try:
        run()
    except Unsatisfiable:
        # Nothing to violate (e.g. no parameters and no body): negative data cannot exist.
        assert mode is GenerationMode.NEGATIVE, label
    failures.extend(found)


def _operations(schema: BaseSchema) -> list[APIOperation]:
    operations = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) not in EXCLUDED:
            operations.append(operation)
    return operations


def _check_backup_refused(engine: FuzzEngine, role: str, tmp_path: Path) -> None:
    """The excluded backup operation, once, with a destination inside the test's tmp dir.

    Generated destinations would be real paths on this machine, so the operation is not
    fuzzed; an API token may not write backups at all (that is the CLI's job).
    """
    operation = engine.schema["/api/admin/backup"]["POST"]
    destination = tmp_path / "backup-target"
    case = operation.Case(body={"destination": str(destination)}, media_type="application/json")
    response = _send(engine.client, case, engine.tokens[role])
    case.validate_response(response, checks=CHECKS)
    assert _error_shape_problem(response) is None
    assert response.status_code == 403, response.text
    assert not destination.exists()


@pytest.mark.parametrize("role", ["operator", "admin"])
def test_every_operation_answers_per_schema(fuzz_engine: FuzzEngine, role: str, tmp_path: Path) -> None:
    operations = _operations(fuzz_engine.schema)
    assert len(operations) >= 15, [f"{o.method} {o.path}" for o in operations]
    failures: list[str] = []
    for operation in operations:
        if role == "admin":
            _enable_dev_mode(fuzz_engine)
        pinned = _pinned_path_parameters(operation)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_operation(fuzz_engine, operation, role, mode, pinned, failures)
        if "{guid}" in operation.path:
            # Again, aimed at a real assembly (a fresh one, as a DELETE may have taken the last),
            # so updates, clones, exports and attachment reads get past the lookup.
            aimed = {**pinned, "guid": _seed(fuzz_engine)}
            if "{file_name}" in operation.path:
                aimed["file_name"] = SEED_FILE
            _fuzz_operation(fuzz_engine, operation, role, GenerationMode.POSITIVE, aimed, failures)
    assert not failures, "\n\n".join(failures)
    _check_backup_refused(fuzz_engine, role, tmp_path)
    # The session survived the whole run: nothing locked the caller out.
    me = fuzz_engine.client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {fuzz_engine.tokens[role]}"}
    )
    assert me.status_code == 200, me.text
    assert me.json()["user"]["role"] == role
