"""POST /api/assemblies/check, the block/warn policy on saves, and results in the detail.

The ASGI app with real SQLite files and real checker processes (tests/checks for the
checkers themselves); the default policy blocks errors in official, warns elsewhere."""

from __future__ import annotations

from typing import Any

from assembly_engine.api.token_scopes import READ, WRITE, required_scope
from tests.api.support import (
    ADMIN_DEV,
    ANONYMOUS,
    OPERATOR,
    ApiEngine,
    assert_unchanged,
    plant_assembly,
    snapshot,
    unique_name,
)
from tests.checks import corpus
from tests.support import wait_until

BROKEN_PS = corpus.trmm("Win_Activation_Check.ps1") + "\nfunction Get-Broken {\n"


def _check(api: ApiEngine, body: dict[str, Any], caller: str = OPERATOR) -> Any:
    return api.request(caller, "POST", "/api/assemblies/check", json=body)


def test_check_answers_diagnostics(api: ApiEngine) -> None:
    script = corpus.trmm("Linux_CPU_check.sh").replace("exit 0\n", "echo $1\nexit 0\n")
    response = _check(api, {"assembly_type": "bash", "script": script})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["language"] == "bash" and answer["has_errors"] is False
    (diagnostic,) = [d for d in answer["diagnostics"] if d["code"] == "SC2086"]
    assert set(diagnostic) == {
        "line",
        "column",
        "end_line",
        "end_column",
        "severity",
        "code",
        "message",
        "source",
    }
    assert diagnostic["line"] == script.split("\n").index("echo $1") + 1 and diagnostic["column"] == 6
    assert answer["checkers"][0]["name"] == "shellcheck" and answer["checkers"][0]["available"] is True
    assert answer["counts"] == {"error": 0, "warning": 0, "info": 1}


def test_check_a_workflow_draft(api: ApiEngine) -> None:
    flow = corpus.workflow()
    flow["edges"].append({"id": "e-new", "source": flow["nodes"][0]["id"], "target": "nowhere"})
    answer = _check(api, {"assembly_type": "workflow", "workflow": flow}).json()
    assert answer["has_errors"] is True
    assert [d["code"] for d in answer["diagnostics"]] == ["edge-node"]


def test_check_needs_a_signed_in_user_and_a_draft(api: ApiEngine) -> None:
    anonymous = _check(api, {"assembly_type": "bash", "script": "echo hi\n"}, ANONYMOUS)
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "unauthorized"
    for body in (
        {"assembly_type": "bash"},
        {"assembly_type": "workflow", "script": "{}"},
        {"assembly_type": "cobol", "script": "x"},
        {"assembly_type": "bash", "script": "x", "extra": 1},
        {"assembly_type": "bash", "script": 5},
    ):
        refused = _check(api, body)
        assert refused.status_code == 422, (body, refused.text)
        assert set(refused.json()) == {"error", "message"} and refused.json()["error"] == "invalid_document"


def test_block_policy_refuses_a_dev_mode_write_to_official(api: ApiEngine) -> None:
    before = snapshot(api.services)
    audited = len(api.audit_entries())
    body = {
        "domain": "official",
        "display_name": unique_name("broken"),
        "assembly_kind": "script",
        "assembly_type": "powershell",
        "payload": {"script": BROKEN_PS},
    }
    refused = api.request(ADMIN_DEV, "POST", "/api/assemblies", json=body)
    assert refused.status_code == 422, refused.text
    answer = refused.json()
    assert answer["error"] == "check_failed" and "Nothing was saved" in answer["message"]
    assert [d["code"] for d in answer["diagnostics"]] == ["PS-MISSING"]
    assert_unchanged(before, snapshot(api.services))
    (entry,) = api.audit_entries()[audited:]  # the refusal is audited
    assert (entry["action"], entry["outcome"], entry["domain"]) == ("assembly.create", "failed", "official")
    assert entry["detail"].startswith("Nothing was saved: the powershell check found 1 error")
    # An update of an official assembly with the same script is refused too; the
    # assembly keeps its revision.
    guid = plant_assembly(api.services, "official")
    revision = api.services.storage.cache.get(guid).record.revision  # type: ignore[union-attr]
    update = api.request(ADMIN_DEV, "PUT", f"/api/assemblies/{guid}", json={"payload": {"script": BROKEN_PS}})
    assert update.status_code == 422 and update.json()["error"] == "check_failed"
    assert api.services.storage.cache.get(guid).record.revision == revision  # type: ignore[union-attr]
    fixed = api.request(
        ADMIN_DEV, "POST", "/api/assemblies", json={**body, "payload": {"script": "Write-Host 1\n"}}
    )
    assert fixed.status_code == 201, fixed.text


def test_warn_policy_saves_and_the_detail_shows_the_result(api: ApiEngine) -> None:
    body = {
        "domain": "user",
        "display_name": unique_name("warned"),
        "assembly_kind": "script",
        "assembly_type": "powershell",
        "payload": {"script": BROKEN_PS},
    }
    created = api.request(OPERATOR, "POST", "/api/assemblies", json=body)
    assert created.status_code == 201, created.text
    guid = created.json()["assembly_guid"]

    def checked() -> dict[str, Any] | None:
        detail = api.request(OPERATOR, "GET", f"/api/assemblies/{guid}").json()
        return detail["checks"] if detail["checks"]["status"] == "checked" else None

    checks = wait_until(checked, "the side check of the saved script", timeout=20)
    assert checks["has_errors"] is True and checks["counts"]["error"] == 1
    assert checks["diagnostics"][0]["code"] == "PS-MISSING"


def test_list_shows_counts_and_filters_on_errors(api: ApiEngine) -> None:
    category = unique_name("checked-list")
    guids = {}
    for name, script in (("broken", BROKEN_PS), ("clean", "Write-Host 'fine'\n")):
        body = {
            "domain": "user",
            "display_name": unique_name(name),
            "category": category,
            "assembly_kind": "script",
            "assembly_type": "powershell",
            "payload": {"script": script},
        }
        created = api.request(OPERATOR, "POST", "/api/assemblies", json=body)
        assert created.status_code == 201, created.text
        guids[name] = created.json()["assembly_guid"]

    def rows(query: str = "") -> dict[str, Any]:
        page = api.request(OPERATOR, "GET", f"/api/assemblies?category={category}{query}").json()
        return {item["assembly_guid"]: item["checks"] for item in page["items"]}

    # The checks run beside the saves; the kept list page is rendered again when they end.
    listed = wait_until(
        lambda: (r := rows()) and all(r.values()) and r, "check counts in the list", timeout=20
    )
    assert listed[guids["broken"]] == {"counts": {"error": 1, "warning": 0, "info": 0}, "has_errors": True}
    assert listed[guids["clean"]]["has_errors"] is False
    assert list(rows("&checks=errors")) == [guids["broken"]]
    assert list(rows("&checks=clean")) == [guids["clean"]]
    assert rows("&checks=unchecked") == {}
    facets = api.request(OPERATOR, "GET", f"/api/assemblies/facets?category={category}&checks=errors").json()
    assert facets["total"] == 1
    bad = api.request(OPERATOR, "GET", "/api/assemblies?checks=maybe")
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_document"


def test_restoring_a_revision_with_errors_is_blocked_in_official(api: ApiEngine) -> None:
    services = api.services
    checks = services.assemblies.changes.checks
    services.assemblies.changes.checks = None  # as if it was saved while official warned
    try:
        guid = plant_assembly(services, "official")
        update = api.request(
            ADMIN_DEV, "PUT", f"/api/assemblies/{guid}", json={"payload": {"script": BROKEN_PS}}
        )
        assert update.status_code == 200, update.text
    finally:
        services.assemblies.changes.checks = checks
    fixed = api.request(
        ADMIN_DEV, "PUT", f"/api/assemblies/{guid}", json={"payload": {"script": "Write-Host 3\n"}}
    )
    assert fixed.status_code == 200 and fixed.json()["revision"] == 3, fixed.text
    refused = api.request(ADMIN_DEV, "POST", f"/api/assemblies/{guid}/revisions/2/restore")
    assert refused.status_code == 422 and refused.json()["error"] == "check_failed", refused.text
    assert services.storage.cache.get(guid).record.revision == 3  # type: ignore[union-attr]
    restored = api.request(ADMIN_DEV, "POST", f"/api/assemblies/{guid}/revisions/1/restore")
    assert restored.status_code == 200 and restored.json()["revision"] == 4, restored.text


def test_checking_a_draft_needs_only_the_read_scope_of_a_token() -> None:
    assert required_scope("POST", "/api/assemblies/check") == READ
    assert required_scope("POST", "/api/assemblies") == WRITE


def test_a_kept_list_page_waits_only_for_results_of_its_own_rows(api: ApiEngine) -> None:
    """A sweep notes results one by one; a page none of whose rows got one stays the
    same answer (304 on its ETag), and one of its own rows' results renders it again."""
    category = unique_name("kept-page")
    body = {
        "domain": "user",
        "display_name": unique_name("kept"),
        "category": category,
        "assembly_kind": "script",
        "assembly_type": "powershell",
        "payload": {"script": "Write-Host 'kept'\n"},
    }
    created = api.request(OPERATOR, "POST", "/api/assemblies", json=body)
    assert created.status_code == 201, created.text
    guid = created.json()["assembly_guid"]
    url = f"/api/assemblies?category={category}"
    wait_until(
        lambda: all(i["checks"] for i in api.request(OPERATOR, "GET", url).json()["items"]),
        "the saved script's counts in the list",
        timeout=20,
    )
    etag = api.request(OPERATOR, "GET", url).headers["etag"]
    checks = api.services.assemblies.changes.checks
    assert checks is not None
    cached = api.services.assemblies.changes.cache.get(guid)
    assert cached is not None
    own_payload = cached.record.payload.payload_guid

    def note(payload_guid: str) -> None:
        before = checks.generation
        future = checks.runner.submit("powershell", "Write-Host 'other'\n", background=True)
        assert future is not None
        checks._note_when_done(payload_guid, future)  # as the sweep does
        wait_until(lambda: checks.generation > before, "the check's result", timeout=20)

    note("0" * 32)  # a payload on no page of this query
    same = api.request(OPERATOR, "GET", url, headers={"If-None-Match": etag})
    assert same.status_code == 304
    note(own_payload)
    again = api.request(OPERATOR, "GET", url, headers={"If-None-Match": etag})
    assert again.status_code == 200 and again.headers["etag"] != etag
    assert [i["assembly_guid"] for i in again.json()["items"]] == [guid]


def test_the_sweep_reads_and_checks_one_payload_per_content() -> None:
    """After a start every stored script is checked once; copies of one content share the
    result (their checksum is the content's), so the sweep neither reads nor checks them."""
    from types import SimpleNamespace

    from assembly_engine.services.checks.gate import ScriptChecks
    from assembly_engine.services.checks.runner import CheckLimits, CheckRunner
    from tests.support import script_content

    # A runner of its own: closing these checks must not close the engine's (later tests use it).
    checks = ScriptChecks(CheckRunner(CheckLimits(timeout_seconds=20.0)), blocking=())
    content = script_content("Write-Host 'copied'\n")

    def item(payload_guid: str, checksum: str) -> Any:
        payload = SimpleNamespace(payload_guid=payload_guid, checksum=checksum)
        return SimpleNamespace(assembly_guid=payload_guid, record=SimpleNamespace(payload=payload))

    items = [item(f"{n:032x}", "c" * 64) for n in range(1, 6)] + [item(f"{99:032x}", "d" * 64)]
    reads: list[str] = []

    def read(found: Any) -> Any:
        reads.append(found.record.payload.payload_guid)
        return content

    checks.start_sweep(lambda: items, read, every_seconds=3600)
    wait_until(
        lambda: all(checks.counts(i.record.payload.payload_guid) for i in items), "the sweep", timeout=30
    )
    checks.close()
    assert reads == [f"{1:032x}", f"{99:032x}"]  # the copies were not read again
    assert len({str(checks.counts(i.record.payload.payload_guid)) for i in items}) == 1


def test_sync_apply_checks_created_and_changed_items_where_the_domain_blocks(api: ApiEngine) -> None:
    """``sync apply`` writes through the same checks as any save: in official (blocking) an
    item whose script has an error is refused, whether it creates or changes an assembly."""
    import base64

    source = unique_name("checked-sync")

    def apply(files: dict[str, str]) -> list[dict[str, Any]]:
        items = [{"path": p, "content": base64.b64encode(s.encode()).decode()} for p, s in files.items()]
        body = {"source": source, "domain": "official", "items": items}
        answer = api.request(ADMIN_DEV, "POST", "/api/sync/apply", json=body)
        assert answer.status_code == 200, answer.text
        return sorted(answer.json()["results"], key=lambda r: r["path"])

    created, refused = apply({"Windows/fine.ps1": "Write-Host 1\r\n", "Windows/new.ps1": BROKEN_PS})
    assert created["status"] == "done"
    assert (refused["status"], refused["error"]) == ("failed", "check_failed"), refused
    guid = created["assembly_guid"]
    revision = api.services.storage.cache.get(guid).record.revision  # type: ignore[union-attr]
    (changed,) = apply({"Windows/fine.ps1": BROKEN_PS})
    assert (changed["status"], changed["error"]) == ("failed", "check_failed"), changed
    assert changed["message"].startswith("Nothing was saved") and "never closed" in changed["message"]
    assert api.services.storage.cache.get(guid).record.revision == revision  # type: ignore[union-attr]
