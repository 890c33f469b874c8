"""Bulk actions (Docs/assemblies.md §7, "Bulk actions"): one request, one result per item,
each item judged as its single-item route judges it, on both backends.

Every caller kind × domain × action is a cell: the item is ``done`` or refused with the code
its own route answers, and a refused item never stops the others in the same request.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from typing import Any

import httpx
import pytest

from assembly_engine import input_limits as limits
from tests.api.support import (
    ADMIN,
    ADMIN_DEV,
    ADMIN_EXPIRED,
    ANONYMOUS,
    BACKENDS,
    DISABLED,
    OPERATOR,
    ApiEngine,
    assert_unchanged,
    plant_assembly,
    snapshot,
)

API_BACKENDS = BACKENDS

ACTIONS: dict[str, dict[str, Any]] = {
    "delete": {},
    "undelete": {},
    "set_category": {"category": "Bulk/Moved"},
    "add_tags": {"tags": ["bulk", "nightly"]},
    "remove_tags": {"tags": ["old"]},
    "clone": {},  # target_domain: the cell's domain
}
# Who may write a domain (Docs/assemblies.md §8): everyone signed in writes user;
# official and community need admin + Dev Mode.
REFUSAL = {
    OPERATOR: "forbidden",
    ADMIN: "dev_mode_required",
    ADMIN_EXPIRED: "dev_mode_required",
    ADMIN_DEV: None,
}


def _bulk(api: ApiEngine, caller: str, body: dict[str, Any]) -> httpx.Response:
    return api.request(caller, "POST", "/api/assemblies/bulk", json=body)


def _planted(api: ApiEngine, domain: str, action: str) -> str:
    """An assembly the action can act on: in ``domain`` (for a clone: a user one cloned
    into ``domain``), deleted already for an undelete, tagged ``old`` for remove_tags."""
    guid = plant_assembly(api.services, "user" if action == "clone" else domain)
    if action == "remove_tags":
        tagged = _bulk(
            api, ADMIN_DEV, {"action": "add_tags", "tags": ["old"], "items": [{"assembly_guid": guid}]}
        )
        assert tagged.json()["done"] == 1, tagged.text
    if action == "undelete":
        gone = _bulk(api, ADMIN_DEV, {"action": "delete", "items": [{"assembly_guid": guid}]})
        assert gone.json()["done"] == 1, gone.text
    return guid


def _cell_body(action: str, domain: str, guids: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "action": action,
        "items": [{"assembly_guid": g} for g in guids],
        **ACTIONS[action],
    }
    if action == "clone":
        body["target_domain"] = domain
    return body


def _check_done(api: ApiEngine, action: str, domain: str, guid: str, result: dict[str, Any]) -> None:
    cache = api.services.assemblies.cache
    record = result.get("record")
    if action == "delete":
        assert cache.get(guid) is None and record is None
        return
    assert record is not None
    if action == "clone":
        assert record["assembly_guid"] != guid and record["source"] == domain
        assert cache.get(record["assembly_guid"]) is not None
        return
    assert record["assembly_guid"] == guid and record["source"] == domain
    current = cache.get(guid)
    assert current is not None
    if action == "set_category":
        assert current.record.category == "Bulk/Moved"
    elif action == "add_tags":
        assert current.record.tags == ["bulk", "nightly"]
    elif action == "remove_tags":
        assert current.record.tags == []


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("caller", [OPERATOR, ADMIN, ADMIN_EXPIRED, ADMIN_DEV])
@pytest.mark.parametrize("domain", ["user", "community", "official"])
def test_matrix(api: ApiEngine, action: str, caller: str, domain: str) -> None:
    guid = _planted(api, domain, action)
    response = _bulk(api, caller, _cell_body(action, domain, [guid]))
    assert response.status_code == 200, response.text
    answer = response.json()
    [result] = answer["results"]
    assert result["assembly_guid"] == guid
    refusal = None if domain == "user" else REFUSAL[caller]
    if refusal is None:
        assert result["status"] == "done", result
        assert (answer["done"], answer["refused"]) == (1, 0)
        _check_done(api, action, domain, guid, result)
    else:
        assert result["status"] == "refused" and result["code"] == refusal, result
        assert "Dev Mode" in result["message"] or "User-Created" in result["message"], result
        assert (answer["done"], answer["refused"]) == (0, 1)


def test_mixed_items_each_get_their_own_result(api: ApiEngine) -> None:
    mine = [plant_assembly(api.services, "user") for _ in range(3)]
    official = plant_assembly(api.services, "official")
    unknown = "0" * 32
    stale = plant_assembly(api.services, "user")
    items = [{"assembly_guid": g} for g in (mine[0], official, mine[1], unknown, mine[2])]
    items.append({"assembly_guid": stale, "expected_revision": 7})
    before = len(api.audit_entries())
    response = _bulk(api, OPERATOR, {"action": "delete", "items": items})
    assert response.status_code == 200, response.text
    answer = response.json()
    by_guid = {r["assembly_guid"]: r for r in answer["results"]}
    assert [r["assembly_guid"] for r in answer["results"]] == [i["assembly_guid"] for i in items]
    assert all(by_guid[g]["status"] == "done" for g in mine)
    assert by_guid[official]["code"] == "forbidden"
    assert by_guid[unknown]["code"] == "not_found"
    assert by_guid[stale]["code"] == "conflict"
    assert (answer["done"], answer["refused"]) == (3, 3)
    cache = api.services.assemblies.cache
    assert all(cache.get(g) is None for g in mine)
    assert cache.get(official) is not None and cache.get(stale) is not None
    # One audit entry per item, as the single-item route writes it.
    entries = [e for e in api.audit_entries()[before:] if e["action"] == "assembly.delete"]
    outcomes = {(e["assembly_guid"], e["outcome"]) for e in entries}
    assert {(g, "success") for g in mine} <= outcomes
    assert (official, "denied") in outcomes


def test_bulk_delete_then_undelete_brings_all_back(api: ApiEngine) -> None:
    guids = [plant_assembly(api.services, "user") for _ in range(5)]
    items = [{"assembly_guid": g} for g in guids]
    assert _bulk(api, OPERATOR, {"action": "delete", "items": items}).json()["done"] == 5
    back = _bulk(api, OPERATOR, {"action": "undelete", "items": items}).json()
    assert back["done"] == 5, back
    assert all(api.services.assemblies.cache.get(g) is not None for g in guids)
    again = _bulk(api, OPERATOR, {"action": "undelete", "items": items}).json()
    assert again["refused"] == 5 and {r["code"] for r in again["results"]} == {"conflict"}


def test_tags_are_added_once_and_removed_keeping_the_others(api: ApiEngine) -> None:
    guid = plant_assembly(api.services, "user")
    item = [{"assembly_guid": guid}]
    _bulk(api, OPERATOR, {"action": "add_tags", "tags": ["a", "b"], "items": item})
    _bulk(api, OPERATOR, {"action": "add_tags", "tags": ["b", "c"], "items": item})
    current = api.services.assemblies.cache.get(guid)
    assert current is not None and current.record.tags == ["a", "b", "c"]
    _bulk(api, OPERATOR, {"action": "remove_tags", "tags": ["b", "zz"], "items": item})
    current = api.services.assemblies.cache.get(guid)
    assert current is not None and current.record.tags == ["a", "c"]


def test_adding_past_the_tag_limit_refuses_that_item_only(api: ApiEngine) -> None:
    full, empty = plant_assembly(api.services, "user"), plant_assembly(api.services, "user")
    many = [f"t{n}" for n in range(limits.TAGS_PER_ASSEMBLY)]
    _bulk(api, OPERATOR, {"action": "add_tags", "tags": many, "items": [{"assembly_guid": full}]})
    answer = _bulk(
        api,
        OPERATOR,
        {"action": "add_tags", "tags": ["one-more"], "items": [{"assembly_guid": g} for g in (full, empty)]},
    ).json()
    first, second = answer["results"]
    assert first["status"] == "refused" and first["code"] == "invalid_document"
    assert str(limits.TAGS_PER_ASSEMBLY) in first["message"]
    assert second["status"] == "done"


def _guids(count: int) -> list[dict[str, str]]:
    return [{"assembly_guid": f"{n:032x}"} for n in range(count)]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"action": "delete", "items": []}, "items"),
        ({"action": "delete", "items": _guids(limits.BULK_ITEMS + 1)}, f"{limits.BULK_ITEMS:,}"),
        ({"action": "delete", "items": [{"assembly_guid": "a" * 32}] * 2}, "more than once"),
        ({"action": "delete", "items": [{"assembly_guid": "not-an-id"}]}, "assembly_guid"),
        ({"action": "explode", "items": _guids(1)}, "action"),
        ({"action": "set_category", "items": _guids(1)}, "needs category"),
        ({"action": "add_tags", "items": _guids(1)}, "needs tags"),
        ({"action": "clone", "items": _guids(1)}, "needs target_domain"),
        ({"action": "delete", "tags": ["x"], "items": _guids(1)}, "takes no tags"),
        ({"action": "add_tags", "tags": [""], "items": _guids(1)}, "tags"),
        (
            {"action": "delete", "items": [{"assembly_guid": "a" * 32, "expected_revision": "3"}]},
            "expected_revision",
        ),
        ({"action": "delete", "items": _guids(1), "surprise": 1}, "surprise"),
    ],
)
def test_malformed_requests_are_refused_and_change_nothing(
    api: ApiEngine, body: dict[str, Any], says: str
) -> None:
    before = snapshot(api.services)
    response = _bulk(api, ADMIN_DEV, body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_document"
    assert says in response.json()["message"]
    assert_unchanged(before, snapshot(api.services))


def test_not_json_and_anonymous_are_refused(api: ApiEngine) -> None:
    response = api.request(
        OPERATOR, "POST", "/api/assemblies/bulk", headers={"Content-Type": "application/json"}, json=None
    )
    assert response.status_code in (400, 422), response.text
    api.client.cookies.clear()
    broken = api.client.post(
        "/api/assemblies/bulk",
        content=b"{nope",
        headers={**api.headers(OPERATOR), "Content-Type": "application/json"},
    )
    assert broken.status_code == 400 and broken.json()["error"] == "invalid_request"
    for caller in (ANONYMOUS, DISABLED):
        refused = _bulk(api, caller, {"action": "delete", "items": _guids(1)})
        assert refused.status_code == 401, (caller, refused.text)
    export = api.request(ANONYMOUS, "POST", "/api/assemblies/bulk/export", json={"items": _guids(1)})
    assert export.status_code == 401


# -- export ------------------------------------------------------------------------------


def _zip(response: httpx.Response) -> dict[str, bytes]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_export_is_the_library_folder_layout_of_sync_write(api: ApiEngine) -> None:
    guids = [plant_assembly(api.services, domain) for domain in ("user", "official", "community")]
    tagged = _bulk(
        api, OPERATOR, {"action": "add_tags", "tags": ["zip"], "items": [{"assembly_guid": guids[0]}]}
    )
    assert tagged.json()["done"] == 1
    unknown = "f" * 32
    response = api.request(
        OPERATOR,
        "POST",
        "/api/assemblies/bulk/export",
        json={"items": [{"assembly_guid": g} for g in [*guids, unknown]]},
    )
    files = _zip(response)
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        # Written without seeking back (sizes after each file's data): made as it was sent.
        assert all(info.flag_bits & 0x08 for info in archive.infolist())
    assert response.headers["x-assemblies-exported"] == "3"
    assert response.headers["x-assemblies-left-out"] == "1"
    assert json.loads(response.headers["x-assemblies-left-out-items"])[0]["assembly_guid"] == unknown
    report = json.loads(files.pop(".assembly-export.json"))
    assert [e["assembly_guid"] for e in report["exported"]] == guids
    assert (
        report["left_out"][0]["assembly_guid"] == unknown and "no assembly" in report["left_out"][0]["reason"]
    )
    # The same files, byte for byte, that `sync write` writes for these assemblies.
    expected: dict[str, bytes] = {}
    for domain in ("user", "official", "community"):
        rendered = api.request(
            OPERATOR, "POST", "/api/sync/render", json={"domain": domain, "format": "library"}
        )
        assert rendered.status_code == 200, rendered.text
        for item in rendered.json()["items"]:
            if item["path"] in {e["path"] for e in report["exported"]}:
                expected[item["path"]] = base64.b64decode(item["content"])
                if item.get("sidecar"):
                    expected[item["path"] + ".assembly.json"] = (
                        json.dumps(item["sidecar"], sort_keys=True, indent=2, ensure_ascii=False) + "\n"
                    ).encode("utf-8")
    assert files == expected
    sidecar = json.loads(files[report["exported"][0]["path"] + ".assembly.json"])
    assert sidecar["assembly_guid"] == guids[0] and sidecar["tags"] == ["zip"]


def test_export_of_two_with_the_same_path_leaves_the_second_out(api: ApiEngine) -> None:
    first = plant_assembly(api.services, "user", "Same name")
    second = plant_assembly(api.services, "user", "Same name")
    response = api.request(
        OPERATOR,
        "POST",
        "/api/assemblies/bulk/export",
        json={"items": [{"assembly_guid": first}, {"assembly_guid": second}]},
    )
    files = _zip(response)
    report = json.loads(files[".assembly-export.json"])
    assert [e["assembly_guid"] for e in report["exported"]] == [first]
    assert report["left_out"][0]["assembly_guid"] == second and "taken" in report["left_out"][0]["reason"]


def test_export_refuses_more_than_the_limit(api: ApiEngine) -> None:
    response = api.request(
        OPERATOR, "POST", "/api/assemblies/bulk/export", json={"items": _guids(limits.BULK_ITEMS + 1)}
    )
    assert response.status_code == 422 and f"{limits.BULK_ITEMS:,}" in response.json()["message"]
