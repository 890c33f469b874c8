"""One operator's metadata must not become everyone's list (issue 23, finding 4).

Metadata is capped (input_limits.METADATA_BYTES), list items leave it out (the detail keeps
it), rendered list pages are kept per parsed query, not per query string, and the kept pages
share a byte budget.
"""

from __future__ import annotations

import time
from typing import Any

from assembly_engine import input_limits as limits
from assembly_engine.services.assemblies import listing as listing_module
from assembly_engine.services.assemblies.listing import GenerationCache, RenderedPage
from tests.api.support import OPERATOR, ApiEngine, assert_unchanged, create_body, snapshot, unique_name

OVER_LIMIT = "x" * (limits.METADATA_BYTES + 1)


def create(api: ApiEngine, **fields: Any) -> dict[str, Any]:
    response = api.request(OPERATOR, "POST", "/api/assemblies", json={**create_body("user"), **fields})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def refused(api: ApiEngine, method: str, url: str, body: Any) -> str:
    before = snapshot(api.services)
    response = api.request(OPERATOR, method, url, json=body)
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["error"] == "invalid_document"
    assert str(limits.METADATA_BYTES) in answer["message"], answer["message"]
    assert_unchanged(before, snapshot(api.services))
    message: str = answer["message"]
    return message


def test_metadata_over_the_limit_is_refused_on_create(api: ApiEngine) -> None:
    message = refused(
        api, "POST", "/api/assemblies", {**create_body("user"), "metadata": {"blob": OVER_LIMIT}}
    )
    assert "metadata" in message


def test_an_update_whose_merged_metadata_outgrows_the_limit_is_refused(api: ApiEngine) -> None:
    half = "h" * (limits.METADATA_BYTES // 2 + 10)
    created = create(api, metadata={"first": half})
    guid = created["assembly_guid"]
    # Each part is within the limit; merged with what is stored they are not.
    message = refused(api, "PUT", f"/api/assemblies/{guid}", {"metadata": {"second": half}})
    assert "after the update" in message
    detail = api.request(OPERATOR, "GET", f"/api/assemblies/{guid}").json()
    assert set(detail["metadata"]) == {"first"}


def test_an_imported_document_with_metadata_over_the_limit_is_refused(api: ApiEngine) -> None:
    document = {
        "display_name": unique_name("imported"),
        "assembly_kind": "script",
        "assembly_type": "powershell",
        "payload": {"script": "Write-Host 1\n"},
        "metadata": {"blob": OVER_LIMIT},
    }
    body = {"domain": "user", "document": document}
    refused(api, "POST", "/api/assemblies/import", body)


def test_list_items_leave_metadata_out_and_the_detail_keeps_it(api: ApiEngine) -> None:
    name = unique_name("metadata-kept")
    created = create(api, display_name=name, metadata={"note": "n" * 50_000, "timeout_seconds": 30})
    assert created["metadata"]["timeout_seconds"] == 30  # a write's answer keeps it
    listed = api.request(OPERATOR, "GET", f"/api/assemblies?q={name}")
    assert listed.status_code == 200
    [item] = listed.json()["items"]
    assert "metadata" not in item
    assert len(listed.content) < 5_000, "the list page must not carry the metadata"
    detail = api.request(OPERATOR, "GET", f"/api/assemblies/{created['assembly_guid']}").json()
    assert detail["metadata"]["note"] == "n" * 50_000
    deleted_page = api.request(OPERATOR, "GET", "/api/assemblies/deleted")
    assert deleted_page.status_code == 200, deleted_page.text
    assert all("metadata" not in item for item in deleted_page.json()["items"])


def _checks_settled(api: ApiEngine) -> None:
    """Wait until the script checks of what was saved have reported: each result changes
    the list's generation, and with it the page's tag."""
    deadline = time.monotonic() + 60
    checks = api.services.checks
    while any(
        checks.counts(item.record.payload.payload_guid) is None for item in api.services.storage.cache.items()
    ):
        assert time.monotonic() < deadline, "the script checks never reported"
        time.sleep(0.05)


def test_junk_query_strings_share_one_kept_page(api: ApiEngine) -> None:
    create(api)
    _checks_settled(api)
    pages = api.services.assemblies.listing._pages
    answers = [
        api.request(OPERATOR, "GET", f"/api/assemblies?limit=7&junk{i}={'j' * 2000}") for i in range(40)
    ]
    assert {a.status_code for a in answers} == {200}
    assert len({a.headers["etag"] for a in answers}) == 1
    reordered = api.request(OPERATOR, "GET", "/api/assemblies?order=asc&limit=7&sort=display_name")
    assert reordered.headers["etag"] == answers[0].headers["etag"]
    # Every kept page is one per distinct parsed query: the junk made none of its own.
    kept_queries = {key[0] for key, _ in pages._items.items()}
    assert sum(1 for q in kept_queries if q.limit == 7) == 1


def test_kept_pages_stay_within_their_byte_budget() -> None:
    budget = 1000
    cache = GenerationCache(size=64, max_bytes=budget)
    for i in range(50):
        cache.put(i, 1, RenderedPage("tag", b"p" * 100))
        assert cache.kept_bytes <= budget
    assert len(cache) == 10
    assert cache.get(49, 1) is not None and cache.get(0, 1) is None  # least recently used go first
    cache.put("large", 1, RenderedPage("tag", b"L" * (budget // 4 + 1)))
    assert cache.get("large", 1) is None  # larger than its share: rendered each time
    assert cache.kept_bytes <= budget
    assert listing_module.PAGE_CACHE_BYTES >= 1024 * 1024
