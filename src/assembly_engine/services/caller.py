"""Who is asking, and the one way services write what they did to the audit log."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..types import Domain
from .audit import AuditEvent, AuditLog, Outcome
from .auth.policy import Actor, Decision
from .errors import Denied


@dataclass(frozen=True)
class Caller:
    """The actor (None when anonymous) and the hashed session id (never the token)."""

    actor: Actor | None
    session: str | None = None
    local_cli: bool = False  # the `assemblies` CLI on the engine's own machine

    @property
    def username(self) -> str | None:
        return self.actor.username if self.actor else None

    @property
    def is_admin(self) -> bool:
        return self.actor is not None and self.actor.is_admin


ANONYMOUS = Caller(None)

log = logging.getLogger("assembly_engine.audit")


class Auditor:
    def __init__(self, audit: AuditLog) -> None:
        self.log = audit

    def record(self, caller: Caller, action: str, outcome: Outcome, *,
               domain: Domain | None = None, guid: str | None = None,
               detail: str | None = None, user: str | None = None) -> None:
        actor = caller.actor
        event = AuditEvent(
            action=action,
            outcome=outcome,
            user=actor.username if actor else user,
            role=actor.role.value if actor else None,
            session=caller.session,
            domain=domain.value if domain else None,
            assembly_guid=guid,
            dev_mode=bool(actor and actor.dev_mode),
            detail=detail,
        )
        try:
            self.log.record(event)
        except OSError as exc:
            # The action's own outcome stands (a refusal stays a refusal, a queued change stays
            # queued); losing its audit entry is reported loudly instead of turned into a 500.
            log.critical("AUDIT WRITE FAILED (%s): %s %s user=%s domain=%s guid=%s", exc,
                         event.action, event.outcome.value, event.user, event.domain,
                         event.assembly_guid)

    def require(self, decision: Decision, caller: Caller, action: str, *,
                domain: Domain | None = None, guid: str | None = None) -> None:
        """Raise Denied (after auditing the denial) unless the decision allows."""
        if decision.allowed:
            return
        self.record(caller, action, Outcome.DENIED, domain=domain, guid=guid, detail=decision.message)
        raise Denied(decision.error or "forbidden", decision.message)
