"""Helpers of the browser tests (their fixtures are in conftest.py): the engine they run
against, the users, signing in, switching Dev Mode from a page, holding a database's
write lock, and where screenshots go."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.engine_process import EngineProcess
from tests.support import ADMIN_PASSWORD, REPO_ROOT

ARTIFACTS = REPO_ROOT / "test-artifacts"
OPERATOR = ("olga", "operator-password-olga")
ADMIN = ("admin", ADMIN_PASSWORD)


def watch_for_problems(page: Page, problems: list[str]) -> None:
    """Uncaught exceptions and console errors/warnings of ``page`` go into ``problems`` (the
    test fails on any); a refused request the UI handles (401 before sign-in, 409) does not."""
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console.{msg.type}: {msg.text}")
            if msg.type in ("error", "warning") and "Failed to load resource" not in msg.text
            else None
        ),
    )


def add_operator(engine: EngineProcess) -> None:
    """olga, an operator. The admin chose her password, so the UI would ask her for her
    own on every page (test_account.py tests that prompt): she confirms it once here."""
    with httpx.Client(base_url=engine.url, headers=engine.login(), timeout=30) as admin:
        admin.post(
            "/api/users", json={"username": OPERATOR[0], "password": OPERATOR[1], "role": "operator"}
        ).raise_for_status()
    with httpx.Client(base_url=engine.url, headers=engine.login(*OPERATOR), timeout=30) as olga:
        olga.patch(
            f"/api/users/{OPERATOR[0]}", json={"password": OPERATOR[1], "current_password": OPERATOR[1]}
        ).raise_for_status()


DEV_MODE_REASON = "e2e tests"


@dataclass
class Engine:
    process: EngineProcess
    url: str  # where the browser goes (the engine itself, or the local proxy)
    seeded: bool

    def api(self, user: tuple[str, str] = ADMIN) -> httpx.Client:
        headers = self.process.login(*user)
        return httpx.Client(base_url=self.process.url, headers=headers, timeout=30)


def sign_in(page: Page, user: tuple[str, str]) -> None:
    page.goto("/")
    page.get_by_label("Username").fill(user[0])
    page.get_by_label("Password").fill(user[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("user-name")).to_have_text(user[0])


def open_new_script(page: Page) -> None:
    """Open the new-script editor and wait for the first check of its empty script, so a
    test starts from the settled form (its check count and problems list shown)."""
    page.goto("/assemblies/new/script")
    expect(page.get_by_test_id("problems")).to_be_visible()


def search_list(page: Page, text: str) -> None:
    """Type a quick search and wait until it is applied (it is debounced): a click on a
    row while the grid is still replacing its rows may be lost."""
    page.get_by_test_id("quick-search").fill(text)
    expect(page).to_have_url(re.compile(r"[?&]q="))


def dev_mode_api(page: Page, enabled: bool) -> int:
    """Switch Dev Mode of the page's own session, as another tab of it would."""
    body: dict[str, object] = {"enabled": enabled}
    if enabled:
        body.update(password=ADMIN[1], reason=DEV_MODE_REASON)
    return int(
        page.evaluate(
            """async (body) => {
        const csrf = document.cookie.split('; ').find(c => c.startsWith('ae_csrf=')).split('=')[1];
        const r = await fetch('/api/assemblies/dev-mode/switch', {method: 'POST', headers: {
            'Content-Type': 'application/json', 'X-CSRF-Token': decodeURIComponent(csrf)},
            body: JSON.stringify(body)});
        return r.status;
    }""",
            body,
        )
    )


@contextmanager
def hold_write_lock(database: Path) -> Iterator[None]:
    """Hold a domain database's write lock, as another process could: flushes must wait."""
    assert database.is_file(), database
    conn = sqlite3.connect(database, isolation_level=None, timeout=30)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def artifact(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name
