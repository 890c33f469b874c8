"""Tamper-evident audit log (Docs/assemblies.md §9).

Every privileged or state-changing action appends one JSON line to ``<home>/Logs/audit.log``
and one readable line to the ``assembly_engine.audit`` logger (routed to engine.log).

Why it is tamper-evident:

* each entry carries ``seq`` (1, 2, 3, …) and ``prev_hash``, the ``hash`` of the entry before
  it (64 zeros for the first), and its own ``hash``: SHA-256 over the canonical JSON of the
  entry without ``hash``. Editing, deleting, reordering or inserting a line breaks the chain.
* a pure chain cannot show that lines were cut off the *end*, so a sidecar
  ``audit.log.head`` holds the ``seq`` and ``hash`` of the last entry. It is rewritten
  atomically (temp file, fsync, rename, fsync directory) after every append.

There is no secret key: someone who can rewrite the whole file *and* the head file can forge
a consistent history. The log makes casual edits and truncation visible; it is not a
substitute for shipping the log off the host.

Limits: one ``AuditLog`` object per file per process (it owns the chain state and the lock);
two objects or two processes appending to the same file would fork the chain.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import threading
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..clock import utc_now as _utc_now

logger = logging.getLogger("assembly_engine.audit")

ZERO_HASH = "0" * 64
FIELDS: tuple[str, ...] = (
    "seq",
    "time",
    "user",
    "role",
    "session",
    "action",
    "domain",
    "assembly_guid",
    "outcome",
    "dev_mode",
    "detail",
    "prev_hash",
    "hash",
)
_OPTIONAL_TEXT_FIELDS = ("user", "role", "session", "domain", "assembly_guid", "detail")
_HASH_PATTERN = re.compile(r"^[0-9a-f]{64}$")
# How much of the end of the log the constructor reads to resume the chain.
_TAIL_BYTES = 256 * 1024


class Outcome(StrEnum):
    SUCCESS = "success"
    DENIED = "denied"
    FAILED = "failed"


@dataclass(frozen=True)
class AuditEvent:
    """What happened. ``session`` must already be a hash of the session id, never a token."""

    action: str
    outcome: Outcome
    user: str | None = None
    role: str | None = None
    session: str | None = None
    domain: str | None = None
    assembly_guid: str | None = None
    dev_mode: bool = False
    detail: str | None = None


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of a verification.

    ``entries`` counts the entries found good before the first problem (all of them when
    ``ok``). ``first_bad_line`` is 1-based; it may be one past the last line when entries
    were cut off the end. ``problem`` is a sentence a person can act on.
    """

    ok: bool
    entries: int
    first_bad_line: int | None = None
    problem: str | None = None


# --- scrubbing -------------------------------------------------------------------------------

# Every pattern below runs in time linear in the text: no unbounded quantifier can be
# retried from many start positions (the key's surroundings and the URL scheme are bounded,
# runs are possessive, and starts inside a run are ruled out by a lookbehind). A pattern
# with nested or repeated unbounded runs was quadratic on a long name and held the
# interpreter lock for minutes. On top of that, scrub() only ever scans SCRUB_MAX_CHARS.
SCRUB_MAX_CHARS = 2000
_SECRET_KEY = (
    r"[\w-]{0,40}(?:passw(?:or)?d|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key"
    r"|authorization|cookie|credentials?|session[_-]?(?:id|key|token))[\w-]{0,40}"
)
_AUTH_SCHEME = r"(?:bearer|basic|digest|token)\s++"
# key=value, key: value, "key": "value", 'key': 'value'; the value is a quoted string or a
# run up to the next separator, optionally preceded by an auth scheme word. A quote that is
# never closed masks everything after it.
_KEY_VALUE = re.compile(
    rf"""(?ix)
    (?P<key>["']?\b{_SECRET_KEY}["']?\s*+[:=]\s*+)
    (?:
        "(?:[^"\\]|\\.)*+(?:"|\Z)
      | '(?:[^'\\]|\\.)*+(?:'|\Z)
      | (?:{_AUTH_SCHEME})?[^\s,;&'"}}\]]++
    )
    """
)
_SCHEME_TOKEN = re.compile(r"(?i)\b(?P<scheme>bearer|basic|digest)\s++[A-Za-z0-9._~+/=-]++")
_URL_CREDENTIALS = re.compile(
    r"(?P<prefix>(?<![a-z0-9+.-])[a-z][a-z0-9+.-]{0,31}://[^\s:/@]++:)[^\s@/]++(?=@)", re.I
)
_ARGON2_HASH = re.compile(r"\$argon2(?:id|i|d)\$[A-Za-z0-9$=,+/.-]++")
# Long unbroken runs of hex/base64url characters look like keys, tokens or hashes.
_LONG_RUN = re.compile(r"(?<![A-Za-z0-9_+-])[A-Za-z0-9_+-]{32,}+={0,2}(?![A-Za-z0-9_+-])")
_TOKEN_CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-=/.~"
)
MASK = "***"


def _mask_key_value(match: re.Match[str]) -> str:
    value = match.group(0)[len(match.group("key")) :]
    if value[:1] in {'"', "'"}:
        return f"{match.group('key')}{value[0]}{MASK}{value[0]}"
    return f"{match.group('key')}{MASK}"


def _mask_long_run(match: re.Match[str]) -> str:
    run = match.group(0)
    # A long identifier such as ``dev_mode_required_for_community`` has no digit; a random
    # token of 32+ characters almost always has both digits and letters.
    if any(ch.isdigit() for ch in run) and any(ch.isalpha() for ch in run):
        return MASK
    return run


def _bounded(text: str) -> str:
    """The first SCRUB_MAX_CHARS of ``text``, saying how much was left out.

    A cut inside a run of token characters drops that run's head too: a token split at
    the limit would be too short to look random, and its first part would be logged.
    """
    if len(text) <= SCRUB_MAX_CHARS:
        return text
    kept = text[:SCRUB_MAX_CHARS]
    if text[SCRUB_MAX_CHARS] in _TOKEN_CHARACTERS:
        kept = kept.rstrip("".join(sorted(_TOKEN_CHARACTERS)))
    return f"{kept}… [{len(text) - len(kept)} more characters not logged]"


def scrub(text: str) -> str:
    """Mask things in free text that look like secrets with ``***``.

    Defence in depth for ``detail``: callers must not pass secrets, but if a password,
    token, cookie, Authorization header, URL credential, Argon2 hash or a long random-looking
    run (32+ hex/base64url characters with letters and digits — this includes GUIDs, so put
    those in ``assembly_guid`` instead) slips into a message, it never reaches a log. Only
    the first SCRUB_MAX_CHARS characters are scanned and kept; the rest is left out, and
    the entry says how many characters were.
    """
    text = _bounded(text)
    text = _ARGON2_HASH.sub(MASK, text)
    text = _KEY_VALUE.sub(_mask_key_value, text)
    text = _SCHEME_TOKEN.sub(lambda m: f"{m.group('scheme')} {MASK}", text)
    if "://" in text:
        text = _URL_CREDENTIALS.sub(lambda m: f"{m.group('prefix')}{MASK}", text)
    return _LONG_RUN.sub(_mask_long_run, text)


# --- entries -----------------------------------------------------------------------------------


def entry_hash(entry: dict[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON (sorted keys, compact) of ``entry`` without ``hash``."""
    body = {key: value for key, value in entry.items() if key != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _shape_problem(entry: object) -> str | None:
    """Why ``entry`` is not a well-formed audit entry, or None."""
    if not isinstance(entry, dict):
        return "it is not a JSON object"
    keys = set(entry)
    missing = [name for name in FIELDS if name not in keys]
    extra = sorted(keys - set(FIELDS))
    if missing:
        return f"it lacks the field(s) {', '.join(missing)}"
    if extra:
        return f"it has unexpected field(s) {', '.join(extra)}"
    seq = entry["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        return "its seq is not a positive integer"
    for name in ("hash", "prev_hash"):
        value = entry[name]
        if not isinstance(value, str) or not _HASH_PATTERN.fullmatch(value):
            return f"its {name} is not a SHA-256 hex digest"
    if not isinstance(entry["time"], str) or not isinstance(entry["action"], str):
        return "its time or action is not a string"
    if entry["outcome"] not in {outcome.value for outcome in Outcome}:
        return "its outcome is not success, denied or failed"
    if not isinstance(entry["dev_mode"], bool):
        return "its dev_mode is not a boolean"
    for name in _OPTIONAL_TEXT_FIELDS:
        if entry[name] is not None and not isinstance(entry[name], str):
            return f"its {name} is not a string or null"
    return None


def _parse_line(raw: bytes) -> dict[str, Any] | str:
    """The entry on one line, or a sentence saying why the line is not one."""
    if not raw.strip():
        return "it is empty"
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "it is not valid JSON"
    problem = _shape_problem(value)
    if problem is not None:
        return problem
    assert isinstance(value, dict)
    return value


def _split_lines(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def _readable_value(value: str | None) -> str:
    if value is None or value == "":
        return "-"
    if re.fullmatch(r"[\w.@+:-]+", value):
        return value
    # Anything with spaces or control characters is quoted and escaped, so one entry is
    # always exactly one line of engine.log.
    return json.dumps(value, ensure_ascii=True)


def readable_line(entry: dict[str, Any]) -> str:
    """The one-line, human-readable form of ``entry`` written to engine.log."""
    return (
        f"AUDIT {_readable_value(entry['action'])} {entry['outcome']}"
        f" user={_readable_value(entry['user'])}"
        f" role={_readable_value(entry['role'])}"
        f" domain={_readable_value(entry['domain'])}"
        f" guid={_readable_value(entry['assembly_guid'])}"
        f" dev_mode={'on' if entry['dev_mode'] else 'off'}"
        f" seq={entry['seq']}"
        f" detail={_readable_value(entry['detail'])}"
    )


# --- head sidecar ------------------------------------------------------------------------------


def head_path_for(path: Path) -> Path:
    return path.with_name(path.name + ".head")


@dataclass(frozen=True)
class _Head:
    seq: int
    hash: str


def _read_head(path: Path) -> _Head | None | str:
    """The head record; None when the file does not exist; a sentence when it is unreadable."""
    head_path = head_path_for(path)
    try:
        raw = head_path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"the head file {head_path.name} cannot be read ({exc.strerror})"
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        value = None
    if (
        isinstance(value, dict)
        and isinstance(value.get("seq"), int)
        and not isinstance(value.get("seq"), bool)
        and value["seq"] >= 1
        and isinstance(value.get("hash"), str)
        and _HASH_PATTERN.fullmatch(value["hash"])
    ):
        return _Head(seq=value["seq"], hash=value["hash"])
    return f"the head file {head_path.name} is garbled"


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. platforms that cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_head(path: Path, seq: int, hash_: str) -> None:
    head_path = head_path_for(path)
    temp_path = head_path.with_name(head_path.name + ".tmp")
    data = json.dumps({"seq": seq, "hash": hash_}, separators=(",", ":")).encode("ascii")
    with open(temp_path, "wb") as handle:
        handle.write(data + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp_path, head_path)
    _fsync_directory(path.parent)


# --- verification ------------------------------------------------------------------------------


def _check_head(
    path: Path, lines: list[bytes], entries: list[dict[str, Any]]
) -> VerifyResult:
    """Compare the head sidecar with the end of a log whose chain is intact."""
    count = len(entries)
    head = _read_head(path)
    name = head_path_for(path).name
    if isinstance(head, str):
        return VerifyResult(
            False, count, None, f"{head}; entries cut off the end would go unnoticed"
        )
    if head is None:
        if count == 0:
            return VerifyResult(True, 0)
        return VerifyResult(
            False,
            count,
            None,
            f"the head file {name} is missing: the chain of {count} entries is intact, "
            "but entries removed from the end cannot be ruled out",
        )
    if count == 0:
        return VerifyResult(
            False,
            0,
            1,
            f"line 1 is missing: the log is empty but {name} records seq {head.seq}; "
            "entries were removed",
        )
    last = entries[-1]
    if head.seq == last["seq"] and head.hash == last["hash"]:
        return VerifyResult(True, count)
    if head.seq > last["seq"]:
        return VerifyResult(
            False,
            count,
            len(lines) + 1,
            f"line {len(lines) + 1} is missing: {name} records seq {head.seq} but the log ends "
            f"at seq {last['seq']}; entries were removed from the end",
        )
    by_seq = {entry["seq"]: index for index, entry in enumerate(entries)}
    index = by_seq.get(head.seq)
    if head.seq < last["seq"] and index is not None and entries[index]["hash"] == head.hash:
        line = index + 2
        return VerifyResult(
            False,
            index + 1,
            line,
            f"line {line} was appended after {name} was last written "
            "(an interrupted write, or a forged entry)",
        )
    line = index + 1 if index is not None else len(lines)
    return VerifyResult(
        False,
        line - 1,
        line,
        f"line {line} does not match {name}: the entry recorded there (seq {head.seq}) "
        "was replaced",
    )


def verify_file(path: Path) -> VerifyResult:
    """Check the chain of the audit log at ``path`` and its head sidecar.

    A missing or empty log with no head file is valid with 0 entries.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        data = b""
    lines = _split_lines(data)
    parsed = [_parse_line(raw) for raw in lines]
    seq_lines: dict[int, int] = {}
    for number, item in enumerate(parsed, start=1):
        if isinstance(item, dict):
            seq_lines.setdefault(item["seq"], number)

    good: list[dict[str, Any]] = []
    line_of_hash: dict[str, int] = {}
    expected_seq = 1
    expected_prev = ZERO_HASH
    for number, item in enumerate(parsed, start=1):
        count = len(good)
        if isinstance(item, str):
            return VerifyResult(False, count, number, f"line {number} is garbled: {item}")
        if entry_hash(item) != item["hash"]:
            return VerifyResult(
                False, count, number, f"line {number} was edited: hash does not match its content"
            )
        seq = item["seq"]
        if item["hash"] in line_of_hash:
            original = line_of_hash[item["hash"]]
            return VerifyResult(
                False, count, number, f"line {number} is a duplicate of line {original}"
            )
        if seq != expected_seq:
            if seq < expected_seq:
                predecessor = line_of_hash.get(item["prev_hash"])
                if predecessor is not None and predecessor < number - 1:
                    first = predecessor + 1
                    return VerifyResult(
                        False,
                        first - 1,
                        first,
                        f"line {first} was inserted: it is not part of the chain "
                        f"(line {number} follows line {predecessor})",
                    )
                return VerifyResult(
                    False,
                    count,
                    number,
                    f"line {number} is out of order: expected seq {expected_seq}, found {seq}",
                )
            later = seq_lines.get(expected_seq)
            if later is not None and later > number:
                return VerifyResult(
                    False,
                    count,
                    number,
                    f"line {number} is out of order: expected seq {expected_seq}, found {seq} "
                    f"(seq {expected_seq} is on line {later})",
                )
            return VerifyResult(
                False,
                count,
                number,
                f"line {number} is missing: expected seq {expected_seq}, found {seq}",
            )
        if item["prev_hash"] != expected_prev:
            if number == 1:
                return VerifyResult(
                    False, 0, 1, "line 1 does not start the chain: its prev_hash is not zeros"
                )
            # This line's own hash is sound, so the line before it is the one that changed
            # (edited and re-hashed, or replaced).
            return VerifyResult(
                False,
                count - 1,
                number - 1,
                f"line {number - 1} was altered: its hash was recomputed, but line {number} "
                "still refers to the original (prev_hash mismatch)",
            )
        good.append(item)
        line_of_hash[item["hash"]] = number
        expected_seq = seq + 1
        expected_prev = item["hash"]
    return _check_head(path, lines, good)


# --- the log -----------------------------------------------------------------------------------


def _append_whole_line(path: Path, data: bytes) -> None:
    """Append ``data`` whole or not at all: a failed write (disk full) is cut back off, so
    a refused entry never leaves half a line for the next one to be glued to. The caller
    makes it durable (group fsync)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        size_before = os.fstat(fd).st_size
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        except OSError:
            try:
                os.ftruncate(fd, size_before)
            except OSError:
                logger.error("could not cut a partial entry off %s", path)
            raise
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class AuditLog:
    """Append-only, hash-chained audit log at ``path`` (normally ``<home>/Logs/audit.log``).

    Thread-safe: ``record`` holds a lock while it numbers, writes, fsyncs and updates the
    head. Only one ``AuditLog`` per file may exist in a process, and only one process may
    append to a file; a second writer would fork the chain.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
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
        head = _read_head(self.path)
        last_index = next(
            (i for i in range(len(tail) - 1, -1, -1) if isinstance(tail[i], dict)), None
        )
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
            self._drop_torn_tail(tail, last_index, ends_with_newline)
            return
        if head.seq < last["seq"] and self._head_behind_consistently(tail, head):
            # The process died after an append but before the head was rewritten.
            logger.warning(
                "audit log: head file was behind (seq %d < %d), advancing it",
                head.seq,
                last["seq"],
            )
            _write_head(self.path, last["seq"], last["hash"])
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
                start = max(0, size - _TAIL_BYTES)
                handle.seek(start)
                data = handle.read()
        except FileNotFoundError:
            return [], True
        ends_with_newline = data.endswith(b"\n") or not data
        lines = _split_lines(data)
        if start > 0 and lines:
            lines = lines[1:]  # the first line of the chunk is probably cut
        return [_parse_line(raw) for raw in lines], ends_with_newline

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
            "audit log: removing a half-written final line (%d bytes) left by an interrupted "
            "write",
            len(data) - cut,
        )
        with open(self.path, "r+b") as handle:
            handle.truncate(cut)
            handle.flush()
            os.fsync(handle.fileno())
        self._needs_newline = False

    @staticmethod
    def _head_behind_consistently(tail: list[dict[str, Any] | str], head: _Head) -> bool:
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

    def record(self, event: AuditEvent, *, at: str | None = None) -> dict[str, Any]:
        """Append one entry for ``event`` (``at``: its time, when it happened earlier);
        return the entry as written."""
        if not event.action:
            raise ValueError("an audit event needs an action")
        outcome = Outcome(event.outcome)
        detail = scrub(event.detail) if event.detail is not None else None
        with self._lock:
            entry: dict[str, Any] = {
                "seq": self._seq + 1,
                "time": at or _utc_now(),
                "user": event.user,
                "role": event.role,
                "session": event.session,
                "action": event.action,
                "domain": event.domain,
                "assembly_guid": event.assembly_guid,
                "outcome": outcome.value,
                "dev_mode": bool(event.dev_mode),
                "detail": detail,
                "prev_hash": self._prev_hash,
            }
            entry["hash"] = entry_hash(entry)
            line = json.dumps(entry, separators=(",", ":"), ensure_ascii=True).encode("ascii")
            if self._needs_newline:
                line = b"\n" + line
            _append_whole_line(self.path, line + b"\n")
            self._needs_newline = False
            self._seq = entry["seq"]
            self._prev_hash = entry["hash"]
            logger.info("%s", readable_line(entry))
        self._make_durable(entry["seq"])
        return dict(entry)

    def _make_durable(self, seq: int) -> None:
        with self._sync_lock:
            if self._synced_seq >= seq:
                return  # another thread's fsync covered this entry
            with self._lock:
                target_seq, target_hash = self._seq, self._prev_hash
            _fsync_file(self.path)
            _write_head(self.path, target_seq, target_hash)
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
        chunk = _TAIL_BYTES
        while True:
            start = max(0, size - chunk)
            with open(self.path, "rb") as handle:
                handle.seek(start)
                lines = _split_lines(handle.read(size - start))
            if start > 0 and lines:
                lines = lines[1:]  # probably cut
            parsed = [e for e in map(_parse_line, lines) if isinstance(e, dict)]
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
        for raw in _split_lines(data):
            try:
                value = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            if isinstance(value, dict):
                result.append(value)
        return result

    def verify(self) -> VerifyResult:
        with self._sync_lock, self._lock:
            self._sync_locked()
            return verify_file(self.path)

    def _sync_locked(self) -> None:
        """With both locks held: bring the head file up to the last appended entry."""
        if self._synced_seq < self._seq:
            _fsync_file(self.path)
            _write_head(self.path, self._seq, self._prev_hash)
            self._synced_seq = self._seq
