"""What validating a body may cost (issue 23, 8), against a real engine process.

The finding: a 12 MiB create of small JSON values cost 14.3 s of CPU and +950 MB, and was
stored. Bodies over MAX_JSON_VALUES values are now refused (413) before any model walks
them; bodies under it are validated without building a path per value.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from assembly_engine.api.json_values import MAX_JSON_VALUES, too_many_values
from assembly_engine.services.request_bodies import json_problem
from tests.engine_process import EngineProcess
from tests.hardening.support import new_script


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    root = tmp_path_factory.mktemp("values")
    process = EngineProcess(root / "home", root / "staging").start()
    try:
        yield process
    finally:
        process.stop()


def _cpu_seconds(engine: EngineProcess) -> float:
    assert engine.proc is not None
    fields = Path(f"/proc/{engine.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _post(engine: EngineProcess, headers: dict[str, str], body: bytes) -> tuple[httpx.Response, float]:
    before = _cpu_seconds(engine)
    answer = httpx.post(
        f"{engine.url}/api/assemblies",
        headers={**headers, "Content-Type": "application/json"},
        content=body,
        timeout=120,
    )
    return answer, _cpu_seconds(engine) - before


def test_a_body_of_millions_of_small_values_is_refused_cheaply(engine: EngineProcess) -> None:
    headers = engine.login()
    body = orjson.dumps({**new_script("values"), "metadata": {"x": [0] * 6_000_000}})
    assert len(body) > 11 * 1024 * 1024
    answer, cpu = _post(engine, headers, body)
    assert answer.status_code == 413, answer.text[:300]
    assert answer.json()["error"] == "too_many_values"
    assert str(MAX_JSON_VALUES) in answer.json()["message"]
    assert cpu < 2.0, f"refusing the body cost {cpu:.1f} s of CPU"
    listed = httpx.get(f"{engine.url}/api/assemblies", headers=headers, timeout=30).json()
    assert "values" not in str(listed)  # nothing was stored


def test_a_large_script_full_of_commas_is_still_accepted(engine: EngineProcess) -> None:
    """Commas inside strings make the byte count overshoot; the exact count decides."""
    headers = engine.login()
    script = "echo a,b:[c]\n" * 80_000  # ~1 MiB, 240,000 of the counted bytes, 1 value
    body = orjson.dumps({**new_script("commas"), "payload": {"script": script}})
    answer, _ = _post(engine, headers, body)
    assert answer.status_code == 201, answer.text[:300]


def test_the_value_count_is_exact_at_the_limit() -> None:
    at_limit = orjson.dumps([0] * (MAX_JSON_VALUES - 1))  # the list itself is a value too
    assert not too_many_values([at_limit])
    assert too_many_values([orjson.dumps([0] * MAX_JSON_VALUES)])
    assert too_many_values([orjson.dumps([{"a": [1, 2]}] * (MAX_JSON_VALUES // 3))])
    assert not too_many_values([b"not json " + b"," * (MAX_JSON_VALUES + 1)])


def test_validation_builds_no_path_per_value() -> None:
    """400,000 small values are checked in well under a second, and a problem deep inside
    is still named by its path."""
    started = time.process_time()
    assert json_problem({"metadata": {"x": [0] * 400_000}}) is None
    assert time.process_time() - started < 0.5
    bad = {"metadata": {"x": [0] * 1000 + [{"deep": [1, 2**70]}]}}
    problem = json_problem(bad, "body")
    assert problem is not None and problem.startswith("body.metadata.x[1000].deep[1] is above")
