"""A person's favourite assemblies (Docs/assemblies.md, "Favourites"): list, star, unstar.

Kept per user on the server, so a star follows its owner to every browser. A token with
``assemblies:read`` may list its owner's favourites (api/token_scopes.py); changing them
is for a signed-in person, and the service refuses tokens again.
"""

from __future__ import annotations

from fastapi import APIRouter

from assembly_engine.api.deps import CurrentCaller, Services
from assembly_engine.api.errors import error_responses
from assembly_engine.api.params import AssemblyId
from assembly_engine.services.answers.records import FavouriteChanged, FavouriteList

router = APIRouter(prefix="/api/me/favourites", tags=["favourites"])


@router.get(
    "", response_model=FavouriteList, response_model_exclude_unset=True, responses=error_responses(401, 403)
)
def list_favourites(caller: CurrentCaller, engine: Services) -> FavouriteList:
    return engine.favourites.list(caller)


@router.put(
    "/{guid:guid}", response_model=FavouriteChanged, responses=error_responses(400, 401, 403, 404, 409)
)
def add_favourite(guid: AssemblyId, caller: CurrentCaller, engine: Services) -> FavouriteChanged:
    """Star an assembly (starring one that is starred already changes nothing); 409 at the cap."""
    return engine.favourites.add(caller, guid)


@router.delete("/{guid:guid}", response_model=FavouriteChanged, responses=error_responses(400, 401, 403, 404))
def remove_favourite(guid: AssemblyId, caller: CurrentCaller, engine: Services) -> FavouriteChanged:
    """Unstar an assembly; 404 when it is not one of your favourites."""
    return engine.favourites.remove(caller, guid)
