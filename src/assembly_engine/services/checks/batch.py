"""Batch (.bat/.cmd): a small, documented set of checks (Docs/script-checks.md).

No maintained batch parser exists as a library, so these are line rules that cmd.exe's
own behaviour justifies, each with a position:

- ``BAT-LABEL`` (error): ``goto X`` / ``call :X`` names a label the file does not define
  (``goto :eof`` is built in; a target made of ``%variables%`` is not judged).
- ``BAT-BLOCK`` (error): a block opened by a line-ending ``(`` (``if … (``, ``for … do (``,
  ``else (``) is never closed, or a line-starting ``)`` closes no block.
- ``BAT-DELAYED`` (warning): ``!var!`` is used but ``setlocal enabledelayedexpansion``
  never appears, so cmd.exe prints the text literally.
- ``BAT-DUPLICATE-LABEL`` (warning): a label defined twice (``goto`` finds the first).
"""

from __future__ import annotations

import re

from assembly_engine.services.checks.diagnostics import Diagnostic

SOURCE = "batch-checks"
_LABEL = re.compile(r"^\s*:([^\s:+=,;][^\s+=,;]*)")
_JUMP = re.compile(r"(?i)(?:^|[\s&|(])(goto|call)\s+(:?)([^\s&|()]+)")
_COMMENT = re.compile(r"(?i)^\s*@?(?:rem(?:\s|$)|::)")
_DELAYED_USE = re.compile(r"![A-Za-z_][\w.\-]*(?::[^!]*)?!")
_DELAYED_ON = re.compile(r"(?i)setlocal\s+(?:enableextensions\s+)?enabledelayedexpansion")
_QUOTED = re.compile(r'"[^"\n]*"?')


def _code(line: str) -> str:
    """The line with quoted text and ^-escaped characters blanked (kept the same length, so
    columns stay right)."""
    line = re.sub(r"\^.", "  ", line)
    return _QUOTED.sub(lambda m: " " * len(m.group(0)), line)


def check(text: str) -> list[Diagnostic]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    found: list[Diagnostic] = []
    labels: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        match = _LABEL.match(line)
        if match and not line.lstrip().startswith("::"):
            name = match.group(1).lower()
            if name in labels:
                found.append(
                    Diagnostic.at(
                        number,
                        match.start(1),
                        "warning",
                        "BAT-DUPLICATE-LABEL",
                        f"Label ':{match.group(1)}' is also defined on line {labels[name]}; "
                        "goto and call use the first one.",
                        SOURCE,
                        (number, match.end(1) + 1),
                    )
                )
            else:
                labels[name] = number
    open_blocks: list[tuple[int, int]] = []
    delayed_on = bool(_DELAYED_ON.search(text))
    for number, line in enumerate(lines, 1):
        if _COMMENT.match(line) or _LABEL.match(line):
            continue
        code = _code(line)
        for jump in _JUMP.finditer(code):
            verb, colon, target = jump.group(1).lower(), jump.group(2), jump.group(3)
            if verb == "call" and not colon:
                continue  # call of a program or another script, not of a label
            if "%" in target or "!" in target or target.lower() == "eof":
                continue
            if target.lower() not in labels:
                found.append(
                    Diagnostic.at(
                        number,
                        jump.start(3) + 1,
                        "error",
                        "BAT-LABEL",
                        f"'{verb} {colon}{target}' jumps to a label that is not defined in this file.",
                        SOURCE,
                        (number, jump.end(3) + 1),
                    )
                )
        stripped = code.rstrip()
        leading = len(code) - len(code.lstrip())
        if code.lstrip().startswith(")"):
            if open_blocks:
                open_blocks.pop()
            else:
                found.append(
                    Diagnostic.at(
                        number,
                        leading + 1,
                        "error",
                        "BAT-BLOCK",
                        "This ')' closes no block: no line before it opens one with '('.",
                        SOURCE,
                        (number, leading + 2),
                    )
                )
        if stripped.endswith("(") and not re.search(r"(?i)^\s*@?echo[\s.(]", code):
            open_blocks.append((number, len(stripped)))
        if not delayed_on:
            use = _DELAYED_USE.search(line)
            if use:
                found.append(
                    Diagnostic.at(
                        number,
                        use.start() + 1,
                        "warning",
                        "BAT-DELAYED",
                        f"'{use.group(0)}' needs 'setlocal enabledelayedexpansion', which this file "
                        "never turns on.",
                        SOURCE,
                        (number, use.end() + 1),
                    )
                )
                delayed_on = True  # said once is enough
    for number, column in open_blocks:
        found.append(
            Diagnostic.at(
                number,
                column,
                "error",
                "BAT-BLOCK",
                "This '(' opens a block that is never closed with ')'.",
                SOURCE,
                (number, column + 1),
            )
        )
    return found
