"""Stalled large uploads against a real engine over real sockets (issue 23, 7).

The finding: two connections sending ``Content-Length: 3000000`` and then nothing held
both large-body turns for ever, and every other write over 1 MiB hung. Bounded: two or
three stalled sockets, a few 1.5 MiB writes, about 30 s in all.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assembly_engine.api.limits import BODY_IDLE_SECONDS
from tests.engine_process import EngineProcess
from tests.hardening.support import new_script

LARGE_SCRIPT = "echo large\n" + "#" * (1536 * 1024)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[EngineProcess]:
    process = EngineProcess(tmp_path / "home", tmp_path / "staging").start()
    try:
        yield process
    finally:
        process.stop()


def _stall(engine: EngineProcess, token: str) -> socket.socket:
    """A create that declares 3,000,000 bytes, sends 100 and then nothing."""
    sock = socket.create_connection(("127.0.0.1", engine.port), timeout=30)
    sock.sendall(
        b"POST /api/assemblies HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + token.encode() + b"\r\nContent-Length: 3000000\r\n\r\n" + b"{" + b" " * 99
    )
    return sock


def _large_create(engine: EngineProcess, headers: dict[str, str]) -> tuple[int, float]:
    body = {**new_script("large"), "payload": {"script": LARGE_SCRIPT}}
    started = time.monotonic()
    answer = httpx.post(f"{engine.url}/api/assemblies", headers=headers, json=body, timeout=60)
    return answer.status_code, time.monotonic() - started


def _user(engine: EngineProcess, admin: dict[str, str], name: str) -> tuple[str, dict[str, str]]:
    password = "a long enough password"
    made = httpx.post(
        f"{engine.url}/api/users",
        headers=admin,
        json={"username": name, "password": password, "role": "operator"},
        timeout=30,
    )
    assert made.status_code in {200, 201}, made.text
    token = httpx.post(
        f"{engine.url}/api/auth/login", json={"username": name, "password": password}, timeout=30
    ).json()["token"]
    return token, {"Authorization": f"Bearer {token}"}


def test_one_users_stalled_uploads_hold_one_turn_and_time_out(engine: EngineProcess) -> None:
    admin = engine.login()
    token, _ = _user(engine, admin, "mallory")
    stalled = [_stall(engine, token) for _ in range(2)]
    try:
        time.sleep(1.0)
        # Mallory holds one turn and waits behind herself for another: a second user's
        # large write goes through at once.
        status, took = _large_create(engine, admin)
        assert status == 201
        assert took < BODY_IDLE_SECONDS / 2, f"a large write waited {took:.1f} s behind stalled uploads"
        # The stalled uploads are answered 408 and their connections closed.
        first = stalled[0]
        first.settimeout(BODY_IDLE_SECONDS + 15)
        answer = b""
        while chunk := first.recv(65536):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
        assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"] == "request_timeout"
    finally:
        for sock in stalled:
            sock.close()


def test_stalled_uploads_of_two_users_delay_others_only_until_they_time_out(engine: EngineProcess) -> None:
    admin = engine.login()
    stalled = [_stall(engine, _user(engine, admin, name)[0]) for name in ("mallory", "trudy")]
    try:
        time.sleep(0.5)
        status, took = _large_create(engine, admin)
        assert status == 201
        assert took < BODY_IDLE_SECONDS + 5, f"a large write waited {took:.1f} s"
    finally:
        for sock in stalled:
            sock.close()
    # A trickle (a few bytes every few seconds) is cut off by the minimum rate too.
    token, _ = _user(engine, admin, "oscar")
    trickle = _stall(engine, token)
    try:
        started = time.monotonic()
        trickle.settimeout(1.0)
        answer = b""
        while time.monotonic() - started < 40 and not answer:
            try:
                trickle.sendall(b" ")
                answer = trickle.recv(65536)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
        assert time.monotonic() - started < 30
    finally:
        trickle.close()
