"""The storage boundary: only ``storage/`` opens a database, syncs or walks files.

An AST scan of the engine's source, so a new shortcut past the interfaces fails here
rather than in a review. The services and the API may not touch files at all; the CLI
modules may (they read the files a user imports and write the ones a user exports), but
not a database, an fsync or a directory walk.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "src" / "assembly_engine"
STORAGE = SOURCE / "storage"

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


def _modules_outside_storage() -> list[Path]:
    return sorted(p for p in SOURCE.rglob("*.py") if STORAGE not in p.parents)


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
    modules = _modules_outside_storage()
    assert any(p.name == "service.py" for p in modules)
    assert not any(STORAGE in p.parents for p in modules)


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
    assert _violations_in(snippet, Path("cli/export.py")) == []
    assert _violations_in("import sqlite3", Path("cli/export.py")) != []


def test_nothing_outside_storage_touches_storage() -> None:
    problems = [v for path in _modules_outside_storage() for v in _violations(path)]
    assert problems == []


# --------------------------------------------------------------------------- import graph


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SOURCE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """Engine module -> the engine modules it imports (at any depth of the file, type-only
    imports included: a circle of type imports is still a circle for a reader)."""
    modules = {_module_name(p): p for p in SOURCE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([node.module] if node.module else [])])
                for alias in node.names:
                    target = f"{base}.{alias.name}"
                    graph[name].add(target if target in modules else base)
            elif isinstance(node, ast.Import):
                graph[name].update(a.name for a in node.names)
        graph[name] = {t for t in graph[name] if t in modules and t != name}
    return graph


GRAPH = _import_graph()


def _imports_under(prefix: str) -> list[tuple[str, str]]:
    return [(m, t) for m, targets in GRAPH.items() if m.startswith(prefix) for t in sorted(targets)]


def _inside(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_the_graph_sees_the_layers() -> None:
    assert "assembly_engine.storage.contract.interfaces" in GRAPH["assembly_engine.storage.runtime"]
    assert "assembly_engine.storage.sqlite.journal" in GRAPH["assembly_engine.storage.sqlite.backend"]


def test_no_import_circle() -> None:
    # Tarjan's strongly connected components; any component of two or more is a circle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in GRAPH[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while (member := stack.pop()) != module:
                component.append(member)
            if component:
                circles.append(sorted([module, *component]))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    assert circles == []


def test_the_backends_are_siblings_that_never_import_each_other() -> None:
    sqlite, postgresql = "assembly_engine.storage.sqlite", "assembly_engine.storage.postgresql"
    crossing = [(m, t) for m, t in _imports_under(sqlite) if _inside(t, postgresql)]
    crossing += [(m, t) for m, t in _imports_under(postgresql) if _inside(t, sqlite)]
    assert crossing == []


def test_the_contract_imports_nothing_below_it() -> None:
    contract = "assembly_engine.storage.contract"
    below = [
        (m, t) for m, t in _imports_under(contract) if not _inside(t, contract, "assembly_engine.domain")
    ]
    assert below == []


def test_the_file_primitives_import_no_storage_above_them() -> None:
    """storage/files is the bottom floor: backends, cache and runtime build on it, never
    the other way round (the runtime lock lives there so that the CLI can probe it)."""
    files = "assembly_engine.storage.files"
    allowed = (files, "assembly_engine.storage.contract", "assembly_engine.domain", "assembly_engine.config")
    upward = [
        (m, t)
        for m, t in _imports_under(files)
        if t.startswith("assembly_engine.") and not _inside(t, *allowed)
    ]
    assert upward == []


# Imports of services and the API past the contract, each with why it stays. A new one fails.
COMPOSITION_ROOTS = {
    # The container wires the engine: it opens the runtime, then publishes the CLI's access
    # file and makes the home private, both file formats of storage/files.
    ("assembly_engine.services.container", "assembly_engine.storage.files"),
    ("assembly_engine.services.container", "assembly_engine.storage.files.cli_access"),
    ("assembly_engine.services.container", "assembly_engine.storage.files.private_files"),
    ("assembly_engine.api.app", "assembly_engine.storage.files.private_files"),
    # migrate-storage opens two libraries side by side, which only library_copy can do.
    ("assembly_engine.services.storage_migration", "assembly_engine.storage.library_copy"),
    # An installed engine works on a copy of the packaged official library in its home.
    ("assembly_engine.services.container", "assembly_engine.storage.official.shipped_library"),
}


def test_services_and_routes_use_only_the_contract_the_cache_and_the_runtime() -> None:
    allowed = (
        "assembly_engine.storage.contract",
        "assembly_engine.storage.cache",
        "assembly_engine.storage.runtime",
    )
    past = [
        (m, t)
        for prefix in ("assembly_engine.services", "assembly_engine.api")
        for m, t in _imports_under(prefix)
        if _inside(t, "assembly_engine.storage") and not _inside(t, *allowed)
    ]
    assert sorted(set(past) - COMPOSITION_ROOTS) == []


# ------------------------------------------------------------- no tuples, no row JSON above


def _tuple_methods() -> set[str]:
    """The contract's Protocol methods that answer bare tuples (rows in column order and
    the like): for storage's own use, never for a service or a route."""
    found = set()
    for path in (STORAGE / "contract").glob("*.py"):
        for cls in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(cls, ast.ClassDef) or not any(
                ast.unparse(b).endswith("Protocol") for b in cls.bases
            ):
                continue
            for method in cls.body:
                if isinstance(method, ast.FunctionDef) and method.returns is not None:
                    if re.match(r"(list\[)?tuple\[", ast.unparse(method.returns)):
                        found.add(method.name)
    return found


def _storage_shortcuts_in(text: str, relative: Path, tuple_methods: set[str]) -> list[str]:
    """Calls of a tuple-answering contract method, and JSON parsing of a stored row's text
    (an attribute named ``row_json``, as history's value types hold it)."""
    found = []
    for node in ast.walk(ast.parse(text, filename=str(relative))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        where = f"{relative}:{node.lineno}"
        if node.func.attr in tuple_methods:
            found.append(f"{where} calls .{node.func.attr}()")
        elif node.func.attr == "loads" and any(
            isinstance(a, ast.Attribute) and a.attr == "row_json" for a in node.args
        ):
            found.append(f"{where} parses a row's JSON")
    return found


def test_the_tuple_answers_are_known() -> None:
    assert {"load_rows", "prune_history"} <= _tuple_methods()


@pytest.mark.parametrize(
    "snippet",
    ["rows = store.load_rows()\nrows[0][5]", "import json\njson.loads(revision.row_json)"],
)
def test_the_scan_catches_a_tuple_or_a_row_s_json(snippet: str) -> None:
    assert _storage_shortcuts_in(snippet, Path("services/probe.py"), _tuple_methods()), snippet


def test_no_service_or_route_reads_storage_tuples_or_row_json() -> None:
    tuple_methods = _tuple_methods()
    problems = [
        problem
        for path in _modules_outside_storage()
        if path.relative_to(SOURCE).parts[0] in NO_FILES_AT_ALL
        for problem in _storage_shortcuts_in(
            path.read_text(encoding="utf-8"), path.relative_to(SOURCE), tuple_methods
        )
    ]
    assert problems == []
