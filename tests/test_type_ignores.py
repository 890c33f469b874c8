"""Every ``type: ignore`` left in the engine says why (Docs/design.md, "Typed all the way up").

``mypy --strict`` runs on the whole package; where it is told to look away, a comment on
the same line (after the ignore) or on the line above gives the reason, so a reader can
judge whether the ignore may go.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "assembly_engine"
IGNORE = re.compile(r"#\s*type:\s*ignore(\[[^\]]*\])?")


def _unexplained(lines: list[str]) -> list[int]:
    """Line numbers (from 1) of ignores with no reason beside or above them."""
    found = []
    for number, line in enumerate(lines, start=1):
        match = IGNORE.search(line)
        if match is None:
            continue
        after = line[match.end() :].strip()
        above = lines[number - 2].strip() if number > 1 else ""
        if not after.startswith("#") and not above.startswith("#"):
            found.append(number)
    return found


@pytest.mark.parametrize(
    ("text", "unexplained"),
    [
        ("x = f()  # type: ignore[misc]\n", [1]),
        ("x = f()  # type: ignore\n", [1]),
        ("x = f()  # type: ignore[misc]  # always one row\n", []),
        ("# mypy cannot evaluate it\nx: T = 1  # type: ignore[valid-type]\n", []),
        ("y = 2\nx = f()  # type: ignore[misc]\n", [2]),
    ],
)
def test_the_scan_tells_a_reason_from_none(text: str, unexplained: list[int]) -> None:
    assert _unexplained(text.splitlines()) == unexplained


def test_every_type_ignore_says_why() -> None:
    modules = sorted(SOURCE.rglob("*.py"))
    assert any(p.name == "write_queue.py" for p in modules)  # the scan sees the source
    missing = [
        f"{path.relative_to(SOURCE)}:{number}"
        for path in modules
        for number in _unexplained(path.read_text(encoding="utf-8").splitlines())
    ]
    assert missing == []
