"""A writable working copy of the official library shipped inside the installed package.

The package's files are read-only to the engine (root owns ``/opt/assembly-engine``; a
pip install may be shared), yet the staging root is written by the staging mirror after a
Dev Mode edit of an official assembly (Docs/assemblies.md §5.3). So an installed engine
with no ``ENGINE_STAGING_ROOT`` works on ``<home>/Staging``: copied from the package on
first start, and replaced by the package's library when an upgrade ships a different one
(its digest, kept in ``<home>/staging-shipped.sha256``, changed). Between upgrades the copy
keeps Dev Mode edits; an upgrade that ships a new library replaces them, as a new vendor
release would (official edits are meant to land in ``library/official/`` sources).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from pathlib import Path

from assembly_engine.storage.files.private_files import PRIVATE_DIR, PRIVATE_FILE

log = logging.getLogger("assembly_engine.shipped_library")

WORKING_COPY = "Staging"
DIGEST_FILE = "staging-shipped.sha256"


def library_digest(root: Path) -> str:
    """sha256 over every file's relative path and bytes (a few hundred kB: cheap at boot)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _owner_writable(root: Path) -> None:
    """Folders 0700, files 0600: the mirror writes here, and no one else reads the home."""
    root.chmod(PRIVATE_DIR)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            os.chmod(os.path.join(folder, name), PRIVATE_DIR)
        for name in files:
            os.chmod(os.path.join(folder, name), PRIVATE_FILE)


def working_copy(shipped: Path, home: Path) -> Path:
    """``<home>/Staging``, made a fresh copy of ``shipped`` when it is missing or the
    package now ships another library; otherwise left as it is (with its Dev Mode edits)."""
    target = home / WORKING_COPY
    stamp = home / DIGEST_FILE
    digest = library_digest(shipped)
    if target.is_dir() and stamp.is_file() and stamp.read_text(encoding="ascii").strip() == digest:
        return target
    fresh = home / f".{WORKING_COPY}.new-{os.getpid()}"
    old = home / f".{WORKING_COPY}.old-{os.getpid()}"
    shutil.rmtree(fresh, ignore_errors=True)
    # copyfile, not copy2: the package's modes (read-only ones too) must not follow the copy.
    shutil.copytree(shipped, fresh, copy_function=shutil.copyfile)
    _owner_writable(fresh)  # copytree gives folders the package's modes (0755, or read-only)
    if target.exists():
        target.rename(old)
    fresh.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    written = stamp.with_name(stamp.name + ".tmp")
    written.write_text(digest + "\n", encoding="ascii")
    os.replace(written, stamp)  # last: a crash before it copies again at the next start
    log.info("official library copied from the package to %s", target)
    return target
