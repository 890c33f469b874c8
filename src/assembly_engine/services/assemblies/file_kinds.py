"""What a file is, from its name and bytes: a plain script (by extension or ``#!`` line) or
an Ansible playbook (by content). No engine imports, so the CLI can sort a library folder's
files without loading the document models (``assemblies sync`` starts faster).
"""

from __future__ import annotations

import functools
import re
from typing import Any

SUFFIX_TYPES: dict[str, str] = {
    ".ps1": "powershell",
    ".bat": "batch",
    ".cmd": "batch",
    ".sh": "bash",
    ".py": "python",
}
_SHEBANG = re.compile(rb"^#![ \t]*(\S+)(?:[ \t]+(\S+))?")
INTERPRETER_TYPES: dict[str, str] = {
    "bash": "bash",
    "sh": "bash",
    "zsh": "bash",
    "dash": "bash",
    "ksh": "bash",
    "python": "python",
    "python2": "python",
    "python3": "python",
    "pwsh": "powershell",
    "powershell": "powershell",
}


def shebang_type(raw: bytes) -> str | None:
    match = _SHEBANG.match(raw.removeprefix(b"\xef\xbb\xbf")[:256])
    if match is None:
        return None
    program = match.group(1).rsplit(b"/", 1)[-1]
    if program == b"env" and match.group(2):
        program = match.group(2)
    name = program.decode("ascii", errors="replace").lower()
    if name.startswith("python"):
        name = re.sub(r"[\d.]+$", "", name)  # python3.11 -> python
    return INTERPRETER_TYPES.get(name)


def suffix_of(file_name: str) -> str:
    """``PurePosixPath(file_name).suffix`` of a slash-separated name, without building a
    path (a plan calls this for every file of the library)."""
    name = file_name.rstrip("/").rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[dot:] if 0 < dot < len(name) - 1 else ""


def plain_type(file_name: str | None, raw: bytes) -> str | None:
    """The script type of a plain script file, or None when it is not one."""
    if not file_name:
        return None
    suffix = suffix_of(file_name.replace("\\", "/")).lower()
    if suffix in SUFFIX_TYPES:
        return SUFFIX_TYPES[suffix]
    if suffix in (".json", ".yml", ".yaml"):
        return None
    return shebang_type(raw)


def yaml_loader(module: Any = None) -> Any:
    """PyYAML's C safe loader if this PyYAML has libyaml, else its pure-Python SafeLoader.

    The pure-Python loader spends seconds of CPU, holding the interpreter lock, on a
    playbook of a few MiB; libyaml parses the same several times faster. Both construct
    only plain data (no Python objects from tags).
    """
    if module is None:
        import yaml as module
    return getattr(module, "CSafeLoader", None) or module.SafeLoader


@functools.cache
def _loader() -> Any:
    return yaml_loader()


def __getattr__(name: str) -> Any:
    # ``YAML_LOADER`` on first use: PyYAML is imported only when a YAML file is read (a
    # library folder without playbooks never needs it; the CLI starts faster).
    if name == "YAML_LOADER":
        return _loader()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def is_playbook(raw: bytes) -> bool:
    """An Ansible playbook: a YAML list of plays, each a mapping with hosts or import_playbook."""
    import yaml

    try:
        data = yaml.load(raw.decode("utf-8"), Loader=_loader())  # noqa: S506 - a safe loader
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError, ValueError, TypeError):
        return False
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(p, dict) and ("hosts" in p or "import_playbook" in p) for p in data)
    )
