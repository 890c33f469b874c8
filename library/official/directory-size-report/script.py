"""Directory Size Report.

Adds up the size of everything under RootPath and lists its largest entries (each
sub-folder counted with all of its content) so an operator can see where the space went.
Symbolic links and junctions are not followed; unreadable folders are counted and skipped.
Read-only. Works on Windows, Linux and macOS.
Variables (environment): RootPath, TopCount
"""

from __future__ import annotations

import os
import stat
import sys


def human(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:,.1f} {unit}" if unit != "B" else f"{size:,.0f} B"
        size /= 1024
    raise AssertionError("unreachable")


def is_link_like(entry: os.DirEntry[str]) -> bool:
    """Symlinks, and on Windows junctions and other reparse points, are never followed."""
    if entry.is_symlink():
        return True
    attributes = getattr(entry.stat(follow_symlinks=False), "st_file_attributes", 0)
    return bool(attributes & getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0))


def tree_size(path: str, errors: list[str]) -> tuple[int, int]:
    """Total bytes and file count under ``path``, walked iteratively (no recursion limit)."""
    total = files = 0
    pending = [path]
    while pending:
        current = pending.pop()
        try:
            with os.scandir(current) as entries:
                for entry in entries:
                    try:
                        if is_link_like(entry):
                            continue
                        if entry.is_dir(follow_symlinks=False):
                            pending.append(entry.path)
                        elif entry.is_file(follow_symlinks=False):
                            total += entry.stat(follow_symlinks=False).st_size
                            files += 1
                    except OSError as exc:
                        errors.append(f"{entry.path}: {exc.strerror or exc}")
        except OSError as exc:
            errors.append(f"{current}: {exc.strerror or exc}")
    return total, files


def main() -> int:
    root = os.path.expandvars(os.path.expanduser(os.environ.get("RootPath", "").strip()))
    if not root:
        print("ERROR: RootPath is required.", file=sys.stderr)
        return 2
    if not os.path.isdir(root):
        print(f"ERROR: RootPath '{root}' is not a directory.", file=sys.stderr)
        return 2
    try:
        top = int(os.environ.get("TopCount") or "20")
    except ValueError:
        top = 0
    if top < 1:
        print("ERROR: TopCount must be a whole number (1 or more).", file=sys.stderr)
        return 2

    errors: list[str] = []
    rows: list[tuple[int, int, str]] = []
    with os.scandir(root) as entries:
        for entry in entries:
            try:
                if is_link_like(entry):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    size, count = tree_size(entry.path, errors)
                    rows.append((size, count, entry.name + os.sep))
                elif entry.is_file(follow_symlinks=False):
                    rows.append((entry.stat(follow_symlinks=False).st_size, 1, entry.name))
            except OSError as exc:
                errors.append(f"{entry.path}: {exc.strerror or exc}")

    rows.sort(reverse=True)
    grand_total = sum(size for size, _, _ in rows)
    print(f"{root}: {human(grand_total)} in {sum(c for _, c, _ in rows):,} file(s)")
    print(f"{'SIZE':>14} {'SHARE':>6} {'FILES':>10}  NAME")
    for size, count, name in rows[:top]:
        share = size * 100 / grand_total if grand_total else 0.0
        print(f"{human(size):>14} {share:5.1f}% {count:>10,}  {name}")
    if len(rows) > top:
        print(f"... and {len(rows) - top} smaller entries")
    if errors:
        print(f"{len(errors)} path(s) could not be read, for example:")
        for line in errors[:5]:
            print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
