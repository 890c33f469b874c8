"""Tests of the hash-chained audit log (Docs/assemblies.md §9)."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from assembly_engine.services import audit as audit_module
from assembly_engine.services.audit import (
    SCRUB_MAX_CHARS,
    AuditEvent,
    AuditLog,
    Outcome,
    scrub,
)
from assembly_engine.storage.formats.audit_chain import FIELDS, ZERO_HASH, entry_hash, verify_file
from assembly_engine.storage.sqlite.audit_log import HashChainedLog

AUDIT_LOGGER = "assembly_engine.audit"


def make_log(tmp_path: Path, count: int = 0) -> AuditLog:
    log = AuditLog(HashChainedLog(tmp_path / "Logs" / "audit.log"))
    for number in range(1, count + 1):
        log.record(
            AuditEvent(
                action="assembly.update",
                outcome=Outcome.SUCCESS,
                user="admin",
                role="admin",
                domain="user",
                detail=f"change {number}",
            )
        )
    return log


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="ascii").splitlines()


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="ascii")


def rehashed(entry: dict[str, Any]) -> str:
    """A forged line: ``entry`` with a correct hash of its own content."""
    entry = dict(entry)
    entry["hash"] = entry_hash(entry)
    return json.dumps(entry, separators=(",", ":"))


# --- recording ---------------------------------------------------------------------------------


def test_record_appends_one_entry_with_every_field(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    assert (tmp_path / "Logs").is_dir()

    entry = log.record(
        AuditEvent(
            action="dev_mode.enable",
            outcome=Outcome.SUCCESS,
            user="alice",
            role="admin",
            session="a" * 64,
            domain="official",
            assembly_guid="0123456789abcdef0123456789abcdef",
            dev_mode=True,
            detail="maintenance window",
        )
    )

    lines = read_lines(log.store.path)
    assert len(lines) == 1
    stored = json.loads(lines[0])
    assert stored == entry
    assert set(stored) == set(FIELDS)
    assert stored["seq"] == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", stored["time"])
    assert stored["user"] == "alice"
    assert stored["role"] == "admin"
    assert stored["session"] == "a" * 64  # stored exactly as the caller hashed it
    assert stored["action"] == "dev_mode.enable"
    assert stored["domain"] == "official"
    assert stored["assembly_guid"] == "0123456789abcdef0123456789abcdef"
    assert stored["outcome"] == "success"
    assert stored["dev_mode"] is True
    assert stored["detail"] == "maintenance window"
    assert stored["prev_hash"] == ZERO_HASH
    assert stored["hash"] == entry_hash(stored)

    second = log.record(AuditEvent(action="login", outcome=Outcome.DENIED, user="bob"))
    assert second["seq"] == 2
    assert second["prev_hash"] == entry["hash"]
    assert second["role"] is None and second["detail"] is None and second["dev_mode"] is False
    assert len(read_lines(log.store.path)) == 2
    assert log.entries() == [entry, second]


def test_record_writes_a_readable_line_to_the_audit_logger(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = make_log(tmp_path)
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER):
        log.record(
            AuditEvent(
                action="login",
                outcome=Outcome.FAILED,
                user="admin",
                role="admin",
                detail="bad credentials\nforged line",
            )
        )
    records = [r for r in caplog.records if r.name == AUDIT_LOGGER]
    assert len(records) == 1
    message = records[0].getMessage()
    assert message.startswith("AUDIT login failed user=admin role=admin domain=- guid=- dev_mode=off")
    assert "\n" not in message  # one entry is one line, even with a newline in the detail
    assert 'detail="bad credentials\\nforged line"' in message


def test_head_file_tracks_the_last_entry(tmp_path: Path) -> None:
    log = make_log(tmp_path, 3)
    head = json.loads(log.store.head_path.read_text())
    last = log.entries()[-1]
    assert head == {"seq": 3, "hash": last["hash"]}
    assert not list(log.store.path.parent.glob("*.tmp"))


def test_record_rejects_an_empty_action(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    with pytest.raises(ValueError):
        log.record(AuditEvent(action="", outcome=Outcome.SUCCESS))
    assert log.entries() == []


# --- verification of intact logs -----------------------------------------------------------------


def test_verify_of_missing_or_empty_log_is_ok(tmp_path: Path) -> None:
    assert verify_file(tmp_path / "nowhere" / "audit.log").ok
    result = make_log(tmp_path).verify()
    assert result.ok and result.entries == 0
    assert result.first_bad_line is None and result.problem is None
    (tmp_path / "empty.log").write_bytes(b"")
    assert verify_file(tmp_path / "empty.log").entries == 0


def test_chain_verifies(tmp_path: Path) -> None:
    log = make_log(tmp_path, 10)
    result = log.verify()
    assert result.ok, result.problem
    assert result.entries == 10
    assert verify_file(log.store.path) == result


def test_reopening_continues_the_chain(tmp_path: Path) -> None:
    first = make_log(tmp_path, 3)
    last_hash = first.entries()[-1]["hash"]

    reopened = AuditLog(HashChainedLog(first.store.path))
    entry = reopened.record(AuditEvent(action="flush", outcome=Outcome.SUCCESS))

    assert entry["seq"] == 4
    assert entry["prev_hash"] == last_hash
    result = reopened.verify()
    assert result.ok and result.entries == 4


def test_concurrent_records_keep_the_chain_valid(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def worker(number: int) -> None:
        try:
            barrier.wait()
            for index in range(50):
                log.record(
                    AuditEvent(
                        action="assembly.create",
                        outcome=Outcome.SUCCESS,
                        user=f"user{number}",
                        detail=f"thread {number} record {index}",
                    )
                )
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    result = log.verify()
    assert result.ok, result.problem
    assert result.entries == 400
    assert [e["seq"] for e in log.entries()] == list(range(1, 401))


# --- tampering ---------------------------------------------------------------------------------


def test_edited_field_is_detected(tmp_path: Path) -> None:
    log = make_log(tmp_path, 8)
    lines = read_lines(log.store.path)
    entry = json.loads(lines[6])
    entry["outcome"] = "denied"
    lines[6] = json.dumps(entry, separators=(",", ":"))
    write_lines(log.store.path, lines)

    result = verify_file(log.store.path)
    assert not result.ok
    assert result.first_bad_line == 7
    assert result.entries == 6
    assert result.problem == "line 7 was edited: hash does not match its content"


def test_edited_and_rehashed_line_is_detected(tmp_path: Path) -> None:
    log = make_log(tmp_path, 6)
    lines = read_lines(log.store.path)
    entry = json.loads(lines[2])
    entry["user"] = "mallory"
    lines[2] = rehashed(entry)
    write_lines(log.store.path, lines)

    result = verify_file(log.store.path)
    assert not result.ok
    assert result.first_bad_line == 3
    assert result.problem is not None and "line 3 was altered" in result.problem


def test_deleted_line_is_detected(tmp_path: Path) -> None:
    log = make_log(tmp_path, 6)
    lines = read_lines(log.store.path)
    del lines[3]
    write_lines(log.store.path, lines)

    result = verify_file(log.store.path)
    assert not result.ok
    assert result.first_bad_line == 4
    assert result.problem == "line 4 is missing: expected seq 4, found 5"


def test_deleted_first_line_is_detected(tmp_path: Path) -> None:
    log = make_log(tmp_path, 3)
    write_lines(log.store.path, read_lines(log.store.path)[1:])

    result = verify_file(log.store.path)
    assert result.first_bad_line == 1
    assert result.problem == "line 1 is missing: expected seq 1, found 2"


def test_reordered_lines_are_detected(tmp_path: Path) -> None:
    log = make_log(tmp_path, 6)
    lines = read_lines(log.store.path)
    lines[2], lines[4] = lines[4], lines[2]
    write_lines(log.store.path, lines)

    result = verify_file(log.store.path)
    assert not result.ok
    assert result.first_bad_line == 3
    assert result.problem is not None
    assert result.problem.startswith("line 3 is out of order: expected seq 3, found 5")


def test_forged_inserted_line_is_detected(tmp_path: Path) -> None:
    log = make_log(tmp_path, 5)
    lines = read_lines(log.store.path)
    before = json.loads(lines[1])
    forged = dict(json.loads(lines[2]))
    forged.update(detail="nothing to see", prev_hash=before["hash"], seq=3)
    lines.insert(2, rehashed(forged))
    write_lines(log.store.path, lines)

    result = verify_file(log.store.path)
    assert not result.ok
    assert result.first_bad_line == 3
    assert result.entries == 2
    assert result.problem is not None and result.problem.startswith("line 3 was inserted")


def test_duplicated_line_is_detected(tmp_path: Path) -> None:
    log = make_log(tmp_path, 4)
    lines = read_lines(log.store.path)
    lines.insert(3, lines[1])
    write_lines(log.store.path, lines)

    result = verify_file(log.store.path)
    assert result.first_bad_line == 4
    assert result.problem == "line 4 is a duplicate of line 2"


def test_inserted_garbage_line_is_detected(tmp_path: Path) -> None:
    log = make_log(tmp_path, 4)
    lines = read_lines(log.store.path)
    lines.insert(2, '{"seq": 3, "action": "login"}')
    write_lines(log.store.path, lines)

    result = verify_file(log.store.path)
    assert result.first_bad_line == 3
    assert result.problem is not None and result.problem.startswith("line 3 is garbled")


@pytest.mark.parametrize(
    "replacement",
    ['{"seq": 5, "action": "lo', "not json at all", "", "\u00ff\u00fe"],
    ids=["truncated", "text", "empty", "binary"],
)
def test_garbled_line_is_detected(tmp_path: Path, replacement: str) -> None:
    log = make_log(tmp_path, 7)
    data = log.store.path.read_bytes().split(b"\n")
    data[4] = replacement.encode("latin-1")
    log.store.path.write_bytes(b"\n".join(data))

    result = verify_file(log.store.path)
    assert not result.ok
    assert result.first_bad_line == 5
    assert result.entries == 4
    assert result.problem is not None and result.problem.startswith("line 5 is garbled")


def test_deleted_last_line_is_detected_through_the_head(tmp_path: Path) -> None:
    log = make_log(tmp_path, 5)
    write_lines(log.store.path, read_lines(log.store.path)[:-2])

    result = verify_file(log.store.path)
    assert not result.ok
    assert result.entries == 3
    assert result.first_bad_line == 4
    assert result.problem is not None
    assert "line 4 is missing" in result.problem and "seq 5" in result.problem


def test_emptied_log_is_detected_through_the_head(tmp_path: Path) -> None:
    log = make_log(tmp_path, 2)
    log.store.path.write_bytes(b"")

    result = verify_file(log.store.path)
    assert not result.ok and result.first_bad_line == 1


def test_replaced_last_line_is_detected_through_the_head(tmp_path: Path) -> None:
    log = make_log(tmp_path, 4)
    lines = read_lines(log.store.path)
    entry = json.loads(lines[-1])
    entry["detail"] = "forged"
    lines[-1] = rehashed(entry)
    write_lines(log.store.path, lines)

    result = verify_file(log.store.path)
    assert not result.ok
    assert result.first_bad_line == 4
    assert result.problem is not None and "does not match audit.log.head" in result.problem


def test_missing_head_file_is_reported_but_the_chain_is_checked(tmp_path: Path) -> None:
    log = make_log(tmp_path, 3)
    log.store.head_path.unlink()

    result = verify_file(log.store.path)
    assert not result.ok
    assert result.entries == 3
    assert result.first_bad_line is None
    assert result.problem is not None and "head file audit.log.head is missing" in result.problem

    lines = read_lines(log.store.path)
    del lines[1]
    write_lines(log.store.path, lines)
    chain_result = verify_file(log.store.path)
    assert chain_result.first_bad_line == 2  # chain problems come first


def test_garbled_head_file_is_reported(tmp_path: Path) -> None:
    log = make_log(tmp_path, 2)
    log.store.head_path.write_text("nonsense")
    result = verify_file(log.store.path)
    assert not result.ok
    assert result.problem is not None and "garbled" in result.problem


# --- reopening after damage ----------------------------------------------------------------------


def test_reopening_after_tail_truncation_keeps_the_gap_visible(tmp_path: Path) -> None:
    log = make_log(tmp_path, 5)
    write_lines(log.store.path, read_lines(log.store.path)[:-2])

    reopened = AuditLog(HashChainedLog(log.store.path))
    entry = reopened.record(AuditEvent(action="login", outcome=Outcome.SUCCESS))

    assert entry["seq"] == 6  # continues from the head, not from the shortened file
    result = reopened.verify()
    assert not result.ok
    assert result.problem == "line 4 is missing: expected seq 4, found 6"


def test_reopening_after_an_interrupted_append_removes_the_fragment(tmp_path: Path) -> None:
    log = make_log(tmp_path, 3)
    with open(log.store.path, "ab") as handle:
        handle.write(b'{"seq":4,"time":"2')  # the process died mid-write

    reopened = AuditLog(HashChainedLog(log.store.path))
    entry = reopened.record(AuditEvent(action="flush", outcome=Outcome.SUCCESS))

    assert entry["seq"] == 4
    result = reopened.verify()
    assert result.ok, result.problem
    assert result.entries == 4


def test_reopening_with_a_stale_head_advances_it(tmp_path: Path) -> None:
    log = make_log(tmp_path, 3)
    stale = log.entries()[1]
    log.store.head_path.write_text(json.dumps({"seq": 2, "hash": stale["hash"]}))
    assert "appended after" in (verify_file(log.store.path).problem or "")

    reopened = AuditLog(HashChainedLog(log.store.path))
    assert reopened.verify().ok
    assert reopened.record(AuditEvent(action="flush", outcome=Outcome.SUCCESS))["seq"] == 4
    assert reopened.verify().ok


# --- secrets -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("login failed password=hunter2 for admin", "hunter2"),
        ('request {"token": "tok-abc.123", "user": "x"}', "tok-abc.123"),
        ("{'new_password': 'S3cret!'}", "S3cret!"),
        ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
        ("sent Bearer zyx987", "zyx987"),
        ("cookie=sessionvalue42; path=/", "sessionvalue42"),
        ("clone https://bob:pa55word@git.example/x", "pa55word"),
        ("hash $argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g", "aGFzaGhhc2g"),
        (
            "token value Xy3_kq9ZP0aB-mN7rT2vW5yU8iO1pL4sD6fG seen",
            "Xy3_kq9ZP0aB-mN7rT2vW5yU8iO1pL4sD6fG",
        ),
        ("key " + "0f" * 32, "0f" * 32),
    ],
)
def test_scrub_masks_secrets(text: str, secret: str) -> None:
    scrubbed = scrub(text)
    assert secret not in scrubbed
    assert "***" in scrubbed


@pytest.mark.parametrize(
    "text",
    [
        "wrong password for user admin",
        "dev_mode_required_for_official_and_community",
        "updated 3 assemblies in domain user",
        "",
    ],
)
def test_scrub_leaves_ordinary_text_alone(text: str) -> None:
    assert scrub(text) == text


def test_secrets_never_reach_the_audit_log_or_engine_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = make_log(tmp_path)
    password = "Tr0ub4dor&3-horse"
    token = "q8Zr2LmVx0Ty7WnB4sKd1HfJ6gPc9RaE3uQo5iXe"
    with caplog.at_level(logging.DEBUG):
        entry = log.record(
            AuditEvent(
                action="login",
                outcome=Outcome.FAILED,
                user="admin",
                detail=f'payload {{"password": "{password}"}} header Bearer {token}',
            )
        )
        log.record(AuditEvent(action="user.update", outcome=Outcome.SUCCESS, detail=f"token={token}"))

    content = log.store.path.read_text()
    for secret in (password, token):
        assert secret not in content
        assert secret not in caplog.text
        assert all(secret not in record.getMessage() for record in caplog.records)
    assert entry["detail"] == 'payload {"password": "***"} header Bearer ***'
    assert log.verify().ok


# -- the scrubber is linear and bounded (issue 11) ------------------------------------------------

SLOW_SHAPES = {
    "letters": "a" * 200_000,  # quadratic in the URL-credentials pattern before
    "hyphenated": "a-" * 100_000,  # a word boundary at every other character
    "keys": "token-" * 33_000,
    "unclosed-quotes": 'password="' * 20_000,
    "schemes": "x://u:" * 33_000,
    "spaces-then-key": " " * 200_000 + "password",
}


@pytest.mark.parametrize("shape", sorted(SLOW_SHAPES))
def test_scrub_is_fast_on_any_long_text(shape: str) -> None:
    text = SLOW_SHAPES[shape]
    started = time.perf_counter()
    scrubbed = scrub(text)
    assert time.perf_counter() - started < 0.5
    assert len(scrubbed) < SCRUB_MAX_CHARS + 100
    assert "more characters not logged" in scrubbed


def test_scrub_patterns_stay_linear_without_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bound is the second line of defence: the patterns alone are linear too."""
    monkeypatch.setattr(audit_module, "SCRUB_MAX_CHARS", 10**7)
    for text in (SLOW_SHAPES["letters"], "http" + "a" * 200_000 + "://", 'secret="' * 20_000):
        started = time.perf_counter()
        scrub(text)
        assert time.perf_counter() - started < 1.0


def test_a_token_cut_by_the_bound_is_not_logged_in_part() -> None:
    token = "q8Zr2LmVx0Ty7WnB4sKd1HfJ6gPc9RaE3uQo5iXe"
    text = "x " * ((SCRUB_MAX_CHARS - 20) // 2) + token + " tail"
    scrubbed = scrub(text)
    assert token[:12] not in scrubbed
    assert "more characters not logged" in scrubbed


def test_an_unclosed_quote_after_a_secret_key_masks_the_rest() -> None:
    assert scrub('login password="hunter2 and more') == 'login password="***"'
