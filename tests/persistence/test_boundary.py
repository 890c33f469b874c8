"""The storage boundary: only ``persistence/`` opens a database, syncs or walks files.

An AST scan of the engine's source, so a new shortcut past the interfaces fails here
rather than in a review. The services and the API may not touch files at all; the CLI
modules may (they read the files a user imports and write the ones a user exports), but
not a database, an fsync or a directory walk.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "src" / "assembly_engine"
PERSISTENCE = SOURCE / "persistence"

FORBIDDEN_MODULES = {"sqlite3", "fcntl"}
FORBIDDEN_CALLS = {
    ("os", "fsync"),
    ("os", "fdatasync"),
    ("os", "scandir"),
    ("os", "walk"),
    ("os", "open"),
    ("os", "replace"),
    ("os", "rename"),
    ("os", "unlink"),
    ("os", "remove"),
    ("os", "lstat"),
    ("os", "listdir"),
    ("shutil", "rmtree"),
    ("shutil", "copy2"),
    ("shutil", "copyfile"),
}
# Path methods that read or change files: not for services or routes.
FILE_METHODS = {
    "read_bytes",
    "read_text",
    "write_bytes",
    "write_text",
    "unlink",
    "iterdir",
    "mkdir",
    "rmdir",
    "rename",
    "touch",
    "glob",
    "rglob",
}
NO_FILES_AT_ALL = ("services", "api")


def _modules_outside_persistence() -> list[Path]:
    return sorted(p for p in SOURCE.rglob("*.py") if PERSISTENCE not in p.parents)


def _violations(path: Path) -> list[str]:
    return _violations_in(path.read_text(encoding="utf-8"), path.relative_to(SOURCE))


def _violations_in(text: str, relative: Path) -> list[str]:
    tree = ast.parse(text, filename=str(relative))
    strict = relative.parts[0] in NO_FILES_AT_ALL
    found: list[str] = []
    for node in ast.walk(tree):
        where = f"{relative}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            found += [
                f"{where} imports {a.name}" for a in node.names if a.name.split(".")[0] in FORBIDDEN_MODULES
            ]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] in FORBIDDEN_MODULES:
                found.append(f"{where} imports from {node.module}")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                if isinstance(func.value, ast.Name) and (func.value.id, func.attr) in FORBIDDEN_CALLS:
                    found.append(f"{where} calls {func.value.id}.{func.attr}")
                elif strict and func.attr in FILE_METHODS:
                    found.append(f"{where} calls .{func.attr}()")
            elif strict and isinstance(func, ast.Name) and func.id == "open":
                found.append(f"{where} calls open()")
    return found


def test_the_scan_sees_the_source() -> None:
    modules = _modules_outside_persistence()
    assert any(p.name == "service.py" for p in modules)
    assert not any(PERSISTENCE in p.parents for p in modules)


@pytest.mark.parametrize(
    "snippet",
    [
        "import sqlite3",
        "from sqlite3 import connect",
        "import os\nos.fsync(3)",
        "import shutil\nshutil.rmtree('x')",
        "open('x')",
        "from pathlib import Path\nPath('x').read_bytes()",
    ],
)
def test_the_scan_catches_each_kind_of_shortcut(snippet: str) -> None:
    # Judged as if it were a service module, so the strict rules apply to it.
    assert _violations_in(snippet, Path("services") / "probe.py"), snippet


def test_the_cli_may_read_and_write_user_files() -> None:
    snippet = "from pathlib import Path\nPath('export.json').write_text('{}')"
    assert _violations_in(snippet, Path("cli_export.py")) == []
    assert _violations_in("import sqlite3", Path("cli_export.py")) != []


def test_nothing_outside_persistence_touches_storage() -> None:
    problems = [v for path in _modules_outside_persistence() for v in _violations(path)]
    assert problems == []
