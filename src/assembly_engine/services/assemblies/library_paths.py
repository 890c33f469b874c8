"""The library-folder layout's file names and selection (Docs/library-as-code.md), with no
engine imports: what the CLI needs to read a library folder, without the document models
(formats/library_folder.py, which maps items to assemblies, builds on it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from assembly_engine.services.assemblies.file_kinds import is_playbook, plain_type, suffix_of

SIDECAR_SUFFIX = ".assembly.json"
FILES_SUFFIX = ".files"
WORKFLOW_SUFFIX = ".workflow.json"
IGNORE_FILE = ".assemblyignore"
YAML_SUFFIXES = (".yml", ".yaml")
TRMM_SCRIPTS = "scripts"


def sidecar_bytes(sidecar: Mapping[str, Any]) -> bytes:
    """A sidecar as written: sorted keys, 2-space indent, final newline."""
    return (json.dumps(sidecar, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


@dataclass(frozen=True)
class Selection:
    """Which paths of a folder are read: ``include``/``exclude`` globs and the root's
    ``.assemblyignore`` lines (gitignore syntax, through ``pathspec``)."""

    include: Sequence[str] = ()
    exclude: Sequence[str] = ()
    ignore: Sequence[str] = ()
    _specs: tuple[Any, Any, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        def spec(lines: Sequence[str]) -> Any:
            if not lines:
                return None
            import pathspec  # only for a selection: most plans have none (a faster CLI start)

            return pathspec.GitIgnoreSpec.from_lines(list(lines))

        object.__setattr__(self, "_specs", (spec(self.include), spec(self.exclude), spec(self.ignore)))

    def why_not(self, path: str) -> str | None:
        """Why ``path`` is left out, or None when it is selected."""
        include, exclude, ignore = self._specs
        if ignore is not None and ignore.match_file(path):
            return f"matched by {IGNORE_FILE}"
        if exclude is not None and exclude.match_file(path):
            return "matched by --exclude"
        if include is not None and not include.match_file(path):
            return "not matched by --include"
        return None


def hidden(path: str) -> bool:
    if not path.startswith(".") and "/." not in path:
        return False  # no part can start with a dot (the common case, without a split)
    return any(part.startswith(".") and part != "." for part in path.split("/"))


def skip_reason(path: str, raw: bytes) -> str | None:
    """Why a selected file of a library folder is no assembly, or None when it is one."""
    name = path.rstrip("/").rsplit("/", 1)[-1]
    if hidden(path):
        return "hidden file or folder"
    if name.endswith(WORKFLOW_SUFFIX):
        return None
    suffix = suffix_of(name).lower()
    if suffix in YAML_SUFFIXES:
        return None if is_playbook(raw) else "YAML that is not an Ansible playbook (a list of plays)"
    if plain_type(name, raw) is None:
        return "unknown extension (scripts are .ps1 .bat .cmd .sh .py or start with #!)"
    return None
