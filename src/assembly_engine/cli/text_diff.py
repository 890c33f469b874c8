"""A unified diff whose cost is bounded, for `assemblies diff`.

difflib's matcher is quadratic in the lines that differ: a planted revision of a few
megabytes of distinct lines kept an admin's CLI busy for minutes. As the web UI's merge
view does (CodeMirror's diff gives up its exact search past a scan limit), the common
beginning and end are taken off first, in linear time; only when what is left is small
enough is it compared line by line, otherwise it is shown as one replaced block (correct,
only less precise).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

# Lines (old + new) of the differing middle compared exactly; past this, one block.
EXACT_DIFF_LINES = 2000
CONTEXT = 3


def _common_prefix(a: list[str], b: list[str]) -> int:
    n = 0
    for left, right in zip(a, b, strict=False):
        if left != right:
            break
        n += 1
    return n


def _common_suffix(a: list[str], b: list[str], prefix: int) -> int:
    n = 0
    limit = min(len(a), len(b)) - prefix
    while n < limit and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def _hunk_range(start: int, count: int) -> str:
    # Unified diff numbering: an empty range names the line before it.
    first = start + 1 if count else start
    return f"{first}" if count == 1 else f"{first},{count}"


def _one_block(a: list[str], b: list[str], prefix: int, suffix: int) -> Iterator[str]:
    before = max(0, prefix - CONTEXT)
    after_a = len(a) - suffix
    after_b = len(b) - suffix
    tail = min(CONTEXT, suffix)
    lead = a[before:prefix]
    trail = a[after_a : after_a + tail]
    old_count = len(lead) + (after_a - prefix) + len(trail)
    new_count = len(lead) + (after_b - prefix) + len(trail)
    yield f"@@ -{_hunk_range(before, old_count)} +{_hunk_range(before, new_count)} @@\n"
    for line in lead:
        yield " " + _ended(line)
    for line in a[prefix:after_a]:
        yield "-" + _ended(line)
    for line in b[prefix:after_b]:
        yield "+" + _ended(line)
    for line in trail:
        yield " " + _ended(line)


def _ended(line: str) -> str:
    return line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"


def _shifted(line: str, offset: int) -> str:
    if not offset or not line.startswith("@@ -"):
        return line
    old, new = line[4:].split(" @@", 1)[0].split(" +")
    return f"@@ -{_moved(old, offset)} +{_moved(new, offset)} @@\n"


def _moved(numbers: str, offset: int) -> str:
    first, comma, count = numbers.partition(",")
    return f"{int(first) + offset}{comma}{count}"


def unified_diff(a: list[str], b: list[str], fromfile: str, tofile: str) -> str:
    """``a`` and ``b`` (lines with their endings) as a unified diff, in time about linear
    in their size when they differ in more than :data:`EXACT_DIFF_LINES` lines."""
    if a == b:
        return ""
    prefix = _common_prefix(a, b)
    suffix = _common_suffix(a, b, prefix)
    middle = (len(a) - prefix - suffix) + (len(b) - prefix - suffix)
    if middle <= EXACT_DIFF_LINES:
        # Only the middle and its context go to difflib; hunk numbers are moved back.
        start = max(0, prefix - CONTEXT)
        lines = difflib.unified_diff(
            a[start : len(a) - suffix + CONTEXT],
            b[start : len(b) - suffix + CONTEXT],
            fromfile=fromfile,
            tofile=tofile,
        )
        return "".join(_shifted(line, start) for line in lines)
    header = [f"--- {fromfile}\n", f"+++ {tofile}\n"]
    return "".join([*header, *_one_block(a, b, prefix, suffix)])
