"""No test file imports from a conftest module or from another test module.

pytest loads conftest.py files and test modules itself; importing one loads it a second
time under another name (two copies of its fixtures and state), and fixtures imported
into a module need the F811 redefinition waivers this rule removes. Fixtures stay in
conftest.py and reach tests by name; constants and helpers live in support modules
(tests/support.py and a support.py beside the conftest.py of a folder).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

TESTS = Path(__file__).resolve().parent
KNOWN: frozenset[str] = frozenset()  # files allowed to, for now: none


def _imported_modules(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            yield "." * node.level + (node.module or "")
            if node.module is None:  # from . import conftest
                yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def _forbidden(module: str) -> bool:
    name = module.rsplit(".", 1)[-1]
    return name == "conftest" or name.startswith("test_")


def _importers() -> set[str]:
    found = set()
    for path in sorted(TESTS.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        if any(_forbidden(module) for module in _imported_modules(tree)):
            found.add(path.relative_to(TESTS).as_posix())
    return found


def test_no_test_file_imports_from_a_conftest_or_a_test_module() -> None:
    importers = _importers()
    assert importers - KNOWN == set(), "move what these import into a support module or a conftest fixture"
    assert KNOWN - importers == set(), "these no longer import from a conftest: drop them from KNOWN"


def test_the_check_sees_every_form_of_import() -> None:
    forms = (
        "from .conftest import Backend",
        "from tests.api.conftest import ApiEngine",
        "import tests.e2e.conftest",
        "from . import conftest",
        "from tests.cli.test_cli import Cli, cli",
        "from .test_durability import running",
    )
    for source in forms:
        assert any(_forbidden(m) for m in _imported_modules(ast.parse(source))), source
    allowed = "from tests.support import CORPUS\nfrom tests.api.support import ApiEngine\nimport pytest"
    assert not any(_forbidden(m) for m in _imported_modules(ast.parse(allowed)))
