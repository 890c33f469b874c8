"""Browser tests: Debian's chromium (Playwright, sync API) against a real engine subprocess.

One engine per session (flush interval 1 s) on temporary roots. Its staging root is a
temporary copy of the shipped official library (``Data/Engine/Assemblies``) when the
repository has one; otherwise a few official and community assemblies are seeded through
the API by an admin in Dev Mode.

The engine must serve the built UI (``web/dist``) at ``/``. If it does not, every test
fails with a message saying so. ``AE_E2E_UI_PROXY=1`` serves ``web/dist`` from a small
same-origin proxy in front of the engine instead (local development only). The helpers
the tests use are in support.py.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from tests.e2e.support import Engine, add_operator, watch_for_problems
from tests.engine_process import EngineProcess
from tests.support import ADMIN_PASSWORD

REPO = Path(__file__).resolve().parents[2]
WEB_DIST = REPO / "web" / "dist"
SHIPPED_LIBRARY = REPO / "Data" / "Engine" / "Assemblies"
CHROMIUM = os.environ.get("AE_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

expect.set_options(timeout=15_000)


# -- the engine --------------------------------------------------------------------------


def _seed_library(engine: EngineProcess) -> None:
    """No shipped library yet: put a small official and community library in place."""
    with httpx.Client(base_url=engine.url, headers=engine.login(), timeout=30) as api:
        api.post(
            "/api/assemblies/dev-mode/switch",
            json={"enabled": True, "password": ADMIN_PASSWORD, "reason": "seed e2e library"},
        ).raise_for_status()
        samples: list[dict[str, Any]] = [
            {
                "domain": "official",
                "display_name": "Collect Disk Usage",
                "assembly_kind": "script",
                "assembly_type": "powershell",
                "category": "script",
                "summary": "Reports free space per drive.",
                "metadata": {"timeout_seconds": 600, "sites": {"mode": "all", "values": []}, "variables": []},
                "payload": {"script": "Get-PSDrive -PSProvider FileSystem | Format-Table\n", "files": []},
            },
            {
                "domain": "official",
                "display_name": "Restart Print Spooler",
                "assembly_kind": "script",
                "assembly_type": "batch",
                "category": "script",
                "summary": "Restarts the spooler service.",
                "payload": {"script": "@echo off\nREM restart\nnet stop spooler\nnet start spooler\n"},
            },
            {
                "domain": "official",
                "display_name": "Rotate Logs",
                "assembly_kind": "script",
                "assembly_type": "bash",
                "category": "script",
                "summary": "Compresses old logs.",
                "payload": {
                    "script": "#!/bin/bash\nfind /var/log -name '*.log' -mtime +7 -exec gzip {} \\;\n"
                },
            },
            {
                "domain": "official",
                "display_name": "Install Baseline Packages",
                "assembly_kind": "ansible",
                "assembly_type": "ansible",
                "category": "application",
                "summary": "Baseline packages.",
                "payload": {
                    "script": "- hosts: all\n  tasks:\n    - name: curl\n"
                    "      ansible.builtin.package:\n        name: curl\n"
                },
            },
            {
                "domain": "official",
                "display_name": "Math Operations",
                "assembly_kind": "workflow",
                "assembly_type": "workflow",
                "category": "workflow",
                "summary": "Adds two numbers.",
                "payload": {
                    "workflow": {
                        "tab_name": "Math Operations",
                        "nodes": [
                            {
                                "id": "a",
                                "type": "DataNode",
                                "position": {"x": 0, "y": 0},
                                "data": {"label": "A"},
                            },
                            {
                                "id": "b",
                                "type": "MathNode",
                                "position": {"x": 240, "y": 40},
                                "data": {"label": "A + 1"},
                            },
                        ],
                        "edges": [{"id": "e1", "source": "a", "target": "b"}],
                    }
                },
            },
            {
                "domain": "community",
                "display_name": "Clear Temp Folder",
                "assembly_kind": "script",
                "assembly_type": "python",
                "category": "script",
                "summary": "Shared by the team.",
                "payload": {"script": "import shutil, tempfile\nprint(tempfile.gettempdir())\n"},
            },
        ]
        for body in samples:
            api.post("/api/assemblies", json=body).raise_for_status()
        api.post("/api/assemblies/dev-mode/write", json={}).raise_for_status()
        api.post("/api/auth/logout").raise_for_status()


def _start_proxy(engine: EngineProcess) -> tuple[ThreadingHTTPServer, str]:
    """Serve web/dist with SPA fallback and forward /api to the engine, same origin."""
    upstream = httpx.Client(base_url=engine.url, timeout=60)
    hop = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in hop}
            reply = upstream.request(self.command, self.path, content=body, headers=headers)
            self.send_response(reply.status_code)
            for key, value in reply.headers.multi_items():
                if key.lower() not in hop:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(reply.content)))
            self.end_headers()
            self.wfile.write(reply.content)

        def _static(self) -> None:
            path = self.path.split("?", 1)[0]
            target = (WEB_DIST / path.lstrip("/")).resolve()
            if not target.is_file() or WEB_DIST.resolve() not in target.parents:
                target = WEB_DIST / "index.html"
            data = target.read_bytes()
            types = {
                ".html": "text/html",
                ".js": "text/javascript",
                ".css": "text/css",
                ".svg": "image/svg+xml",
            }
            self.send_response(200)
            self.send_header("Content-Type", types.get(target.suffix, "application/octet-stream"))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            if self.path.startswith("/api/") or self.path == "/openapi.json":
                self._forward()
            else:
                self._static()

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _serves_app(url: str) -> str | None:
    """None when GET / and an unknown UI path both answer the built index.html."""
    for path in ("/", "/assemblies/some-unknown-page"):
        try:
            reply = httpx.get(url + path, timeout=10)
        except httpx.HTTPError as exc:
            return f"GET {path} failed: {exc}"
        if reply.status_code != 200 or '<div id="root">' not in reply.text:
            kind = reply.headers.get("content-type")
            return f"GET {path} answered {reply.status_code} {kind}, not the UI's index.html"
    return None


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    if not (WEB_DIST / "index.html").is_file():
        pytest.fail("web/dist is missing: build the UI first (cd web && npm ci && npm run build)")
    root = tmp_path_factory.mktemp("e2e")
    staging = root / "staging"
    seeded = not (SHIPPED_LIBRARY / "official.db").is_file()
    if seeded:
        staging.mkdir()
    else:
        shutil.copytree(SHIPPED_LIBRARY, staging)
    process = EngineProcess(root / "home", staging, flush_interval=1).start()
    proxy = None
    try:
        if seeded:
            _seed_library(process)
        add_operator(process)
        url = process.url
        problem = _serves_app(url)
        if problem and os.environ.get("AE_E2E_UI_PROXY") == "1":
            proxy, url = _start_proxy(process)
            problem = _serves_app(url)
        if problem:
            pytest.fail(
                "The engine does not serve the web UI: " + problem + ". It must serve web/dist at '/' "
                "with index.html for unknown non-/api paths (set AE_E2E_UI_PROXY=1 to test the UI "
                "through a local proxy meanwhile)."
            )
        yield Engine(process, url, seeded)
    finally:
        if proxy is not None:
            proxy.shutdown()
        process.stop()


# -- the browser -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


@pytest.fixture
def new_context(browser: Browser, engine: Engine) -> Iterator[Callable[..., BrowserContext]]:
    contexts: list[BrowserContext] = []
    problems: list[str] = []

    def watch(page: Page) -> None:
        watch_for_problems(page, problems)

    def make(theme: Literal["light", "dark"] = "light") -> BrowserContext:
        context = browser.new_context(
            base_url=engine.url,
            accept_downloads=True,
            viewport={"width": 1440, "height": 900},
            color_scheme=theme,
        )
        context.add_init_script(f"try {{ window.localStorage.setItem('ae-theme', '{theme}') }} catch {{}}")
        context.on("page", watch)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert not problems, "the page reported problems:\n" + "\n".join(problems)


@pytest.fixture
def page(new_context: Callable[..., BrowserContext]) -> Page:
    return new_context().new_page()
