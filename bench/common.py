"""Shared pieces of the benchmarks: results, engine subprocesses, load generation, timing.

All traffic stays on 127.0.0.1, all data lives in temporary folders, and every loop has a
deadline or a fixed count.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
BENCH_DIR = REPO / "bench"
PYTHON = sys.executable
ADMIN_PASSWORD = "bench-admin-password-0123"
STARTED = time.monotonic()


def progress(message: str) -> None:
    """One progress line on stderr, stamped with the time since the run began."""
    print(f"[{time.monotonic() - STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


@dataclass
class Result:
    """One row of the results table."""

    number: str
    name: str
    figure: float
    unit: str
    baseline: float | None
    baseline_label: str
    ratio: float | None
    ratio_label: str
    target: str = ""
    met: bool | None = None
    notes: list[str] = field(default_factory=list)

    def verdict(self) -> str:
        if self.met is None:
            return "-"
        return "met" if self.met else "MISSED"


@dataclass
class Context:
    """What every benchmark gets: the size, the scratch folder and run-wide settings."""

    size: int
    quick: bool
    work: Path
    duration: float  # seconds of load per measured case (split over ``rounds``)
    connections: int
    repeats: int
    rounds: int  # engine and baseline load runs alternate this many times per case
    wrk: str | None
    shared: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- numbers


def fmt(value: float, unit: str = "") -> str:
    """A short human figure: 3 significant digits, thousands separated."""
    if value >= 10_000:
        text = f"{value:,.0f}"
    elif value >= 100:
        text = f"{value:.0f}"
    elif value >= 10:
        text = f"{value:.1f}"
    elif value >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3f}"
    return f"{text} {unit}".strip()


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_bytes(pid: int) -> int:
    """Resident set size of a process (Linux /proc)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_times(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds a process has used so far, all its threads (Linux /proc):
    system time is mostly the kernel's share of fsyncs, renames and sockets."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User + system CPU time a process has used so far (all its threads; Linux /proc),
    or one thread's (``thread``: its id; the main thread's is the pid)."""
    path = f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat"
    with open(path, encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time used so far by a process and every live descendant (its checkers' worker
    processes included): what it is busy with in the background shows here."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while listed
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    total = 0.0
    for child, seconds in times.items():
        node = child
        while node > 1 and node != pid:
            node = parents.get(node, 0)
        if node == pid:
            total += seconds
    return total


def wait_until_idle(pid: int, *, share: float = 0.05, window: float = 2.0, limit: float = 900.0) -> float:
    """Wait until a process tree uses under ``share`` of a core over ``window`` seconds (its
    background work after a large change has ended); returns the seconds waited."""
    began = time.monotonic()
    while time.monotonic() - began < limit:
        before = tree_cpu_seconds(pid)
        time.sleep(window)
        if tree_cpu_seconds(pid) - before < share * window:
            break
    return time.monotonic() - began


def load_average() -> str:
    with open("/proc/loadavg", encoding="ascii") as handle:
        return " ".join(handle.read().split()[:3])


@contextmanager
def scratch(ctx: Context, name: str) -> Iterator[Path]:
    """A fresh folder under the run's temp dir, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=ctx.work))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def timed_process(
    argv: list[str], *, env: dict[str, str] | None = None, timeout: float = 300.0
) -> tuple[float, str]:
    """Run a process to completion; (wall seconds from spawn to exit, stdout)."""
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{argv[:3]} exited with {done.returncode}: {done.stderr[-2000:]}")
    return elapsed, done.stdout


# --------------------------------------------------------------------------- engine


def engine_env(home: Path, staging: Path, port: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "ENGINE_HOME": str(home),
        "ENGINE_STAGING_ROOT": str(staging),
        "ENGINE_HOST": "127.0.0.1",
        "ENGINE_PORT": str(port),
        "ENGINE_ADMIN_PASSWORD": ADMIN_PASSWORD,
        # No background flush in the middle of a measurement; flushes are measured on
        # their own (benchmark 4) and the shutdown flush still runs.
        "ENGINE_FLUSH_INTERVAL": "3600",
    }
    env.update(extra or {})
    return env


class Engine:
    """``python -m assembly_engine.cli.main serve`` on a free loopback port."""

    def __init__(
        self,
        home: Path,
        staging: Path,
        *,
        extra_env: dict[str, str] | None = None,
        wrapper: Sequence[str] = (),
        command: Sequence[str] = ("-m", "assembly_engine.cli.main", "serve"),
    ) -> None:
        self.home = home
        self.command = list(command)
        self.staging = staging
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = engine_env(home, staging, self.port, extra_env)
        self.wrapper = list(wrapper)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = home.parent / f"engine-{self.port}.out"
        self.started_at = 0.0
        self._token: str | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> Engine:
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.started_at = time.perf_counter()
            self.proc = subprocess.Popen(
                [*self.wrapper, PYTHON, *self.command],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.home.parent,
            )
        return self

    def wait_ready(
        self, expected: dict[str, int] | None = None, timeout: float = 600.0, poll: float = 0.01
    ) -> float:
        """Poll /api/health until it answers (with ``expected`` counts); seconds since start."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=5.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"engine exited with {self.proc.returncode}: {self.output()}")
                try:
                    response = client.get(f"{self.url}/api/health")
                except httpx.HTTPError:
                    time.sleep(poll)
                    continue
                if response.status_code == 200:
                    counts = response.json().get("assemblies", {})
                    if expected is None or all(counts.get(k) == v for k, v in expected.items()):
                        return time.perf_counter() - self.started_at
                    raise RuntimeError(f"engine is up with counts {counts}, expected {expected}")
                time.sleep(poll)
        raise RuntimeError(f"engine did not become ready within {timeout}s: {self.output()}")

    def wait_warm(self, timeout: float = 600.0, poll: float = 0.05) -> float:
        """Poll /api/health until every record is built; seconds since start."""
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=5.0) as client:
            while time.monotonic() < deadline:
                if client.get(f"{self.url}/api/health").json().get("cache_warm"):
                    return time.perf_counter() - self.started_at
                time.sleep(poll)
        raise RuntimeError(f"engine did not finish building its records within {timeout}s")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def token(self) -> str:
        if self._token is None:
            response = httpx.post(
                f"{self.url}/api/auth/login",
                timeout=60,
                json={"username": "admin", "password": ADMIN_PASSWORD},
            )
            response.raise_for_status()
            self._token = str(response.json()["token"])
        return self._token

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}"}

    def stop(self, timeout: float = 300.0) -> None:
        """Graceful stop (SIGTERM: the engine flushes its queue); SIGKILL if it hangs."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)


@contextmanager
def running_engine(
    home: Path, staging: Path, expected: dict[str, int] | None = None, **kwargs: Any
) -> Iterator[Engine]:
    engine = Engine(home, staging, **kwargs).start()
    try:
        engine.wait_ready(expected)
        yield engine
    finally:
        engine.stop()


class BaselineServer:
    """The bare Starlette app of bench/baseline_app.py under uvicorn, in a subprocess."""

    def __init__(self, routes: dict[str, dict[str, Any]], folder: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = folder / f"baseline-{self.port}.json"
        self.config.write_text(json.dumps({"routes": routes}), encoding="utf-8")
        self.log_path = folder / f"baseline-{self.port}.out"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> BaselineServer:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    PYTHON,
                    str(BENCH_DIR / "baseline_app.py"),
                    "--port",
                    str(self.port),
                    "--config",
                    str(self.config),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"baseline app exited: {self.log_path.read_text()[-2000:]}")
            try:
                httpx.get(f"{self.url}/__ready", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("baseline app did not start")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)


# --------------------------------------------------------------------------- load


@dataclass
class LoadResult:
    requests: int  # completed responses with the expected status class
    errors: int  # wrong status, socket errors, timeouts
    seconds: float
    p50_ms: float
    p99_ms: float
    tool: str

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def combine(parts: Sequence[LoadResult]) -> LoadResult:
    """Several runs of the same case as one: totals, median p50, worst p99."""
    return LoadResult(
        requests=sum(p.requests for p in parts),
        errors=sum(p.errors for p in parts),
        seconds=sum(p.seconds for p in parts),
        p50_ms=median([p.p50_ms for p in parts]),
        p99_ms=max(p.p99_ms for p in parts),
        tool=parts[0].tool,
    )


def alternate(
    ctx: Context, engine_run: Callable[[float], LoadResult], baseline_run: Callable[[float], LoadResult]
) -> tuple[LoadResult, LoadResult]:
    """Engine and baseline take turns (``ctx.rounds`` each, ``ctx.duration`` in total per
    side), so drifting load from neighbours on a shared machine hits both alike."""
    share = ctx.duration / ctx.rounds
    mine: list[LoadResult] = []
    theirs: list[LoadResult] = []
    for _ in range(ctx.rounds):
        mine.append(engine_run(share))
        theirs.append(baseline_run(share))
    return combine(mine), combine(theirs)


def ensure_wrk(allow_install: bool = True) -> str | None:
    """Path of Debian's wrk; installed with apt-get when missing and we may (root)."""
    found = shutil.which("wrk")
    if found or not allow_install:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return None
    progress("wrk not found: apt-get install -y wrk")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (
        ["apt-get", "install", "-y", "-q", "wrk"],
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "wrk"],
    ):
        try:
            subprocess.run(argv, env=env, capture_output=True, timeout=300, check=False)
        except subprocess.TimeoutExpired:
            return None
        found = shutil.which("wrk")
        if found:
            return found
    return None


_WRK_SCRIPT = """
wrk.method = %(method)s
wrk.body = %(body)s
%(headers)s
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCHJSON {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"status_errors\\": %%d, " ..
    "\\"socket_errors\\": %%d, \\"p50_us\\": %%d, \\"p99_us\\": %%d}\\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _lua_string(text: str) -> str:
    """A Lua string literal: JSON's escapes are Lua's too, except \\uXXXX (refused)."""
    literal = json.dumps(text)
    if "\\u" in literal:
        raise ValueError("non-ASCII text cannot be passed to wrk's Lua script")
    return literal


def load_test(
    ctx: Context,
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    duration: float | None = None,
    connections: int | None = None,
    expect_status: int | None = None,
) -> LoadResult:
    """Keep ``connections`` keep-alive connections busy for ``duration`` seconds."""
    duration = duration or ctx.duration
    connections = connections or ctx.connections
    if ctx.wrk:
        return _wrk(ctx, url, method, headers or {}, body, duration, connections)
    return _python_load(url, method, headers or {}, body, duration, connections, expect_status)


def _wrk(
    ctx: Context,
    url: str,
    method: str,
    headers: dict[str, str],
    body: bytes | None,
    duration: float,
    connections: int,
) -> LoadResult:
    assert ctx.wrk is not None
    header_lines = "\n".join(f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items())
    script = _WRK_SCRIPT % {
        "method": _lua_string(method),
        "body": _lua_string(body.decode("utf-8")) if body is not None else "nil",
        "headers": header_lines,
    }
    script_path = ctx.work / f"wrk-{time.monotonic_ns()}.lua"
    script_path.write_text(script, encoding="utf-8")
    # One wrk thread: wrk in C needs a fraction of a core, which leaves the other core
    # of a 2-core machine to the (single-process) server under test.
    argv = [
        ctx.wrk,
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "30s",
        "-s",
        str(script_path),
        url,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 120, check=False)
    script_path.unlink(missing_ok=True)
    for line in done.stdout.splitlines():
        if line.startswith("BENCHJSON "):
            data = json.loads(line[len("BENCHJSON ") :])
            errors = int(data["status_errors"]) + int(data["socket_errors"])
            return LoadResult(
                requests=int(data["requests"]) - int(data["status_errors"]),
                errors=errors,
                seconds=data["duration_us"] / 1e6,
                p50_ms=data["p50_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
                tool="wrk",
            )
    raise RuntimeError(f"wrk gave no summary (rc {done.returncode}): {done.stdout}\n{done.stderr}")


def _python_load(
    url: str,
    method: str,
    headers: dict[str, str],
    body: bytes | None,
    duration: float,
    connections: int,
    expect_status: int | None,
) -> LoadResult:
    """Fallback when wrk is unavailable: one thread and one keep-alive client per connection.

    Python clients share the GIL and the server's cores, so the absolute figures are lower
    than with wrk; the ratio against the baseline (measured the same way) still holds.
    """
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    start_gate = threading.Barrier(connections + 1)
    deadline_box: list[float] = [0.0]

    def worker(index: int) -> None:
        with httpx.Client(timeout=30.0) as client:
            start_gate.wait()
            while time.perf_counter() < deadline_box[0]:
                began = time.perf_counter()
                try:
                    response = client.request(method, url, headers=headers, content=body)
                except httpx.HTTPError:
                    errors[index] += 1
                    continue
                ok = (
                    response.status_code == expect_status
                    if expect_status is not None
                    else response.status_code < 400
                )
                if ok:
                    latencies[index].append(time.perf_counter() - began)
                else:
                    errors[index] += 1

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(connections)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline_box[0] = began + duration
    start_gate.wait()
    for thread in threads:
        thread.join(timeout=duration + 60)
    elapsed = time.perf_counter() - began
    merged = sorted(x for chunk in latencies for x in chunk)

    def pct(p: float) -> float:
        return merged[min(len(merged) - 1, int(p * len(merged)))] * 1000 if merged else 0.0

    return LoadResult(len(merged), sum(errors), elapsed, pct(0.5), pct(0.99), "python-httpx")


def sequential_latency(
    client: httpx.Client, request: Callable[[httpx.Client], httpx.Response], count: int, max_seconds: float
) -> list[float]:
    """Time ``count`` sequential requests (stopping early after ``max_seconds``)."""
    samples: list[float] = []
    deadline = time.monotonic() + max_seconds
    for _ in range(count):
        began = time.perf_counter()
        response = request(client)
        samples.append(time.perf_counter() - began)
        response.raise_for_status()
        if time.monotonic() > deadline:
            break
    return samples


def main_engine(ctx: Context) -> Engine:
    """The engine on the main SIZE-assembly home, started once and shared (list, writes).

    run.py stops it (``stop_main_engine``) before anything else opens that home.
    """
    engine: Engine | None = ctx.shared.get("engine")
    if engine is None:
        home = ctx.shared["main_home"]
        progress(f"starting the engine on the {home.total:,}-assembly home")
        engine = Engine(home.home, home.staging).start()
        ctx.shared["engine"] = engine
        engine.wait_ready(home.counts)
    return engine


def stop_main_engine(ctx: Context) -> None:
    engine: Engine | None = ctx.shared.pop("engine", None)
    if engine is not None:
        progress("stopping the shared engine (graceful: flushes its queue)")
        engine.stop()
