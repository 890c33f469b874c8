"""Git for ``assemblies sync``: a SOURCE or DEST that is a git work tree or a repository URL.

Through Debian's ``git`` binary (Docs/design.md says why): a URL is cloned into a temporary
folder (``--ref`` picks the branch), a work tree is read where it is, and the plan records
the commit. ``sync write --commit`` commits what it wrote as the engine user and
``--push`` pushes it upstream.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from assembly_engine.cli.connection import CliError

# ssh://, https://, file://, git:// — or scp-like user@host:path.
_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:)", re.IGNORECASE)


def is_url(source: str) -> bool:
    return bool(_URL.match(source))


def git(*args: str, cwd: Path | None = None) -> str:
    """Run git; its own message becomes the CLI's error."""
    if shutil.which("git") is None:
        raise CliError("git is not installed (Debian: apt-get install git); it is needed for git sources.")
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=600,
            env=None,
        )
    except subprocess.TimeoutExpired:
        raise CliError(f"git {args[0]} took longer than 10 minutes.") from None
    if done.returncode != 0:
        raise CliError(f"git {args[0]} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout.strip()


@dataclass(frozen=True)
class Place:
    """Where a library folder is on disk, what names it, and its commit (None: not git)."""

    path: Path
    name: str
    commit: str | None
    repository: bool  # a git work tree (a clone of a URL is one too)


def _work_tree(path: Path) -> bool:
    if shutil.which("git") is None or not path.is_dir():
        return False
    done = subprocess.run(
        ["git", "rev-parse", "--is-inside-work-tree"], cwd=path, capture_output=True, text=True, timeout=60
    )
    return done.returncode == 0 and done.stdout.strip() == "true"


def _head(path: Path) -> str | None:
    done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True, timeout=60)
    return done.stdout.strip() if done.returncode == 0 else None


@contextmanager
def opened(source: str, ref: str | None, *, shallow: bool = True) -> Iterator[Place]:
    """The library folder SOURCE names: a clone of a URL (removed afterwards), or the
    folder itself. A work tree is named by its ``origin`` URL when it has one, so a CI
    checkout and the URL are the same source wherever they are checked out."""
    if is_url(source):
        with tempfile.TemporaryDirectory(prefix="assemblies-sync-") as scratch:
            clone = Path(scratch) / "clone"
            args = ["clone", "--quiet"]
            if shallow:
                args += ["--depth", "1"]
            if ref:
                args += ["--branch", ref]
            git(*args, "--", source, str(clone))
            yield Place(clone, source, _head(clone), True)
        return
    if ref:
        raise CliError("--ref is for a repository URL; check the branch out in the work tree instead.")
    path = Path(source)
    if _work_tree(path):
        done = subprocess.run(
            ["git", "config", "--get", "remote.origin.url"],
            cwd=path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        origin = done.stdout.strip() if done.returncode == 0 else ""
        yield Place(path, origin or str(path.resolve()), _head(path), True)
        return
    yield Place(path, str(path.resolve()), None, False)


def commit_and_push(place: Place, paths: list[str], message: str, author: str, *, push: bool) -> str | None:
    """Commit ``paths`` (those written) as ``author``; push upstream when asked. Returns the
    new commit, or None when nothing changed."""
    if not place.repository:
        raise CliError("--commit needs DEST to be a git work tree or a repository URL.")
    if paths:
        for start in range(0, len(paths), 200):
            git("add", "--", *paths[start : start + 200], cwd=place.path)
    staged = subprocess.run(["git", "diff", "--cached", "--quiet"], cwd=place.path, timeout=60)
    commit: str | None = None
    if staged.returncode != 0:
        identity = f"{author} <{author}@assembly-engine>"
        git(
            "-c",
            f"user.name={author}",
            "-c",
            f"user.email={author}@assembly-engine",
            "commit",
            "--quiet",
            "--author",
            identity,
            "-m",
            message,
            cwd=place.path,
        )
        commit = _head(place.path)
    if push:
        git("push", "--quiet", "origin", "HEAD", cwd=place.path)
    return commit
