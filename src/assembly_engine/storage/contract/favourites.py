"""A user's favourite assemblies as every engine store keeps them (the two backends share it).

Favourites belong to a user, not to an assembly: they live in the engine store beside the
user's sessions and tokens and go with the user. Adding is bounded per user; the store
checks the cap and inserts in one transaction, so two tabs cannot pass it together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# added: stored now; kept: it was a favourite already; full: the user is at the cap;
# no_user: the user does not exist (deleted while signed in).
AddOutcome = Literal["added", "kept", "full", "no_user"]


@dataclass(frozen=True)
class Favourite:
    assembly_guid: str
    added_at: float  # seconds since the epoch, the store's clock at adding
