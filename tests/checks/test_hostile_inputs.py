"""Hostile scripts against a real engine process: each check ends within its limit, the
scripts are never run, and the engine keeps answering meanwhile."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.engine_process import EngineProcess

TIMEOUT = 2.0
HOSTILE = {
    "bash one-liner of 10 MB": ("bash", "echo " + "a$b" * (10 * 1024 * 1024 // 3) + "\n"),
    "powershell nested braces": ("powershell", "{" * 200_000 + "}" * 100_000),
    "python nested parentheses": ("python", "x = " + "(" * 100_000 + ")" * 100_000 + "\n"),
    "ansible nested flow sequences": ("ansible", "- hosts: " + "[" * 50_000 + "]" * 50_000 + "\n"),
    "batch of 10 MB one line": ("batch", "goto " + "(" * (10 * 1024 * 1024) + "\n"),
    "fork bomb (never run)": ("bash", "#!/bin/bash\n:(){ :|:& };:\n"),
}


@pytest.mark.timeout(180)
def test_hostile_checks_end_within_the_limit_and_the_engine_answers(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    engine = EngineProcess(
        tmp_path / "home", staging, extra_env={"ENGINE_CHECK_TIMEOUT_SECONDS": str(TIMEOUT)}
    ).start()
    try:
        headers = engine.login()

        def check(item: tuple[str, tuple[str, str]]) -> tuple[str, float, dict[str, object]]:
            name, (language, script) = item
            started = time.monotonic()
            response = httpx.post(
                f"{engine.url}/api/assemblies/check",
                headers=headers,
                json={"assembly_type": language, "script": script},
                timeout=60,
            )
            assert response.status_code == 200, (name, response.text[:300])
            return name, time.monotonic() - started, response.json()

        with ThreadPoolExecutor(max_workers=len(HOSTILE)) as pool:
            futures = [pool.submit(check, item) for item in HOSTILE.items()]
            # The engine keeps answering while every check slot is busy.
            health_times = []
            while not all(f.done() for f in futures):
                started = time.monotonic()
                assert engine.http.get("/api/health").status_code == 200
                health_times.append(time.monotonic() - started)
                time.sleep(0.2)
            results = [f.result() for f in futures]
        # Generous bounds: the machine is shared (2 cores), and the 10 MB bodies are read
        # and hashed while the first polls wait.
        assert max(health_times) < 3.0 and sorted(health_times)[len(health_times) // 2] < 0.5, health_times
        # Six checks on two check workers: each waits at most the limit plus the queue's
        # share, then is answered (timed_out, or its result).
        for name, seconds, answer in results:
            assert seconds < 2 * (TIMEOUT + 1.0) + 5.0, (name, seconds)
            print(f"{name}: {seconds:.2f} s, timed_out={answer['timed_out']}, counts={answer['counts']}")
        by_name = {name: answer for name, _, answer in results}
        bomb = by_name["fork bomb (never run)"]
        assert bomb["timed_out"] is False and bomb["checkers"][0]["name"] == "shellcheck"
        assert (
            by_name["powershell nested braces"]["timed_out"]
            or by_name["powershell nested braces"]["has_errors"]
        )
        # And afterwards an ordinary check answers as ever.
        normal = httpx.post(
            f"{engine.url}/api/assemblies/check",
            headers=headers,
            json={"assembly_type": "batch", "script": "goto nowhere\n"},
            timeout=30,
        ).json()
        assert normal["has_errors"] is True and normal["timed_out"] is False
    finally:
        engine.stop()
