"""Search inside assemblies (Docs/search.md) against a real engine process: body hits before
the flush, name hits first, the matching line, hostile queries, the index file rebuilt."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.engine_process import EngineProcess

DOWNLOAD = '# fetch the agent\n$dest = "$env:TEMP\\agent.msi"\nInvoke-WebRequest -Uri $url -OutFile $dest\n'
REGISTRY = "@echo off\nreg add HKLM\\Software\\Foo\\Run /v Agent /d agent.exe /f\nexit /b 0\n"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[EngineProcess]:
    staging = tmp_path / "staging"
    staging.mkdir()
    engine = EngineProcess(tmp_path / "home", staging, flush_interval=3600).start()
    try:
        yield engine
    finally:
        engine.stop()


def create(
    engine: EngineProcess, headers: dict[str, str], name: str, script: str, atype: str = "powershell"
) -> str:
    response = engine.http.post(
        "/api/assemblies",
        headers=headers,
        json={
            "display_name": name,
            "assembly_kind": "script",
            "assembly_type": atype,
            "payload": {"script": script},
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["assembly_guid"])


def search(engine: EngineProcess, headers: dict[str, str], q: str, **extra: str) -> dict[str, Any]:
    response = engine.http.get("/api/assemblies", headers=headers, params={"q": q, **extra})
    assert response.status_code == 200, response.text
    return dict(response.json())


def names(answer: dict[str, Any]) -> list[str]:
    return [item["display_name"] for item in answer["items"]]


def test_body_words_are_found_before_the_flush_with_name_hits_first(engine: EngineProcess) -> None:
    headers = engine.login()
    create(engine, headers, "Install agent", DOWNLOAD)
    create(engine, headers, "Autostart entry", REGISTRY, atype="batch")
    create(engine, headers, "WebRequest helper", "Write-Output 'no download here'\n")

    found = search(engine, headers, "Invoke-WebRequest")
    assert found["queue"]["depth"] >= 3  # nothing was flushed: the index answered
    assert names(found) == ["Install agent"]
    assert found["items"][0]["match"] == {"line": 3, "text": "Invoke-WebRequest -Uri $url -OutFile $dest"}

    # "webrequest" is in a name and in a body: the name hit comes first and carries no match.
    ranked = search(engine, headers, "webrequest")
    assert names(ranked) == ["WebRequest helper", "Install agent"]
    assert "match" not in ranked["items"][0] and ranked["items"][1]["match"]["line"] == 3
    assert names(search(engine, headers, "webrequest", sort="display_name", order="desc")) == [
        "WebRequest helper",
        "Install agent",
    ]

    for q in [
        "HKLM:\\Software\\Foo",
        "hklm\\software\\foo\\run",
        "software foo",
        "$env:TEMP",
        "env:te",
        "reque",
    ]:
        assert search(engine, headers, q)["total"] >= 1, q
    registry = search(engine, headers, "HKLM\\Software\\Foo\\Run")
    assert names(registry) == ["Autostart entry"]
    assert registry["items"][0]["match"]["text"].startswith("reg add HKLM")
    assert search(engine, headers, "Invoke-RestMethod")["total"] == 0
    facets = engine.http.get("/api/assemblies/facets", headers=headers, params={"q": "hklm"}).json()
    assert facets["total"] == 1 and facets["kind"]["script"] == 1


def test_an_update_or_delete_is_searchable_at_once(engine: EngineProcess) -> None:
    headers = engine.login()
    guid = create(engine, headers, "Changing", "Get-Service spooler\n")
    assert search(engine, headers, "spooler")["total"] == 1
    current = engine.http.get(f"/api/assemblies/{guid}", headers=headers).json()
    updated = engine.http.put(
        f"/api/assemblies/{guid}",
        headers=headers,
        json={"expected_revision": current["revision"], "payload": {"script": "Restart-Computer -Force\n"}},
    )
    assert updated.status_code == 200, updated.text
    assert search(engine, headers, "spooler")["total"] == 0
    assert names(search(engine, headers, "restart-computer")) == ["Changing"]
    assert engine.http.delete(f"/api/assemblies/{guid}", headers=headers).status_code == 202
    assert search(engine, headers, "restart-computer")["total"] == 0


HOSTILE = [
    '"',
    'a" OR "b',
    "NEAR(invoke webrequest)",
    "* ^ - + : ( ) { }",
    "invoke AND NOT",
    "col:invoke",
    "日本語 naïve Ünïcode 🙂",
    "\x00\x01",
    " ".join(f"w{i}" for i in range(40)),
    "x" * 200,
]


def test_query_syntax_never_reaches_the_index(engine: EngineProcess) -> None:
    headers = engine.login()
    create(engine, headers, "Any", DOWNLOAD + "日本語 naïve\n")
    for q in HOSTILE:
        response = engine.http.get("/api/assemblies", headers=headers, params={"q": q})
        assert response.status_code == 200, (q, response.text)
        assert response.json()["total"] in (0, 1), q
    assert names(search(engine, headers, "日本語")) == ["Any"]
    assert names(search(engine, headers, "NAÏVE")) == ["Any"]


def test_a_query_too_long_is_refused_with_a_reason(engine: EngineProcess) -> None:
    headers = engine.login()
    response = engine.http.get("/api/assemblies", headers=headers, params={"q": "x" * 201})
    assert response.status_code == 422
    assert "q" in response.text


def test_search_needs_the_right_to_read(engine: EngineProcess) -> None:
    headers = engine.login()
    create(engine, headers, "Secret download", DOWNLOAD)
    assert (
        httpx.get(f"{engine.url}/api/assemblies", params={"q": "webrequest"}, timeout=30).status_code == 401
    )
    made = engine.http.post(
        "/api/tokens",
        headers=headers,
        json={"name": "metrics", "scopes": ["metrics:read"], "expires_in_days": 1},
    )
    assert made.status_code == 201, made.text
    other = {"Authorization": f"Bearer {made.json()['token']}"}
    refused = engine.http.get("/api/assemblies", headers=other, params={"q": "webrequest"})
    assert refused.status_code == 403 and "webrequest" not in refused.text.lower()


@pytest.mark.parametrize("harm", ["deleted", "damaged"])
def test_the_index_is_built_again_when_its_file_is_deleted_or_damaged(
    engine: EngineProcess, harm: str
) -> None:
    headers = engine.login()
    create(engine, headers, "Install agent", DOWNLOAD)
    create(engine, headers, "Autostart entry", REGISTRY, atype="batch")
    assert search(engine, headers, "webrequest")["total"] == 1
    engine.stop()
    index = engine.home / "Assemblies" / "search.db"
    assert index.exists()
    for leftover in index.parent.glob("search.db-*"):
        leftover.unlink()
    if harm == "deleted":
        index.unlink()
    else:
        index.write_bytes(b"not a database at all " * 512)
    engine.start()
    headers = engine.login()
    found = search(engine, headers, "Invoke-WebRequest")
    assert names(found) == ["Install agent"] and found["items"][0]["match"]["line"] == 3
    assert names(search(engine, headers, "hklm")) == ["Autostart entry"]
    assert "not a database" not in index.read_bytes().decode("latin-1")
