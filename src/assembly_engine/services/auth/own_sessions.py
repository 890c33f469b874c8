"""A signed-in person's own sessions: list them, end one or all the others.

A session is named by its audit id (accounts.audit_session_id), never by its token or the
token's stored hash: the id is what the audit log shows, and knowing it grants nothing.
Only sessions (never API tokens, which have their own page) reach these use cases.
"""

from __future__ import annotations

from assembly_engine.domain.clock import utc_iso
from assembly_engine.services.answers.accounts import OwnSession, OwnSessionList, SessionsEnded
from assembly_engine.services.audit import Outcome
from assembly_engine.services.auditor import Auditor
from assembly_engine.services.auth import policy
from assembly_engine.services.auth.sessions import Session, SessionService, audit_session_id
from assembly_engine.services.caller import Caller
from assembly_engine.services.errors import NotFound, denied

ONLY_SESSIONS = "Your sessions are listed and ended from a signed-in session, not with an API token."


class OwnSessions:
    def __init__(self, sessions: SessionService, auditor: Auditor) -> None:
        self._sessions = sessions
        self._auditor = auditor

    def list(self, caller: Caller, current: Session | None) -> OwnSessionList:
        username = self._person(caller, current, "session.list")
        return OwnSessionList.built(
            items=[self._view(session, current) for session in self._sessions.live_sessions(username)]
        )

    def end(self, caller: Caller, current: Session | None, session_id: str) -> SessionsEnded:
        """End one of the caller's own sessions (the current one too: that is signing out)."""
        username = self._person(caller, current, "session.end")
        for session in self._sessions.live_sessions(username):
            if _audit_id(session) == session_id:
                self._sessions.revoke_hash(session.token_hash)
                self._auditor.record(caller, "session.end", Outcome.SUCCESS, detail=f"session {session_id}")
                return SessionsEnded.built(ended=1)
        self._auditor.record(
            caller, "session.end", Outcome.FAILED, detail=f"no live session {session_id[:64]}"
        )
        raise NotFound(
            "You have no live session with this id; it may have ended already. Nothing was changed."
        )

    def end_others(self, caller: Caller, current: Session | None) -> SessionsEnded:
        """End every session of the caller but the one asking; how many ended."""
        username = self._person(caller, current, "session.end_others")
        assert current is not None
        ended = self._sessions.revoke_all(username, except_hash=current.token_hash)
        self._auditor.record(
            caller, "session.end_others", Outcome.SUCCESS, detail=f"{ended} other session(s) ended"
        )
        return SessionsEnded.built(ended=ended)

    def _person(self, caller: Caller, current: Session | None, action: str) -> str:
        self._auditor.require(policy.may_read(caller.actor), caller, action)
        if current is None or caller.username is None:
            self._auditor.record(caller, action, Outcome.DENIED, detail="not a signed-in session")
            raise denied("forbidden", ONLY_SESSIONS)
        return caller.username

    @staticmethod
    def _view(session: Session, current: Session | None) -> OwnSession:
        return OwnSession.built(
            id=_audit_id(session),
            created_at=utc_iso(session.created_at),
            last_seen=utc_iso(session.last_seen),
            expires_at=utc_iso(session.expires_at),
            current=current is not None and session.token_hash == current.token_hash,
        )


def _audit_id(session: Session) -> str:
    return audit_session_id(session.token_hash)
