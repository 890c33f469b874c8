"""Single sign-on in Debian's chromium: the sign-in page's "Sign in with …", the round
trip through the test provider, Dev Mode re-authentication and a refusal page."""

from __future__ import annotations

import os
import re

from playwright.sync_api import Browser, Page, Request, expect, sync_playwright

from tests.engine_process import EngineProcess
from tests.sso.support import ProviderProcess, users
from tests.support import in_own_thread

CHROMIUM = os.environ.get("AE_E2E_CHROMIUM", "/usr/bin/chromium")
WAIT = 60_000  # ms: the machine is shared and slow at times; nothing here is a timing claim
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def test_sign_in_dev_mode_and_refusal_in_chromium(engine: EngineProcess, provider: ProviderProcess) -> None:
    def scenario() -> None:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            try:
                page = browser.new_context().new_page()
                provider.person("sub-hanna", "hanna", ["engine-admins"])
                page.goto(engine.url)
                button = page.get_by_test_id("sso-sign-in")
                expect(button).to_have_text("Sign in with Test IdP", timeout=WAIT)
                button.click()
                expect(page.get_by_test_id("user-name")).to_have_text("hanna", timeout=WAIT)
                expect(page.get_by_test_id("user-role")).to_have_text(re.compile("admin", re.I), timeout=WAIT)

                page.get_by_test_id("dev-mode-switch").click()
                expect(page.locator("input[name=dev-mode-reason]")).to_be_visible(timeout=WAIT)
                expect(page.locator("input[name=dev-mode-password]")).to_have_count(0, timeout=WAIT)
                page.locator("input[name=dev-mode-reason]").fill("browser test")
                page.get_by_role("button", name="Continue at the provider").click()
                # Back from the provider (at /?dev_mode=on, which the list replaces with its
                # own address at once, so the address is no sign to wait for): Dev Mode is on.
                expect(page.get_by_test_id("dev-mode-switch")).to_be_checked(timeout=WAIT)
                expect(page.get_by_text("Dev Mode is on")).to_be_visible(timeout=WAIT)

                other = browser.new_context().new_page()
                provider.person("sub-ivo", "ivo", ["sales"])
                other.goto(engine.url)
                other.get_by_test_id("sso-sign-in").click()
                expect(other.locator("h1")).to_have_text("Sign-in refused", timeout=WAIT)
                expect(other.locator("#sso-error")).to_contain_text("none of the groups", timeout=WAIT)
                other.get_by_role("link", name="Back to the sign-in page").click()
                expect(other.get_by_test_id("sso-sign-in")).to_be_visible(timeout=WAIT)
            finally:
                browser.close()

    in_own_thread(scenario)


def test_a_changed_group_and_bad_id_tokens_in_chromium(
    engine: EngineProcess, provider: ProviderProcess
) -> None:
    """The role follows the groups at each sign-in; an ID token failing a check shows the
    refusal page in the browser and creates no account."""

    def sign_in(browser: Browser) -> Page:
        page = browser.new_context().new_page()  # a fresh browser profile: no session yet
        page.goto(engine.url)
        page.get_by_test_id("sso-sign-in").click(timeout=WAIT)
        return page

    def scenario() -> None:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            try:
                provider.person("sub-jan", "jan", ["engine-operators"])
                page = sign_in(browser)
                expect(page.get_by_test_id("user-name")).to_have_text("jan", timeout=WAIT)
                expect(page.get_by_test_id("user-role")).to_have_text(
                    re.compile("operator", re.I), timeout=WAIT
                )
                provider.person("sub-jan", "jan", ["engine-admins"])
                page = sign_in(browser)
                expect(page.get_by_test_id("user-role")).to_have_text(re.compile("admin", re.I), timeout=WAIT)

                for mode, says in (
                    ("wrong_nonce", "nonce"),
                    ("wrong_audience", "aud"),
                    ("expired", "exp"),
                    ("unknown_kid", "key the provider does not publish"),
                ):
                    provider.person(f"sub-{mode}", f"chromium-{mode.replace('_', '-')}", ["engine-admins"])
                    provider.control(mode=mode)
                    page = sign_in(browser)
                    expect(page.locator("h1")).to_have_text("Sign-in refused", timeout=WAIT)
                    expect(page.locator("#sso-error")).to_contain_text(says, timeout=WAIT)
                    provider.control(mode="ok")
            finally:
                browser.close()

    in_own_thread(scenario)
    accounts = users(engine)
    assert accounts["jan"]["role"] == "admin"
    assert not [name for name in accounts if name.startswith("chromium-")]


def test_a_forged_state_and_a_replayed_code_in_chromium(
    engine: EngineProcess, provider: ProviderProcess
) -> None:
    """The provider's answer with another state, and a finished sign-in's answer delivered
    again with its start cookie (in a second browser): both refused, nothing created."""
    callbacks: list[Request] = []

    def scenario() -> None:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            try:
                provider.person("sub-stan", "chromium-stan", ["engine-admins"])
                provider.control(mode="wrong_state")
                page = browser.new_context().new_page()
                page.goto(engine.url)
                page.get_by_test_id("sso-sign-in").click(timeout=WAIT)
                expect(page.locator("h1")).to_have_text("Sign-in refused", timeout=WAIT)
                expect(page.locator("#sso-error")).to_contain_text("state differs", timeout=WAIT)
                provider.control(mode="ok")

                provider.person("sub-rex", "chromium-rex", ["engine-operators"])
                page = browser.new_context().new_page()
                page.on(
                    "request", lambda r: callbacks.append(r) if "/api/auth/oidc/callback" in r.url else None
                )
                page.goto(engine.url)
                page.get_by_test_id("sso-sign-in").click(timeout=WAIT)
                expect(page.get_by_test_id("user-name")).to_have_text("chromium-rex", timeout=WAIT)
                [callback] = callbacks
                sent = dict(
                    part.strip().split("=", 1) for part in (callback.header_value("cookie") or "").split(";")
                )
                thief = browser.new_context()
                thief.add_cookies(
                    [
                        {
                            "name": "ae_oidc",
                            "value": sent["ae_oidc"],
                            "domain": "127.0.0.1",
                            "path": "/api/auth/oidc",
                        }
                    ]
                )
                page = thief.new_page()
                page.goto(callback.url)
                expect(page.locator("h1")).to_have_text("Sign-in refused", timeout=WAIT)
                expect(page.locator("#sso-error")).to_contain_text("used already", timeout=WAIT)
                assert not [c for c in thief.cookies() if c["name"] == "ae_session"]
            finally:
                browser.close()

    in_own_thread(scenario)
    assert "chromium-stan" not in users(engine)
