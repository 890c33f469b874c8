"""Owner-only files: the engine home holds password hashes, sessions, the audit log and every
assembly, so no other local user may read any of it.

Two mechanisms, both needed:

* the process umask becomes 077 when an engine opens its home, so everything the engine
  creates from then on (SQLite databases and their -wal/-shm files, the journal, payload
  folders and files, engine.log and its rotations, the audit log and its head, backups)
  is born 0700/0600, whichever library creates it;
* what already exists is tightened once at start: the home and its folders become 0700
  and the files directly in them 0600. Payload folders made by older versions keep their
  modes, but they sit inside ``Payloads/`` (0700), which nobody else can enter.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def _tighten(path: Path, mode: int) -> None:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        return  # never follow a symlink into someone else's file
    if stat.S_IMODE(info.st_mode) & ~mode:
        os.chmod(path, stat.S_IMODE(info.st_mode) & mode)


def make_home_private(home: Path) -> None:
    """Set the owner-only umask and tighten the home's folders and top-level files.

    ``Payloads/`` itself is tightened but not listed: it holds a folder per assembly
    (100,000s), and a stat of each would cost a boot most of a second."""
    os.umask(PRIVATE_UMASK)
    home.mkdir(parents=True, exist_ok=True)
    _tighten(home / "Assemblies" / "Payloads", PRIVATE_DIR)
    for folder in (home, home / "Assemblies", home / "Logs"):
        _tighten(folder, PRIVATE_DIR)
        if folder.is_dir() and not folder.is_symlink():
            with os.scandir(folder) as children:
                files = [Path(c.path) for c in children if c.is_file(follow_symlinks=False)]
            for child in files:
                _tighten(child, PRIVATE_FILE)


def make_tree_private(root: Path) -> None:
    """Every folder under ``root`` 0700 and every file 0600 (for a finished backup)."""
    _tighten(root, PRIVATE_DIR)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            _tighten(Path(folder) / name, PRIVATE_DIR)
        for name in files:
            _tighten(Path(folder) / name, PRIVATE_FILE)
