"""The bounded unified diff of `assemblies diff` (issue 23, finding 15) is a correct diff:
applied to the old text it gives the new one, compared exactly or as one block."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assembly_engine.cli import text_diff

HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
LINES = st.lists(st.sampled_from(["a\n", "b\n", "c\n", "d\n", "e\n"]), max_size=25)


def apply(old: list[str], diff: str) -> list[str]:
    lines = diff.splitlines(keepends=True)[2:]  # after the ---/+++ header
    out: list[str] = []
    pos = 0
    i = 0
    while i < len(lines):
        match = HUNK.match(lines[i])
        assert match, lines[i]
        start, count = int(match.group(1)), int(match.group(2) or 1)
        begin = start - 1 if count else start
        out.extend(old[pos:begin])
        pos = begin
        i += 1
        while i < len(lines) and not lines[i].startswith("@@"):
            line = lines[i]
            no_newline = i + 1 < len(lines) and lines[i + 1].startswith("\\")
            text = line[1:].removesuffix("\n") if no_newline else line[1:]
            if line[0] in " -":
                assert old[pos] == text
                pos += 1
            if line[0] in " +":
                out.append(text)
            i += 2 if no_newline else 1
    return out + old[pos:]


@pytest.mark.parametrize("exact_lines", [text_diff.EXACT_DIFF_LINES, 0], ids=["exact", "one-block"])
@given(old=LINES, new=LINES, cut_last=st.booleans())
def test_the_diff_turns_the_old_text_into_the_new(
    exact_lines: int, old: list[str], new: list[str], cut_last: bool
) -> None:
    if cut_last and new and exact_lines == 0:  # difflib itself marks no missing newline
        new = [*new[:-1], new[-1].removesuffix("\n")]
    original = text_diff.EXACT_DIFF_LINES
    text_diff.EXACT_DIFF_LINES = exact_lines
    try:
        diff = text_diff.unified_diff(old, new, "old", "new")
    finally:
        text_diff.EXACT_DIFF_LINES = original
    if old == new:
        assert diff == ""
    else:
        assert diff.startswith("--- old\n+++ new\n@@ ")
        assert apply(old, diff) == new
