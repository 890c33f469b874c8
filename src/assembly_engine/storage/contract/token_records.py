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


@dataclass(frozen=True)
class NewToken:
    """A token to store: the service made its id and hash; the store adds the owner's role."""

    id: str
    token_hash: str
    username: str
    name: str
    scopes: tuple[str, ...]
    created_at: float
    expires_at: float

    def insert_values(self, owner: str, owner_role: str) -> tuple[object, ...]:
        """The values of ``TOKEN_INSERT`` for the owner as the store found them."""
        scopes = " ".join(self.scopes)
        return (
            self.id,
            self.token_hash,
            owner,
            self.name,
            scopes,
            owner_role,
            self.created_at,
            self.expires_at,
        )


# Both backends' INSERT (placeholders in the store's own style); last_used and revoked start empty.
TOKEN_INSERT = (
    "INSERT INTO api_tokens (id, token_hash, username, name, scopes, created_role, "
    "created_at, expires_at, last_used, revoked) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, NULL, {no})"
)


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
