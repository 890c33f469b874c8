"""The engine's own records (users, sign-in sessions) as every engine store returns them.

The two backends keep the same columns, so the column lists and row readers live here too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

UpdateResult = Literal["updated", "not_found", "last_admin"]


@dataclass(frozen=True)
class UserRow:
    username: str
    password_hash: str
    role: str
    disabled: bool
    created_at: str
    updated_at: str
    # Set by a password someone else chose (the generated first admin password, an admin's
    # new account or reset); cleared when the user picks their own.
    must_change_password: bool = False


@dataclass(frozen=True)
class SessionRow:
    token_hash: str
    username: str
    role: str
    user_disabled: bool
    created_at: float
    expires_at: float
    last_seen: float
    dev_mode_until: float | None
    dev_mode_reason: str | None
    revoked: bool


# Columns and row shapes both backends read (postgresql/engine_store.py too).
USER_COLUMNS = "username, password_hash, role, disabled, created_at, updated_at, must_change_password"


SESSION_SELECT = """
    SELECT s.token_hash, s.username, u.role, u.disabled, s.created_at, s.expires_at,
           s.last_seen, s.dev_mode_until, s.dev_mode_reason, s.revoked
    FROM sessions AS s JOIN users AS u ON u.username = s.username
"""


def user_row(row: Sequence[Any]) -> UserRow:
    return UserRow(
        username=row[0],
        password_hash=row[1],
        role=row[2],
        disabled=bool(row[3]),
        created_at=row[4],
        updated_at=row[5],
        must_change_password=bool(row[6]),
    )


def session_row(row: Sequence[Any]) -> SessionRow:
    return SessionRow(
        token_hash=row[0],
        username=row[1],
        role=row[2],
        user_disabled=bool(row[3]),
        created_at=float(row[4]),
        expires_at=float(row[5]),
        last_seen=float(row[6]),
        dev_mode_until=None if row[7] is None else float(row[7]),
        dev_mode_reason=row[8],
        revoked=bool(row[9]),
    )


@dataclass(frozen=True)
class UserState:
    """A user's role and whether the account is disabled."""

    role: str
    disabled: bool


@dataclass(frozen=True)
class UserChange:
    """What one ``update_user`` changes, in one transaction (None: left as it is)."""

    role: str | None = None
    disabled: bool | None = None
    password_hash: str | None = None
    revoke_sessions: bool = False  # end every session of the user
    revoke_sessions_except: str | None = None  # end every session but this one (by hash)
    clear_dev_mode: bool = False  # end Dev Mode on every session of the user
    must_change_password: bool | None = None  # a password chosen for the user (True) or by them

    @property
    def ends_sessions(self) -> bool:
        return self.revoke_sessions or self.revoke_sessions_except is not None


def changed_user(
    current: UserState, change: UserChange, other_enabled_admins: Callable[[], int]
) -> UserState | None:
    """The user as ``change`` leaves them, or None when the change would demote or disable
    the last enabled admin and lock everyone out of user management. Every engine store
    decides by this one rule, inside its own transaction."""
    new = UserState(
        current.role if change.role is None else change.role,
        current.disabled if change.disabled is None else change.disabled,
    )
    was_enabled_admin = current.role == "admin" and not current.disabled
    if was_enabled_admin and (new.role != "admin" or new.disabled) and other_enabled_admins() == 0:
        return None
    return new
