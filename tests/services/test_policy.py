"""The access policy, checked exhaustively: actor (anonymous / role × Dev Mode) × action."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from assembly_engine.domain.types import Domain, Role
from assembly_engine.services.auth import policy
from assembly_engine.services.auth.policy import Actor, Decision

ALLOW = "allow"
UNAUTH = "unauthorized"
FORBID = "forbidden"
DEV = "dev_mode_required"

ACTIONS: dict[str, Callable[[Actor | None], Decision]] = {
    "read": policy.may_read,
    "write:official": lambda actor: policy.may_write(actor, Domain.OFFICIAL),
    "write:community": lambda actor: policy.may_write(actor, Domain.COMMUNITY),
    "write:user": lambda actor: policy.may_write(actor, Domain.USER),
    "export": policy.may_export,
    "flush": policy.may_flush,
    "sync_official": policy.may_sync_official,
    "manage_users": policy.may_manage_users,
    "toggle_dev_mode": policy.may_toggle_dev_mode,
    "backup:cli": lambda actor: policy.may_backup(actor, local_cli=True),
    "backup:api": lambda actor: policy.may_backup(actor, local_cli=False),
    "export_official:cli": lambda actor: policy.may_export_official(actor, local_cli=True),
    "export_official:api": lambda actor: policy.may_export_official(actor, local_cli=False),
}

ACTORS: dict[str, Actor | None] = {
    "anonymous": None,
    "operator": Actor("alice", Role.OPERATOR, dev_mode=False),
    # An operator can never have Dev Mode; if one somehow did, it must change nothing.
    "operator+dev": Actor("alice", Role.OPERATOR, dev_mode=True),
    "admin": Actor("root", Role.ADMIN, dev_mode=False),
    "admin+dev": Actor("root", Role.ADMIN, dev_mode=True),
}

# Written out by hand from Docs/assemblies.md §8 and §14.1 — not derived from the code under test.
EXPECTED: dict[str, dict[str, str]] = {
    "read": {
        "anonymous": UNAUTH, "operator": ALLOW, "operator+dev": ALLOW,
        "admin": ALLOW, "admin+dev": ALLOW,
    },
    "write:official": {
        "anonymous": UNAUTH, "operator": FORBID, "operator+dev": FORBID,
        "admin": DEV, "admin+dev": ALLOW,
    },
    "write:community": {
        "anonymous": UNAUTH, "operator": FORBID, "operator+dev": FORBID,
        "admin": DEV, "admin+dev": ALLOW,
    },
    "write:user": {
        "anonymous": UNAUTH, "operator": ALLOW, "operator+dev": ALLOW,
        "admin": ALLOW, "admin+dev": ALLOW,
    },
    "export": {
        "anonymous": UNAUTH, "operator": ALLOW, "operator+dev": ALLOW,
        "admin": ALLOW, "admin+dev": ALLOW,
    },
    "flush": {
        "anonymous": UNAUTH, "operator": FORBID, "operator+dev": FORBID,
        "admin": DEV, "admin+dev": ALLOW,
    },
    "sync_official": {
        "anonymous": UNAUTH, "operator": FORBID, "operator+dev": FORBID,
        "admin": DEV, "admin+dev": ALLOW,
    },
    "manage_users": {
        "anonymous": UNAUTH, "operator": FORBID, "operator+dev": FORBID,
        "admin": ALLOW, "admin+dev": ALLOW,
    },
    "toggle_dev_mode": {
        "anonymous": UNAUTH, "operator": FORBID, "operator+dev": FORBID,
        "admin": ALLOW, "admin+dev": ALLOW,
    },
    # A backup names a folder on the engine's machine: never from an API token.
    "backup:cli": {
        "anonymous": UNAUTH, "operator": FORBID, "operator+dev": FORBID,
        "admin": DEV, "admin+dev": ALLOW,
    },
    "backup:api": {
        "anonymous": UNAUTH, "operator": FORBID, "operator+dev": FORBID,
        "admin": DEV, "admin+dev": FORBID,
    },
    # A staging copy is written on the engine's machine too (cluster mode's official mirror).
    "export_official:cli": {
        "anonymous": UNAUTH, "operator": FORBID, "operator+dev": FORBID,
        "admin": DEV, "admin+dev": ALLOW,
    },
    "export_official:api": {
        "anonymous": UNAUTH, "operator": FORBID, "operator+dev": FORBID,
        "admin": DEV, "admin+dev": FORBID,
    },
}  # fmt: skip


def test_table_covers_every_action_and_actor() -> None:
    assert set(EXPECTED) == set(ACTIONS)
    for row in EXPECTED.values():
        assert set(row) == set(ACTORS)


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("actor_name", sorted(ACTORS))
def test_policy_table(action: str, actor_name: str) -> None:
    decision = ACTIONS[action](ACTORS[actor_name])
    expected = EXPECTED[action][actor_name]
    assert isinstance(decision, Decision)
    if expected == ALLOW:
        assert decision == Decision(True, None, "")
    else:
        assert decision.allowed is False
        assert decision.error == expected
        assert decision.message  # always a sentence a person can act on
        assert decision.message.endswith(".")


@pytest.mark.parametrize("domain", [Domain.OFFICIAL, Domain.COMMUNITY])
def test_operator_message_points_to_clone(domain: Domain) -> None:
    decision = policy.may_write(ACTORS["operator"], domain)
    assert decision.message == (
        "Operators may only change User-Created assemblies; clone it to User-Created to edit a copy."
    )


@pytest.mark.parametrize(
    ("action", "subject"),
    [
        ("write:official", "Official"),
        ("write:community", "Community"),
        ("flush", "queue"),
        ("sync_official", "Official"),
    ],
)
def test_dev_mode_message_explains_how_to_enable(action: str, subject: str) -> None:
    decision = ACTIONS[action](ACTORS["admin"])
    assert "enable Dev Mode from the Assemblies admin controls" in decision.message
    assert "POST /api/assemblies/dev-mode/switch" in decision.message
    assert subject in decision.message


def test_anonymous_message() -> None:
    assert policy.may_read(None).message == "Sign in first."


@pytest.mark.parametrize("domain", list(Domain))
def test_domain_given_as_plain_string(domain: Domain) -> None:
    actor = ACTORS["admin"]
    assert policy.may_write(actor, domain.value) == policy.may_write(actor, domain)  # type: ignore[arg-type]


def test_unknown_domain_is_an_error() -> None:
    with pytest.raises(ValueError):
        policy.may_write(ACTORS["admin+dev"], "elsewhere")  # type: ignore[arg-type]


def test_actor_is_immutable() -> None:
    actor = Actor("root", Role.ADMIN, dev_mode=False)
    with pytest.raises(AttributeError):
        actor.dev_mode = True  # type: ignore[misc]
