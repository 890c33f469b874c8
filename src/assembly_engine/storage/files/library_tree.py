"""Reading files of a library tree someone else made (``assemblies import FOLDER``).

A cloned "community library" is untrusted: git keeps symbolic links, so a script in it
can point at any file the importing user can read (the engine's database, SSH keys) and
an import would upload that file where every operator reads it. Inside a tree, symbolic
links are therefore never followed, and nothing is read that resolves outside the tree;
each such entry is refused with its own reason. A path named on the command line itself
is the caller's choice and is read as named.

``walk_library`` is the walk of ``assemblies sync``: the same refusal of links, plus hidden
folders (``.git/``, ``.github/``) listed and not entered, and ``<file>.files/`` attachment
folders left to the reader of their assembly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

LINK_REFUSED = (
    "is a symbolic link{target}; links in a library folder are not followed (a link can "
    "point at any file you can read): copy the file itself into the folder"
)
OUTSIDE_REFUSED = "resolves to {resolved}, outside {root}; only files inside the named folder are read"


@dataclass
class Tree:
    """What walking one folder found: its regular files (sorted) and the entries refused."""

    files: list[Path] = field(default_factory=list)
    refused: list[tuple[Path, str]] = field(default_factory=list)


def _link_target(path: Path) -> str:
    try:
        return f" (to {os.readlink(path)})"
    except OSError:
        return ""


def walk(root: Path) -> Tree:
    """Every regular file under ``root``, not following links; links (to files or folders)
    are refused, as is anything that would resolve outside ``root``."""
    tree = Tree()
    top = root.resolve()
    for folder, dirs, files in os.walk(root, followlinks=False):
        here = Path(folder)
        for name in list(dirs):
            if (here / name).is_symlink():
                dirs.remove(name)  # os.walk lists a link to a folder among the folders
                files.append(name)
        for name in files:
            path = here / name
            problem = entry_problem(path, top)
            if problem is not None:
                tree.refused.append((path, problem))
            elif path.is_file():
                tree.files.append(path)
    tree.files.sort()
    tree.refused.sort()
    return tree


def entry_problem(path: Path, top: Path) -> str | None:
    """Why ``path`` (inside the resolved folder ``top``) may not be read, or None."""
    if path.is_symlink():
        return LINK_REFUSED.format(target=_link_target(path))
    resolved = path.resolve()
    if not resolved.is_relative_to(top):
        return OUTSIDE_REFUSED.format(resolved=resolved, root=top)
    return None


_NO_FOLLOW = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def read_inside(path: Path | str) -> bytes:
    """A file's bytes, refusing (OSError ELOOP) a link put in its place since the walk.
    Read with plain descriptor calls (a plan reads every file of the library: a Path and a
    buffered file object per file cost about as much as the reading)."""
    descriptor = os.open(path, _NO_FOLLOW)
    try:
        size = os.fstat(descriptor).st_size
        first = os.read(descriptor, size + 1)
        if len(first) <= size:
            return first  # a regular file reads short only at its end
        chunks = [first]
        while chunk := os.read(descriptor, 1 << 20):  # it grew since the fstat
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


@dataclass
class LibraryTree:
    files: list[str] = field(default_factory=list)  # relative POSIX paths, sorted
    symlinks: list[str] = field(default_factory=list)
    hidden_folders: list[str] = field(default_factory=list)
    attachment_folders: set[str] = field(default_factory=set)  # ``<file><suffix>/``, not entered


def walk_library(root: Path, attachment_suffix: str) -> LibraryTree:
    """The walk of a library folder, by ``os.scandir``: an entry's type comes with its
    name, so telling files, folders and links apart costs no call per file (a plan of an
    unchanged 10,000-file library is mostly this walk and the reads)."""
    tree = LibraryTree()
    pending = [""]
    while pending:
        prefix = pending.pop()
        with os.scandir(root / prefix if prefix else root) as entries:
            listed = sorted(entries, key=lambda e: e.name)
        folders: list[str] = []
        for entry in listed:
            rel = prefix + entry.name
            if entry.is_symlink():
                tree.symlinks.append(rel)
            elif entry.is_dir(follow_symlinks=False):
                if entry.name.startswith("."):
                    tree.hidden_folders.append(rel)
                elif entry.name.endswith(attachment_suffix):
                    tree.attachment_folders.add(rel)
                else:
                    folders.append(rel + "/")
            elif entry.is_file(follow_symlinks=False):
                tree.files.append(rel)  # (a FIFO or a device is no library file: never read)
        pending.extend(reversed(folders))
    tree.files.sort()
    tree.symlinks.sort()
    tree.hidden_folders.sort()
    return tree


def read_attachments(folder: Path) -> list[tuple[str, bytes]]:
    """The regular files of an attachment folder (``<file>.files/``), by name: links and
    subfolders are left out, and none is followed."""
    with os.scandir(folder) as entries:
        names = sorted(e.name for e in entries if e.is_file(follow_symlinks=False))
    return [(name, read_inside(folder / name)) for name in names]
