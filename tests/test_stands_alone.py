"""The repository stands alone: it cites its own Docs, never a file outside it.

Code, docs, tools, benchmarks and the web sources may not cite a specification that is
not in the repository (by its section numbers) or a path outside it; tests may read the
legacy corpus beside the repository and nothing else outside it. Every
"Docs/assemblies.md §N" a file cites must be a section the guide has.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
GUIDE = REPOSITORY / "Docs" / "assemblies.md"
# What must stand alone: everything the repository ships or documents.
ROOTS = (
    "src",
    "Docs",
    "tools",
    "bench",
    "web/src",
    "README.md",
    "web/README.md",
    "web/index.html",
    "Makefile",
    "pyproject.toml",
)
SKIPPED_PARTS = frozenset({"node_modules", "dist", "__pycache__", ".venv"})
# Spelled in two pieces so this file does not trip over its own patterns.
SPEC_CITATION = "SPEC" + " §"
OUTSIDE_PATHS = ("../" + "shared", "/" + "work/")
CORPUS_PATH = "../" + "shared/corpus"
# "Docs/assemblies.md §8, §14.1" and "… §8 and §14.1" cite both sections.
GUIDE_CITATION = re.compile(r"Docs/assemblies\.md (§\d+(?:\.\d+)?(?:(?:, | and )§\d+(?:\.\d+)?)*)")


def _text_files(roots: tuple[str, ...]) -> Iterator[Path]:
    for root in roots:
        path = REPOSITORY / root
        paths = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for found in paths:
            if SKIPPED_PARTS.intersection(found.relative_to(REPOSITORY).parts):
                continue
            try:
                found.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue  # images, fonts: nothing to cite in them
            yield found


def _lines(roots: tuple[str, ...]) -> Iterator[tuple[str, int, str]]:
    for path in _text_files(roots):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            yield str(path.relative_to(REPOSITORY)), number, line


def test_the_roots_are_there() -> None:
    assert all((REPOSITORY / root).exists() for root in ROOTS)


def test_nothing_cites_a_specification_outside_the_repository() -> None:
    found = [f"{name}:{number}" for name, number, line in _lines(ROOTS + ("tests",)) if SPEC_CITATION in line]
    assert found == [], "cite the Docs section that holds the rule instead"


def test_nothing_names_a_path_outside_the_repository() -> None:
    shipped = [
        f"{name}:{number}"
        for name, number, line in _lines(ROOTS)
        if any(outside in line for outside in OUTSIDE_PATHS)
    ]
    assert shipped == []
    tests = [
        f"{name}:{number}"
        for name, number, line in _lines(("tests",))
        if any(outside in line.replace(CORPUS_PATH, "") for outside in OUTSIDE_PATHS)
    ]
    assert tests == [], "tests may read the legacy corpus beside the repository, nothing else"


@pytest.fixture(scope="module")
def guide_sections() -> set[str]:
    headings = re.findall(
        r"^#{2,3} (\d+(?:\.\d+)?)\.? ", GUIDE.read_text(encoding="utf-8"), flags=re.MULTILINE
    )
    return set(headings)


def test_every_cited_guide_section_exists(guide_sections: set[str]) -> None:
    assert {"4", "7", "10.3"} <= guide_sections  # the heading pattern still reads the guide
    missing = [
        f"{name}:{number} §{section}"
        for name, number, line in _lines(ROOTS + ("tests",))
        for cited in GUIDE_CITATION.findall(line)
        for section in re.findall(r"§([\d.]+\d)", cited)
        if section not in guide_sections
    ]
    assert missing == []
