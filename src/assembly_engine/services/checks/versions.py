"""The versions of the checkers, which a stored result is tied to.

A result is stored under the content's checksum *and* the versions of what checked it, so
an upgrade of ShellCheck, ruff, the PowerShell grammar or yamllint, or of the engine's
own rules (RULES), checks every script again; an unchanged setup never does.
"""

from __future__ import annotations

import logging
import re
import subprocess
from importlib import metadata

log = logging.getLogger("assembly_engine.checks")
# Bumped when the engine's reading of a checker changes (severities, codes, the rules
# selected): results stored before mean something else and are checked again.
RULES = 2  # 2: a PowerShell script of nothing but comments has no problems


def _package(*names: str) -> str:
    parts = []
    for name in names:
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name} ?")
    return "/".join(parts)


def _binary(path: str) -> str:
    """A tool's ``--version`` answer (its version number), or the path when it gives none."""
    try:
        answer = subprocess.run(
            [path, "--version"], capture_output=True, timeout=30, check=False, stdin=subprocess.DEVNULL
        ).stdout.decode("utf-8", errors="replace")
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("could not ask %s for its version: %s", path, exc)
        return path
    found = re.search(r"\d+(\.\d+)+", answer)
    return found.group(0) if found else path


def fingerprint(language: str, checker: str, available: bool, tool: str | None = None) -> str:
    """What a result of ``language`` is stored under, besides the content's checksum."""
    if not available:
        return f"{RULES}:{checker} not available"
    if tool is not None:
        return f"{RULES}:{checker} {_binary(tool)}"
    if language == "powershell":
        return f"{RULES}:{_package('tree-sitter', 'tree-sitter-powershell')}"
    if language == "ansible":
        return f"{RULES}:{_package('yamllint', 'pyyaml')}"
    return f"{RULES}:{_package('assembly-engine')}"  # the engine's own rules (batch, workflow)
