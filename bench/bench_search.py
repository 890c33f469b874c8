"""13. Search inside bodies: SIZE assemblies with distinct 1-20 KB script bodies.

The home is built like bench/dataset.py's (rows straight into the databases), but every
assembly gets a payload folder of its own with a generated body: lines of real-looking
PowerShell, Bash, Python and Batch, and one ``marker<k>`` word (k < 1,000, so a marker
query matches about 0.1 % of the library). No official rows, so no staging copy.

* 13a Boot with no index: spawn until the first search answers (hydration, then the
  background build of ``search.db``, which that search waits for; the admin's sign-in,
  a deliberately slow password hash, is not counted), against a raw read of
  the same rows (bench/raw_read.py) and of every body file, plus start-up and imports.
  Target <= 1.5 x, as hydration's. 13e: the same after a restart, the index in place.
* 13b Index size per assembly (``search.db`` and its WAL) and the payload bytes per assembly.
* 13c Warm search, 16 connections: ``?limit=100&q=marker7`` repeated (the engine keeps the
  page while nothing changes), against bench/search_baseline_app.py: bare Starlette running
  the raw FTS5 query of the same terms on the same index, then answering the engine's bytes.
* 13d Cold search, one client: a write first (so nothing is kept), then 200 different
  marker queries in turns with the baseline; p50 and p95. Target for 13c and 13d: >= 0.5 x.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from assembly_engine.domain.types import DATABASE_FILES, Domain, PayloadType
from assembly_engine.storage.contract.models import PayloadContent
from assembly_engine.storage.contract.payload_manifest import MANIFEST_NAME, PayloadImage, image_of

from .common import (
    PYTHON,
    Context,
    Engine,
    LoadResult,
    Result,
    alternate,
    free_port,
    load_test,
    median,
    progress,
    scratch,
)
from .dataset import SCRIPTS, make_specs, row_for, write_database

BENCH_DIR = Path(__file__).resolve().parent
MARKERS = 1000
SCRIPT_TYPES = ("powershell", "bash", "python", "batch")
VERBS = ("Get", "Set", "Invoke", "Remove", "New", "Test", "Start", "Stop", "Restart", "Export")
NOUNS = ("Item", "Service", "WebRequest", "Process", "ChildItem", "Content", "Computer", "Acl", "Job")
LINES = [line for text in SCRIPTS.values() for line in text.splitlines() if line.strip()]
WARM_TARGET = "/api/assemblies?limit=100&q=marker7"
MAIN_FILES = {"powershell": "script.ps1", "bash": "script.sh", "python": "script.py", "batch": "script.bat"}


class _Ref:
    """What row_for asks of a payload farm: the payload's (type, size, checksum)."""

    current: tuple[str, int, str] = ("script", 0, "")

    def ref(self, atype: str) -> tuple[str, int, str]:
        return self.current


def _body(rng: random.Random) -> str:
    size = rng.randint(1024, 20 * 1024)
    lines: list[str] = []
    used = 0
    marker_at = rng.randint(0, 40)
    while used < size:
        if len(lines) == marker_at:
            line = f"Write-Log 'step marker{rng.randrange(MARKERS)} done'"
        elif rng.random() < 0.5:
            line = rng.choice(LINES)
        else:
            verb, noun = rng.choice(VERBS), rng.choice(NOUNS)
            job, vendor = rng.randrange(10**6), rng.randrange(500)
            line = f"{verb}-{noun} -Path $env:TEMP\\job{job} -Key HKLM:\\Software\\Vendor{vendor}"
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class SearchEntry:
    """One assembly of the search library: its row and its payload's stored image."""

    domain: Domain
    row: tuple[Any, ...]
    payload_guid: str
    image: PayloadImage


def search_entries(count: int) -> Iterator[SearchEntry]:
    """``count`` script assemblies (community and user) with distinct bodies, the same for
    the embedded home and the cluster library."""
    rng = random.Random(20261207)
    refs = _Ref()
    for spec in make_specs(count):
        atype = SCRIPT_TYPES[spec.index % len(SCRIPT_TYPES)]
        spec = replace(spec, atype=atype)
        main = MAIN_FILES[atype]
        image = image_of(
            PayloadContent(PayloadType.SCRIPT, main, _body(rng).encode("utf-8")), spec.payload_guid
        )
        refs.current = (image.manifest.payload_type.value, image.manifest.size_bytes, image.checksum)
        domain = Domain.USER if spec.index % 2 else Domain.COMMUNITY
        yield SearchEntry(domain, row_for(spec, domain, refs), spec.payload_guid, image)  # type: ignore[arg-type]


def build_search_home(base: Path, count: int) -> tuple[Path, Path, dict[str, int], Path]:
    """A home of ``count`` script assemblies (community and user) with distinct bodies."""
    home, staging = base / "home", base / "staging"
    runtime = home / "Assemblies"
    payloads = runtime / "Payloads"
    payloads.mkdir(parents=True)
    (staging / "Payloads").mkdir(parents=True)
    rows: dict[Domain, list[tuple[Any, ...]]] = {d: [] for d in Domain}
    for entry in search_entries(count):
        folder = payloads / entry.payload_guid
        folder.mkdir()
        (folder / MANIFEST_NAME).write_bytes(entry.image.manifest_bytes)
        (folder / entry.image.manifest.main.name).write_bytes(entry.image.main)
        rows[entry.domain].append(entry.row)
    for domain in Domain:
        write_database(runtime / DATABASE_FILES[domain], rows[domain])
    return home, staging, {d.value: len(rows[d]) for d in Domain}, payloads


def _raw_read(runtime: Path, payloads: Path) -> float:
    """Seconds of a fresh process reading every row, plus this process reading every body."""
    paths = [str(runtime / DATABASE_FILES[d]) for d in Domain]
    done = subprocess.run(
        [PYTHON, str(BENCH_DIR / "raw_read.py"), *paths], capture_output=True, text=True, check=True
    )
    rows_seconds = float(json.loads(done.stdout)["seconds"])
    began = time.perf_counter()
    for folder in os.scandir(payloads):
        for entry in os.scandir(folder.path):
            if entry.name != MANIFEST_NAME:
                with open(entry.path, "rb") as handle:
                    handle.read()
    return rows_seconds + time.perf_counter() - began


def _startup() -> float:
    began = time.perf_counter()
    subprocess.run([PYTHON, "-c", "import assembly_engine.cli.main, assembly_engine.api.app"], check=True)
    return time.perf_counter() - began


def run(ctx: Context) -> list[Result]:
    count = ctx.size
    with scratch(ctx, "search") as folder:
        progress(f"search: generating {count:,} assemblies with distinct 1-20 KB bodies")
        began = time.perf_counter()
        home, staging, counts, payloads = build_search_home(folder, count)
        body_bytes = sum(e.stat().st_size for f in os.scandir(payloads) for e in os.scandir(f.path))
        progress(
            f"search: home ready in {time.perf_counter() - began:.0f}s ({body_bytes / count:,.0f} B/body)"
        )
        raw = _raw_read(home / "Assemblies", payloads)
        startup = _startup()
        engine = Engine(home, staging).start()
        try:
            hydrated = engine.wait_ready(counts)
            auth, signing_in = _signed_in(engine)
            with httpx.Client(base_url=engine.url, timeout=600) as client:
                client.get(WARM_TARGET, headers=auth).raise_for_status()
                searchable = time.perf_counter() - engine.started_at - signing_in
                index = home / "Assemblies" / "search.db"
                index_bytes = sum(p.stat().st_size for p in index.parent.glob("search.db*"))
                results = [
                    _boot_result(hydrated, searchable, raw, startup, count),
                    _size_result(index_bytes, body_bytes, count),
                ]
                settled = settle(client, auth)
                results[0].notes.append(settled)
                mine, base, size = warm_runs(ctx, folder, engine, auth, client, ["--index", str(index)])
                results.append(
                    rate_result(
                        "13c",
                        "Warm body search, 16 connections: GET limit=100&q=marker7",
                        mine,
                        base,
                        f"bare Starlette + raw FTS5 query, same bytes ({size:,} B)",
                    )
                )
                results.append(_cold(folder, auth, client, index))
        finally:
            engine.stop()
        results.append(_restart(home, staging, raw, startup, count))
    return results


def _signed_in(engine: Engine) -> tuple[dict[str, str], float]:
    """The admin's headers and the seconds signing in took (a password hash at full cost,
    not counted in 13a/13e: the baseline signs nobody in)."""
    began = time.perf_counter()
    return engine.auth(), time.perf_counter() - began


def _restart(home: Path, staging: Path, raw: float, startup: float, count: int) -> Result:
    """A restart with search.db in place: only which payloads it holds is checked."""
    engine = Engine(home, staging).start()
    try:
        hydrated = engine.wait_ready()
        auth, signing_in = _signed_in(engine)
        httpx.get(engine.url + WARM_TARGET, headers=auth, timeout=600).raise_for_status()
        searchable = time.perf_counter() - engine.started_at - signing_in
    finally:
        engine.stop()
    ratio = (searchable - startup) / raw if raw > 0 else 0.0
    return Result(
        number="13e",
        name=f"Restart with the index in place until the first body search answers ({count:,} assemblies)",
        figure=searchable,
        unit="s",
        baseline=raw + startup,
        baseline_label="raw read of the rows and every body file, plus start-up",
        ratio=ratio,
        ratio_label="(engine - start-up) / raw read",
        target="<= 1.5",
        met=ratio <= 1.5 if searchable > startup else None,  # start-up is measured apart: noise
        notes=[f"hydration alone {hydrated:.1f}s"],
    )


def settle(client: httpx.Client, auth: dict[str, str], quiet: float = 5.0, deadline: float = 300.0) -> str:
    """Wait until the list stops changing: the engine's script-check sweep checks every
    distinct body once after boot, and each result renews the kept pages."""
    began = time.monotonic()
    last, since = "", time.monotonic()
    while time.monotonic() - began < deadline:
        etag = client.get(WARM_TARGET, headers=auth).headers.get("etag", "")
        if etag != last:
            last, since = etag, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return f"the script-check sweep settled {time.monotonic() - began:.0f}s after the first search"
        time.sleep(0.5)
    return (
        f"the script-check sweep was still running {deadline:.0f}s after the first search "
        "(13c-13d measured with it)"
    )


def _boot_result(hydrated: float, searchable: float, raw: float, startup: float, count: int) -> Result:
    ratio = (searchable - startup) / raw if raw > 0 else 0.0
    return Result(
        number="13a",
        name=f"Boot with no search index until the first body search answers ({count:,} assemblies)",
        figure=searchable,
        unit="s",
        baseline=raw + startup,
        baseline_label="raw read of the rows and every body file, plus start-up",
        ratio=ratio,
        ratio_label="(engine - start-up) / raw read",
        target="<= 1.5",
        met=ratio <= 1.5,
        notes=[
            f"hydration alone {hydrated:.1f}s; index build {searchable - hydrated:.1f}s; "
            f"raw read {raw:.1f}s; start-up and imports {startup:.1f}s"
        ],
    )


def _size_result(index_bytes: int, body_bytes: int, count: int) -> Result:
    return Result(
        number="13b",
        name="Search index size per assembly (search.db and WAL)",
        figure=index_bytes / count,
        unit="B",
        baseline=body_bytes / count,
        baseline_label="payload bytes per assembly",
        ratio=index_bytes / body_bytes if body_bytes else None,
        ratio_label="index / payload bytes",
        target="report",
    )


def _baseline(
    folder: Path, source: list[str], bodies: dict[str, bytes]
) -> tuple[subprocess.Popen[bytes], str]:
    """Start bench/search_baseline_app.py answering ``bodies``; ``source`` says which raw
    query it runs (``--index search.db`` or ``--database URL``)."""
    files = {}
    for number, (target, body) in enumerate(bodies.items()):
        path = folder / f"search-{number}.json"
        path.write_bytes(body)
        files[target] = str(path)
    config = folder / "search-baseline.json"
    config.write_text(json.dumps(files), encoding="utf-8")
    port = free_port()
    proc = subprocess.Popen(
        [
            PYTHON,
            str(BENCH_DIR / "search_baseline_app.py"),
            "--port",
            str(port),
            *source,
            "--config",
            str(config),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(BENCH_DIR.parent / "src")},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/ready", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the search baseline app did not start")


def warm_runs(
    ctx: Context, folder: Path, engine: Engine, auth: dict[str, str], client: httpx.Client, source: list[str]
) -> tuple[LoadResult, LoadResult, int]:
    """Load runs of the warm search on the engine and on the baseline, in turns."""
    body = client.get(WARM_TARGET, headers=auth).content
    proc, url = _baseline(folder, source, {WARM_TARGET: body})
    try:
        mine, base = alternate(
            ctx,
            lambda seconds: load_test(
                ctx, engine.url + WARM_TARGET, headers=auth, duration=seconds, expect_status=200
            ),
            lambda seconds: load_test(
                ctx, url + WARM_TARGET, headers=auth, duration=seconds, expect_status=200
            ),
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return mine, base, len(body)


def cold_samples(
    folder: Path, auth: dict[str, str], client: httpx.Client, source: list[str]
) -> tuple[list[float], list[float]]:
    """Seconds of 200 different marker queries after a write, engine and baseline in turns."""
    targets = [f"/api/assemblies?limit=100&q=marker{k}" for k in range(100, 300)]
    bodies = {t: client.get(t, headers=auth).content for t in targets}
    proc, url = _baseline(folder, source, bodies)
    mine: list[float] = []
    base: list[float] = []
    try:
        # A write: every kept page and body hit is stale, so each query below is answered anew.
        client.post(
            "/api/assemblies",
            headers=auth,
            json={
                "display_name": "bench cold",
                "assembly_kind": "script",
                "assembly_type": "bash",
                "payload": {"script": "true"},
            },
        ).raise_for_status()
        with httpx.Client(base_url=url, timeout=60) as plain:
            for target in targets:
                began = time.perf_counter()
                client.get(target, headers=auth).raise_for_status()
                mine.append(time.perf_counter() - began)
                began = time.perf_counter()
                plain.get(target).raise_for_status()
                base.append(time.perf_counter() - began)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return mine, base


def _cold(folder: Path, auth: dict[str, str], client: httpx.Client, index: Path) -> Result:
    mine, base = cold_samples(folder, auth, client, ["--index", str(index)])
    mine_p50, base_p50 = median(mine), median(base)
    ratio = base_p50 / mine_p50 if mine_p50 > 0 else 0.0
    return Result(
        number="13d",
        name="Cold body search, one client, 200 different marker queries after a write",
        figure=mine_p50 * 1000,
        unit="ms p50",
        baseline=base_p50 * 1000,
        baseline_label="bare Starlette + raw FTS5 query, p50",
        ratio=ratio,
        ratio_label="baseline p50 / engine p50",
        target=">= 0.5",
        met=ratio >= 0.5,
        notes=[f"p95 engine {p95(mine) * 1000:.1f} ms, baseline {p95(base) * 1000:.1f} ms"],
    )


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def rate_result(number: str, name: str, mine: LoadResult, base: LoadResult, label: str) -> Result:
    ratio = mine.rate / base.rate if base.rate > 0 else 0.0
    return Result(
        number=number,
        name=name,
        figure=mine.rate,
        unit="req/s",
        baseline=base.rate,
        baseline_label=label,
        ratio=ratio,
        ratio_label="engine / baseline",
        target=">= 0.5",
        met=ratio >= 0.5 and mine.errors + base.errors == 0,
        notes=[
            f"latency p50/p99 engine {mine.p50_ms:.1f}/{mine.p99_ms:.1f} ms, baseline "
            f"{base.p50_ms:.1f}/{base.p99_ms:.1f} ms; {mine.tool}; errors {mine.errors}/{base.errors}"
        ],
    )
