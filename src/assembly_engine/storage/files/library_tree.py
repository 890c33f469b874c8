"""Walking a library folder for ``assemblies sync`` (storage is the one layer that walks
files): every regular file below the root, never following a symlink.

Symlinks (to files or folders) are listed as refused, hidden folders (``.git/``,
``.github/``) as hidden and not entered, and ``<file>.files/`` attachment folders are left
to the reader of their assembly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class LibraryTree:
    files: list[str] = field(default_factory=list)  # relative POSIX paths, sorted
    symlinks: list[str] = field(default_factory=list)
    hidden_folders: list[str] = field(default_factory=list)


def walk_library(root: Path, attachment_suffix: str) -> LibraryTree:
    tree = LibraryTree()
    for directory, dirs, names in os.walk(root, followlinks=False):
        base = Path(directory)
        for name in sorted(dirs):
            rel = (base / name).relative_to(root).as_posix()
            if (base / name).is_symlink():
                tree.symlinks.append(rel)
                dirs.remove(name)
            elif name.startswith("."):
                tree.hidden_folders.append(rel)
                dirs.remove(name)
            elif name.endswith(attachment_suffix):
                dirs.remove(name)
        dirs.sort()
        for name in sorted(names):
            rel = (base / name).relative_to(root).as_posix()
            (tree.symlinks if (base / name).is_symlink() else tree.files).append(rel)
    return tree
