"""Every integer the API reads, given a value outside int64 or outside its own range, is a
clear 422 naming it (400 for If-Match, a header), never a 500 or an overflow in SQLite or
PostgreSQL — swept through real HTTP against a real engine process on both backends.

The list of integers is checked against the OpenAPI document, so a new integer parameter
or body field fails ``test_every_integer_of_the_api_is_swept`` until it is swept here.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from assembly_engine.api.app import create_app
from tests.engine_process import EngineProcess
from tests.hardening.support import dev_mode_headers, new_script, running
from tests.support import temp_settings

INT64_MAX = 2**63 - 1
# Beyond int64 both ways, far beyond, and a number JSON writes with an exponent.
BEYOND_INT64 = (str(2**63), str(-(2**63) - 1), str(2**64), "1" + "0" * 30, "-" + "9" * 40)


@dataclass(frozen=True)
class Integer:
    """One integer input: where it goes and the values just outside its own range."""

    where: str  # "query", "path", "body"
    method: str
    path: str  # {guid} and {value} are filled in
    name: str
    outside: tuple[str, ...]  # in-int64 values outside the field's range
    body: str = ""  # for "body": the JSON text with {value} in it

    @property
    def id(self) -> str:
        return f"{self.method} {self.path} {self.name}"


def _body(template: dict[str, Any], field: str) -> str:
    # The value is spliced into the JSON text, so numbers beyond float go out exactly.
    return json.dumps({**template, field: "VALUE"}).replace('"VALUE"', "{value}")


_SCRIPT = {k: v for k, v in new_script("int64").items() if k != "domain"}
_PAGES = ("/api/assemblies", "/api/assemblies/deleted", "/api/assemblies/{guid}/revisions")
_REVISION_PATHS = (
    ("GET", "/api/assemblies/{guid}/revisions/{value}"),
    ("GET", "/api/assemblies/{guid}/revisions/{value}/export"),
    ("POST", "/api/assemblies/{guid}/revisions/{value}/restore"),
)

INTEGERS: tuple[Integer, ...] = (
    *(
        Integer("query", "GET", page, name, outside)
        for page in _PAGES
        for name, outside in (("limit", ("0", "-1", "1001")), ("offset", ("-1", "10000001")))
    ),
    *(
        Integer("path", method, path, "revision", ("0", "-1", str(2**53 + 1)))
        for method, path in _REVISION_PATHS
    ),
    Integer("body", "POST", "/api/assemblies", "version", (), _body(_SCRIPT, "version")),
    Integer("body", "PUT", "/api/assemblies/{guid}", "version", (), _body({}, "version")),
    Integer(
        "body",
        "PUT",
        "/api/assemblies/{guid}",
        "expected_revision",
        ("0", "-1"),
        _body({}, "expected_revision"),
    ),
    Integer(
        "body",
        "POST",
        "/api/assemblies/{guid}/revisions/1/restore",
        "expected_revision",
        ("0", "-1"),
        _body({}, "expected_revision"),
    ),
    Integer(
        "body",
        "POST",
        "/api/assemblies/{guid}/upstream",
        "expected_revision",
        ("0", "-1"),
        _body({"action": "keep_local"}, "expected_revision"),
    ),
    Integer(
        "body",
        "POST",
        "/api/tokens",
        "expires_in_days",
        ("0", "-1", "36501"),
        _body({"name": "int64", "scopes": ["assemblies:read"]}, "expires_in_days"),
    ),
    Integer("body", "POST", "/api/admin/history/prune", "keep", ("-1", "1000001"), _body({}, "keep")),
    Integer(
        "body", "POST", "/api/admin/history/prune", "trash_days", ("-1", "100001"), _body({}, "trash_days")
    ),
    Integer(
        "body", "POST", "/api/admin/verify", "grace_seconds", ("-1", "86401"), _body({}, "grace_seconds")
    ),
    # Inside documents: metadata values (any depth) are bounded by int64 too.
    Integer(
        "body",
        "POST",
        "/api/assemblies",
        "metadata",
        (),
        json.dumps({**_SCRIPT, "metadata": {"timeout_seconds": "VALUE"}}).replace('"VALUE"', "{value}"),
    ),
)

CASES = [
    pytest.param(integer, value, id=f"{integer.id}={value[:12]}")
    for integer in INTEGERS
    for value in (*BEYOND_INT64, *integer.outside)
]


def _openapi_integers() -> set[tuple[str, str, str]]:
    """(method, path, name) of every integer or number an operation reads (top level)."""
    app = create_app(temp_settings(Path(tempfile.mkdtemp(prefix="int64-"))), console_log=False)
    document = app.openapi()
    schemas = document["components"]["schemas"]

    def numeric(schema: dict[str, Any]) -> bool:
        if "$ref" in schema:
            return numeric(schemas[schema["$ref"].split("/")[-1]])
        if schema.get("type") in ("integer", "number"):
            return True
        return any(numeric(s) for s in schema.get("anyOf", []))

    found: set[tuple[str, str, str]] = set()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if numeric(parameter.get("schema", {})):
                    found.add((method.upper(), path, parameter["name"]))
            content = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if content is None:
                continue
            body = content["schema"]
            if "$ref" in body:
                body = schemas[body["$ref"].split("/")[-1]]
            for name, schema in body.get("properties", {}).items():
                if numeric(schema):
                    found.add((method.upper(), path, name))
    return found


def test_every_integer_of_the_api_is_swept() -> None:
    swept = {(i.method, i.path.replace("{value}", "{revision}"), i.name) for i in INTEGERS}
    swept = {(m, p.replace("/revisions/1/", "/revisions/{revision}/"), n) for m, p, n in swept}
    missing = _openapi_integers() - swept
    assert not missing, f"integers of the API not swept here: {sorted(missing)}"


@dataclass
class Running:
    engine: EngineProcess
    headers: dict[str, str]
    guid: str


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def running_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    root = tmp_path_factory.mktemp(f"int64-{request.param}")
    extra: dict[str, str] = {}
    name = ""
    server: Any = None
    if request.param == "postgresql":
        server = request.getfixturevalue("postgresql_server")
        name, extra["ENGINE_DATABASE_URL"] = server.create_database()
    engine = EngineProcess(root / "home", root / "staging", extra_env=extra)
    try:
        with running(engine):
            headers = dev_mode_headers(engine)
            created = httpx.post(f"{engine.url}/api/assemblies", headers=headers, json=_SCRIPT, timeout=60)
            assert created.status_code == 201, created.text
            yield Running(engine, headers, created.json()["assembly_guid"])
    finally:
        if server is not None:
            server.drop_database(name)


def _state(run: Running) -> tuple[Any, ...]:
    """What a refused request must not change: the list, the history and the tokens."""
    http = run.engine.http
    listed = http.get("/api/assemblies", headers=run.headers, params={"limit": 1000}).json()["items"]
    history = http.get(f"/api/assemblies/{run.guid}/revisions", headers=run.headers).json()["items"]
    tokens = http.get("/api/tokens", headers=run.headers).json()["items"]
    # what was stored, not when it reached the disk (a flush may run meanwhile)
    return (
        sorted((a["assembly_guid"], a["revision"], a["summary"], a["version"]) for a in listed),
        [r["revision"] for r in history],
        sorted(t["id"] for t in tokens),
    )


@pytest.mark.parametrize(("integer", "value"), CASES)
def test_integer_outside_its_range_is_a_clear_refusal(
    running_engine: Running, integer: Integer, value: str
) -> None:
    run = running_engine
    path = integer.path.replace("{guid}", run.guid)
    headers = dict(run.headers)
    content: bytes | None = None
    if integer.where == "query":
        path = f"{path}?{integer.name}={value}"
    elif integer.where == "path":
        path = path.replace("{value}", value)
    else:
        content = integer.body.replace("{value}", value).encode()
        headers["Content-Type"] = "application/json"
    before = _state(run)
    answer = run.engine.http.request(integer.method, path, headers=headers, content=content)
    assert answer.status_code == 422, (answer.status_code, answer.text[:400])
    body = answer.json()
    assert body["error"] == "invalid_document", body
    assert integer.name in body["message"], body
    assert "Traceback" not in body["message"], body
    assert _state(run) == before


@pytest.mark.parametrize("value", ["9" * 13, str(2**63), str(2**64)])
def test_if_match_beyond_int64_is_400(running_engine: Running, value: str) -> None:
    run = running_engine
    before = _state(run)
    answer = run.engine.http.put(
        f"/api/assemblies/{run.guid}",
        headers={**run.headers, "If-Match": f'"{value}"'},
        json={"summary": "x"},
    )
    assert answer.status_code == 400 and "If-Match" in answer.json()["message"], answer.text
    assert _state(run) == before


def test_largest_int64_values_are_stored_exactly(running_engine: Running) -> None:
    """The bounds themselves are accepted and come back as sent (no overflow at the edge)."""
    run = running_engine
    body = {**_SCRIPT, "display_name": "int64 edge", "version": INT64_MAX, "metadata": {"low": -(2**63)}}
    created = run.engine.http.post("/api/assemblies", headers=run.headers, json=body)
    assert created.status_code == 201, created.text
    detail = run.engine.http.get(f"/api/assemblies/{created.json()['assembly_guid']}", headers=run.headers)
    assert detail.json()["version"] == INT64_MAX and detail.json()["metadata"] == {"low": -(2**63)}


@pytest.mark.parametrize("days", [0, 36_501, 2**63])
def test_token_lifetime_setting_outside_its_range_stops_the_start(tmp_path: Path, days: int) -> None:
    with pytest.raises(ValueError, match="ENGINE_TOKEN_MAX_DAYS: expected 1 to 36500 days"):
        temp_settings(tmp_path, token_max_days=days)
