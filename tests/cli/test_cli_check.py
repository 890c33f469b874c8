"""``assemblies check PATH…``: offline (no engine), exit 1 on errors, usable on a folder."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.checks import corpus
from tests.cli.support import REPO_ROOT, Cli


def test_check_a_library_folder_offline(cli: Cli, tmp_path: Path) -> None:
    library = tmp_path / "library"
    shutil.copytree(REPO_ROOT / "library" / "official", library)
    shutil.copy(corpus.CORPUS / "workflows" / "Value Parser.json", library / "workflow.json")
    report = cli.json("check", library, corpus.TRMM)
    assert report["failing"] == 0 and report["checked"] >= 140
    assert not (cli.home / "cli.json").exists()  # no engine was started for it
    kinds = {item["language"] for item in report["files"]}
    assert kinds == {"powershell", "batch", "bash", "python", "ansible", "workflow"}
    assert all(not item["has_errors"] for item in report["files"])


def test_check_exits_1_on_errors_and_names_the_position(cli: Cli, tmp_path: Path) -> None:
    broken = tmp_path / "deploy.bat"
    broken.write_text(corpus.trmm("Win_ADDC_Sync_Start.bat").replace("exit /b 0", "goto :finish"))
    good = tmp_path / "fine.sh"
    good.write_text("#!/bin/sh\necho fine\n")
    result = cli.run("check", broken, good)
    assert result.returncode == 1, result.stderr
    assert f"{broken}:5:7: error BAT-LABEL" in result.stdout
    assert "1 file(s) failing" in result.stdout
    clean = cli.run("check", good)
    assert clean.returncode == 0 and "0 error(s)" in clean.stdout
    # --warnings-fail makes warnings fail too.
    warned = tmp_path / "warned.bat"
    warned.write_text("echo !x!\n")
    assert cli.run("check", warned).returncode == 0
    assert cli.run("check", "--warnings-fail", warned).returncode == 1
