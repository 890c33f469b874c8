"""Who may do what — the only place that decides it.

Pure functions of an :class:`Actor` (or None for an anonymous caller) and, for writes, the
domain that is *actually* written: for an update, delete or import over an existing GUID
that is the existing record's domain; for a clone, the target domain. The API turns a
refusal into ``{"error": decision.error, "message": decision.message}`` with 401 or 403.

The rules (Docs/assemblies.md §8, §14.1): everyone signed in reads and exports everything; any signed-in user
writes the User-Created library; Official and Community, the Dev Mode write (flush) and the
official sync need an admin with Dev Mode on; user management and the Dev Mode switch need
an admin (Dev Mode not required).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from assembly_engine.domain.types import Domain, Role

UNAUTHORIZED = "unauthorized"
FORBIDDEN = "forbidden"
DEV_MODE_REQUIRED = "dev_mode_required"

DOMAIN_LABELS: dict[Domain, str] = {
    Domain.OFFICIAL: "Official",
    Domain.COMMUNITY: "Community",
    Domain.USER: "User-Created",
}

SIGN_IN_MESSAGE = "Sign in first."
OPERATOR_WRITE_MESSAGE = (
    "Operators may only change User-Created assemblies; clone it to User-Created to edit a copy."
)
ENABLE_DEV_MODE_HINT = (
    "enable Dev Mode from the Assemblies admin controls "
    "(POST /api/assemblies/dev-mode/switch), then try again."
)


@dataclass(frozen=True)
class Actor:
    username: str
    role: Role
    dev_mode: bool

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


class Decision(NamedTuple):
    allowed: bool
    error: str | None  # None | "unauthorized" | "forbidden" | "dev_mode_required"
    message: str


ALLOWED = Decision(True, None, "")


def _unauthorized() -> Decision:
    return Decision(False, UNAUTHORIZED, SIGN_IN_MESSAGE)


def _forbidden(message: str) -> Decision:
    return Decision(False, FORBIDDEN, message)


def _needs_dev_mode(what: str) -> Decision:
    return Decision(False, DEV_MODE_REQUIRED, f"{what} needs Dev Mode: {ENABLE_DEV_MODE_HINT}")


def _admin_with_dev_mode(actor: Actor | None, what: str, operator_message: str) -> Decision:
    if actor is None:
        return _unauthorized()
    if not actor.is_admin:
        return _forbidden(operator_message)
    if not actor.dev_mode:
        return _needs_dev_mode(what)
    return ALLOWED


def _admin(actor: Actor | None, operator_message: str) -> Decision:
    if actor is None:
        return _unauthorized()
    if not actor.is_admin:
        return _forbidden(operator_message)
    return ALLOWED


def may_read(actor: Actor | None) -> Decision:
    """List, search and open assemblies of every domain; see the queue."""
    return _unauthorized() if actor is None else ALLOWED


def may_write(actor: Actor | None, domain: Domain) -> Decision:
    """Create, update, delete, clone into or import into ``domain`` (the domain written)."""
    domain = Domain(domain)
    if domain is Domain.USER:
        return _unauthorized() if actor is None else ALLOWED
    return _admin_with_dev_mode(actor, f"Changing {DOMAIN_LABELS[domain]} assemblies", OPERATOR_WRITE_MESSAGE)


def may_export(actor: Actor | None) -> Decision:
    return _unauthorized() if actor is None else ALLOWED


def may_flush(actor: Actor | None) -> Decision:
    """The Dev Mode write: persist queued changes now."""
    return _admin_with_dev_mode(
        actor,
        "Writing the queue to the databases now",
        "Only admins with Dev Mode on can write the queue now; "
        "it is also written automatically in the background.",
    )


def may_prune(actor: Actor | None) -> Decision:
    """Apply history retention now."""
    return _admin_with_dev_mode(
        actor,
        "Pruning the history now",
        "Only admins with Dev Mode on can prune the history now; "
        "retention also runs in the background when a limit is set.",
    )


def may_export_official(actor: Actor | None, *, local_cli: bool) -> Decision:
    """A staging copy is written on the engine's machine, like a backup."""
    decision = _admin_with_dev_mode(
        actor,
        "Exporting the official library",
        "Only admins with Dev Mode on can export the official library.",
    )
    if decision.allowed and not local_cli:
        return _forbidden(
            "The staging copy is written on the engine's machine: run `assemblies export-official DIR` there."
        )
    return decision


def may_backup(actor: Actor | None, *, local_cli: bool) -> Decision:
    """A backup names a folder on the engine's machine: only its own CLI may name one."""
    decision = _admin_with_dev_mode(
        actor, "Writing a backup", "Only admins with Dev Mode on can write backups."
    )
    if decision.allowed and not local_cli:
        return _forbidden("Backups are written on the engine's machine: run `assemblies backup DEST` there.")
    return decision


def may_sync_official(actor: Actor | None) -> Decision:
    return _admin_with_dev_mode(
        actor,
        "Re-syncing the Official library",
        "Only admins with Dev Mode on can re-sync the Official library.",
    )


def may_manage_users(actor: Actor | None) -> Decision:
    return _admin(actor, "Only admins can manage users.")


def may_read_metrics(actor: Actor | None) -> Decision:
    """GET /metrics: admins. Hook for API tokens: one with the ``metrics:read`` scope is
    allowed here too once tokens exist (a scrape job should not need an admin's session)."""
    return _admin(actor, "Only admins can read the metrics.")


def may_toggle_dev_mode(actor: Actor | None) -> Decision:
    return _admin(actor, "Only admins can switch Dev Mode.")


# The scope an API token needs to write (services/auth/api_tokens.py SCOPES); a session has
# no scopes (None) and writes by role and Dev Mode alone.
WRITE_SCOPE = "assemblies:write"


def writable_domains(actor: Actor | None, scopes: frozenset[str] | None = None) -> tuple[Domain, ...]:
    """The domains ``actor`` may write right now, in the order the UI lists them: the web
    UI shows New, Edit, Delete and Clone from this instead of copying the rules above."""
    if scopes is not None and WRITE_SCOPE not in scopes:
        return ()
    return tuple(domain for domain in Domain if may_write(actor, domain).allowed)
