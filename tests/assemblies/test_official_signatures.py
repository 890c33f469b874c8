"""The signed official library (Docs/official-library.md): `assemblies official keygen |
sign | verify` offline, and real engines that boot a signed, tampered, unsigned or
foreign-signed staging copy under `require` and `warn`.

Every staging copy is a temporary copy of the repository's shipped library; the shipped
one is never written.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from assembly_engine.cli.main import main
from assembly_engine.domain.types import Domain
from assembly_engine.services.answers.records import AssemblyView
from assembly_engine.storage.contract.models import CachedAssembly, CacheEntryState
from assembly_engine.storage.contract.record_facts import RecordFacts
from assembly_engine.storage.contract.signatures import OfficialTrust, SignaturePolicy, SignatureStatus
from assembly_engine.storage.official.signing import manifest_bytes, parse_manifest
from assembly_engine.storage.sqlite.payload_folders import PayloadStore
from tests.engine_process import EngineProcess
from tests.support import ADMIN_PASSWORD, make_record, script_content
from tests.upgrade_support import deprecate_first

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
SHIPPED = REPOSITORY_ROOT / "Data" / "Engine" / "Assemblies"
SHIPPED_KEY = REPOSITORY_ROOT / "Data" / "Engine" / "official-signing.pub"


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def cli(*args: str) -> Ran:
    """The `assemblies` command in this process (click's runner: the real command, without
    paying a new interpreter per call); the shipped-library test runs a real process."""
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    """A vendor key pair made by the CLI (private, public)."""
    private = tmp_path / "keys" / "vendor"
    made = cli("official", "keygen", str(private))
    assert made.returncode == 0, made.stderr
    return private, private.with_name("vendor.pub")


def signed_copy(tmp_path: Path, private: Path, name: str = "staging") -> Path:
    root = tmp_path / name
    shutil.copytree(SHIPPED, root)
    for stale in ("manifest.json", "manifest.sig"):
        (root / stale).unlink(missing_ok=True)
    signed = cli("official", "sign", "--key", str(private), "--root", str(root))
    assert signed.returncode == 0, signed.stderr
    return root


def first_payload_file(root: Path) -> tuple[str, Path]:
    """(the payload guid, its first content file)."""
    folder = sorted(p for p in (root / "Payloads").iterdir() if p.is_dir())[0]
    files = sorted(p for p in folder.iterdir() if p.name != "manifest.json")
    return folder.name, files[0]


def flip_byte(path: Path, at: int = 0) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def flip_manifest(root: Path) -> None:
    raw = (root / "manifest.json").read_text()
    # one character of a signed checksum: still valid JSON, no longer what was signed
    at = raw.index('"payload_checksum": "') + len('"payload_checksum": "')
    swapped = "0" if raw[at] != "0" else "1"
    (root / "manifest.json").write_text(raw[:at] + swapped + raw[at + 1 :])


# -- offline: keygen, sign, verify --------------------------------------------------------
def test_keygen_writes_a_private_key_only_its_owner_can_read_and_never_overwrites(
    keys: tuple[Path, Path],
) -> None:
    private, public = keys
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in private.read_bytes() and b"PUBLIC KEY" in public.read_bytes()
    again = cli("official", "keygen", str(private))
    assert again.returncode != 0 and "exists already" in again.stderr


def test_the_shipped_library_verifies_with_the_repository_key_alone(tmp_path: Path) -> None:
    # a real process with a home where no engine ever ran: verify needs none
    checked = subprocess.run(
        [sys.executable, "-m", "assembly_engine.cli.main", "--home", str(tmp_path / "no-engine")]
        + ["official", "verify", "--root", str(SHIPPED), "--trust", str(SHIPPED_KEY)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "verified:" in checked.stdout


def test_verify_exits_0_on_a_signed_copy_and_1_on_each_kind_of_tampering(
    tmp_path: Path, keys: tuple[Path, Path]
) -> None:
    private, public = keys
    root = signed_copy(tmp_path, private)

    def verify(trusted: Path = public) -> Ran:
        return cli("official", "verify", "--root", str(root), "--trust", str(trusted), "--json")

    assert verify().returncode == 0
    other = tmp_path / "other"
    assert cli("official", "keygen", str(other)).returncode == 0
    foreign = verify(other.with_name("other.pub"))
    assert foreign.returncode == 1 and "not a valid signature" in foreign.stderr + foreign.stdout

    _, payload_file = first_payload_file(root)
    original = payload_file.read_bytes()
    flip_byte(payload_file)
    tampered = verify()
    assert tampered.returncode == 1 and "payload corrupt" in tampered.stdout
    payload_file.write_bytes(original)
    assert verify().returncode == 0

    manifest = (root / "manifest.json").read_bytes()
    flip_manifest(root)
    assert verify().returncode == 1
    (root / "manifest.json").write_bytes(manifest)

    (root / "manifest.sig").unlink()
    unsigned = verify()
    assert unsigned.returncode == 1 and "not signed" in unsigned.stdout


# -- real engines -------------------------------------------------------------------------
@pytest.fixture
def engines() -> Iterator[list[EngineProcess]]:
    started: list[EngineProcess] = []
    yield started
    for engine in started:
        engine.kill()


def boot(
    engines: list[EngineProcess], home: Path, staging: Path, policy: str, trusted: Path
) -> EngineProcess:
    engine = EngineProcess(
        home,
        staging,
        extra_env={"ENGINE_OFFICIAL_SIGNATURES": policy, "ENGINE_OFFICIAL_TRUSTED_KEYS": str(trusted)},
    )
    engines.append(engine)
    return engine.start()


def official_statuses(engine: EngineProcess, headers: dict[str, str]) -> dict[str, str]:
    listed = engine.http.get("/api/assemblies?domain=official&limit=1000", headers=headers)
    assert listed.status_code == 200, listed.text
    return {item["assembly_guid"]: item["signature"] for item in listed.json()["items"]}


def signatures(engine: EngineProcess) -> dict[str, Any]:
    health: dict[str, Any] = engine.http.get("/api/health").json()["official_signatures"]
    return health


def test_a_signed_library_boots_verified_and_a_dev_mode_edit_turns_exactly_that_one_modified(
    tmp_path: Path, keys: tuple[Path, Path], engines: list[EngineProcess]
) -> None:
    private, public = keys
    staging = signed_copy(tmp_path, private)
    engine = boot(engines, tmp_path / "home", staging, "require", public)
    headers = engine.login()
    statuses = official_statuses(engine, headers)
    assert statuses and set(statuses.values()) == {"verified"}
    health = signatures(engine)
    assert health["state"] == "ok" and health["signed_by"] == "vendor.pub"
    assert health["counts"] == {"verified": len(statuses), "modified": 0, "unsigned": 0}

    switched = engine.http.post(
        "/api/assemblies/dev-mode/switch",
        json={"enabled": True, "password": ADMIN_PASSWORD, "reason": "signature test edits official"},
        headers=headers,
    )
    assert switched.status_code == 200, switched.text
    edited = sorted(statuses)[0]
    detail = engine.http.get(f"/api/assemblies/{edited}", headers=headers).json()
    assert detail["signature"] == "verified"
    script = detail["payload"]["script"] + "\n# changed here\n"
    changed = engine.http.put(
        f"/api/assemblies/{edited}", json={"payload": {"script": script}}, headers=headers
    )
    assert changed.status_code == 200, changed.text

    after = official_statuses(engine, headers)
    assert after[edited] == "modified"
    assert {g: s for g, s in after.items() if g != edited} == {g: "verified" for g in statuses if g != edited}
    assert engine.http.get(f"/api/assemblies/{edited}", headers=headers).json()["signature"] == "modified"
    only_modified = engine.http.get("/api/assemblies?signature=modified", headers=headers).json()
    assert [i["assembly_guid"] for i in only_modified["items"]] == [edited]
    assert signatures(engine)["counts"]["modified"] == 1
    bad = engine.http.get("/api/assemblies?signature=trusted", headers=headers)
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_document"


def _tamper_payload(root: Path, keys: tuple[Path, Path], tmp_path: Path) -> str | None:
    flip_byte(first_payload_file(root)[1])
    return "payload corrupt"


def _tamper_manifest(root: Path, keys: tuple[Path, Path], tmp_path: Path) -> str | None:
    flip_manifest(root)
    return "not a valid signature"


def _drop_signature(root: Path, keys: tuple[Path, Path], tmp_path: Path) -> str | None:
    (root / "manifest.sig").unlink()
    return "not signed"


def _foreign_key(root: Path, keys: tuple[Path, Path], tmp_path: Path) -> str | None:
    stranger = tmp_path / "stranger"
    assert cli("official", "keygen", str(stranger)).returncode == 0
    assert cli("official", "sign", "--key", str(stranger), "--root", str(root)).returncode == 0
    return "not a valid signature"


TAMPERINGS: dict[str, Callable[[Path, tuple[Path, Path], Path], str | None]] = {
    "flipped payload byte": _tamper_payload,
    "flipped manifest byte": _tamper_manifest,
    "missing signature": _drop_signature,
    "untrusted key": _foreign_key,
}


@pytest.mark.parametrize("tampering", list(TAMPERINGS))
def test_a_bad_staging_copy_keeps_the_last_good_library_under_require_and_is_marked_under_warn(
    tmp_path: Path, keys: tuple[Path, Path], engines: list[EngineProcess], tampering: str
) -> None:
    private, public = keys
    staging = signed_copy(tmp_path, private)
    home = tmp_path / "home"
    good = boot(engines, home, staging, "require", public)
    served = official_statuses(good, good.login())
    assert set(served.values()) == {"verified"}
    good.stop()

    # The next release brings a changed library (one assembly gone), then is tampered with.
    gone = sorted(served)[-1]
    shutil.rmtree(staging)
    staging = signed_copy(tmp_path, private)
    with sqlite3.connect(staging / "official.db") as conn:
        conn.execute("DELETE FROM assemblies WHERE assembly_guid = ?", (gone,))
    conn.close()
    assert cli("official", "sign", "--key", str(private), "--root", str(staging)).returncode == 0
    why = TAMPERINGS[tampering](staging, keys, tmp_path)
    assert why is not None

    refused = boot(engines, home, staging, "require", public)
    headers = refused.login()
    health = signatures(refused)
    assert health["state"] == "refused", health
    assert any(why in problem for problem in health["problems"]), health
    # the last good library serves, whole and verified (the dropped assembly is still there)
    assert official_statuses(refused, headers) == served
    assert "official sync refused" in refused.output()
    switched = refused.http.post(
        "/api/assemblies/dev-mode/switch",
        json={"enabled": True, "password": ADMIN_PASSWORD, "reason": "signature test syncs official"},
        headers=headers,
    )
    assert switched.status_code == 200
    synced = refused.http.post("/api/assemblies/official/sync", headers=headers)
    assert synced.status_code == 409 and synced.json()["error"] == "integrity_error", synced.text
    assert why in synced.json()["message"]
    assert official_statuses(refused, headers) == served
    lines = (home / "Logs" / "audit.log").read_text().splitlines()
    syncs = [e for e in map(json.loads, lines) if e.get("action") == "official.sync"]
    refusals = [e for e in syncs if e["outcome"] == "failed"]
    assert len(refusals) == 2, syncs  # the boot's and the on-demand sync's
    assert "refused at boot" in refusals[0]["detail"]
    assert all(why in e["detail"] for e in refusals), refusals
    refused.stop()

    # warn: a fresh home syncs the bad copy and marks what fails
    marked = boot(engines, tmp_path / "warned", staging, "warn", public)
    statuses = official_statuses(marked, marked.login())
    assert gone not in statuses and len(statuses) == len(served) - 1
    assert signatures(marked)["state"] == "warning"
    if tampering == "flipped payload byte":
        corrupt_payload = first_payload_file(staging)[0]
        listed = marked.http.get("/api/assemblies?domain=official&limit=1000", headers=marked.login()).json()[
            "items"
        ]
        (flagged,) = [i["assembly_guid"] for i in listed if i["payload_guid"] == corrupt_payload]
        assert statuses[flagged] == "modified"
        assert {s for g, s in statuses.items() if g != flagged} == {"verified"}
    else:
        assert set(statuses.values()) == {"unsigned"}


# -- the manifest and the statuses, without an engine ------------------------------------
def test_statuses_follow_the_signed_entries_and_a_deprecated_entry_shows_its_note(tmp_path: Path) -> None:
    payloads = PayloadStore(tmp_path / "Payloads")
    old = make_record(payloads, Domain.OFFICIAL, "Old way").evolve(
        metadata_json=json.dumps({"deprecated": "use New way", "replaced_by": "b" * 32})
    )
    kept = make_record(payloads, Domain.OFFICIAL, "Kept")
    entries = parse_manifest(manifest_bytes([old, kept]))
    assert entries[old.assembly_guid].status == "deprecated"
    assert entries[old.assembly_guid].replaced_by == "b" * 32
    assert entries[kept.assembly_guid].status == "active"

    trust = OfficialTrust(SignaturePolicy.REQUIRE, entries, "vendor.pub")
    edited = kept.evolve(payload=payloads.write_new(script_content("Write-Host 'changed'\n")))
    stranger = make_record(payloads, Domain.OFFICIAL, "Not signed")
    assert trust.status_of(kept) is SignatureStatus.VERIFIED
    assert trust.status_of(edited) is SignatureStatus.MODIFIED
    assert trust.status_of(kept.evolve(version=2)) is SignatureStatus.MODIFIED
    assert trust.status_of(stranger) is SignatureStatus.UNSIGNED
    assert OfficialTrust(SignaturePolicy.OFF).status_of(kept) is SignatureStatus.UNSIGNED
    facts = [RecordFacts.of(r) for r in (kept, edited, stranger)]
    assert trust.counts(facts) == {"verified": 1, "modified": 1, "unsigned": 1}
    # The same facts read from the rows, as health counts records not built yet.
    assert [RecordFacts.of_row(r.to_row(), Domain.OFFICIAL) for r in (kept, edited, stranger)] == facts

    view = AssemblyView.of(CachedAssembly(old, CacheEntryState()), admin=False, trust=trust)
    shown = view.model_dump(mode="json", exclude_unset=True)
    assert shown["signature"] == "verified"
    assert shown["vendor"] == {"status": "deprecated", "note": "use New way", "replaced_by": "b" * 32}
    user = make_record(payloads, Domain.USER, "Mine")
    mine = AssemblyView.of(CachedAssembly(user, CacheEntryState()), admin=False, trust=trust)
    assert "signature" not in mine.model_dump(exclude_unset=True)


def test_a_deprecated_assembly_shows_the_vendor_note_and_is_listed_for_attention(
    tmp_path: Path, keys: tuple[Path, Path], engines: list[EngineProcess]
) -> None:
    """The vendor deprecates one assembly (its metadata in the release, signed into the
    manifest): a real engine shows the note and the successor, and the upstream filter
    lists it on its own and among what needs attention."""
    private, public = keys
    staging = tmp_path / "staging"
    shutil.copytree(SHIPPED, staging)
    old, successor = deprecate_first(staging, "Use the successor")
    assert cli("official", "sign", "--key", str(private), "--root", str(staging)).returncode == 0

    engine = boot(engines, tmp_path / "home", staging, "require", public)
    headers = engine.login()
    vendor = {"status": "deprecated", "note": "Use the successor", "replaced_by": successor}
    shown = engine.http.get(f"/api/assemblies/{old}", headers=headers).json()
    assert shown["vendor"] == vendor and shown["signature"] == "verified"
    assert "vendor" not in engine.http.get(f"/api/assemblies/{successor}", headers=headers).json()
    for wanted in ("deprecated", "attention"):
        listed = engine.http.get("/api/assemblies", params={"upstream": wanted}, headers=headers).json()
        assert [(i["assembly_guid"], i["vendor"]) for i in listed["items"]] == [(old, vendor)], wanted
    assert signatures(engine)["counts"]["verified"] == len(official_statuses(engine, headers))
