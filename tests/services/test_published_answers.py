"""Answers typed after their schema was published (the sync render, own sessions, a check,
verify, the official sync): the services return typed values, their JSON keeps its shape, and the OpenAPI
document keeps the published schema (no component of their parts joins it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assembly_engine.api.app import create_app
from assembly_engine.domain.types import Domain
from assembly_engine.services.answers.accounts import OwnSessionList, SessionsEnded
from assembly_engine.services.answers.checks import CheckCounts, CheckDone, CheckPending
from assembly_engine.services.answers.maintenance import PayloadProblem, SchemaCheck, Verified
from assembly_engine.services.answers.queue import OfficialSynced, SignatureCheck
from assembly_engine.services.answers.sync import LeftOut, ManifestShape, Rendered, RenderedItem
from assembly_engine.services.assemblies.inputs import NewAssembly
from assembly_engine.services.assemblies.library_paths import Selection
from assembly_engine.services.auth.policy import Actor, Role
from assembly_engine.services.caller import Caller
from assembly_engine.services.checks.diagnostics import CheckResult
from assembly_engine.services.container import EngineServices
from assembly_engine.services.errors import NotFound
from tests.support import temp_settings

ADMIN = Caller(Actor("admin", Role.ADMIN, dev_mode=False), session="s-admin")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[EngineServices]:
    services = EngineServices.open(temp_settings(tmp_path), start_worker=False, announce_admin=False)
    yield services
    services.close()


def _create(engine: EngineServices, name: str) -> str:
    new = NewAssembly.model_validate(
        {
            "display_name": name,
            "assembly_kind": "script",
            "assembly_type": "bash",
            "category": "Tools",
            "payload": {"script": f"echo {name}\n"},
        }
    )
    return engine.assemblies.editing.create(ADMIN, new).assembly_guid


def _served(answer: Any) -> Any:
    # How the routes serialise: unset fields stay out, aliases as published.
    return answer.model_dump(mode="json", exclude_unset=True, by_alias=True)


def test_the_render_answers_typed_items_and_publishes_the_same_objects(engine: EngineServices) -> None:
    _create(engine, "Kept")
    left = _create(engine, "Left")
    rendered = engine.assemblies.library_render.render(
        ADMIN, Domain.USER, "library", Selection((), ("**/Left*",))
    )
    assert isinstance(rendered, Rendered)
    assert [type(i) for i in rendered.items] == [RenderedItem] and rendered.items[0].path == "Tools/Kept.sh"
    assert rendered.left_out == [LeftOut(left, "left out by the selection", "Tools/Left.sh")]
    shown = _served(rendered)
    assert list(shown) == ["domain", "format", "items", "left_out", "manifest"]
    assert shown["manifest"] is None  # shown as null for a library, as before
    assert list(shown["items"][0]) == ["path", "content", "sidecar", "files", "tactical_rmm"]
    assert shown["left_out"] == [
        {"assembly_guid": left, "path": "Tools/Left.sh", "reason": "left out by the selection"}
    ]
    tactical = engine.assemblies.library_render.render(ADMIN, Domain.USER, "tactical-rmm", Selection())
    assert isinstance(tactical.manifest, ManifestShape)
    assert _served(tactical)["manifest"] == {"indent": 2, "ensure_ascii": True, "final_newline": False}


def test_a_left_out_assembly_without_a_path_shows_none() -> None:
    assert LeftOut("a" * 32, "not representable as tactical-rmm").published() == {
        "assembly_guid": "a" * 32,
        "reason": "not representable as tactical-rmm",
    }


def test_own_sessions_answer_typed_lists_and_counts(engine: EngineServices) -> None:
    sessions = engine.accounts.sessions
    _, current = sessions.create("admin")
    sessions.create("admin")  # another browser
    own = engine.accounts.own_sessions
    listed = own.list(ADMIN, current)
    assert isinstance(listed, OwnSessionList) and len(listed.items) == 2
    assert sorted(s.current for s in listed.items) == [False, True]
    assert list(_served(listed)["items"][0]) == ["id", "created_at", "last_seen", "expires_at", "current"]
    ended = own.end_others(ADMIN, current)
    assert isinstance(ended, SessionsEnded) and _served(ended) == {"ended": 1}
    with pytest.raises(NotFound):
        own.end(ADMIN, current, "0" * 16)
    (mine,) = own.list(ADMIN, current).items
    assert _served(own.end(ADMIN, current, mine.id)) == {"ended": 1}


def test_verify_answers_typed_schema_checks_and_payload_problems(engine: EngineServices) -> None:
    guid = _create(engine, "Checked")
    verified = engine.maintenance.verify(ADMIN)
    assert isinstance(verified, Verified) and verified.ok
    assert all(isinstance(check, SchemaCheck) for check in verified.schema_.values())
    shown = _served(verified)
    assert list(shown) == [
        "ok",
        "schema",
        "payloads_checked",
        "missing",
        "corrupt",
        "orphans",
        "recent_unreferenced",
        "stale_temp",
        "removed",
    ]
    assert set(shown["schema"]) == {d.value for d in Domain}
    problem = PayloadProblem.built(
        assembly_guid=guid, display_name="Checked", domain=Domain.USER, payload_guid="b" * 32, where=["cache"]
    )
    assert _served(problem)["domain"] == "user"


def test_the_official_sync_answers_its_report_typed(engine: EngineServices) -> None:
    admin_dev = Caller(Actor("admin", Role.ADMIN, dev_mode=True), session="s-admin")
    synced = engine.assemblies.queue_control.sync_official(admin_dev)
    assert isinstance(synced, OfficialSynced) and isinstance(synced.signatures, SignatureCheck)
    shown = _served(synced)
    assert list(shown)[-3:] == ["signatures", "removed_upstream", "update_available"]
    assert set(shown["signatures"]) == {"refused", "signed_by", "problems"}


def test_a_payload_s_check_state_publishes_its_stored_form() -> None:
    assert CheckCounts({"error": 1, "warning": 0, "info": 0}, has_errors=True).published() == {
        "counts": {"error": 1, "warning": 0, "info": 0},
        "has_errors": True,
    }
    assert CheckPending("bash").published() == {"status": "pending", "language": "bash"}
    done = CheckDone(CheckResult("bash", "c" * 64)).published()
    assert (done["status"], done["language"], done["counts"]) == (
        "checked",
        "bash",
        {"error": 0, "warning": 0, "info": 0},
    )


def test_the_openapi_document_keeps_the_published_schemas(tmp_path: Path) -> None:
    document = create_app(temp_settings(tmp_path), console_log=False).openapi()
    schemas = document["components"]["schemas"]
    free_form = {"additionalProperties": True, "type": "object"}
    # the typed parts publish as free-form objects and add no component of their own
    assert not {"RenderedItem", "LeftOut", "ManifestShape", "CheckCounts", "CheckDone"} & set(schemas)
    rendered = schemas["Rendered"]
    assert "additionalProperties" not in rendered  # as published before it was typed
    assert rendered["properties"]["items"]["items"] == free_form
    assert rendered["properties"]["manifest"]["anyOf"] == [free_form, {"type": "null"}]
    for name in ("OwnSession", "OwnSessionList", "SessionsEnded", "Verified", "SchemaCheck", "CheckAnswer"):
        assert schemas[name]["additionalProperties"] is True, name
    synced = schemas["OfficialSynced"]
    assert synced["additionalProperties"] is True and "removed_upstream" not in synced["properties"]
    assert schemas["AssemblyDetail"]["properties"]["checks"]["anyOf"] == [free_form, {"type": "null"}]
