"""The audit trail (Docs/assemblies.md §9): what each entry says, and the engine.log line beside it.

Every privileged or state-changing action appends one entry to the audit log (the
hash-chained file of storage/sqlite/audit_log.py, behind the AuditLog interface) and one
readable line to the ``assembly_engine.audit`` logger (routed to engine.log). Free text is
scrubbed of anything that looks like a secret before it reaches either.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from assembly_engine.domain.clock import utc_now as _utc_now
from assembly_engine.storage.contract.interfaces import AuditStore
from assembly_engine.storage.contract.reports import OUTCOMES, VerifyResult

logger = logging.getLogger("assembly_engine.audit")


class Outcome(StrEnum):
    SUCCESS = "success"
    DENIED = "denied"
    FAILED = "failed"


assert {outcome.value for outcome in Outcome} == OUTCOMES


@dataclass(frozen=True)
class AuditEvent:
    """What happened. ``session`` must already be a hash of the session id, never a token."""

    action: str
    outcome: Outcome
    user: str | None = None
    role: str | None = None
    session: str | None = None
    domain: str | None = None
    assembly_guid: str | None = None
    dev_mode: bool = False
    detail: str | None = None


# --- scrubbing -------------------------------------------------------------------------------

# Every pattern below runs in time linear in the text: no unbounded quantifier can be
# retried from many start positions (the key's surroundings and the URL scheme are bounded,
# runs are possessive, and starts inside a run are ruled out by a lookbehind). A pattern
# with nested or repeated unbounded runs was quadratic on a long name and held the
# interpreter lock for minutes. On top of that, scrub() only ever scans SCRUB_MAX_CHARS.
SCRUB_MAX_CHARS = 2000
_SECRET_KEY = (
    r"[\w-]{0,40}(?:passw(?:or)?d|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key"
    r"|authorization|cookie|credentials?|session[_-]?(?:id|key|token))[\w-]{0,40}"
)
_AUTH_SCHEME = r"(?:bearer|basic|digest|token)\s++"
# key=value, key: value, "key": "value", 'key': 'value'; the value is a quoted string or a
# run up to the next separator, optionally preceded by an auth scheme word. A quote that is
# never closed masks everything after it.
_KEY_VALUE = re.compile(
    rf"""(?ix)
    (?P<key>["']?\b{_SECRET_KEY}["']?\s*+[:=]\s*+)
    (?:
        "(?:[^"\\]|\\.)*+(?:"|\Z)
      | '(?:[^'\\]|\\.)*+(?:'|\Z)
      | (?:{_AUTH_SCHEME})?[^\s,;&'"}}\]]++
    )
    """
)
_SCHEME_TOKEN = re.compile(r"(?i)\b(?P<scheme>bearer|basic|digest)\s++[A-Za-z0-9._~+/=-]++")
_URL_CREDENTIALS = re.compile(
    r"(?P<prefix>(?<![a-z0-9+.-])[a-z][a-z0-9+.-]{0,31}://[^\s:/@]++:)[^\s@/]++(?=@)", re.I
)
_ARGON2_HASH = re.compile(r"\$argon2(?:id|i|d)\$[A-Za-z0-9$=,+/.-]++")
# Long unbroken runs of hex/base64url characters look like keys, tokens or hashes.
_LONG_RUN = re.compile(r"(?<![A-Za-z0-9_+-])[A-Za-z0-9_+-]{32,}+={0,2}(?![A-Za-z0-9_+-])")
_TOKEN_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-=/.~")
MASK = "***"


def _mask_key_value(match: re.Match[str]) -> str:
    value = match.group(0)[len(match.group("key")) :]
    if value[:1] in {'"', "'"}:
        return f"{match.group('key')}{value[0]}{MASK}{value[0]}"
    return f"{match.group('key')}{MASK}"


def _mask_long_run(match: re.Match[str]) -> str:
    run = match.group(0)
    # A long identifier such as ``dev_mode_required_for_community`` has no digit; a random
    # token of 32+ characters almost always has both digits and letters.
    if any(ch.isdigit() for ch in run) and any(ch.isalpha() for ch in run):
        return MASK
    return run


def _bounded(text: str) -> str:
    """The first SCRUB_MAX_CHARS of ``text``, saying how much was left out.

    A cut inside a run of token characters drops that run's head too: a token split at
    the limit would be too short to look random, and its first part would be logged.
    """
    if len(text) <= SCRUB_MAX_CHARS:
        return text
    kept = text[:SCRUB_MAX_CHARS]
    if text[SCRUB_MAX_CHARS] in _TOKEN_CHARACTERS:
        kept = kept.rstrip("".join(sorted(_TOKEN_CHARACTERS)))
    return f"{kept}… [{len(text) - len(kept)} more characters not logged]"


def scrub(text: str) -> str:
    """Mask things in free text that look like secrets with ``***``.

    Defence in depth for ``detail``: callers must not pass secrets, but if a password,
    token, cookie, Authorization header, URL credential, Argon2 hash or a long random-looking
    run (32+ hex/base64url characters with letters and digits — this includes GUIDs, so put
    those in ``assembly_guid`` instead) slips into a message, it never reaches a log. Only
    the first SCRUB_MAX_CHARS characters are scanned and kept; the rest is left out, and
    the entry says how many characters were.
    """
    text = _bounded(text)
    text = _ARGON2_HASH.sub(MASK, text)
    text = _KEY_VALUE.sub(_mask_key_value, text)
    text = _SCHEME_TOKEN.sub(lambda m: f"{m.group('scheme')} {MASK}", text)
    if "://" in text:
        text = _URL_CREDENTIALS.sub(lambda m: f"{m.group('prefix')}{MASK}", text)
    return _LONG_RUN.sub(_mask_long_run, text)


# --- entries -----------------------------------------------------------------------------------


def _readable_value(value: str | None) -> str:
    if value is None or value == "":
        return "-"
    if re.fullmatch(r"[\w.@+:-]+", value):
        return value
    # Anything with spaces or control characters is quoted and escaped, so one entry is
    # always exactly one line of engine.log.
    return json.dumps(value, ensure_ascii=True)


def readable_line(entry: dict[str, Any]) -> str:
    """The one-line, human-readable form of ``entry`` written to engine.log."""
    return (
        f"AUDIT {_readable_value(entry['action'])} {entry['outcome']}"
        f" user={_readable_value(entry['user'])}"
        f" role={_readable_value(entry['role'])}"
        f" domain={_readable_value(entry['domain'])}"
        f" guid={_readable_value(entry['assembly_guid'])}"
        f" dev_mode={'on' if entry['dev_mode'] else 'off'}"
        f" seq={entry['seq']}"
        f" detail={_readable_value(entry['detail'])}"
    )


class AuditLog:
    """Records audit events in an audit store (thread-safe: the store keeps the order)."""

    def __init__(self, store: AuditStore) -> None:
        self.store = store

    @property
    def location(self) -> str:
        """Where the chain is kept, for people: a file's path, or a database."""
        return self.store.location

    def record(self, event: AuditEvent, *, at: str | None = None) -> dict[str, Any]:
        """Append one entry for ``event`` (``at``: its time, when it happened earlier);
        return the entry as written."""
        return self.store.append(self.fields(event, at=at), self.announce)

    @staticmethod
    def fields(event: AuditEvent, *, at: str | None = None) -> dict[str, Any]:
        """The stored fields of ``event``'s entry (all but its place in the chain)."""
        if not event.action:
            raise ValueError("an audit event needs an action")
        outcome = Outcome(event.outcome)
        detail = scrub(event.detail) if event.detail is not None else None
        return {
            "time": at or _utc_now(),
            "user": event.user,
            "role": event.role,
            "session": event.session,
            "action": event.action,
            "domain": event.domain,
            "assembly_guid": event.assembly_guid,
            "outcome": outcome.value,
            "dev_mode": bool(event.dev_mode),
            "detail": detail,
        }

    @staticmethod
    def announce(entry: dict[str, Any]) -> None:
        """The engine log's line of a written entry."""
        logger.info("%s", readable_line(entry))

    def entries(self) -> list[dict[str, Any]]:
        return self.store.entries()

    def entries_since(self, time: str) -> list[dict[str, Any]]:
        return self.store.entries_since(time)

    def verify(self) -> VerifyResult:
        return self.store.verify()

    def copy_to(self, directory: Path) -> None:
        self.store.copy_to(directory)
