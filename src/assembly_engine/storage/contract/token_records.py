"""API tokens as every engine store returns them (the two backends share the columns).

Only a token's SHA-256 is stored; the row carries the owner's role at creation and joins
the owner's current role and disabled flag, so the service judges the token at every use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TokenRow:
    id: str
    username: str
    name: str
    scopes: tuple[str, ...]
    created_role: str
    role: str  # the owner's role now
    user_disabled: bool
    created_at: float
    expires_at: float
    last_used: float | None
    revoked: bool


TOKEN_SELECT = """
    SELECT t.id, t.username, t.name, t.scopes, t.created_role, u.role, u.disabled,
           t.created_at, t.expires_at, t.last_used, t.revoked
    FROM api_tokens AS t JOIN users AS u ON u.username = t.username
"""


def token_row(row: Sequence[Any]) -> TokenRow:
    return TokenRow(
        id=row[0],
        username=row[1],
        name=row[2],
        scopes=tuple(str(row[3]).split()),
        created_role=row[4],
        role=row[5],
        user_disabled=bool(row[6]),
        created_at=float(row[7]),
        expires_at=float(row[8]),
        last_used=None if row[9] is None else float(row[9]),
        revoked=bool(row[10]),
    )
