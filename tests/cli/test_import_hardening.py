"""`assemblies import` on untrusted trees (issue 23): symbolic links are never followed
(finding 6: a library tree is untrusted, and git keeps links; real links in a temp tree),
and one bad document never fails the files batched with it (finding 10)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.cli.support import Cli

SECRET = b"Write-Host 'the secret: password hashes would be here'\n"


def test_links_in_a_library_folder_are_refused_each_with_its_reason(cli: Cli, tmp_path: Path) -> None:
    outside = tmp_path / "private"
    (outside / "keys").mkdir(parents=True)
    (outside / "id_rsa.ps1").write_bytes(SECRET)
    (outside / "keys" / "other.ps1").write_bytes(SECRET)

    tree = tmp_path / "community"
    (tree / "Scripts").mkdir(parents=True)
    (tree / "Scripts" / "good.ps1").write_bytes(b"Write-Host 'fine'\n")
    os.symlink(outside / "id_rsa.ps1", tree / "Scripts" / "stolen.ps1")  # a file outside
    os.symlink(tree / "Scripts" / "good.ps1", tree / "Scripts" / "alias.ps1")  # inside, still a link
    os.symlink(outside / "keys", tree / "more")  # a folder outside
    os.symlink("missing.ps1", tree / "Scripts" / "dangling.ps1")

    report = cli.json("import", tree, code=1)
    by_name = {Path(item["path"]).name: item for item in report["files"]}
    assert by_name["good.ps1"]["status"] == "imported"
    for name in ("stolen.ps1", "alias.ps1", "more", "dangling.ps1"):
        assert by_name[name]["status"] == "failed", by_name[name]
        assert "symbolic link" in by_name[name]["reason"]
    assert str(outside / "id_rsa.ps1") in by_name["stolen.ps1"]["reason"]
    assert "other.ps1" not in by_name  # the linked folder is not walked
    assert report["imported"] == 1 and report["failed"] == 4

    exported = tmp_path / "out"
    cli.json("export", "--domain", "user", "--out", exported)
    for path in exported.rglob("*"):
        if path.is_file():
            assert b"the secret" not in path.read_bytes(), path


def test_a_tactical_rmm_manifest_cannot_name_a_linked_script(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "secret.ps1").write_bytes(SECRET)
    trmm = tmp_path / "trmm"
    (trmm / "scripts").mkdir(parents=True)
    (trmm / "scripts" / "ok.ps1").write_bytes(b"Write-Host 'ok'\n")
    os.symlink(tmp_path / "secret.ps1", trmm / "scripts" / "linked.ps1")
    entries = [
        {"guid": "1", "filename": "ok.ps1", "name": "OK", "shell": "powershell"},
        {"guid": "2", "filename": "linked.ps1", "name": "Linked", "shell": "powershell"},
    ]
    (trmm / "community_scripts.json").write_text(json.dumps(entries), encoding="utf-8")

    report = cli.json("import", trmm, code=1)
    failed = [item for item in report["files"] if item["status"] == "failed"]
    assert [Path(item["path"]).name for item in failed] == ["linked.ps1"]
    assert "symbolic link" in failed[0]["reason"]
    assert report["imported"] == 1


def test_each_file_of_a_batch_gets_its_own_reason(cli: Cli, tmp_path: Path) -> None:
    """Issue 23 #10: one bad document never fails the files batched with it."""
    tree = tmp_path / "mixed"
    tree.mkdir()
    good = {"name": "Good", "type": "bash", "script": "echo ok"}
    (tree / "a-good.json").write_text(json.dumps(good), encoding="utf-8")
    (tree / "b-big.json").write_text(json.dumps({**good, "name": "Big", "timeout_seconds": 2**64}))
    deep: object = 1
    for _ in range(100):
        deep = [deep]
    (tree / "c-deep.json").write_text(json.dumps({**good, "name": "Deep", "extra": deep}))
    (tree / "d-abyss.json").write_text("[" * 100_000 + "]" * 100_000)  # beyond any JSON reader
    (tree / "e-good.json").write_text(json.dumps({**good, "name": "Good too"}), encoding="utf-8")

    report = cli.json("import", tree, code=1)
    by_name = {Path(item["path"]).name: item for item in report["files"]}
    assert by_name["a-good.json"]["status"] == by_name["e-good.json"]["status"] == "imported"
    assert "64-bit" in by_name["b-big.json"]["reason"]
    assert "nested more than 64 levels" in by_name["c-deep.json"]["reason"]
    assert "nested too deeply" in by_name["d-abyss.json"]["reason"]
    assert report["imported"] == 2 and report["failed"] == 3
