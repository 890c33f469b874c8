"""A person's favourite assemblies (Docs/assemblies.md, "Favourites"): list, star, unstar.

Kept per user on the server, so a star follows its owner to every browser. A token with
``assemblies:read`` may list its owner's favourites (api/token_scopes.py); changing them
is for a signed-in person, and the service refuses tokens again.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from assembly_engine.api.answers import Answer, ListItem
from assembly_engine.api.deps import CurrentCaller, Services
from assembly_engine.api.errors import error_responses
from assembly_engine.api.params import AssemblyId

router = APIRouter(prefix="/api/me/favourites", tags=["favourites"])


class FavouriteList(Answer):
    """Your starred assemblies that exist now, most recently starred first."""

    items: list[ListItem]
    total: int
    limit: int  # the most one user keeps


class FavouriteChanged(Answer):
    assembly_guid: str
    favourite: bool
    total: int
    limit: int


@router.get("", response_model=FavouriteList, responses=error_responses(401, 403))
def list_favourites(caller: CurrentCaller, engine: Services) -> dict[str, Any]:
    return engine.favourites.list(caller)


@router.put(
    "/{guid:guid}", response_model=FavouriteChanged, responses=error_responses(400, 401, 403, 404, 409)
)
def add_favourite(guid: AssemblyId, caller: CurrentCaller, engine: Services) -> dict[str, Any]:
    """Star an assembly (starring one that is starred already changes nothing); 409 at the cap."""
    return asdict(engine.favourites.add(caller, guid))


@router.delete("/{guid:guid}", response_model=FavouriteChanged, responses=error_responses(400, 401, 403, 404))
def remove_favourite(guid: AssemblyId, caller: CurrentCaller, engine: Services) -> dict[str, Any]:
    """Unstar an assembly; 404 when it is not one of your favourites."""
    return asdict(engine.favourites.remove(caller, guid))
