"""The scope each route family asks of an API token (api/token_scopes.py), default deny."""

from __future__ import annotations

import pytest

from assembly_engine.api.token_scopes import METRICS, READ, WRITE, required_scope


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("GET", "/api/assemblies", READ),
        ("POST", "/api/assemblies", WRITE),
        ("POST", "/api/assemblies/check", READ),
        ("POST", "/api/sync/plan", READ),
        ("POST", "/api/sync/render", READ),
        ("POST", "/api/sync/apply", WRITE),
        ("GET", "/metrics", METRICS),
        ("POST", "/api/assemblies/dev-mode/switch", None),
        ("GET", "/api/users", None),
        ("POST", "/api/tokens", None),
        ("POST", "/api/sync/elsewhere", None),
    ],
)
def test_each_route_family_asks_its_scope(method: str, path: str, scope: str | None) -> None:
    assert required_scope(method, path) == scope
