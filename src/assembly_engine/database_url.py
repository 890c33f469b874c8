"""``ENGINE_DATABASE_URL``: the PostgreSQL URL of cluster mode, checked before anything uses it.

A URL is ``postgresql://user:password@host:port/dbname`` (``postgres://`` too, libpq's
query parameters allowed, several ``host:port`` pairs for failover). libpq's own parser
judges it (psycopg's ``conninfo_to_dict``), so what passes here is what the driver will
accept; on top of that a database must be named and every port must be 1-65535.

The password never appears in a message: :func:`redact` replaces it with ``***``.
"""

from __future__ import annotations

import re

SCHEMES = ("postgresql", "postgres")
EXAMPLE = "postgresql://user:password@host:5432/dbname"
_QUOTED = re.compile(r'"([^"]*)"')


class InvalidDatabaseUrl(ValueError):
    """The URL is not one libpq (or the engine) accepts; the message says why."""


def _userinfo(url: str) -> str:
    """The raw ``user:password`` part of a URL ('' when it has none)."""
    rest = url.split("://", 1)[1] if "://" in url else ""
    authority = re.split(r"[/?]", rest, maxsplit=1)[0]
    return authority.rpartition("@")[0]


def is_database_url(text: str) -> bool:
    """Whether ``text`` names a PostgreSQL database (rather than, say, a folder)."""
    return any(text.startswith(f"{scheme}://") for scheme in SCHEMES)


def redact(url: str) -> str:
    """The URL with its password (if any) replaced by ``***``."""
    userinfo = _userinfo(url)
    if ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return url.replace(userinfo + "@", f"{user}:***@", 1)


def _safe_reason(reason: str, url: str) -> str:
    """libpq's message without any quoted fragment that holds (part of) the password."""
    secret = _userinfo(url).partition(":")[2]

    def scrub(match: re.Match[str]) -> str:
        token = match.group(1)
        if secret and (secret in token or (token and token in secret)):
            return f'"{redact(url)}"' if token == url else '"***"'
        return match.group(0)

    return _QUOTED.sub(scrub, reason.strip())


def validate_database_url(url: str) -> dict[str, str]:
    """libpq's parameters of ``url``; :class:`InvalidDatabaseUrl` when it is malformed."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in SCHEMES:
        raise InvalidDatabaseUrl(f"must be a PostgreSQL URL like {EXAMPLE}, not {redact(url)!r}")
    from psycopg import ProgrammingError  # the driver is loaded only when the URL is set
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = {key: str(value) for key, value in conninfo_to_dict(url).items()}
    except ProgrammingError as exc:
        raise InvalidDatabaseUrl(
            f"{redact(url)!r} is not a valid PostgreSQL URL: {_safe_reason(str(exc), url)}"
        ) from None
    if not params.get("dbname"):
        raise InvalidDatabaseUrl(
            f"{redact(url)!r} names no database (the path after the host, as in {EXAMPLE})"
        )
    for port in filter(None, params.get("port", "").split(",")):
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            raise InvalidDatabaseUrl(
                f"{redact(url)!r} has the port {port!r}; a port is a number from 1 to 65535"
            )
    return params
