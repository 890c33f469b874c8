"""Who is asking: the actor, its session and address, and an API token's scopes."""

from __future__ import annotations

from dataclasses import dataclass

from assembly_engine.services.auth.policy import Actor


@dataclass(frozen=True)
class Caller:
    """The actor (None when anonymous) and the hashed session id (never the token)."""

    actor: Actor | None
    session: str | None = None
    local_cli: bool = False  # the `assemblies` CLI on the engine's own machine
    address: str | None = None  # the client's address (api/client_origin.py decides it)
    scopes: frozenset[str] | None = None  # an API token's scopes; None for a session

    @property
    def username(self) -> str | None:
        return self.actor.username if self.actor else None

    @property
    def is_admin(self) -> bool:
        return self.actor is not None and self.actor.is_admin


ANONYMOUS = Caller(None)

TOKEN_WITHOUT_DEV_MODE = (
    "This needs Dev Mode, which API tokens never have: sign in as an admin and enable Dev Mode "
    "for changes to Official and Community."
)
