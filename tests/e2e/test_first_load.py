"""First load over HTTP: compressed, cached assets; how much JavaScript crosses the wire
for the sign-in page and the list; no error logged while signed out."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import BrowserContext, Response, expect

from tests.e2e.support import OPERATOR, Engine, artifact, sign_in

pytestmark = pytest.mark.e2e

SIGN_IN_BUDGET = 250_000  # bytes of JavaScript transferred (compressed)
LIST_BUDGET = 450_000


def asset_paths(index_html: str) -> list[str]:
    return sorted(set(re.findall(r'(?:src|href)="(/assets/[^"]+)"', index_html)))


def test_assets_are_compressed_and_cached_index_is_not(engine: Engine) -> None:
    with httpx.Client(base_url=engine.url, timeout=30) as http:
        index = http.get("/")
        assert index.headers["cache-control"] == "no-cache"
        paths = asset_paths(index.text)
        assert any(p.endswith(".js") for p in paths), paths
        for path in paths:
            plain = http.get(path, headers={"Accept-Encoding": "identity"})
            assert plain.status_code == 200 and "content-encoding" not in plain.headers
            assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
            for coding in ("br", "gzip"):
                reply = http.get(path, headers={"Accept-Encoding": coding})
                if len(plain.content) >= 1024:
                    assert reply.headers["content-encoding"] == coding, (path, coding)
                    assert int(reply.headers["content-length"]) < len(plain.content) / 2
                assert reply.headers["cache-control"] == "public, max-age=31536000, immutable"
                assert reply.headers["vary"] == "Accept-Encoding"
            with http.stream("GET", path, headers={"Accept-Encoding": "gzip"}) as raw:
                body = b"".join(raw.iter_raw())
            if len(plain.content) >= 1024:
                assert gzip.decompress(body) == plain.content


def transferred_js(responses: list[Response]) -> int:
    total = 0
    for response in responses:
        if response.url.split("?")[0].endswith(".js"):
            total += response.request.sizes()["responseBodySize"]
    return total


def test_first_load_javascript_within_budget_and_no_401_logged(
    new_context: Callable[..., BrowserContext],
    engine: Engine,
) -> None:
    page = new_context().new_page()
    responses: list[Response] = []
    logged: list[str] = []
    page.on("response", lambda response: responses.append(response))
    page.on("console", lambda msg: logged.append(f"{msg.type}: {msg.text}"))
    page.goto("/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page).to_have_title("Sign in · Assembly Engine")
    page.wait_for_load_state("networkidle")
    sign_in_js = transferred_js(responses)
    # Signed out is an answer, not an error: no 401 and nothing logged.
    assert [r.url for r in responses if r.status >= 400] == []
    assert logged == []
    assert all(r.headers.get("content-encoding") == "br" for r in responses if r.url.endswith(".js"))

    sign_in(page, OPERATOR)
    expect(page.get_by_test_id("assembly-grid").get_by_test_id("assembly-name").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    list_js = transferred_js(responses)
    scripts = sorted({r.url.rsplit("/", 1)[1] for r in responses if r.url.endswith(".js")})

    # The editor opened directly loads no grid: its chunk does not import the list's.
    with engine.api(OPERATOR) as api:
        first = api.get("/api/assemblies", params={"kind": "script", "limit": 1}).json()["items"][0]
    guid = first["assembly_guid"]
    context = new_context()
    context.request.post("/api/auth/login", data={"username": OPERATOR[0], "password": OPERATOR[1]})
    other = context.new_page()
    editor_responses: list[Response] = []
    other.on("response", lambda response: editor_responses.append(response))
    other.goto(f"/assemblies/{guid}")
    expect(other.get_by_test_id("code-editor")).to_be_visible()
    expect(other).to_have_title(re.compile(r" · Assembly Engine$"))
    other.wait_for_load_state("networkidle")
    editor_scripts = sorted({r.url.rsplit("/", 1)[1] for r in editor_responses if r.url.endswith(".js")})
    editor_js = transferred_js(editor_responses)
    assert not any(name.startswith("AssemblyList-") for name in editor_scripts), editor_scripts

    report = {
        "sign_in_js_bytes": sign_in_js,
        "list_js_bytes": list_js,
        "list_scripts": scripts,
        "editor_js_bytes": editor_js,
        "editor_scripts": editor_scripts,
    }
    artifact("first-load.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report))
    assert sign_in_js <= SIGN_IN_BUDGET, report
    assert list_js <= LIST_BUDGET, report


def test_a_reload_of_the_list_asks_for_its_rows_and_counts_once_each(
    new_context: Callable[..., BrowserContext],
) -> None:
    """A browser holding a session asks for the list's first block and counts at start-up,
    beside the session check; the list takes those answers instead of asking again. A
    search then replaces the rows shown without a screen of "Loading…" rows between."""
    context = new_context()
    context.request.post("/api/auth/login", data={"username": OPERATOR[0], "password": OPERATOR[1]})
    page = context.new_page()
    page.goto("/")
    names = page.get_by_test_id("assembly-grid").get_by_test_id("assembly-name")
    expect(names.first).to_be_visible()
    page.wait_for_load_state("networkidle")
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.reload()
    expect(names.first).to_be_visible()
    page.wait_for_load_state("networkidle")
    rows = [u for u in asked if "/api/assemblies?" in u]
    counts = [u for u in asked if "/api/assemblies/facets" in u]
    assert len(rows) == 1 and len(counts) == 1, asked
    session = next(i for i, u in enumerate(asked) if u.endswith("/api/auth/session"))
    assert asked.index(rows[0]) < session + 3, asked  # asked beside the session check, not after

    before = names.first.inner_text()
    page.evaluate(
        """() => {
          window.__loadingSeen = false;
          const grid = document.querySelector('[data-testid="assembly-grid"]');
          new MutationObserver(() => {
            if (grid.textContent.includes('Loading…')) window.__loadingSeen = true;
          }).observe(grid, { subtree: true, childList: true, characterData: true });
        }"""
    )
    page.get_by_test_id("quick-search").fill(before)
    expect(names.first).to_have_text(before)
    assert page.evaluate("window.__loadingSeen") is False
