"""The one way services write what they did to the audit log (:class:`Auditor`).

A refusal or failure is written at once; a change's success entry travels with the change
as an :class:`AuditNote` and is written once the change is durable (or in the change's
own commit, where the journal can do that).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
import threading
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from time import time as epoch_seconds
from typing import Any

from assembly_engine.domain.clock import utc_iso, utc_now
from assembly_engine.domain.types import Domain
from assembly_engine.services.audit import AuditEvent, AuditLog, Outcome
from assembly_engine.services.auth.policy import DEV_MODE_REQUIRED, Decision
from assembly_engine.services.caller import TOKEN_WITHOUT_DEV_MODE, Caller
from assembly_engine.services.errors import EngineError, denied

log = logging.getLogger("assembly_engine.audit")


# Added to the detail of an entry written at a start, for a change made durable just
# before a crash cut off its audit entry.
RECOVERED = " (recorded at the next start: the engine stopped before auditing it)"
# Entries held while the audit store refuses appends (PostgreSQL away, a full disk).
HELD_LIMIT = 10_000


def _late(detail: str | None, at: str) -> str:
    note = f"(recorded late: it happened at {at}, when the audit store could not be written)"
    return f"{detail} {note}" if detail else note


def _dropped(count: int) -> str:
    return (
        f"{count} audit entries were lost: more than {HELD_LIMIT} waited while the audit store "
        "could not be written"
    )


@dataclass
class _Minute:
    minute: int
    more: int = 0  # refusals after the first one, not yet written
    actions: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class AuditNote:
    """A durable change's success entry and the time it was made. The journal keeps it as
    text beside the change (storage never reads it); only this class writes and reads
    that text."""

    time: str
    event: AuditEvent

    def text(self) -> str:
        return json.dumps({"time": self.time, "event": dataclasses.asdict(self.event)}, ensure_ascii=False)

    @classmethod
    def parse(cls, text: str) -> AuditNote:
        data = json.loads(text)
        event = data["event"]
        return cls(str(data["time"]), AuditEvent(**{**event, "outcome": Outcome(event["outcome"])}))


def subnet_of(address: str) -> str:
    """The network an address is counted under: its /24 (IPv4) or /64 (IPv6). One machine
    can send from many addresses of its network; anything that is no IP address (a test
    client's name, a socket path) counts as itself."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    prefix = 24 if ip.version == 4 else 64
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def _clients(key: str) -> str:
    return f"[clients in {key}]" if "/" in key else f"[client {key}]"


class AnonymousRefusals:
    """Counts anonymous refusals per client network (:func:`subnet_of`) per minute.

    A flood of anonymous requests must not become a flood of fsynced audit entries, not
    even from many addresses of one network. So the first refusal of a network in a minute
    is written at once, naming its address; the rest of that minute is counted and written
    as one summary entry (``refused.anonymous``, with the count and the actions) as soon
    as the minute is over and any audit entry is written, or when the engine stops.
    """

    MAX_ACTIONS = 20  # distinct actions named in one summary; the rest are "other"

    def __init__(self, clock: Callable[[], float] = epoch_seconds, max_addresses: int = 10_000) -> None:
        self._clock = clock
        self._max_addresses = max_addresses
        self._lock = threading.Lock()
        self._minutes: dict[str, _Minute] = {}
        self._scanned_minute: int | None = None  # due() has nothing more before the next minute

    def count(self, address: str, action: str) -> bool:
        """Count one refusal; True when it is the first of its network's minute (write it
        in full)."""
        minute = int(self._clock() // 60)
        address = subnet_of(address)
        with self._lock:
            current = self._minutes.get(address)
            if current is None or current.minute != minute:
                if current is not None and current.more:
                    # An unwritten count of an earlier minute: keep it under its own key.
                    self._minutes[f"{address}\x00{current.minute}"] = current
                    self._scanned_minute = None
                self._minutes[address] = _Minute(minute)
                return True
            current.more += 1
            name = action if action in current.actions or len(current.actions) < self.MAX_ACTIONS else "other"
            current.actions[name] += 1
            return False

    def due(self, *, everything: bool = False) -> list[tuple[str, _Minute]]:
        """Counts whose minute is over (all of them with ``everything`` or when too many
        addresses are tracked); they are forgotten here, the caller writes them."""
        minute = int(self._clock() // 60)
        with self._lock:
            flood = len(self._minutes) >= self._max_addresses
            if not (everything or flood) and self._scanned_minute == minute:
                return []  # scanning on every audit entry would cost O(addresses) each
            self._scanned_minute = minute
            done = [
                key for key, value in self._minutes.items() if everything or flood or value.minute < minute
            ]
            taken = [(key.split("\x00", 1)[0], self._minutes.pop(key)) for key in done]
        return [(address, value) for address, value in taken if value.more]


class Auditor:
    def __init__(self, audit: AuditLog, refusals: AnonymousRefusals | None = None) -> None:
        self.log = audit
        self.refusals = refusals or AnonymousRefusals()
        # Notes of durable changes whose entry could not be written (the audit store was
        # unreachable): recorded, unless the log has them by then, after the next one works.
        self._unrecorded: list[str] = []
        self._unrecorded_lock = threading.Lock()
        # Other entries the store refused (a sign-in, a refusal), with when they happened:
        # written, marked late, once an append works again; the oldest go past HELD_LIMIT.
        self._held: deque[tuple[AuditEvent, str]] = deque()
        self._held_dropped = 0
        self._held_lock = threading.Lock()

    def record(
        self,
        caller: Caller,
        action: str,
        outcome: Outcome,
        *,
        domain: Domain | None = None,
        guid: str | None = None,
        detail: str | None = None,
        user: str | None = None,
    ) -> None:
        """Write one audit entry. Anonymous refusals are counted per address and minute
        (AnonymousRefusals): only the first of each minute is written straight away."""
        if caller.actor is None and outcome is Outcome.DENIED and caller.address:
            first = self.refusals.count(caller.address, action)
            self._write_due_summaries()
            if not first:
                return
            detail = f"{detail} [client {caller.address}]" if detail else f"[client {caller.address}]"
        else:
            self._write_due_summaries()
        self._append(self._event(caller, action, outcome, domain=domain, guid=guid, detail=detail, user=user))

    def flush_refusals(self) -> None:
        """Write every pending count now (at shutdown)."""
        self._write_due_summaries(everything=True)

    def _write_due_summaries(self, *, everything: bool = False) -> None:
        for address, minute in self.refusals.due(everything=everything):
            actions = ", ".join(f"{name} x{count}" for name, count in minute.actions.most_common())
            self._append(
                AuditEvent(
                    action="refused.anonymous",
                    outcome=Outcome.DENIED,
                    detail=f"{minute.more} more anonymous refusal(s) {_clients(address)} in the minute "
                    f"{utc_iso(minute.minute * 60, timespec='minutes')}: {actions}",
                )
            )

    # A change's success entry travels with the change: its note, written to the journal in
    # the same commit, is recorded here once the change is durable, and recorded at the
    # next start if a crash came in between (see ``recover``).
    def note(self, caller: Caller, action: str, *, domain: Domain, guid: str, detail: str) -> str:
        """The note of a successful change, to be recorded by :meth:`record_note`."""
        event = self._event(caller, action, Outcome.SUCCESS, domain=domain, guid=guid, detail=detail)
        return AuditNote(utc_now(), event).text()

    # A journal that shares a transaction with the audit chain (cluster mode) writes the
    # entry in the change's own commit instead: it asks for the entry with these two.
    def note_fields(self, note: str) -> dict[str, Any]:
        parsed = AuditNote.parse(note)
        return self.log.fields(parsed.event, at=parsed.time)

    def announce(self, entry: dict[str, Any]) -> None:
        self.log.announce(entry)

    def record_note(self, note: str, *, suffix: str = "") -> None:
        parsed = AuditNote.parse(note)
        event = parsed.event
        if suffix:
            event = dataclasses.replace(event, detail=(event.detail or "") + suffix)
        if not self._append(event, at=parsed.time, hold=False):  # retried from its note
            with self._unrecorded_lock:
                self._unrecorded.append(note)
            return
        with self._unrecorded_lock:
            retry, self._unrecorded = self._unrecorded, []
        if retry:
            try:
                self.recover(retry)
            except (OSError, EngineError):
                with self._unrecorded_lock:
                    self._unrecorded[:0] = retry

    def recover(self, notes: list[str]) -> int:
        """Record the notes (of changes replayed from the journal at start) whose entry the
        log lacks; returns how many were missing."""
        if not notes:
            return 0
        parsed = [AuditNote.parse(n) for n in notes]
        # Entries land in the log a moment after their note's time, not always in its order.
        since = datetime.fromisoformat(min(p.time for p in parsed)) - timedelta(minutes=1)
        seen = {
            (e.get("time"), e.get("action"), e.get("assembly_guid"))
            for e in self.log.entries_since(utc_iso(since.timestamp()))
        }
        missing = 0
        for note, p in zip(notes, parsed, strict=True):
            if (p.time, p.event.action, p.event.assembly_guid) not in seen:
                self.record_note(note, suffix=RECOVERED)
                missing += 1
        if missing:
            log.warning("recorded %d audit entr(y/ies) a crash had cut off", missing)
        return missing

    @staticmethod
    def _event(
        caller: Caller,
        action: str,
        outcome: Outcome,
        *,
        domain: Domain | None,
        guid: str | None,
        detail: str | None,
        user: str | None = None,
    ) -> AuditEvent:
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

    def _append(self, event: AuditEvent, *, at: str | None = None, hold: bool = True) -> bool:
        """Write one entry; False (and a loud log line) when the audit store refused. With
        ``hold``, a refused entry is kept and written at the next append that works."""
        try:
            self.log.record(event, at=at)
        except (OSError, EngineError) as exc:
            if hold:
                self._hold([(event, at or utc_now())])
            # The action's own outcome stands (a refusal stays a refusal, a queued change stays
            # queued); losing its audit entry is reported loudly instead of turned into a 500.
            log.critical(
                "AUDIT WRITE FAILED (%s): %s %s user=%s domain=%s guid=%s",
                exc,
                event.action,
                event.outcome.value,
                event.user,
                event.domain,
                event.assembly_guid,
            )
            return False
        if self._held:
            self._write_held()
        return True

    def _hold(self, entries: list[tuple[AuditEvent, str]], *, first: bool = False) -> None:
        """Keep ``entries`` (before those held already with ``first``); the oldest go
        beyond HELD_LIMIT, counted."""
        with self._held_lock:
            if first:
                self._held.extendleft(reversed(entries))
            else:
                self._held.extend(entries)
            while len(self._held) > HELD_LIMIT:
                self._held.popleft()
                self._held_dropped += 1

    def _write_held(self) -> None:
        """Write the held entries in order, each marked late; stop at the first refusal."""
        with self._held_lock:
            held, self._held = list(self._held), deque()
            dropped, self._held_dropped = self._held_dropped, 0
        if dropped:
            held.insert(
                0, (AuditEvent(action="audit.dropped", outcome=Outcome.FAILED, detail=_dropped(dropped)), "")
            )
        for index, (event, at) in enumerate(held):
            late = event if not at else dataclasses.replace(event, detail=_late(event.detail, at))
            try:
                self.log.record(late)
            except (OSError, EngineError):
                self._hold(held[index:], first=True)
                return

    def require(
        self,
        decision: Decision,
        caller: Caller,
        action: str,
        *,
        domain: Domain | None = None,
        guid: str | None = None,
    ) -> None:
        """Raise denied (after auditing the denial) unless the decision allows."""
        if decision.allowed:
            return
        message = decision.message
        if caller.scopes is not None and decision.error == DEV_MODE_REQUIRED:
            message = TOKEN_WITHOUT_DEV_MODE  # the usual hint names a switch tokens cannot use
        self.record(caller, action, Outcome.DENIED, domain=domain, guid=guid, detail=message)
        raise denied(decision.error or "forbidden", message)
