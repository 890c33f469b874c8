"""The pure parts of single sign-on: group mapping and the sealed start cookie."""

from __future__ import annotations

from pathlib import Path

import pytest

from assembly_engine.config import Settings
from assembly_engine.domain.types import Role
from assembly_engine.services.auth.oidc_pending import PENDING_SECONDS, PendingSeal, PendingSignIn, Purpose
from assembly_engine.services.auth.sso_accounts import SsoConfig


def config(tmp_path: Path, **overrides: str) -> SsoConfig:
    settings = Settings(
        home=tmp_path,
        oidc_issuer="https://idp.example",
        oidc_client_id="engine",
        oidc_client_secret="secret",
        oidc_admin_groups=" admins , root ",
        oidc_operator_groups="ops",
        **overrides,  # type: ignore[arg-type]
    )
    made = SsoConfig.from_settings(settings)
    assert made is not None
    return made


@pytest.mark.parametrize(
    ("groups", "role"),
    [
        (["admins"], Role.ADMIN),
        (["ops", "root"], Role.ADMIN),
        (["ops"], Role.OPERATOR),
        ("ops", Role.OPERATOR),  # a provider that sends one group as a string
        (["Admins"], None),  # group values are compared exactly
        ([], None),
        (None, None),
        ([1, {"admins": True}], None),
        ({"admins": 1}, None),
    ],
)
def test_groups_map_to_a_role(tmp_path: Path, groups: object, role: Role | None) -> None:
    claims = {} if groups is None else {"groups": groups}
    assert config(tmp_path).role_for(claims) is role


def test_the_groups_claim_is_a_setting(tmp_path: Path) -> None:
    assert config(tmp_path, oidc_groups_claim="roles").role_for({"roles": ["admins"]}) is Role.ADMIN


def test_no_provider_no_config(tmp_path: Path) -> None:
    assert SsoConfig.from_settings(Settings(home=tmp_path)) is None


def test_the_seal_opens_only_untouched_fresh_cookies() -> None:
    seal = PendingSeal(b"k" * 32)
    pending = PendingSignIn.new(Purpose.DEV_MODE, "https://engine/cb", 1000.0, session_hash="h", reason="why")
    cookie = seal.seal(pending, 1000.0)
    assert seal.open(cookie, 1000.0 + PENDING_SECONDS - 1) == pending
    assert seal.open(cookie, 1000.0 + PENDING_SECONDS + 1) is None  # expired
    assert seal.open(cookie[:-2] + "xx", 1001.0) is None  # tampered
    assert PendingSeal(b"o" * 32).open(cookie, 1001.0) is None  # another engine's key
    for junk in (None, "", "not-a-seal", "x" * 5000):
        assert seal.open(junk, 1001.0) is None
    assert pending.matches(pending.state) and not pending.matches(pending.state + "x")
    assert not pending.matches("\udcff")
