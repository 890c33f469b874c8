"""A boot skips re-hashing a signed staging copy's payloads when nothing changed since the
last verified boot, and still catches a tampered byte (Docs/official-library.md, "Trust").
Real files on temporary roots; the check is the engine's own (official/trust.py)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from assembly_engine.domain.types import Domain
from assembly_engine.storage.contract.signatures import SignaturePolicy
from assembly_engine.storage.official.signing import keygen, sign_root
from assembly_engine.storage.official.trust import VERIFIED_PAYLOADS, TrustRules, judge_staging
from tests.support import stage

SKIPPED = "not hashed again"


@pytest.fixture
def signed(tmp_path: Path) -> tuple[Path, TrustRules]:
    staging = tmp_path / "staging"
    stage(staging, Domain.OFFICIAL, ["One", "Two"])
    public = keygen(tmp_path / "keys" / "vendor")
    sign_root(staging, tmp_path / "keys" / "vendor")
    return staging, TrustRules(SignaturePolicy.REQUIRE, (public,), tmp_path / "runtime")


def test_an_unchanged_signed_copy_is_hashed_once_and_not_again_at_the_next_boot(
    signed: tuple[Path, TrustRules], caplog: pytest.LogCaptureFixture
) -> None:
    staging, rules = signed
    caplog.set_level(logging.INFO, "assembly_engine.official_sync")
    first = judge_staging(staging, rules, quick=True)
    assert not first.refused and not first.trust.problems
    assert SKIPPED not in caplog.text
    assert rules.keep_in is not None and (rules.keep_in / VERIFIED_PAYLOADS).exists()
    caplog.clear()
    again = judge_staging(staging, rules, quick=True)
    assert not again.refused and again.trust.signed_by == "vendor.pub"
    assert SKIPPED in caplog.text
    caplog.clear()
    on_demand = judge_staging(staging, rules)  # an explicit sync always hashes every byte
    assert not on_demand.refused and SKIPPED not in caplog.text


def test_a_flipped_byte_with_its_size_and_time_kept_is_still_caught_at_the_next_boot(
    signed: tuple[Path, TrustRules],
) -> None:
    staging, rules = signed
    assert not judge_staging(staging, rules, quick=True).refused  # verified, identity kept
    folder = sorted(p for p in (staging / "Payloads").iterdir() if p.is_dir())[0]
    target = sorted(p for p in folder.iterdir() if p.name != "manifest.json")[0]
    before = target.stat()
    data = bytearray(target.read_bytes())
    data[0] ^= 0x01
    target.write_bytes(bytes(data))
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # same size, same mtime
    assert target.stat().st_size == before.st_size and target.stat().st_mtime_ns == before.st_mtime_ns
    judged = judge_staging(staging, rules, quick=True)
    assert judged.refused
    assert any("payload corrupt" in p for p in judged.trust.problems)
    assert rules.keep_in is not None and not (rules.keep_in / VERIFIED_PAYLOADS).exists()
