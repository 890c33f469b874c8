"""7. Bulk import (and export) of N legacy documents through the CLI against a running engine.

Documents: N legacy script documents (PowerShell, Batch, Bash, Python) of 1-20 KB of script
text each, 15 % of them with one binary attachment of 1-16 KB, as a legacy folder tree
``Scripts/<category>/<name>.json``.

Engine: ``assemblies import TREE`` (a separate process, reaching the running engine through
its ``cli.json``): the CLI reads and decodes every file and sends them in batches to
``POST /api/assemblies/import/batch``; the engine validates every document, writes its
payload folder (files fsynced) and makes it durable in the journal (group commits), with
one audit entry each. Timed from spawn to exit. Then ``assemblies export --domain user``
of the same documents (one export request per assembly) is timed and reported.

Baseline (same run, same documents): a plain script that decodes the same documents
(``json.loads`` + base64), writes each payload as a file with fsync, and inserts the rows
with one ``executemany`` and one commit.

Rounds: IMPORT_ROUNDS times in turn the crash-safe baseline, the engine (a fresh home each
time) and the plain baseline; the ratio is taken within each round and the median round
counts. Target: engine >= 0.7 x the crash-safe baseline's documents/s, with the rounds'
ratios within 20 % of each other; the plain baseline's ratio is reported.

The crash-safe baseline is the plain script made crash-safe the way the engine's payload folders must be
(each folder written under a temp name, its files and the folder fsynced, renamed into
place and ``Payloads/`` fsynced): the baseline above fsyncs no directory, so a crash can
leave a partial folder under its final name, and POSIX promises its folders' entries only
once their directories are fsynced.
"""

from __future__ import annotations

import base64
import json
import os
import random
import sqlite3
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from .common import (
    PYTHON,
    Context,
    Result,
    engine_env,
    fmt,
    load_average,
    median,
    progress,
    running_engine,
    scratch,
    timed_process,
)

IMPORT_ROUNDS = int(os.environ.get("BENCH_IMPORT_ROUNDS", "3"))
TYPES = {"powershell": ".ps1", "batch": ".bat", "bash": ".sh", "python": ".py"}
WORDS = (
    "Get-Item",
    "Set-Content",
    "echo",
    "if",
    "then",
    "fi",
    "for",
    "in",
    "print",
    "$path",
    "%TEMP%",
    "Restart-Service",
    "Write-Host",
    "return",
    "import",
    "os",
    "-Force",
    "done",
)


def make_documents(count: int, seed: int = 7) -> list[tuple[str, dict[str, Any]]]:
    """(relative path, legacy document) of ``count`` realistic script documents."""
    rng = random.Random(seed)
    documents = []
    for index in range(count):
        atype = rng.choice(list(TYPES))
        size = rng.randint(1024, 20 * 1024)
        lines: list[str] = []
        length = 0
        while length < size:
            line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
            lines.append(line)
            length += len(line) + 1
        script = ("\n".join(lines) + "\n").encode("utf-8")
        files = []
        if rng.random() < 0.15:
            data = rng.randbytes(rng.randint(1024, 16 * 1024))
            files.append(
                {
                    "file_name": f"tool-{index}.bin",
                    "size": len(data),
                    "mime_type": "application/octet-stream",
                    "data": base64.b64encode(data).decode("ascii"),
                }
            )
        category = f"Category {index % 25}"
        name = f"Bulk script {index:05d}"
        documents.append(
            (
                f"Scripts/{category}/{name}.json",
                {
                    "version": 1,
                    "name": name,
                    "description": f"Bulk import test document {index}",
                    "category": category,
                    "type": atype,
                    "script": base64.b64encode(script).decode("ascii"),
                    "script_encoding": "base64",
                    "timeout_seconds": 3600,
                    "sites": {"mode": "all", "values": []},
                    "variables": [],
                    "files": files,
                },
            )
        )
    return documents


def write_tree(root: Path, documents: list[tuple[str, dict[str, Any]]]) -> int:
    total = 0
    for relative, document in documents:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(document, indent=2)
        path.write_text(text, encoding="utf-8")
        total += len(text)
    return total


def _fsynced(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def baseline_import(tree: Path, target: Path, *, crash_safe: bool = False) -> float:
    """The plain script: decode, write payload files with fsync, one executemany + commit.
    ``crash_safe``: each folder is written under a temp name, fsynced, renamed into place
    and the root fsynced (the steps that make a payload folder survive a power loss)."""
    payloads = target / "Payloads"
    payloads.mkdir(parents=True)
    began = time.perf_counter()
    rows = []
    for path in sorted(tree.rglob("*.json")):
        document = json.loads(path.read_bytes())
        payload_guid = uuid.uuid4().hex
        folder = payloads / (f".tmp-{payload_guid}" if crash_safe else payload_guid)
        folder.mkdir()
        _fsynced(folder / f"script{TYPES[document['type']]}", base64.b64decode(document["script"]))
        for item in document["files"]:
            _fsynced(folder / item["file_name"], base64.b64decode(item["data"]))
        if crash_safe:
            _fsync_directory(folder)
            os.rename(folder, payloads / payload_guid)
            _fsync_directory(payloads)
        metadata = {key: document[key] for key in ("timeout_seconds", "sites", "variables")}
        rows.append(
            (
                uuid.uuid4().hex,
                document["name"],
                document["description"],
                document["category"],
                document["type"],
                payload_guid,
                json.dumps(metadata),
            )
        )
    conn = sqlite3.connect(target / "bulk.db")
    conn.execute(
        "CREATE TABLE assemblies (assembly_guid TEXT PRIMARY KEY, display_name TEXT, "
        "summary TEXT, category TEXT, assembly_type TEXT, payload_guid TEXT, "
        "metadata_json TEXT)"
    )
    conn.executemany("INSERT INTO assemblies VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()
    return time.perf_counter() - began


def _engine_import(tree: Path, base: Path, count: int, export: bool) -> tuple[float, float | None]:
    """(import seconds, export seconds or None) through the CLI against a fresh engine."""
    home, staging = base / "home", base / "staging"
    staging.mkdir(parents=True)
    with running_engine(home, staging) as engine:
        env = engine_env(home, staging, engine.port)
        cli = [PYTHON, "-m", "assembly_engine.cli.main"]
        import_s, out = timed_process([*cli, "import", str(tree), "--json"], env=env, timeout=1800)
        report = json.loads(out)
        if report["imported"] != count or report["failed"]:
            raise RuntimeError(f"imported {report['imported']} of {count}, {report['failed']} failed")
        if not export:
            return import_s, None
        export_s, _ = timed_process(
            [*cli, "export", "--domain", "user", "--out", str(base / "export"), "--json"],
            env=env,
            timeout=1800,
        )
    return import_s, export_s


def run(ctx: Context) -> list[Result]:
    count = min(10_000, ctx.size)
    documents = make_documents(count)
    rounds = IMPORT_ROUNDS
    with scratch(ctx, "import") as base:
        tree = base / "tree"
        size = write_tree(tree, documents)
        progress(f"import: {count:,} documents, {size / count / 1024:.1f} KB average JSON, {rounds} rounds")
        # The disk's fsync speed drifts with other load (the baselines varied 2.5x between
        # two runs): each round runs the crash-safe baseline, the engine and the plain
        # baseline back to back, the ratio is taken within the round, and the median round
        # counts; the spread of the rounds' ratios says how steady the figure is.
        engine_s: list[float] = []
        safe_s: list[float] = []
        plain_s: list[float] = []
        export_s: float | None = None
        for n in range(rounds):
            safe_s.append(baseline_import(tree, base / f"crash-safe-{n}", crash_safe=True))
            imported, exported = _engine_import(tree, base / f"engine-{n}", count, export=n == 0)
            engine_s.append(imported)
            export_s = exported if exported is not None else export_s
            plain_s.append(baseline_import(tree, base / f"baseline-{n}"))
            progress(
                f"import round {n + 1}: crash-safe {fmt(safe_s[-1], 's')}, engine {fmt(imported, 's')}, "
                f"plain {fmt(plain_s[-1], 's')} (load {load_average()})"
            )
    ratios = [safe / mine for safe, mine in zip(safe_s, engine_s, strict=True)]  # engine / baseline rate
    plain_ratios = [plain / mine for plain, mine in zip(plain_s, engine_s, strict=True)]
    ratio = median(ratios)
    spread = (max(ratios) - min(ratios)) / ratio if ratio > 0 else 0.0
    engine_rate = count / median(engine_s)
    safe_rate = count / median(safe_s)
    return [
        Result(
            number="7",
            name=f"Bulk import of {count:,} legacy documents (1-20 KB, 15 % with an attachment) "
            "via `assemblies import`",
            figure=engine_rate,
            unit="docs/s",
            baseline=safe_rate,
            baseline_label=f"crash-safe baseline, median of {rounds} rounds alternating with the engine",
            ratio=ratio,
            ratio_label="engine / crash-safe baseline, median round",
            target=">= 0.7, spread < 20 %",
            met=ratio >= 0.7 and spread < 0.2,
            notes=[
                "rounds (crash-safe / engine / plain seconds, ratio): "
                + "; ".join(
                    f"{fmt(a, 's')} / {fmt(b, 's')} / {fmt(c, 's')}, {r:.2f}"
                    for a, b, c, r in zip(safe_s, engine_s, plain_s, ratios, strict=True)
                )
                + f"; spread of the ratios {100 * spread:.0f} % (max - min) / median",
                f"against the plain baseline (decode, fsync each payload file, one executemany; "
                f"not crash-safe): median round {median(plain_ratios):.2f}, its median "
                f"{count / median(plain_s):,.0f} docs/s",
                "import from CLI spawn to exit (start-up included); bulk export (`assemblies "
                "export --domain user`, one request per assembly, first round) "
                + (f"{count / export_s:,.0f} docs/s ({fmt(export_s, 's')})" if export_s else "-"),
            ],
        )
    ]


if __name__ == "__main__":  # python -m bench.bench_import [COUNT]
    import tempfile

    from .common import Context as _Context

    size = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tempfile.TemporaryDirectory() as scratch_dir:
        context = _Context(
            size=size,
            quick=True,
            work=Path(scratch_dir),
            duration=1.0,
            connections=1,
            repeats=1,
            rounds=1,
            wrk=None,
        )
        for result in run(context):
            print(
                f"{result.name}: {result.figure:,.0f} {result.unit}; baseline "
                f"{result.baseline:,.0f}; ratio {result.ratio:.2f}; " + "; ".join(result.notes)
            )
