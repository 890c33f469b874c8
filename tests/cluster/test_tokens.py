"""API tokens in cluster mode: a token made through one node works through the other, and
its revocation or its owner's disabling reaches every node at the next request (tokens are
not cached on a node, Docs/tokens-and-sso.md "Cluster mode")."""

from __future__ import annotations

import httpx

from tests.cluster.nodes import NodeFactory

OPERATOR_PASSWORD = "operator-password-1"


def _token(url: str, session: dict[str, str], name: str) -> dict[str, str]:
    made = httpx.post(
        f"{url}/api/tokens",
        headers=session,
        json={"name": name, "scopes": ["assemblies:read"], "expires_in_days": 1},
        timeout=30,
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


def _list(url: str, secret: str) -> httpx.Response:
    return httpx.get(f"{url}/api/assemblies", headers={"Authorization": f"Bearer {secret}"}, timeout=30)


def test_a_token_and_its_end_are_seen_by_every_node(node: NodeFactory) -> None:
    a, b = node("a"), node("b")
    admin_a = a.login()
    made = httpx.post(
        f"{a.url}/api/users",
        headers=admin_a,
        json={"username": "olga", "password": OPERATOR_PASSWORD, "role": "operator"},
        timeout=30,
    )
    assert made.status_code == 201, made.text

    runner = _token(a.url, admin_a, "runner")
    assert _list(b.url, runner["token"]).status_code == 200
    listed = httpx.get(f"{b.url}/api/tokens", headers=b.login(), timeout=30).json()["items"]
    assert runner["id"] in [t["id"] for t in listed]
    revoked = httpx.delete(f"{b.url}/api/tokens/{runner['id']}", headers=b.login(), timeout=30)
    assert revoked.status_code == 204, revoked.text
    refused = _list(a.url, runner["token"])  # at once: no wait for a cache on node A
    assert refused.status_code == 401 and "revoked" in refused.json()["message"]

    olga = _token(b.url, b.login("olga", OPERATOR_PASSWORD), "olga runner")
    assert _list(a.url, olga["token"]).status_code == 200
    disabled = httpx.patch(f"{b.url}/api/users/olga", headers=admin_a, json={"disabled": True}, timeout=30)
    assert disabled.status_code == 200, disabled.text
    refused = _list(a.url, olga["token"])
    assert refused.status_code == 401 and "disabled" in refused.json()["message"]
