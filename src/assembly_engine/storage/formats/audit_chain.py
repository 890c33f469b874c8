"""The audit log's file format: hash-chained JSON lines, the head sidecar, verification.

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

The writer that appends to such a file is audit_log.py; verification reads only the
files, so it also runs without an engine (``assemblies audit verify``). Cluster mode's
chain (postgresql/audit_store.py) makes, checks and copies its entries with the same
functions, so its entries, hashes and verdicts are the file's.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assembly_engine.storage.contract.reports import OUTCOMES, VerifyResult
from assembly_engine.storage.files.durable_files import replace_file

ZERO_HASH = "0" * 64
# The log's file name in a home's Logs/ and in a backup, whichever backend kept the chain.
LOG_FILE_NAME = "audit.log"
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
TAIL_BYTES = 256 * 1024


# --- entries -----------------------------------------------------------------------------------


def chained_entry(seq: int, prev_hash: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The entry ``seq`` made of ``fields`` (every FIELDS name but seq, prev_hash and hash),
    chained to ``prev_hash`` and hashed: what every backend stores for an append."""
    entry: dict[str, Any] = {"seq": seq, **fields, "prev_hash": prev_hash}
    entry["hash"] = entry_hash(entry)
    return entry


def entry_line(entry: dict[str, Any]) -> bytes:
    """One entry as its line of the log file (without the newline)."""
    return json.dumps(entry, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def entry_hash(entry: dict[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON (sorted keys, compact) of ``entry`` without ``hash``."""
    body = {key: value for key, value in entry.items() if key != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def shape_problem(entry: object) -> str | None:
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
    if entry["outcome"] not in OUTCOMES:
        return "its outcome is not success, denied or failed"
    if not isinstance(entry["dev_mode"], bool):
        return "its dev_mode is not a boolean"
    for name in _OPTIONAL_TEXT_FIELDS:
        if entry[name] is not None and not isinstance(entry[name], str):
            return f"its {name} is not a string or null"
    return None


def parse_line(raw: bytes) -> dict[str, Any] | str:
    """The entry on one line, or a sentence saying why the line is not one."""
    if not raw.strip():
        return "it is empty"
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "it is not valid JSON"
    problem = shape_problem(value)
    if problem is not None:
        return problem
    assert isinstance(value, dict)
    return value


def split_lines(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


# --- head sidecar ------------------------------------------------------------------------------


def head_path_for(path: Path) -> Path:
    return path.with_name(path.name + ".head")


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str


def read_head(path: Path) -> Head | None | str:
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
        return Head(seq=value["seq"], hash=value["hash"])
    return f"the head file {head_path.name} is garbled"


def head_bytes(seq: int, hash_: str) -> bytes:
    """The content of a head file."""
    return json.dumps({"seq": seq, "hash": hash_}, separators=(",", ":")).encode("ascii") + b"\n"


def write_head(path: Path, seq: int, hash_: str) -> None:
    replace_file(head_path_for(path), head_bytes(seq, hash_))


# --- verification ------------------------------------------------------------------------------


def _check_head(
    head: Head | None | str, name: str, lines: list[bytes], entries: list[dict[str, Any]]
) -> VerifyResult:
    """Compare the head record (called ``name``) with the end of a chain that is intact."""
    count = len(entries)
    if isinstance(head, str):
        return VerifyResult(False, count, None, f"{head}; entries cut off the end would go unnoticed")
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
            f"line 1 is missing: the log is empty but {name} records seq {head.seq}; entries were removed",
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
        f"line {line} does not match {name}: the entry recorded there (seq {head.seq}) was replaced",
    )


def verify_file(path: Path) -> VerifyResult:
    """Check the chain of the audit log at ``path`` and its head sidecar.

    A missing or empty log with no head file is valid with 0 entries.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        data = b""
    return verify_lines(split_lines(data), read_head(path), head_path_for(path).name)


def verify_lines(lines: list[bytes], head: Head | None | str, head_name: str) -> VerifyResult:
    """Check a chain given as the lines of its file and its head record (None: absent; a
    sentence: unreadable), whichever backend keeps them; ``head_name`` names the head in
    messages. Line N is the Nth entry stored."""
    parsed = [parse_line(raw) for raw in lines]
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
            return VerifyResult(False, count, number, f"line {number} is a duplicate of line {original}")
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
    return _check_head(head, head_name, lines, good)
