"""Version history through the API: revisions, a revision's record and export, restore,
the deleted view and undelete, retention, and how bad input is refused.

Policy of restore and undelete (role × domain) is in test_authorization_matrix.py; here
every reader kind is checked to see the history, and nothing else may change it.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from assembly_engine.domain.types import Domain
from assembly_engine.storage.contract.models import PAYLOAD_GUID_COLUMN
from tests.api.support import (
    ADMIN,
    ADMIN_DEV,
    ANONYMOUS,
    OPERATOR,
    ApiEngine,
    assert_unchanged,
    create_body,
    snapshot,
    start_engine,
    unique_name,
)
from tests.support import temp_settings, wait_until


def create(
    api: ApiEngine,
    caller: str = OPERATOR,
    domain: str = "user",
    script: str = "v1\n",
    name: str | None = None,
) -> dict[str, Any]:
    body = create_body(domain, name)
    body["payload"] = {"script": script}
    response = api.request(caller, "POST", "/api/assemblies", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def update(api: ApiEngine, guid: str, caller: str = OPERATOR, **changes: Any) -> dict[str, Any]:
    response = api.request(caller, "PUT", f"/api/assemblies/{guid}", json=changes)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def revisions(api: ApiEngine, guid: str, caller: str = OPERATOR, query: str = "") -> dict[str, Any]:
    response = api.request(caller, "GET", f"/api/assemblies/{guid}/revisions{query}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def flush(api: ApiEngine) -> None:
    response = api.request(ADMIN_DEV, "POST", "/api/assemblies/dev-mode/write", json={})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("flushed", [False, True], ids=["queued", "flushed"])
def test_every_revision_is_listed_newest_first_with_what_changed(api: ApiEngine, flushed: bool) -> None:
    created = create(api, script="one\n")
    guid = created["assembly_guid"]
    update(api, guid, display_name="Renamed")
    if flushed:
        flush(api)  # the first two are in the database now, the third is queued
    update(api, guid, payload={"script": "three\n"}, tags=["x"])
    body = revisions(api, guid)
    assert body["total"] == 3
    assert [i["revision"] for i in body["items"]] == [3, 2, 1]
    assert [i["action"] for i in body["items"]] == ["update", "update", "create"]
    assert body["items"][0]["changed_fields"] == ["tags", "payload"]
    assert body["items"][1]["changed_fields"] == ["display_name"]
    assert body["items"][2]["changed_fields"] == []
    assert [i["is_current"] for i in body["items"]] == [True, False, False]
    first = body["items"][2]
    assert set(first) >= {
        "revision",
        "action",
        "updated_at",
        "updated_by",
        "changed_fields",
        "payload_checksum",
        "payload_size_bytes",
    }
    assert first["updated_by"] == "operator-olga" and first["payload_size_bytes"] > 0
    assert body["items"][0]["payload_checksum"] != first["payload_checksum"]
    page = revisions(api, guid, query="?limit=1&offset=1")
    assert page["total"] == 3 and [i["revision"] for i in page["items"]] == [2]


def test_a_revision_is_served_as_it_was_and_exports_as_a_legacy_document(api: ApiEngine) -> None:
    guid = create(api, script="Write-Host 'old'\n", name="Old name")["assembly_guid"]
    update(api, guid, display_name="New name", payload={"script": "Write-Host 'new'\n"})
    flush(api)
    old = api.request(OPERATOR, "GET", f"/api/assemblies/{guid}/revisions/1")
    assert old.status_code == 200, old.text
    body = old.json()
    assert body["revision"] == 1 and body["display_name"] == "Old name"
    assert body["payload"]["script"] == "Write-Host 'old'\n" and body["action"] == "create"
    detail = api.request(OPERATOR, "GET", f"/api/assemblies/{guid}").json()
    assert set(detail) <= set(body)  # same shape as the detail answer (plus its action)
    current = api.request(OPERATOR, "GET", f"/api/assemblies/{guid}/revisions/2").json()
    assert current["payload"]["script"] == "Write-Host 'new'\n"
    exported = api.request(OPERATOR, "GET", f"/api/assemblies/{guid}/revisions/1/export")
    assert exported.status_code == 200, exported.text
    assert "attachment" in exported.headers["content-disposition"]
    document = exported.json()
    assert document["name"] == "Old name" and document["assembly_engine"]["revision"] == 1


@pytest.mark.parametrize("caller", [OPERATOR, ADMIN, ADMIN_DEV])
@pytest.mark.parametrize("domain", [d.value for d in Domain])
def test_everyone_who_can_read_an_assembly_can_read_its_history(
    api: ApiEngine, caller: str, domain: str
) -> None:
    guid = create(api, ADMIN_DEV, domain)["assembly_guid"]
    assert revisions(api, guid, caller)["total"] == 1
    one = api.request(caller, "GET", f"/api/assemblies/{guid}/revisions/1")
    assert one.status_code == 200, one.text
    assert api.request(caller, "GET", f"/api/assemblies/{guid}/revisions/1/export").status_code == 200


@pytest.mark.parametrize("path", ["/revisions", "/revisions/1", "/revisions/1/export"])
def test_history_needs_a_sign_in(api: ApiEngine, path: str) -> None:
    guid = create(api)["assembly_guid"]
    response = api.request(ANONYMOUS, "GET", f"/api/assemblies/{guid}{path}")
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"


def test_restore_makes_a_new_revision_and_never_rewrites_history(api: ApiEngine) -> None:
    guid = create(api, script="good\n", name="Good")["assembly_guid"]
    update(api, guid, display_name="Broken", payload={"script": "broken\n"})
    flush(api)
    response = api.request(
        OPERATOR, "POST", f"/api/assemblies/{guid}/revisions/1/restore", json={"expected_revision": 2}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["revision"] == 3 and body["display_name"] == "Good" and body["is_dirty"]
    detail = api.request(OPERATOR, "GET", f"/api/assemblies/{guid}").json()
    assert detail["payload"]["script"] == "good\n" and detail["updated_by"] == "operator-olga"
    items = revisions(api, guid)["items"]
    assert [(i["revision"], i["action"]) for i in items] == [(3, "restore"), (2, "update"), (1, "create")]
    assert items[0]["payload_checksum"] == items[2]["payload_checksum"]  # the same folder
    assert items[0]["changed_fields"] == ["display_name", "payload"]
    flush(api)
    assert [i["revision"] for i in revisions(api, guid)["items"]] == [3, 2, 1]
    entries = [
        e
        for e in api.audit_entries()
        if e.get("action") == "assembly.restore" and e.get("assembly_guid") == guid
    ]
    assert entries and entries[-1]["outcome"] == "success"
    assert "revision 1 restored as revision 3" in entries[-1]["detail"]


def test_a_stale_restore_is_a_conflict_and_changes_nothing(api: ApiEngine) -> None:
    guid = create(api)["assembly_guid"]
    update(api, guid, display_name="two")
    before = snapshot(api.services)
    for request in ({"json": {"expected_revision": 1}}, {"headers": {"If-Match": '"1"'}}):
        response = api.request(OPERATOR, "POST", f"/api/assemblies/{guid}/revisions/1/restore", **request)  # type: ignore[arg-type]
        assert response.status_code == 409, response.text
        assert response.json()["error"] == "conflict"
        assert "current revision is 2" in response.json()["message"]
    assert_unchanged(before, snapshot(api.services))


@pytest.mark.parametrize(
    ("path", "method", "status", "error"),
    [
        ("/revisions/9", "GET", 404, "not_found"),
        ("/revisions/9/export", "GET", 404, "not_found"),
        ("/revisions/9/restore", "POST", 404, "not_found"),
        ("/revisions/0", "GET", 422, "invalid_document"),
        ("/revisions/abc", "GET", 422, "invalid_document"),
        ("/revisions/-1/restore", "POST", 422, "invalid_document"),
        ("/revisions?limit=0", "GET", 422, "invalid_document"),
        ("/revisions?offset=-3", "GET", 422, "invalid_document"),
    ],
)
def test_bad_revision_requests_are_refused_clearly(
    api: ApiEngine, path: str, method: str, status: int, error: str
) -> None:
    guid = create(api)["assembly_guid"]
    before = snapshot(api.services)
    response = api.request(OPERATOR, method, f"/api/assemblies/{guid}{path}")
    assert response.status_code == status, response.text
    assert response.json()["error"] == error and response.json()["message"]
    assert_unchanged(before, snapshot(api.services))


def test_restore_body_is_validated(api: ApiEngine) -> None:
    guid = create(api)["assembly_guid"]
    before = snapshot(api.services)
    for body in ({"expected_revision": "two"}, {"expected_revision": 0}, {"unknown": 1}):
        response = api.request(OPERATOR, "POST", f"/api/assemblies/{guid}/revisions/1/restore", json=body)
        assert response.status_code == 422, response.text
    assert_unchanged(before, snapshot(api.services))


def test_unknown_assembly_has_no_history(api: ApiEngine) -> None:
    for path in ("/revisions", "/revisions/1", "/undelete"):
        method = "POST" if path == "/undelete" else "GET"
        response = api.request(OPERATOR, method, f"/api/assemblies/{'e' * 32}{path}")
        assert response.status_code == 404 and response.json()["error"] == "not_found"
    bad = api.request(OPERATOR, "GET", "/api/assemblies/not-an-id/revisions")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_request"


@pytest.mark.parametrize("flushed", [False, True], ids=["delete-queued", "delete-flushed"])
def test_deleted_assemblies_are_listed_keep_history_and_can_be_undeleted(
    api: ApiEngine, flushed: bool
) -> None:
    name = unique_name("doomed")
    guid = create(api, script="keep me\n", name=name)["assembly_guid"]
    update(api, guid, summary="second")
    assert api.request(OPERATOR, "DELETE", f"/api/assemblies/{guid}").status_code == 202
    if flushed:
        flush(api)
    listed = api.request(OPERATOR, "GET", f"/api/assemblies/deleted?q={name}")
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["total"] == 1
    [item] = body["items"]
    assert item["assembly_guid"] == guid and item["deleted_by"] == "operator-olga"
    assert item["deleted_at"] and item["revision"] == 2
    history = revisions(api, guid)
    assert history["deleted"] is True and history["deleted_by"] == "operator-olga"
    assert [i["revision"] for i in history["items"]] == [2, 1]
    old = api.request(OPERATOR, "GET", f"/api/assemblies/{guid}/revisions/1")
    assert old.status_code == 200 and old.json()["payload"]["script"] == "keep me\n"
    refused = api.request(OPERATOR, "POST", f"/api/assemblies/{guid}/revisions/1/restore")
    assert refused.status_code == 404 and "undelete it first" in refused.json()["message"]
    back = api.request(OPERATOR, "POST", f"/api/assemblies/{guid}/undelete")
    assert back.status_code == 200, back.text
    assert back.json()["revision"] == 3 and back.json()["summary"] == "second"
    assert api.request(OPERATOR, "GET", f"/api/assemblies/{guid}").json()["payload"]["script"] == "keep me\n"
    assert api.request(OPERATOR, "GET", f"/api/assemblies/deleted?q={name}").json()["total"] == 0
    again = api.request(OPERATOR, "POST", f"/api/assemblies/{guid}/undelete")
    assert again.status_code == 409 and again.json()["error"] == "conflict"
    flush(api)
    assert api.services.storage.databases[Domain.USER].deletion(guid) is None
    assert [(i["revision"], i["action"]) for i in revisions(api, guid)["items"]][0] == (3, "undelete")


def test_deleted_view_filters_sorts_and_pages_like_the_list(api: ApiEngine) -> None:
    tag = unique_name("trash")
    guids = []
    for domain in ("user", "community"):
        guid = create(api, ADMIN_DEV, domain, name=f"{tag} {domain}")["assembly_guid"]
        assert api.request(ADMIN_DEV, "DELETE", f"/api/assemblies/{guid}").status_code == 202
        guids.append(guid)
    flush(api)
    both = api.request(OPERATOR, "GET", f"/api/assemblies/deleted?q={tag}&sort=display_name").json()
    assert [i["source"] for i in both["items"]] == ["community", "user"]
    only = api.request(OPERATOR, "GET", f"/api/assemblies/deleted?q={tag}&domain=user").json()
    assert only["total"] == 1 and only["items"][0]["assembly_guid"] == guids[0]
    category = api.request(OPERATOR, "GET", f"/api/assemblies/deleted?q={tag}&category=nope").json()
    assert category["total"] == 0
    newest = api.request(
        OPERATOR, "GET", f"/api/assemblies/deleted?q={tag}&sort=deleted_at&order=desc&limit=1"
    ).json()
    assert newest["total"] == 2 and newest["items"][0]["assembly_guid"] == guids[1]
    for bad in ("sort=bogus", "limit=0", "domain=nowhere"):
        response = api.request(OPERATOR, "GET", f"/api/assemblies/deleted?{bad}")
        assert response.status_code == 422, response.text
    assert api.request(ANONYMOUS, "GET", "/api/assemblies/deleted").status_code == 401


def test_history_folders_survive_and_verify_checks_them(api: ApiEngine) -> None:
    guid = create(api, script="first\n")["assembly_guid"]
    update(api, guid, payload={"script": "second\n"})
    flush(api)
    first = api.request(ADMIN, "GET", f"/api/assemblies/{guid}/revisions/1").json()
    folder = api.settings.payloads_root / first["payload_guid"]
    assert folder.is_dir()  # superseded, but revision 1 keeps it
    report = api.request(ADMIN, "GET", "/api/admin/verify").json()
    assert first["payload_guid"] not in report["orphans"]
    main = next(p for p in folder.iterdir() if p.name.startswith("script"))
    original = main.read_bytes()
    main.write_bytes(b"tampered\n")
    try:
        report = api.request(ADMIN, "GET", "/api/admin/verify").json()
        bad = [c for c in report["corrupt"] if c["payload_guid"] == first["payload_guid"]]
        assert bad and bad[0]["where"] == ["history"]
        broken = api.request(OPERATOR, "POST", f"/api/assemblies/{guid}/revisions/1/restore")
        assert broken.status_code == 409 and broken.json()["error"] == "integrity_error"
    finally:
        main.write_bytes(original)


def test_prune_keeps_the_newest_revisions_and_removes_their_unused_folders(api: ApiEngine) -> None:
    guid = create(api, script="r1\n")["assembly_guid"]
    for n in (2, 3, 4):
        update(api, guid, payload={"script": f"r{n}\n"})
    flush(api)
    folders = {
        n: api.request(ADMIN, "GET", f"/api/assemblies/{guid}/revisions/{n}").json()["payload_guid"]
        for n in (1, 2, 3, 4)
    }
    refused = api.request(ADMIN, "POST", "/api/admin/history/prune", json={"keep": 2})
    assert refused.status_code == 403 and refused.json()["error"] == "dev_mode_required"
    assert api.request(OPERATOR, "POST", "/api/admin/history/prune", json={}).status_code == 403
    bad = api.request(ADMIN_DEV, "POST", "/api/admin/history/prune", json={"keep": -1})
    assert bad.status_code == 422
    response = api.request(ADMIN_DEV, "POST", "/api/admin/history/prune", json={"keep": 2})
    assert response.status_code == 200, response.text
    assert response.json()["revisions_removed"] >= 2
    assert [i["revision"] for i in revisions(api, guid)["items"]] == [4, 3]
    payloads = api.settings.payloads_root
    assert not (payloads / folders[1]).exists() and not (payloads / folders[2]).exists()
    assert (payloads / folders[3]).is_dir() and (payloads / folders[4]).is_dir()
    gone = api.request(OPERATOR, "GET", f"/api/assemblies/{guid}/revisions/1")
    assert gone.status_code == 404 and "2 kept, from 3 to 4" in gone.json()["message"]


def test_prune_never_removes_a_folder_another_revision_or_record_uses(api: ApiEngine) -> None:
    guid = create(api, script="shared\n")["assembly_guid"]
    update(api, guid, payload={"script": "other\n"})
    restored = api.request(OPERATOR, "POST", f"/api/assemblies/{guid}/revisions/1/restore")
    assert restored.status_code == 200
    update(api, guid, display_name="renamed")  # revision 4, still revision 1's folder
    flush(api)
    first = api.request(ADMIN, "GET", f"/api/assemblies/{guid}/revisions/1").json()["payload_guid"]
    response = api.request(ADMIN_DEV, "POST", "/api/admin/history/prune", json={"keep": 1})
    assert response.status_code == 200, response.text
    assert first not in response.json()["payloads_removed"]
    assert (api.settings.payloads_root / first).is_dir()
    assert api.request(OPERATOR, "GET", f"/api/assemblies/{guid}").json()["payload"]["script"] == "shared\n"


def test_trash_retention_purges_old_deleted_assemblies_only(api: ApiEngine) -> None:
    old = create(api, script="old trash\n")["assembly_guid"]
    fresh = create(api, script="fresh trash\n")["assembly_guid"]
    for guid in (old, fresh):
        assert api.request(OPERATOR, "DELETE", f"/api/assemblies/{guid}").status_code == 202
    flush(api)
    db = api.services.storage.databases[Domain.USER]
    payload = json.loads(db.revisions(old)[0].row_json)[PAYLOAD_GUID_COLUMN]
    with db._lock:  # age the deletion by hand, as if it were 40 days ago
        db._conn.execute(
            "UPDATE deleted_assemblies SET deleted_at = '2000-01-01T00:00:00.000Z' WHERE assembly_guid = ?",
            (old,),
        )
    response = api.request(ADMIN_DEV, "POST", "/api/admin/history/prune", json={"trash_days": 30})
    assert response.status_code == 200, response.text
    assert response.json()["deleted_purged"] == 1
    assert api.request(OPERATOR, "GET", f"/api/assemblies/{old}/revisions").status_code == 404
    assert api.request(OPERATOR, "POST", f"/api/assemblies/{old}/undelete").status_code == 404
    assert revisions(api, fresh)["deleted"] is True
    assert payload in response.json()["payloads_removed"]
    assert not (api.settings.payloads_root / payload).exists()


def test_background_retention_applies_the_settings(tmp_path: Path) -> None:
    settings = temp_settings(tmp_path, history_keep=1, trash_days=0, history_prune_interval=0.2)
    for engine in start_engine(settings):
        guid = create(engine, script="a\n")["assembly_guid"]
        update(engine, guid, payload={"script": "b\n"})
        first = engine.request(ADMIN, "GET", f"/api/assemblies/{guid}/revisions/1").json()["payload_guid"]
        flush(engine)

        def pruned(e: ApiEngine = engine, g: str = guid, folder: str = first) -> list[dict[str, Any]]:
            # The pass removes the revision, then its folder, then writes its audit entry:
            # on a loaded machine a check between those steps would see only part of it.
            if revisions(e, g)["total"] != 1 or (settings.payloads_root / folder).exists():
                return []
            return [entry for entry in e.audit_entries() if entry.get("action") == "history.prune"]

        entries = wait_until(pruned, "the background retention and its audit entry", timeout=20)
        assert [i["revision"] for i in revisions(engine, guid)["items"]] == [2]
        assert entries[-1]["user"] == "engine"


def test_restores_wait_for_retention_and_never_lose_their_folder(api: ApiEngine) -> None:
    guid = create(api, script="kept by the restore\n")["assembly_guid"]
    for n in range(2, 6):
        update(api, guid, payload={"script": f"r{n}\n"})
    flush(api)
    results: list[int] = []

    def restore_first() -> None:
        response = api.request(OPERATOR, "POST", f"/api/assemblies/{guid}/revisions/1/restore")
        results.append(response.status_code)

    threads = [threading.Thread(target=restore_first) for _ in range(3)]
    for thread in threads:
        thread.start()
    pruned = api.request(ADMIN_DEV, "POST", "/api/admin/history/prune", json={"keep": 2})
    for thread in threads:
        thread.join()
    assert pruned.status_code == 200, pruned.text
    # each restore either ran before the prune (its revision now keeps the folder) or found
    # revision 1 gone (404): never a record pointing at a removed folder
    assert set(results) <= {200, 404}
    detail = api.request(OPERATOR, "GET", f"/api/assemblies/{guid}")
    assert detail.status_code == 200, detail.text
    if 200 in results:
        assert detail.json()["payload"]["script"] == "kept by the restore\n"
    report = api.request(ADMIN, "GET", "/api/admin/verify").json()
    assert not report["missing"] and not report["corrupt"]
