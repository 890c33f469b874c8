"""The working copy of the packaged official library (storage/official/shipped_library.py)."""

from __future__ import annotations

import stat
from pathlib import Path

from assembly_engine.storage.official.shipped_library import DIGEST_FILE, WORKING_COPY, working_copy


def shipped_library(root: Path, text: str = "v1") -> Path:
    (root / "Payloads" / "abc").mkdir(parents=True)
    (root / "official.db").write_text(f"database {text}")
    (root / "Payloads" / "abc" / "script.ps1").write_text(f"Write-Host {text}")
    for path in [root, *root.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)  # read-only, as a root-owned package is
    return root


def test_first_start_copies_the_library_into_the_home_privately(tmp_path: Path) -> None:
    shipped = shipped_library(tmp_path / "package")
    home = tmp_path / "home"
    home.mkdir()
    copy = working_copy(shipped, home)
    assert copy == home / WORKING_COPY
    assert (copy / "official.db").read_text() == "database v1"
    assert (copy / "Payloads" / "abc" / "script.ps1").read_text() == "Write-Host v1"
    for path in [copy, *copy.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))  # writable, private
    assert (home / DIGEST_FILE).is_file()
    assert sorted(p.name for p in home.iterdir()) == [WORKING_COPY, DIGEST_FILE]  # no temp left


def test_the_copy_keeps_its_edits_until_the_package_ships_another_library(tmp_path: Path) -> None:
    shipped = shipped_library(tmp_path / "package")
    home = tmp_path / "home"
    home.mkdir()
    copy = working_copy(shipped, home)
    (copy / "official.db").write_text("mirrored Dev Mode edit")
    assert working_copy(shipped, home) == copy
    assert (copy / "official.db").read_text() == "mirrored Dev Mode edit"  # a restart keeps it

    upgraded = shipped_library(tmp_path / "package-2", "v2")
    assert working_copy(upgraded, home) == copy
    assert (copy / "official.db").read_text() == "database v2"  # an upgrade's library replaces it
    assert sorted(p.name for p in home.iterdir()) == [WORKING_COPY, DIGEST_FILE]


def test_a_missing_copy_is_made_again(tmp_path: Path) -> None:
    shipped = shipped_library(tmp_path / "package")
    home = tmp_path / "home"
    home.mkdir()
    copy = working_copy(shipped, home)
    for path in sorted(copy.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    copy.rmdir()
    assert (working_copy(shipped, home) / "official.db").read_text() == "database v1"
