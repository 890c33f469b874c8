"""The write fast lane (api/write_lane.py) answers ``POST /api/assemblies`` exactly as the
route through FastAPI does: the same cases go to an engine with the fast lanes and to one
without them (the app built with api/fast_lane.py's middleware left out), on both
backends, and every answer's status, error code and message, every audit entry the
request left and what it changed in the cache must be the same.

The cases cover every caller kind (anonymous, operator, admin with and without Dev Mode,
an expired Dev Mode, a disabled user, API tokens with and without ``assemblies:write``, a
malformed or unknown ``Authorization`` header, the session cookie with and without its
CSRF header and from another origin) and every kind of bad body (not JSON, no or a wrong
``Content-Type``, empty, ``null``, the wrong shape, unknown or badly typed fields, values
JSON cannot store, too large, too many values).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest

from assembly_engine.api import app as app_module
from tests.api.support import (
    ADMIN,
    ADMIN_DEV,
    ADMIN_EXPIRED,
    ANONYMOUS,
    BACKENDS,
    DISABLED,
    OPERATOR,
    OPERATOR_NAME,
    OPERATOR_PASSWORD,
    ApiEngine,
    NoFastLane,
    bearer,
    create_body,
    settings_on,
    snapshot,
    start_engine,
)

IMPORT_MAX_BYTES = 256 * 1024  # small, so an oversized body is cheap to send


@dataclass
class Side:
    """One engine and the credentials made on it that the module's callers lack."""

    api: ApiEngine
    write_token: str
    read_token: str
    cookie_session: str
    cookie_csrf: str


def _side(api: ApiEngine) -> Side:
    def token(scopes: list[str]) -> str:
        made = api.request(
            OPERATOR, "POST", "/api/tokens", json={"name": "lane", "scopes": scopes, "expires_in_days": 1}
        )
        assert made.status_code == 201, made.text
        return str(made.json()["token"])

    api.client.cookies.clear()
    login = api.client.post(
        "/api/auth/login", json={"username": OPERATOR_NAME, "password": OPERATOR_PASSWORD}
    )
    assert login.status_code == 200, login.text
    session, csrf = api.client.cookies["ae_session"], api.client.cookies["ae_csrf"]
    api.client.cookies.clear()
    return Side(
        api, token(["assemblies:read", "assemblies:write"]), token(["assemblies:read"]), session, csrf
    )


@pytest.fixture(scope="module", params=BACKENDS)
def sides(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Side, Side]]:
    """(with the fast lanes, without them) on the same backend."""
    with (
        settings_on(
            request.param, request, tmp_path_factory.mktemp("lane"), import_max_bytes=IMPORT_MAX_BYTES
        ) as one,
        settings_on(
            request.param, request, tmp_path_factory.mktemp("plain"), import_max_bytes=IMPORT_MAX_BYTES
        ) as two,
    ):
        with_lane = start_engine(one)
        fast = next(with_lane)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(app_module, "FastLane", NoFastLane)
            without_lane = start_engine(two)
            plain = next(without_lane)
        try:
            yield _side(fast), _side(plain)
        finally:
            for engine in (with_lane, without_lane):
                engine.close()


JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Case:
    caller: str
    body: Callable[[], bytes | None]
    headers: dict[str, str]


def _json(value: Any) -> Callable[[], bytes]:
    return lambda: orjson.dumps(value() if callable(value) else value)


def _raw(data: bytes | None) -> Callable[[], bytes | None]:
    return lambda: data


def _user() -> dict[str, Any]:
    return create_body("user")


def _with(**changes: Any) -> Callable[[], dict[str, Any]]:
    return lambda: {**create_body("user"), **changes}


def _without(field: str) -> Callable[[], dict[str, Any]]:
    return lambda: {k: v for k, v in create_body("user").items() if k != field}


CALLERS = (ANONYMOUS, OPERATOR, ADMIN, ADMIN_DEV, ADMIN_EXPIRED, DISABLED)
CASES: dict[str, Case] = {
    **{f"{caller}-user": Case(caller, _json(_user), JSON) for caller in CALLERS},
    **{
        f"{caller}-official": Case(caller, _json(lambda: create_body("official")), JSON) for caller in CALLERS
    },
    **{
        f"{caller}-community": Case(caller, _json(lambda: create_body("community")), JSON)
        for caller in (OPERATOR, ADMIN, ADMIN_DEV)
    },
    **{
        f"{caller}-{name}": Case(caller, _json(_user), JSON)
        for caller, name in (
            ("write_token", "user"),
            ("read_token", "user"),
            ("malformed_authorization", "user"),
            ("unknown_token", "user"),
            ("cookie_without_csrf", "user"),
            ("cookie_with_csrf", "user"),
            ("cookie_wrong_csrf", "user"),
            ("cookie_other_origin", "user"),
        )
    },
    "write_token-official": Case("write_token", _json(lambda: create_body("official")), JSON),
    "read_token-malformed-json": Case("read_token", _raw(b'{"domain": '), JSON),
    "malformed-json": Case(OPERATOR, _raw(b'{"domain": "user",'), JSON),
    "not-utf8": Case(OPERATOR, _raw(b'{"display_name": "\xff\xfe"}'), JSON),
    "deeply-nested": Case(OPERATOR, _raw(b"[" * 5000 + b"]" * 5000), JSON),
    "empty-body": Case(OPERATOR, _raw(b""), JSON),
    "no-body-no-type": Case(OPERATOR, _raw(None), {}),
    "json-null": Case(OPERATOR, _raw(b"null"), JSON),
    "json-array": Case(OPERATOR, _json([_user()]), JSON),
    "json-string": Case(OPERATOR, _raw(b'"a script"'), JSON),
    "text-plain": Case(OPERATOR, _json(_user), {"Content-Type": "text/plain"}),
    "no-content-type": Case(OPERATOR, _json(_user), {}),
    "text-json": Case(OPERATOR, _json(_user), {"Content-Type": "text/json"}),
    "json-suffix-type": Case(OPERATOR, _json(_user), {"Content-Type": "application/vnd.engine+json"}),
    "json-with-charset": Case(OPERATOR, _json(_user), {"Content-Type": "application/json; charset=utf-8"}),
    "missing-name": Case(OPERATOR, _json(_without("display_name")), JSON),
    "missing-payload": Case(OPERATOR, _json(_without("payload")), JSON),
    "unknown-field": Case(OPERATOR, _json(_with(colour="red")), JSON),
    "tags-not-a-list": Case(OPERATOR, _json(_with(tags="red")), JSON),
    "unknown-type": Case(OPERATOR, _json(_with(assembly_type="cobol")), JSON),
    "unknown-kind": Case(OPERATOR, _json(_with(assembly_kind="spell")), JSON),
    "unknown-domain": Case(OPERATOR, _json(_with(domain="elsewhere")), JSON),
    "blank-name": Case(OPERATOR, _json(_with(display_name="   ")), JSON),
    "payload-without-script": Case(OPERATOR, _json(_with(payload={})), JSON),
    "nan-in-metadata": Case(
        OPERATOR,
        lambda: orjson.dumps(create_body("user")).replace(b'"payload"', b'"metadata": {"x": NaN}, "payload"'),
        JSON,
    ),
    "oversized": Case(OPERATOR, _json(_with(payload={"script": "x" * (IMPORT_MAX_BYTES + 10)})), JSON),
    "too-many-values": Case(OPERATOR, _raw(b"[" + b"0," * 500_001 + b"0]"), JSON),
}


def _send(side: Side, case: Case) -> tuple[int, dict[str, Any]]:
    api = side.api
    client = api.client
    client.cookies.clear()
    headers = dict(case.headers)
    caller = case.caller
    if caller == "write_token":
        headers.update(bearer(side.write_token))
    elif caller == "read_token":
        headers.update(bearer(side.read_token))
    elif caller == "malformed_authorization":
        headers["Authorization"] = "Basic b3BlcmF0b3I6cGFzcw=="
    elif caller == "unknown_token":
        headers.update(bearer("not-a-token-the-engine-gave"))
    elif caller.startswith("cookie_"):
        client.cookies.set("ae_session", side.cookie_session)
        client.cookies.set("ae_csrf", side.cookie_csrf)
        if caller in {"cookie_with_csrf", "cookie_other_origin"}:
            headers["X-CSRF-Token"] = side.cookie_csrf
        if caller == "cookie_wrong_csrf":
            headers["X-CSRF-Token"] = "0" * 64
        if caller == "cookie_other_origin":
            headers["Origin"] = "https://elsewhere.example"
    else:
        headers.update(api.headers(caller))
    body = case.body()
    try:
        response = client.request("POST", "/api/assemblies", content=body, headers=headers)
    finally:
        client.cookies.clear()
    answer = response.json()
    assert isinstance(answer, dict)
    return response.status_code, answer


def _audit_tail(api: ApiEngine, since: int) -> list[tuple[str, str, str | None]]:
    return [(e["action"], e["outcome"], e.get("user")) for e in api.audit_entries()[since:]]


@pytest.mark.parametrize("name", list(CASES))
def test_the_fast_lane_answers_as_the_route_does(sides: tuple[Side, Side], name: str) -> None:
    case = CASES[name]
    answers = []
    for side in sides:
        audit_before = len(side.api.audit_entries())
        cached_before = len(snapshot(side.api.services).cache)
        status, answer = _send(side, case)
        cached = len(snapshot(side.api.services).cache) - cached_before
        answers.append((status, _comparable(status, answer), _audit_tail(side.api, audit_before), cached))
    fast, plain = answers
    assert fast == plain
    assert fast[0] != 500


def _comparable(status: int, answer: dict[str, Any]) -> Any:
    """A refusal compares whole; a created assembly by its fields (ids and times differ)."""
    if status >= 400:
        return answer
    return sorted(answer)


def test_one_side_has_the_fast_lanes_and_the_other_not(sides: tuple[Side, Side]) -> None:
    fast, plain = ({m.cls for m in side.api.client.app.user_middleware} for side in sides)  # type: ignore[attr-defined]
    assert app_module.FastLane in fast and app_module.FastLane not in plain


def test_the_cases_cover_every_refusal_and_a_success(sides: tuple[Side, Side]) -> None:
    statuses = {
        _send(sides[0], CASES[name])[0] for name in ("operator-user", "anonymous-user", "malformed-json")
    }
    assert statuses == {201, 401, 400}
