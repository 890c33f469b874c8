"""``assemblies import`` of a plain-script folder imported before: it still creates new
assemblies, and says which files it duplicates and which ``sync`` command keeps the folder in
step (imported_before.py has the match: the same path below the folder and the same content).
Against a real engine process."""

from __future__ import annotations

from pathlib import Path

from tests.cli.support import Cli
from tests.engine_process import EngineProcess

FILES: dict[str, bytes] = {
    "Windows/clear-temp.ps1": b"\xef\xbb\xbfRemove-Item $env:TEMP\\* -Recurse\r\n",
    "Linux/run-backup": b"#!/bin/bash\necho backup\n",
    "report.py": b"print('report')\n",
}


def plain_folder(root: Path, files: dict[str, bytes] = FILES) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def before_of(answer: dict[str, object]) -> dict[str, str | None]:
    files = answer["files"]
    assert isinstance(files, list)
    return {Path(f["path"]).name: f.get("imported_before") for f in files}


def test_a_plain_folder_imported_twice_points_to_sync(
    cli: Cli, running: EngineProcess, tmp_path: Path
) -> None:
    library = plain_folder(tmp_path / "my library")
    first = cli.json("import", library)
    assert first["imported"] == 3 and first["imported_before"] == 0
    made = {Path(f["path"]).name: f["assembly_guid"] for f in first["files"]}

    # --dry-run says so too, and still creates nothing.
    dry = cli.run("import", "--dry-run", library)
    assert dry.returncode == 0, dry.stderr
    assert "note: 3 of these files were imported into user before" in dry.stderr
    assert "import would create new assemblies" in dry.stderr
    assert f"`assemblies sync plan '{library}' --domain user`" in dry.stderr
    assert f"(imported before as {made['report.py']})" in dry.stdout
    assert before_of(cli.json("import", "--dry-run", library)) == made
    assert cli.json("status")["assemblies"]["user"] == 3

    # The second import still imports (import keeps its meaning), and names the earlier ones.
    second = cli.run("import", library)
    assert second.returncode == 0, second.stderr
    assert "note: 3 of these files were imported into user before" in second.stderr
    assert "import created new assemblies" in second.stderr
    assert "assemblies sync plan" in second.stderr and "assemblies sync apply" in second.stderr
    assert cli.json("status")["assemblies"]["user"] == 6
    # A third run matches too (the first copy found of each is named).
    third = cli.json("import", library)
    assert third["imported_before"] == 3 and set(before_of(third).values()) <= set(made.values())


def test_a_changed_file_or_another_path_is_not_imported_before(
    cli: Cli, running: EngineProcess, tmp_path: Path
) -> None:
    cli.json("import", plain_folder(tmp_path / "first"))
    # The same bytes elsewhere (another folder inside the library), and a file edited since.
    moved = {
        "Elsewhere/clear-temp.ps1": FILES["Windows/clear-temp.ps1"],
        "Linux/run-backup": b"#!/bin/bash\necho backup --all\n",
        "report.py": FILES["report.py"],
    }
    answer = cli.json("import", "--dry-run", plain_folder(tmp_path / "second", moved))
    seen = before_of(answer)
    assert seen["clear-temp.ps1"] is None and seen["run-backup"] is None
    assert seen["report.py"] is not None and answer["imported_before"] == 1
    # Another domain holds none of them.
    other = cli.json("import", "--dry-run", tmp_path / "first", "--domain", "community")
    assert other["imported_before"] == 0


def test_an_assembly_edited_in_the_engine_is_not_matched(
    cli: Cli, running: EngineProcess, tmp_path: Path
) -> None:
    library = plain_folder(tmp_path / "library", {"report.py": FILES["report.py"]})
    guid = cli.json("import", library)["files"][0]["assembly_guid"]
    headers = running.login()
    edited = running.http.put(
        f"/api/assemblies/{guid}", json={"payload": {"script": "print('edited')\n"}}, headers=headers
    )
    assert edited.status_code == 200, edited.text
    assert cli.json("import", "--dry-run", library)["imported_before"] == 0
