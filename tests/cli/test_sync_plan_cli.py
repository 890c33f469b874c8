"""``assemblies sync plan`` as a CI job runs it, again and again, against a real engine
process: the engine answers the same request from the plan it kept, and a change on either
side still shows; JSON the request cannot carry is refused when the folder is read; the
plan's human output is one line per item. Plus the file reader the plan reads every file by."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from assembly_engine.storage.files.library_tree import read_inside
from tests.cli.support import LIBRARY_ITEMS, Cli, by_path, make_library, user_assemblies
from tests.engine_process import EngineProcess


def test_planned_again_after_changes_on_either_side(cli: Cli, running: EngineProcess, tmp_path: Path) -> None:
    library = make_library(tmp_path / "library")
    cli.json("sync", "apply", library, "--domain", "user")
    first = cli.json("sync", "plan", library, "--domain", "user")
    again = cli.json("sync", "plan", library, "--domain", "user")  # the same bytes: the kept plan
    assert again == first and first["counts"]["unchanged"] == len(LIBRARY_ITEMS)

    headers = running.login()
    guid = {r["display_name"]: r["assembly_guid"] for r in user_assemblies(running, headers)}["tool"]
    edited = running.http.put(
        f"/api/assemblies/{guid}", json={"payload": {"script": "@echo engine\r\n"}}, headers=headers
    )
    assert edited.status_code == 200, edited.text
    after_engine = cli.json("sync", "plan", library, "--domain", "user")
    tool = by_path(after_engine)["Windows/tool.cmd"]
    assert tool["action"] == "unchanged" and "engine" in tool["reason"]
    assert after_engine["plan_id"] != first["plan_id"]
    refused = cli.run("sync", "apply", library, "--domain", "user", "--plan-id", first["plan_id"])
    assert refused.returncode == 2 and "changed since that plan" in refused.stderr

    (library / "Linux/report.py").write_bytes(b"print('file edit')\n")
    after_file = by_path(cli.json("sync", "plan", library, "--domain", "user"))
    assert after_file["Linux/report.py"]["action"] == "update"


def test_human_plan_is_one_line_per_item_and_a_summary(
    cli: Cli, running: EngineProcess, tmp_path: Path
) -> None:
    library = make_library(tmp_path / "library")
    plan = cli.json("sync", "plan", library, "--domain", "user")
    lines = cli.ok("sync", "plan", library, "--domain", "user").splitlines()
    assert len(lines) == len(plan["items"]) + 1
    assert lines[-1].startswith(f"plan {plan['plan_id']}: ")
    assert any(line.startswith("create    Linux/report.py") for line in lines)


@pytest.mark.parametrize(
    ("rel", "data"),
    [
        ("Linux/report.py.assembly.json", b'{"summary": NaN}\n'),
        ("Linux/report.py.assembly.json", b'{"timeout": Infinity}\n'),
    ],
)
def test_a_sidecar_json_cannot_carry_is_refused_when_read(
    cli: Cli, running: EngineProcess, tmp_path: Path, rel: str, data: bytes
) -> None:
    library = make_library(tmp_path / "library")
    (library / rel).write_bytes(data)
    for command in ("plan", "apply"):
        done = cli.run("sync", command, library, "--domain", "user")
        assert done.returncode == 1, done.stderr
        assert f"{rel} is not valid JSON" in done.stderr and "no JSON value" in done.stderr
        assert "Traceback" not in done.stderr
    assert cli.json("status")["assemblies"]["user"] == 0


def test_a_manifest_json_cannot_carry_is_refused_when_read(
    cli: Cli, running: EngineProcess, tmp_path: Path
) -> None:
    library = tmp_path / "trmm"
    (library / "scripts").mkdir(parents=True)
    (library / "scripts" / "a.ps1").write_bytes(b"Write-Host a\n")
    entry = {"filename": "a.ps1", "name": "A", "shell": "powershell"}
    text = json.dumps([entry]).replace('"A"', "NaN")
    (library / "community_scripts.json").write_text(text, encoding="utf-8")
    done = cli.run("sync", "plan", library, "--domain", "user")
    assert done.returncode == 1 and "community_scripts.json is not valid JSON" in done.stderr, done.stderr


def test_read_inside_reads_whole_files_and_refuses_links(tmp_path: Path) -> None:
    empty, small, large = tmp_path / "empty", tmp_path / "small", tmp_path / "large"
    empty.write_bytes(b"")
    small.write_bytes(b"Write-Host a\r\n")
    large.write_bytes(os.urandom(3 << 20))
    for path in (empty, small, large):
        assert read_inside(path) == path.read_bytes() == read_inside(str(path))
    link = tmp_path / "link"
    link.symlink_to(small)
    with pytest.raises(OSError):
        read_inside(link)
