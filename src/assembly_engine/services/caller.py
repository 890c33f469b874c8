"""Who is asking, and the one way services write what they did to the audit log."""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..persistence.models import utc_now
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


# Added to the detail of an entry written at a start, for a change made durable just
# before a crash cut off its audit entry.
RECOVERED = " (recorded at the next start: the engine stopped before auditing it)"


class Auditor:
    def __init__(self, audit: AuditLog) -> None:
        self.log = audit

    def record(self, caller: Caller, action: str, outcome: Outcome, *,
               domain: Domain | None = None, guid: str | None = None,
               detail: str | None = None, user: str | None = None) -> None:
        self._append(self._event(caller, action, outcome, domain=domain, guid=guid, detail=detail,
                                 user=user))

    # A change's success entry travels with the change: its note, written to the journal in
    # the same commit, is recorded here once the change is durable, and recorded at the
    # next start if a crash came in between (see ``recover``).
    def note(self, caller: Caller, action: str, *, domain: Domain, guid: str, detail: str) -> str:
        """The note of a successful change, to be recorded by :meth:`record_note`."""
        event = self._event(caller, action, Outcome.SUCCESS, domain=domain, guid=guid, detail=detail)
        return json.dumps({"time": utc_now(), "event": dataclasses.asdict(event)}, ensure_ascii=False)

    def record_note(self, note: str, *, suffix: str = "") -> None:
        time, event = _parse_note(note)
        if suffix:
            event = dataclasses.replace(event, detail=(event.detail or "") + suffix)
        self._append(event, at=time)

    def recover(self, notes: list[str]) -> int:
        """Record the notes (of changes replayed from the journal at start) whose entry the
        log lacks; returns how many were missing."""
        if not notes:
            return 0
        parsed = [_parse_note(n) for n in notes]
        # Entries land in the log a moment after their note's time, not always in its order.
        since = datetime.fromisoformat(min(t for t, _ in parsed)) - timedelta(minutes=1)
        seen = {(e.get("time"), e.get("action"), e.get("assembly_guid"))
                for e in self.log.entries_since(since.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z")}
        missing = 0
        for note, (time, event) in zip(notes, parsed, strict=True):
            if (time, event.action, event.assembly_guid) not in seen:
                self.record_note(note, suffix=RECOVERED)
                missing += 1
        if missing:
            log.warning("recorded %d audit entr(y/ies) a crash had cut off", missing)
        return missing

    @staticmethod
    def _event(caller: Caller, action: str, outcome: Outcome, *, domain: Domain | None,
               guid: str | None, detail: str | None, user: str | None = None) -> AuditEvent:
        actor = caller.actor
        return AuditEvent(
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

    def _append(self, event: AuditEvent, *, at: str | None = None) -> None:
        try:
            self.log.record(event, at=at)
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


def _parse_note(note: str) -> tuple[str, AuditEvent]:
    data = json.loads(note)
    event = data["event"]
    return str(data["time"]), AuditEvent(**{**event, "outcome": Outcome(event["outcome"])})
