"""Favourite assemblies per user: the star in the list and the editor, the Favourites filter.

Stored in the engine store (contract/favourites.py) on both backends, bounded per user.
A favourite names an assembly that exists when it is added; one deleted later stays
stored (an undelete brings its star back) but is left out of the list. API tokens may
read their owner's favourites with ``assemblies:read``; changing them is for a person.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assembly_engine.services.assemblies.views import record_view
from assembly_engine.services.audit import Outcome
from assembly_engine.services.auditor import Auditor
from assembly_engine.services.auth import policy
from assembly_engine.services.caller import Caller
from assembly_engine.services.errors import Conflict, Forbidden, NotFound, Unauthorized
from assembly_engine.storage.cache.assembly_cache import AssemblyCache
from assembly_engine.storage.contract.interfaces import EngineStore
from assembly_engine.storage.contract.signatures import OfficialTrust

# How many favourites one user keeps: a star is for the few assemblies used every day.
FAVOURITES_PER_USER = 500
NOT_FOR_TOKENS = (
    "API tokens may read favourites but not change them: sign in with your account to star "
    "or unstar an assembly."
)
GONE_USER = "Your account no longer exists; sign in again with another account."


@dataclass(frozen=True)
class FavouriteChange:
    assembly_guid: str
    favourite: bool
    total: int  # the user's favourites after the change
    limit: int = FAVOURITES_PER_USER


class Favourites:
    def __init__(
        self,
        store: EngineStore,
        cache: AssemblyCache,
        auditor: Auditor,
        trust: Callable[[], OfficialTrust],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._cache = cache
        self._auditor = auditor
        self._trust = trust
        self._clock = clock

    def _user(self, caller: Caller, action: str) -> str:
        self._auditor.require(policy.may_read(caller.actor), caller, action)
        if caller.username is None:  # the local CLI is no user: it has no favourites
            raise Unauthorized("Favourites belong to a signed-in user; sign in with your account.")
        return caller.username

    def list(self, caller: Caller) -> dict[str, Any]:
        """The caller's favourites that exist now, most recently starred first, as list rows."""
        username = self._user(caller, "favourite.list")
        trust = self._trust()
        items = []
        for favourite in self._store.list_favourites(username):
            found = self._cache.get(favourite.assembly_guid)
            if found is not None:
                items.append(
                    record_view(
                        found, include_payload_guid=caller.is_admin, include_metadata=False, trust=trust
                    )
                )
        return {"items": items, "total": len(items), "limit": FAVOURITES_PER_USER}

    def add(self, caller: Caller, guid: str) -> FavouriteChange:
        username = self._changing(caller, "favourite.add", guid)
        if self._cache.get(guid) is None:
            raise NotFound(
                f"No assembly with id {guid} exists (it may have been deleted); nothing was starred."
            )
        outcome = self._store.add_favourite(username, guid, self._clock(), FAVOURITES_PER_USER)
        if outcome == "no_user":
            raise Unauthorized(GONE_USER)
        if outcome == "full":
            message = (
                f"You have {FAVOURITES_PER_USER} favourites, the most one person keeps; "
                "unstar one before starring another."
            )
            self._auditor.record(caller, "favourite.add", Outcome.FAILED, guid=guid, detail=message)
            raise Conflict(message)
        if outcome == "added":
            self._auditor.record(caller, "favourite.add", Outcome.SUCCESS, guid=guid)
        return FavouriteChange(guid, True, len(self._store.list_favourites(username)))

    def remove(self, caller: Caller, guid: str) -> FavouriteChange:
        username = self._changing(caller, "favourite.remove", guid)
        if not self._store.remove_favourite(username, guid):
            raise NotFound(f"Assembly {guid} is not one of your favourites; nothing was changed.")
        self._auditor.record(caller, "favourite.remove", Outcome.SUCCESS, guid=guid)
        return FavouriteChange(guid, False, len(self._store.list_favourites(username)))

    def _changing(self, caller: Caller, action: str, guid: str) -> str:
        username = self._user(caller, action)
        if caller.scopes is not None:
            self._auditor.record(caller, action, Outcome.DENIED, guid=guid, detail=NOT_FOR_TOKENS)
            raise Forbidden(NOT_FOR_TOKENS)
        return username
