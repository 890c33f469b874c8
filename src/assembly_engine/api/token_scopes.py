"""Which scope an API token needs for a request — decided by path, default deny.

A token reaches only the route families listed here (and who it is: GET /api/auth/me with
the read scope); every other path (users, tokens, the Dev Mode switch, admin tasks, sign-in
sessions, and any route added later) refuses tokens until it is given a scope on purpose.
Sessions are not affected by this table.
"""

from __future__ import annotations

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

READ = "assemblies:read"
WRITE = "assemblies:write"
METRICS = "metrics:read"

_ASSEMBLIES = "/api/assemblies"
_NEVER = ("/api/assemblies/dev-mode/switch",)
# POSTed, but stores nothing: checking a draft, planning a sync or rendering a library
# folder is reading (a CI job's read token may).
_READ_POSTS = frozenset({"/api/assemblies/check", "/api/sync/plan", "/api/sync/render"})
_WHO_AM_I = "/api/auth/me"
_SYNC_APPLY = "/api/sync/apply"  # writes through the normal write path, as its owner
# A token may list its owner's favourites; starring is for a person (services/favourites.py).
_FAVOURITES = "/api/me/favourites"


def required_scope(method: str, path: str) -> str | None:
    """The scope a token needs for ``method path``; None when no token may do it."""
    path = path.rstrip("/") or "/"
    if any(path == p or path.startswith(p + "/") for p in _NEVER):
        return None
    if path == _ASSEMBLIES or path.startswith(_ASSEMBLIES + "/"):
        return READ if method in SAFE_METHODS or path in _READ_POSTS else WRITE
    if path in _READ_POSTS:
        return READ
    if path == _SYNC_APPLY:
        return WRITE
    if path == _WHO_AM_I and method in SAFE_METHODS:
        return READ  # a program may ask who it is and what it may write
    if path == _FAVOURITES and method in SAFE_METHODS:
        return READ
    if path == "/metrics" and method in SAFE_METHODS:
        return METRICS
    return None
