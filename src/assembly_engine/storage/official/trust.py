"""Whether official sync may take a staging copy, and the signature state it leaves.

``require`` refuses a staging copy that is not wholly trusted: the runtime rows stay as
they are, and their statuses come from the last manifest a trusted key signed, kept in the
runtime root at every trusted sync (and checked again against today's keys when read).
``warn`` syncs anyway and marks what failed; ``off`` checks nothing.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from assembly_engine.config import Settings
from assembly_engine.storage.contract.signatures import OfficialTrust, SignaturePolicy
from assembly_engine.storage.official.signing import (
    MANIFEST_FILE,
    BundleCheck,
    check_bundle,
    check_signature,
    parse_manifest,
    trusted_key_paths,
)

log = logging.getLogger("assembly_engine.official_sync")

KEPT_MANIFEST = "official-manifest.json"  # in the runtime root: the last trusted manifest
KEPT_SIGNATURE = "official-manifest.sig"
# In the runtime root: the identity (stat, not bytes) of the staging payloads a boot last
# found wholly matching a trusted manifest; an equal identity lets the next boot skip
# re-hashing them. `official verify` and an on-demand sync always hash every byte.
VERIFIED_PAYLOADS = "official-verified-payloads"


@dataclass(frozen=True)
class TrustRules:
    policy: SignaturePolicy = SignaturePolicy.OFF
    key_paths: tuple[Path, ...] = ()
    keep_in: Path | None = None  # where the last trusted manifest is kept

    @classmethod
    def of(cls, settings: Settings) -> TrustRules:
        return cls(
            SignaturePolicy(settings.official_signatures),
            tuple(trusted_key_paths(settings.official_trusted_keys)),
            settings.runtime_root,
        )


@dataclass(frozen=True)
class Verdict:
    trust: OfficialTrust
    check: BundleCheck | None

    @property
    def refused(self) -> bool:
        return self.trust.refused


def payloads_identity(staging_root: Path) -> str:
    """The manifest's bytes and every staging payload file's inode, size, modification and
    change time: a write to any file changes its change time, which no tool sets back, so
    an equal identity means the bytes last hashed are still the ones there."""
    digest = hashlib.sha256()
    manifest = staging_root / MANIFEST_FILE
    digest.update(manifest.read_bytes() if manifest.exists() else b"")
    payloads = staging_root / "Payloads"
    found: list[tuple[tuple[str, ...], os.DirEntry[str]]] = []
    if payloads.is_dir():
        _list_below(str(payloads), (), found)
    found.sort(key=lambda item: item[0])
    lines = []
    for parts, entry in found:
        info = entry.stat(follow_symlinks=False)
        lines.append(
            f"{'/'.join(parts)}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}\n"
        )
    digest.update("".join(lines).encode())
    return digest.hexdigest()


def _list_below(
    folder: str, parts: tuple[str, ...], found: list[tuple[tuple[str, ...], os.DirEntry[str]]]
) -> None:
    """Every entry below ``folder`` (not into linked folders), with its path parts: a boot
    lists tens of thousands of files here, so plain directory entries rather than Paths."""
    with os.scandir(folder) as entries:
        for entry in entries:
            below = (*parts, entry.name)
            found.append((below, entry))
            if entry.is_dir(follow_symlinks=False):
                _list_below(entry.path, below, found)


def _check(staging_root: Path, rules: TrustRules, quick: bool) -> BundleCheck:
    """check_bundle, skipping the payload hashes at a boot (``quick``) that finds the payloads
    as the last boot verified them."""
    if not (staging_root / MANIFEST_FILE).exists():  # unsigned: no payload to hash, nothing to list
        return check_bundle(staging_root, rules.key_paths, check_payloads=False)
    stamp = rules.keep_in / VERIFIED_PAYLOADS if rules.keep_in is not None else None
    identity = payloads_identity(staging_root) if stamp is not None else None  # before hashing
    try:
        seen = stamp.read_text() if quick and stamp is not None else None
    except OSError:
        seen = None
    unchanged = seen is not None and seen == identity
    check = check_bundle(staging_root, rules.key_paths, check_payloads=not unchanged)
    if unchanged:
        log.info("official signature: staging payloads unchanged since they were verified; not hashed again")
    elif stamp is not None and identity is not None:
        if check.ok:
            stamp.parent.mkdir(parents=True, exist_ok=True)
            temp = stamp.with_name(f".{stamp.name}.tmp")
            temp.write_text(identity)
            os.replace(temp, stamp)
        else:
            stamp.unlink(missing_ok=True)
    return check


def judge_staging(staging_root: Path, rules: TrustRules, *, quick: bool = False) -> Verdict:
    """Check the staging copy under ``rules``: refused (``require`` and not wholly trusted),
    or the signature state the synced library will have. ``quick`` (a boot) may skip the
    payload hashes when nothing changed since the last verified boot."""
    if rules.policy is SignaturePolicy.OFF:
        return Verdict(OfficialTrust(SignaturePolicy.OFF), None)
    check = _check(staging_root, rules, quick)
    problems = tuple(check.problems)
    if rules.policy is SignaturePolicy.REQUIRE and not check.ok:
        kept = last_trusted(rules)
        log.error(
            "official sync refused (ENGINE_OFFICIAL_SIGNATURES=require): %s; the last good "
            "official library keeps serving",
            "; ".join(problems),
        )
        return Verdict(
            OfficialTrust(
                rules.policy,
                kept.entries if kept else MappingProxyType({}),
                kept.signed_by if kept else None,
                problems=problems,
                refused=True,
            ),
            check,
        )
    if problems:
        log.warning("official library signature: %s", "; ".join(problems))
    return Verdict(
        OfficialTrust(
            rules.policy,
            MappingProxyType(check.entries),
            check.signed_by,
            frozenset(check.tampered),
            problems,
        ),
        check,
    )


def keep_trusted(verdict: Verdict, rules: TrustRules) -> None:
    """After a sync that took a trusted staging copy: keep its manifest as the last good one."""
    check = verdict.check
    if rules.keep_in is None or check is None or not check.trusted:
        return
    assert check.manifest is not None and check.signature is not None
    rules.keep_in.mkdir(parents=True, exist_ok=True)
    for name, data in ((KEPT_MANIFEST, check.manifest), (KEPT_SIGNATURE, check.signature)):
        temp = rules.keep_in / f".{name}.tmp"
        temp.write_bytes(data)
        os.replace(temp, rules.keep_in / name)


def last_trusted(rules: TrustRules) -> OfficialTrust | None:
    """The last trusted manifest kept in the runtime root, if today's keys still trust it."""
    if rules.keep_in is None:
        return None
    try:
        raw = (rules.keep_in / KEPT_MANIFEST).read_bytes()
        signature = (rules.keep_in / KEPT_SIGNATURE).read_bytes()
    except OSError:
        return None
    signed_by, _ = check_signature(raw, signature, rules.key_paths)
    if signed_by is None:
        return None
    try:
        entries = parse_manifest(raw)
    except ValueError:
        return None
    return OfficialTrust(rules.policy, MappingProxyType(entries), signed_by)
