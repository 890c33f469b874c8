"""Kept sync plans (services/assemblies/plan_cache.py, api/sync_plan_lane.py): the same
request body planned again is answered from the kept plan only while its domain is
unchanged; a change on either side shows, ``plan_id`` still refuses, every caller is checked
as for a new plan, and bad bodies get the route's clear 4xx and are never kept. On both
backends (a cluster node keeps its own plans, checked against its own cache)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from assembly_engine.api import app as app_module
from assembly_engine.domain.types import Domain
from assembly_engine.services.assemblies.plan_cache import KeptPlan, PlanCache
from tests.api.support import (
    ADMIN,
    ADMIN_DEV,
    ANONYMOUS,
    BACKENDS,
    DISABLED,
    OPERATOR,
    ApiEngine,
    NoFastLane,
    bearer,
    create_body,
    settings_on,
    start_engine,
    unique_name,
)

API_BACKENDS = BACKENDS
JSON = {"Content-Type": "application/json"}

FILES = {
    "Windows/a.ps1": b"Write-Host a\r\n",
    "Windows/b.ps1": b"Write-Host b\r\n",
    "Linux/c.sh": b"#!/bin/bash\necho c\n",
}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _body(source: str, files: dict[str, bytes], *, digests: bool, domain: str = "user") -> dict[str, Any]:
    items = [
        {"path": p, "sha256": hashlib.sha256(d).hexdigest()} if digests else {"path": p, "content": _b64(d)}
        for p, d in sorted(files.items())
    ]
    return {"source": source, "domain": domain, "items": items}


def _post(api: ApiEngine, caller: str, path: str, raw: bytes, headers: dict[str, str] | None = None) -> Any:
    api.client.cookies.clear()
    return api.client.post(path, content=raw, headers={**api.headers(caller), **(headers or JSON)})


def _plan(api: ApiEngine, raw: bytes, caller: str = ADMIN) -> dict[str, Any]:
    answer = _post(api, caller, "/api/sync/plan", raw)
    assert answer.status_code == 200, answer.text
    plan: dict[str, Any] = answer.json()
    return plan


def _by_path(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["path"]: i for i in plan["items"]}


def _synced(api: ApiEngine) -> tuple[str, bytes]:
    """A library applied to the user domain: (its source name, a digest plan body's bytes)."""
    source = unique_name("kept-plans")
    applied = _post(api, ADMIN, "/api/sync/apply", orjson.dumps(_body(source, FILES, digests=False)))
    assert applied.status_code == 200 and applied.json()["done"] == len(FILES), applied.text
    return source, orjson.dumps(_body(source, FILES, digests=True))


def _kept(api: ApiEngine, raw: bytes) -> KeptPlan | None:
    return api.services.assemblies.library_sync.plans.get(hashlib.sha256(raw).hexdigest())


def test_an_unchanged_library_planned_again_gets_the_same_answer_from_the_kept_plan(
    api: ApiEngine,
) -> None:
    _, raw = _synced(api)
    first = _post(api, ADMIN, "/api/sync/plan", raw)
    assert first.status_code == 200 and _kept(api, raw) is not None
    again = _post(api, OPERATOR, "/api/sync/plan", raw)
    assert again.status_code == 200 and again.content == first.content
    assert again.headers["content-type"] == "application/json"
    assert again.json()["counts"]["unchanged"] == len(FILES)
    # A change in another domain leaves the plan as it was.
    other = api.request(ADMIN_DEV, "POST", "/api/assemblies", json=create_body("community"))
    assert other.status_code == 201, other.text
    assert _post(api, ADMIN, "/api/sync/plan", raw).content == first.content


def test_an_engine_change_after_a_kept_plan_shows(api: ApiEngine) -> None:
    _, raw = _synced(api)
    kept = _plan(api, raw)
    guids = {p: i["assembly_guid"] for p, i in _by_path(kept).items()}
    edited = api.request(
        ADMIN,
        "PUT",
        f"/api/assemblies/{guids['Windows/a.ps1']}",
        json={"payload": {"script": "Write-Host e\r\n"}},
    )
    assert edited.status_code == 200, edited.text
    after_edit = _plan(api, raw)
    item = _by_path(after_edit)["Windows/a.ps1"]
    assert item["action"] == "unchanged" and "changed in the engine" in item["reason"]
    assert after_edit["plan_id"] != kept["plan_id"]
    # Reading the engine's content decided that item: such a plan is not kept.
    assert _kept(api, raw) is None

    deleted = api.request(ADMIN, "DELETE", f"/api/assemblies/{guids['Linux/c.sh']}")
    assert deleted.status_code == 202, deleted.text
    after_delete = _by_path(_plan(api, raw))
    assert after_delete["Linux/c.sh"]["action"] == "create"
    assert after_delete["Linux/c.sh"]["assembly_guid"] is None


def test_a_source_change_after_a_kept_plan_shows(api: ApiEngine) -> None:
    source, raw = _synced(api)
    _plan(api, raw)
    changed = orjson.dumps(_body(source, {**FILES, "Linux/c.sh": b"#!/bin/bash\necho new\n"}, digests=True))
    assert _by_path(_plan(api, changed))["Linux/c.sh"]["action"] == "update"
    gone = orjson.dumps(_body(source, {p: d for p, d in FILES.items() if p != "Windows/b.ps1"}, digests=True))
    assert _by_path(_plan(api, gone))["Windows/b.ps1"]["action"] == "archive"


def test_plan_id_refuses_after_a_kept_plan_when_the_domain_moved(api: ApiEngine) -> None:
    source, raw = _synced(api)
    kept = _plan(api, raw)
    assert _plan(api, raw) == kept
    guid = _by_path(kept)["Windows/b.ps1"]["assembly_guid"]
    edited = api.request(
        ADMIN, "PUT", f"/api/assemblies/{guid}", json={"payload": {"script": "Write-Host x\r\n"}}
    )
    assert edited.status_code == 200, edited.text
    body = {**_body(source, FILES, digests=False), "plan_id": kept["plan_id"]}
    refused = _post(api, ADMIN, "/api/sync/apply", orjson.dumps(body))
    assert refused.status_code == 409 and refused.json()["error"] == "plan_changed", refused.text
    fresh = _plan(api, raw)
    assert fresh["plan_id"] != kept["plan_id"]
    body["plan_id"] = fresh["plan_id"]
    assert _post(api, ADMIN, "/api/sync/apply", orjson.dumps(body)).status_code == 200


@pytest.mark.parametrize("caller", [ANONYMOUS, OPERATOR, DISABLED, "unknown_token", "malformed"])
def test_a_kept_plan_checks_the_caller_as_a_new_plan_does(api: ApiEngine, caller: str) -> None:
    _, raw = _synced(api)
    _plan(api, raw)
    assert _kept(api, raw) is not None
    headers = dict(JSON)
    who = caller
    if caller == "unknown_token":
        headers.update(bearer("not-a-token-the-engine-gave"))
        who = ANONYMOUS
    elif caller == "malformed":
        headers["Authorization"] = "Basic b3BlcmF0b3I6cGFzcw=="
        who = ANONYMOUS
    kept = _post(api, who, "/api/sync/plan", raw, headers)
    # The same JSON with a space after it is another body: planned anew, never from the kept plan.
    fresh = _post(api, who, "/api/sync/plan", raw + b" ", headers)
    assert kept.status_code == fresh.status_code and kept.status_code != 500
    if kept.status_code == 200:
        assert kept.json() == fresh.json()
    else:
        assert kept.json() == fresh.json() and set(kept.json()) == {"error", "message"}


BAD_BODIES: dict[str, tuple[bytes, dict[str, str], int]] = {
    "malformed-json": (b'{"source": "x",', JSON, 400),
    "empty": (b"", JSON, 422),
    "not-json-type": (orjson.dumps({"source": "x"}), {"Content-Type": "text/plain"}, 415),
    "json-null": (b"null", JSON, 422),
    "unknown-field": (orjson.dumps({"source": "x", "colour": "red"}), JSON, 422),
    "unknown-domain": (orjson.dumps({"source": "x", "domain": "elsewhere"}), JSON, 422),
    "bad-sha256": (orjson.dumps({"source": "x", "items": [{"path": "a.ps1", "sha256": "abc"}]}), JSON, 422),
    "content-and-sha256": (
        orjson.dumps({"source": "x", "items": [{"path": "a.ps1", "content": "YQ==", "sha256": "0" * 64}]}),
        JSON,
        422,
    ),
    "not-base64": (orjson.dumps({"source": "x", "items": [{"path": "a.ps1", "content": "%%%"}]}), JSON, 422),
    "repeated-path": (
        orjson.dumps({"source": "x", "items": [{"path": "a.ps1", "sha256": "0" * 64}] * 2}),
        JSON,
        422,
    ),
    "nan-in-sidecar": (
        b'{"source": "x", "items": [{"path": "a.ps1", "sha256": "'
        + b"0" * 64
        + b'", "sidecar": {"x": NaN}}]}',
        JSON,
        400,
    ),
}


@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_bad_bodies_get_a_clear_refusal_every_time_and_are_never_kept(api: ApiEngine, name: str) -> None:
    raw, headers, status = BAD_BODIES[name]
    for _ in range(2):  # the second time, too: nothing was kept
        answer = _post(api, OPERATOR, "/api/sync/plan", raw, headers)
        assert answer.status_code == status, answer.text
        assert set(answer.json()) == {"error", "message"} and answer.json()["message"]
    assert _kept(api, raw) is None


@pytest.fixture(scope="module")
def without_lane(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiEngine]:
    """An engine whose requests all go through FastAPI's route (no api/fast_lane.py)."""
    with settings_on("sqlite", request, tmp_path_factory.mktemp("plain")) as settings:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(app_module, "FastLane", NoFastLane)
            engine = start_engine(settings)
            plain = next(engine)
        try:
            yield plain
        finally:
            engine.close()


@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_the_lane_refuses_as_the_route_does(api: ApiEngine, without_lane: ApiEngine, name: str) -> None:
    raw, headers, _ = BAD_BODIES[name]
    for caller in (OPERATOR, ANONYMOUS):
        lane, route = (_post(side, caller, "/api/sync/plan", raw, headers) for side in (api, without_lane))
        assert (lane.status_code, lane.json()) == (route.status_code, route.json())


def test_the_lane_plans_as_the_route_does(api: ApiEngine, without_lane: ApiEngine) -> None:
    for side in (api, without_lane):
        _post(side, ADMIN, "/api/sync/apply", orjson.dumps(_body("same", FILES, digests=False)))
    raw = orjson.dumps(_body("same", {**FILES, "new.ps1": b"Write-Host new"}, digests=True))
    planned = [_plan(side, raw) for side in (api, without_lane, api)]  # the last one from the kept plan
    shapes = [[(i["path"], i["action"], i["reason"]) for i in p["items"]] for p in planned]
    assert shapes[0] == shapes[1] == shapes[2] and planned[0] == planned[2]
    assert planned[0]["counts"] == planned[1]["counts"]


# -- the cache's bounds --------------------------------------------------------------------


def _kept_plan(size: int) -> KeptPlan:
    return KeptPlan(Domain.USER, "state", 0, b"x" * size)


def test_the_cache_keeps_the_recently_used_plans_within_its_bounds() -> None:
    cache = PlanCache(max_bytes=1000, max_plans=3)
    for key in "abc":
        cache.put(key, _kept_plan(100))
    assert cache.get("a") is not None  # used: now the newest
    cache.put("d", _kept_plan(100))
    assert "b" not in cache and {"a", "c", "d"} == {k for k in "abcd" if k in cache}
    cache.put("e", _kept_plan(250))
    cache.put("f", _kept_plan(250))
    cache.put("g", _kept_plan(240))
    assert cache.size[1] <= 1000 and cache.size[0] <= 3
    cache.put("huge", _kept_plan(251))  # over a quarter of the bytes: never kept
    assert "huge" not in cache
    cache.put("g", _kept_plan(10))  # kept again under the same key: counted once
    assert cache.size == (3, 510)
    cache.discard("g")
    assert "g" not in cache and cache.size == (2, 500)
