"""Single sign-on in cluster mode: the provider's answer may reach another node than the
one that started the sign-in (the sealed start cookie's key is in PostgreSQL)."""

from __future__ import annotations

import httpx

from tests.cluster.nodes import NodeFactory
from tests.sso.support import browser_client, provider_process, sso_env
from tests.support import wait_until


def on_node(url: str, engine_url: str, other_url: str) -> str:
    return url.replace(engine_url, other_url, 1)


def test_a_sign_in_started_on_one_node_finishes_on_another(node: NodeFactory) -> None:
    with provider_process() as provider:
        env = sso_env(provider.issuer)
        a, b = node("a", **env), node("b", **env)
        provider.person("sub-nina", "nina", ["engine-admins"])
        with browser_client() as browser:
            started = browser.get(f"{a.url}/api/auth/oidc/start")
            assert started.status_code == 303, started.text
            callback = browser.get(started.headers["location"]).headers["location"]
            finished = browser.get(on_node(callback, a.url, b.url))
            assert finished.status_code == 303, finished.text
            session = {"Authorization": f"Bearer {browser.cookies.get('ae_session')}"}
            assert httpx.get(f"{a.url}/api/auth/me", headers=session, timeout=30).json()["user"] == {
                "username": "nina",
                "role": "admin",
            }
            # Dev Mode: asked on B, the provider's answer delivered to A.
            csrf = {"X-CSRF-Token": str(browser.cookies.get("ae_csrf")), "Origin": b.url}
            asked = browser.post(f"{b.url}/api/auth/oidc/dev-mode", json={"reason": "cluster"}, headers=csrf)
            assert asked.status_code == 200, asked.text
            pending = str(browser.cookies.get("ae_oidc"))
            back = browser.get(asked.json()["url"]).headers["location"]
            switched = browser.get(on_node(back, b.url, a.url))
            assert switched.status_code == 303, switched.text
            # A session row is reused for up to a second on a node (session_cache.py).
            wait_until(
                lambda: httpx.get(f"{b.url}/api/assemblies/dev-mode", headers=session, timeout=30).json()[
                    "enabled"
                ],
                "Dev Mode to be on as seen from node B",
            )
        with browser_client() as replay:  # the finished round trip cannot be replayed on B
            replay.cookies.set("ae_oidc", pending, domain="127.0.0.1", path="/api/auth/oidc")
            assert replay.get(back).status_code == 401
