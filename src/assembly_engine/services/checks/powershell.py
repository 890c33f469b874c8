"""PowerShell: parse errors from the tree-sitter PowerShell grammar (no ``pwsh`` needed).

tree-sitter recovers from errors and marks them in the tree: an ``ERROR`` node spans text
it could not parse, a *missing* node is a token it had to invent (a ``}`` that never
came). A missing closer is reported at the opener it would close, since that is where the
author has to look. Runs in the check child (child.py), never in the engine.

Severity: the grammar does not know every construct PowerShell accepts (``Sort-Object
Name, Version -Unique`` is one it cannot parse), so a region it cannot parse is a
*warning*. An opener that is never closed and a here-string that never ends are certain,
so they are *errors*.
"""

from __future__ import annotations

from typing import Any

from assembly_engine.services.checks.diagnostics import Diagnostic

SOURCE = "tree-sitter-powershell"
OPENERS = {"}": "{", ")": "(", "]": "["}
MAX_PARSE_ERRORS = 50


def available() -> bool:
    from importlib.util import find_spec

    return find_spec("tree_sitter") is not None and find_spec("tree_sitter_powershell") is not None


def warm() -> None:
    """Load the grammar before the script arrives (a spare child, runner.py)."""
    _parser()


def _parser() -> Any:
    import tree_sitter
    import tree_sitter_powershell

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))


def _position(point: Any, line_bytes: list[bytes]) -> tuple[int, int]:
    """1-based line and character column of a tree-sitter point (row, byte column)."""
    row, byte_column = point[0], point[1]
    line = line_bytes[row] if row < len(line_bytes) else b""
    return row + 1, len(line[:byte_column].decode("utf-8", errors="replace")) + 1


def _opener(missing: Any) -> Any:
    """The unmatched opening token a missing closer belongs to, or None."""
    wanted = OPENERS.get(missing.type)
    node = missing.parent
    while node is not None and wanted is not None:
        for child in reversed(node.children):
            if child.type == wanted and child.start_byte < missing.start_byte:
                return child
        node = node.parent
    return None


CLOSER_OF = {"{": "}", "(": ")", "[": "]", "@{": "}", "@(": ")", "$(": ")"}
MAX_TOKENS = 200_000  # of one error region; past it the region is reported as a whole


def _unclosed(error: Any, line_bytes: list[bytes]) -> list[Diagnostic]:
    """Openers inside an unparsable region that no closer matches (an unclosed ``{`` at
    the end of a file is such a region), at the opener's position."""
    openers: list[Any] = []
    unmatched: list[Any] = []
    stack, seen = [error], 0
    while stack and seen < MAX_TOKENS:
        node = stack.pop()
        seen += 1
        if node.child_count:
            stack.extend(reversed(node.children))
            continue
        if node.type in CLOSER_OF:
            openers.append(node)
        elif node.type in ("}", ")", "]") and not node.is_missing:
            while openers and CLOSER_OF[openers[-1].type] != node.type:
                unmatched.append(openers.pop())
            if openers:
                openers.pop()
    found = []
    for opener in sorted(unmatched + openers, key=lambda n: n.start_byte)[:5]:
        line, column = _position(opener.start_point, line_bytes)
        end = _position(opener.end_point, line_bytes)
        message = f"'{opener.type}' is never closed: a '{CLOSER_OF[opener.type]}' is missing."
        found.append(Diagnostic.at(line, column, "error", "PS-MISSING", message, SOURCE, end))
    return found


def _syntax_error(node: Any, source: bytes, line_bytes: list[bytes]) -> Diagnostic:
    line, column = _position(node.start_point, line_bytes)
    end = _position(node.end_point, line_bytes)
    snippet = source[node.start_byte : min(node.end_byte, node.start_byte + 40)]
    shown = snippet.decode("utf-8", errors="replace").split("\n", 1)[0]
    message = (
        f"The PowerShell grammar cannot parse '{shown}' (a syntax error, or a construct it does not know)."
    )
    return Diagnostic.at(line, column, "warning", "PS-SYNTAX", message, SOURCE, end)


def _here_strings(lines: list[str]) -> list[Diagnostic]:
    """A here-string opens with ``@"``/``@'`` at the end of a line and ends with ``"@``/``'@``
    at the start of one; one that never ends swallows the rest of the script."""
    opened: tuple[int, int, str] | None = None
    for number, line in enumerate(lines, 1):
        if opened is None:
            stripped = line.rstrip()
            if stripped.endswith(('@"', "@'")) and not stripped.lstrip().startswith("#"):
                opened = (number, len(stripped) - 1, stripped[-1])
        elif line.startswith(opened[2] + "@"):
            opened = None
    if opened is None:
        return []
    number, column, quote = opened
    message = f"This here-string (@{quote}) never ends: a line starting with {quote}@ is missing."
    return [Diagnostic.at(number, column, "error", "PS-HERE-STRING", message, SOURCE, (number, column + 2))]


def _only_comments(root: Any, source: bytes) -> bool:
    """A script of nothing but comments and blank lines, or of nothing: PowerShell runs it,
    while the grammar wants at least one statement (a new script starts out empty)."""
    rest = bytearray(source)
    for child in root.children:
        if child.type == "comment":
            rest[child.start_byte : child.end_byte] = b" " * (child.end_byte - child.start_byte)
    return not rest.strip()


def check(text: str) -> list[Diagnostic]:
    source = text.encode("utf-8")
    tree = _parser().parse(source)
    if not tree.root_node.has_error or _only_comments(tree.root_node, source):
        return []
    line_bytes = source.split(b"\n")
    found = _here_strings(text.replace("\r\n", "\n").split("\n"))
    if found:
        return found  # the rest of the script is inside it: its other errors are not real
    stack = [tree.root_node]
    while stack and len(found) < MAX_PARSE_ERRORS:
        node = stack.pop()
        if node.is_missing:
            opener = _opener(node)
            if opener is not None:
                line, column = _position(opener.start_point, line_bytes)
                end = _position(opener.end_point, line_bytes)
                message = f"'{opener.type}' is never closed: a '{node.type}' is missing."
            else:
                line, column = _position(node.start_point, line_bytes)
                end = (line, column)
                message = f"Syntax error: '{node.type}' is missing here."
            found.append(Diagnostic.at(line, column, "error", "PS-MISSING", message, SOURCE, end))
            continue
        if node.is_error:
            found.extend(_unclosed(node, line_bytes) or [_syntax_error(node, source, line_bytes)])
            continue
        if node.has_error:
            stack.extend(reversed(node.children))
    return found
