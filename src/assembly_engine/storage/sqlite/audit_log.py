"""The audit log's writer: appends entries to the hash-chained file, durably and in order.

The file format and its verification are audit_chain.py's. Limits: one ``HashChainedLog``
object per file per process (it owns the chain state and the lock); two objects or two
processes appending to the same file would fork the chain. What an entry says (scrubbing,
the readable engine.log line) is services/audit.py's business.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assembly_engine.storage.contract.errors import StorageFailed
from assembly_engine.storage.contract.reports import VerifyResult
from assembly_engine.storage.files.durable_files import append_whole, fsync_file, truncate_durably
from assembly_engine.storage.formats.audit_chain import (
    TAIL_BYTES,
    ZERO_HASH,
    Head,
    chained_entry,
    entry_hash,
    entry_line,
    head_path_for,
    parse_line,
    read_head,
    split_lines,
    verify_file,
    write_head,
)

logger = logging.getLogger("assembly_engine.audit")


# --- the log -----------------------------------------------------------------------------------


class HashChainedLog:
    """Append-only, hash-chained audit log at ``path`` (normally ``<home>/Logs/audit.log``).

    Thread-safe: ``append`` holds a lock while it numbers, writes, fsyncs and updates the
    head. Only one ``AuditLog`` per file may exist in a process, and only one process may
    append to a file; a second writer would fork the chain.
    """

    def __init__(self, path: Path, *, repair: bool = True) -> None:
        self.path = Path(path)
        # False on a read-only start (full disk): a torn tail or a lagging head is left for
        # the next start to repair, and nothing is appended meanwhile.
        self._repair = repair
        self.head_path = head_path_for(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()  # appends: keeps the chain in order
        # Group commit: one thread at a time makes everything appended so far durable (log
        # fsync + head file) while the others wait here, usually finding their entry done.
        self._sync_lock = threading.Lock()
        self._seq = 0
        self._prev_hash = ZERO_HASH
        self._needs_newline = False
        self._resume()
        self._synced_seq = self._seq

    # The constructor never rewrites history: when the head and the end of the log disagree
    # it continues from the head, so the gap stays visible to verify.
    def _resume(self) -> None:
        tail, ends_with_newline = self._read_tail()
        head = read_head(self.path)
        last_index = next((i for i in range(len(tail) - 1, -1, -1) if isinstance(tail[i], dict)), None)
        last = tail[last_index] if last_index is not None else None
        assert last is None or isinstance(last, dict)
        self._needs_newline = not ends_with_newline

        if isinstance(head, str):
            logger.warning("audit log: %s; continuing from the end of %s", head, self.path.name)
            head = None
        if last is None:
            if head is not None:
                logger.warning(
                    "audit log: %s has no readable entry at its end but the head records "
                    "seq %d; continuing from the head",
                    self.path.name,
                    head.seq,
                )
                self._seq, self._prev_hash = head.seq, head.hash
            return
        if head is None:
            logger.warning(
                "audit log: head file %s is missing; continuing from the end of the log",
                self.head_path.name,
            )
            self._seq, self._prev_hash = last["seq"], last["hash"]
            return
        if head.seq == last["seq"] and head.hash == last["hash"]:
            self._seq, self._prev_hash = head.seq, head.hash
            if self._repair:
                self._drop_torn_tail(tail, last_index, ends_with_newline)
            return
        if head.seq < last["seq"] and self._head_behind_consistently(tail, head):
            # The process died after an append but before the head was rewritten.
            logger.warning(
                "audit log: head file was behind (seq %d < %d), advancing it",
                head.seq,
                last["seq"],
            )
            if self._repair:
                write_head(self.path, last["seq"], last["hash"])
            self._seq, self._prev_hash = last["seq"], last["hash"]
            return
        logger.warning(
            "audit log: head file (seq %d) does not match the end of %s (seq %d); "
            "continuing from the head so verify keeps reporting the difference",
            head.seq,
            self.path.name,
            last["seq"],
        )
        self._seq, self._prev_hash = head.seq, head.hash

    def _read_tail(self) -> tuple[list[dict[str, Any] | str], bool]:
        """The parsed last lines of the log, and whether it ends with a newline (or is empty)."""
        try:
            with open(self.path, "rb") as handle:
                size = handle.seek(0, os.SEEK_END)
                start = max(0, size - TAIL_BYTES)
                handle.seek(start)
                data = handle.read()
        except FileNotFoundError:
            return [], True
        ends_with_newline = data.endswith(b"\n") or not data
        lines = split_lines(data)
        if start > 0 and lines:
            lines = lines[1:]  # the first line of the chunk is probably cut
        return [parse_line(raw) for raw in lines], ends_with_newline

    def _drop_torn_tail(
        self, tail: list[dict[str, Any] | str], last_index: int | None, ends_with_newline: bool
    ) -> None:
        """Remove a half-written final line left by a crash during an append.

        Only when the head proves it never became an entry: the head matches the last good
        entry, and after it comes exactly one unterminated, unparseable fragment.
        """
        if ends_with_newline or last_index != len(tail) - 2 or isinstance(tail[-1], dict):
            return
        data = self.path.read_bytes()
        cut = data.rfind(b"\n") + 1
        logger.warning(
            "audit log: removing a half-written final line (%d bytes) left by an interrupted write",
            len(data) - cut,
        )
        truncate_durably(self.path, cut)
        self._needs_newline = False

    @staticmethod
    def _head_behind_consistently(tail: list[dict[str, Any] | str], head: Head) -> bool:
        entries = [item for item in tail if isinstance(item, dict)]
        if len(entries) != len(tail):
            return False
        start = next((i for i, e in enumerate(entries) if e["seq"] == head.seq), None)
        if start is None or entries[start]["hash"] != head.hash:
            return False
        for before, after in zip(entries[start:], entries[start + 1 :], strict=False):
            if (
                after["seq"] != before["seq"] + 1
                or after["prev_hash"] != before["hash"]
                or entry_hash(after) != after["hash"]
            ):
                return False
        return True

    @property
    def location(self) -> str:
        return str(self.path)

    def append(
        self, fields: dict[str, Any], announce: Callable[[dict[str, Any]], None] | None = None
    ) -> dict[str, Any]:
        """Number, chain and append one entry made of ``fields`` (every FIELDS name but
        ``seq``, ``prev_hash`` and ``hash``); return the entry as written. ``announce`` is
        called with it while the chain is still held, so announcements keep the log's order."""
        with self._lock:
            entry = chained_entry(self._seq + 1, self._prev_hash, fields)
            line = entry_line(entry)
            if self._needs_newline:
                line = b"\n" + line
            append_whole(self.path, line + b"\n")
            self._needs_newline = False
            self._seq = entry["seq"]
            self._prev_hash = entry["hash"]
            if announce is not None:
                announce(entry)
        self._make_durable(entry["seq"])
        return dict(entry)

    def _make_durable(self, seq: int) -> None:
        with self._sync_lock:
            if self._synced_seq >= seq:
                return  # another thread's fsync covered this entry
            with self._lock:
                target_seq, target_hash = self._seq, self._prev_hash
            fsync_file(self.path)
            write_head(self.path, target_seq, target_hash)
            self._synced_seq = target_seq

    def copy_to(self, directory: Path) -> None:
        """Copy the log and its head file consistently (no entry lands in between)."""
        directory.mkdir(parents=True, exist_ok=True)
        with self._sync_lock, self._lock:
            self._sync_locked()
            for source in (self.path, self.head_path):
                if source.exists():
                    shutil.copy2(source, directory / source.name)

    def entries_since(self, time: str) -> list[dict[str, Any]]:
        """The readable entries at or after ``time``, reading only as much of the end of the
        log as that takes (entries are appended in time order, give or take a moment)."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return []
        chunk = TAIL_BYTES
        while True:
            start = max(0, size - chunk)
            with open(self.path, "rb") as handle:
                handle.seek(start)
                lines = split_lines(handle.read(size - start))
            if start > 0 and lines:
                lines = lines[1:]  # probably cut
            parsed = [e for e in map(parse_line, lines) if isinstance(e, dict)]
            if start == 0 or (parsed and str(parsed[0]["time"]) < time):
                return [e for e in parsed if str(e["time"]) >= time]
            chunk *= 4

    def entries(self) -> list[dict[str, Any]]:
        """Every readable entry in file order; unreadable lines are skipped (see verify)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        result: list[dict[str, Any]] = []
        for raw in split_lines(data):
            try:
                value = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            if isinstance(value, dict):
                result.append(value)
        return result

    def verify(self) -> VerifyResult:
        with self._sync_lock, self._lock:
            try:
                self._sync_locked()
            except OSError as exc:
                # The head file is behind an entry whose fsync or head write failed (disk
                # full): checking against it would report a false truncation, and a 500
                # would hide why. Nothing was written.
                raise StorageFailed(
                    f"The audit log cannot be verified now: its head file could not be brought "
                    f"up to date ({exc.strerror or exc}; is the disk full?). Nothing was "
                    "changed; verify again once the disk has space."
                ) from exc
            return verify_file(self.path)

    def _sync_locked(self) -> None:
        """With both locks held: bring the head file up to the last appended entry."""
        if self._synced_seq < self._seq:
            fsync_file(self.path)
            write_head(self.path, self._seq, self._prev_hash)
            self._synced_seq = self._seq
