"""What the engine tables written once (account_tables.py, token_tables.py,
favourite_tables.py) need of a backend: its transactions and how it spells a few things.

Both engine stores hold the same users, sessions, api_tokens and favourites tables under
the same rules; their statements are written once, with "?" for a parameter, and each
backend supplies an :class:`EngineDialect` and ``_read``/``_write``.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol


class Cursor(Protocol):
    """What the statements here read back: sqlite3's and psycopg's cursors both fit."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> Sequence[Any]: ...


class Executes(Protocol):
    """A connection inside one of the backend's transactions."""

    def execute(self, query: str, params: Any = ..., /) -> Cursor: ...


@dataclass(frozen=True)
class EngineDialect:
    """How one backend spells the few things SQL leaves to the database."""

    # The parameter marker: the statements here are written with "?" and rewritten.
    placeholder: str
    # A name as it is compared and sorted: ASCII letters without case (SQLite's NOCASE).
    folded_template: str
    # Row lock taken on a user a new session (or token) belongs to: "" where the
    # transaction already holds the database's write lock.
    for_share: str = ""
    # Row lock on a user whose rows are counted before an insert (favourites' cap), so two
    # writers for one user take turns; "" where the transaction holds the write lock.
    for_update: str = ""
    # Run before judging the users table as a whole (first admin, last admin), so another
    # writer cannot change it before commit; none where the transaction holds the write lock.
    lock_users: tuple[str, ...] = ()

    def sql(self, statement: str) -> str:
        return statement if self.placeholder == "?" else statement.replace("?", self.placeholder)

    def folded(self, column: str = "username") -> str:
        return self.folded_template.format(column)

    def same_name(self, column: str = "username") -> str:
        """``column`` names the same user as the parameter."""
        return f"{self.folded(column)} = {self.folded('?')}"


class EngineTables:
    """The base of the table mixins: the backend's store supplies ``_read``/``_write`` (one
    transaction each; ``doing`` completes "while ..." in a refusal) and its dialect."""

    _dialect: EngineDialect

    def _write(self, doing: str) -> AbstractContextManager[Executes]:
        raise NotImplementedError

    def _read(self, doing: str) -> AbstractContextManager[Executes]:
        raise NotImplementedError

    def _user(self, conn: Executes, username: str, condition: str = "", lock: str = "") -> Any:
        """The stored (name, role) of ``username``, or None; ``condition`` narrows it
        (e.g. " AND NOT disabled"), ``lock`` holds the row for the transaction."""
        d = self._dialect
        return conn.execute(
            d.sql(f"SELECT username, role FROM users WHERE {d.same_name()}{condition}{lock}"), (username,)
        ).fetchone()
