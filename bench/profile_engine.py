"""Where the engine spends its time in a benchmark: py-spy samples, summarised.

    pip install --target /tmp/pyspy py-spy        # outside the project, once
    python bench/profile_engine.py boot   [--size 100000]
    python bench/profile_engine.py list   [--duration 10]     # also: search, 304, writes

Builds a home of SIZE assemblies (or reuses ``--base DIR`` from an earlier ``--keep``),
starts the engine exactly as the benchmarks do, attaches ``py-spy record`` to it for the
boot or for one load run, and prints the time per thread, the functions with the most
samples of their own (self) and the engine functions with the most samples below them
(inclusive). ``--root FUNCTION`` makes the percentages relative to the stacks that pass
through that function (default: the request handler, or the storage start-up for boot).
py-spy is found through ``--py-spy``, ``$PYSPY``, ``PATH`` or ``/tmp/pyspy/bin/py-spy``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_list import TARGETS  # noqa: E402
from bench.bench_writes import BODY  # noqa: E402
from bench.common import Context, Engine, ensure_wrk, load_test, progress  # noqa: E402
from bench.dataset import Home, build_home, make_specs  # noqa: E402

RATE = 200
DEFAULT_ROOTS = {
    "boot": "StorageRuntime.open",
    "list": "list_assemblies",
    "search": "list_assemblies",
    "304": "list_assemblies",
    "writes": "create_assembly",
}


def find_py_spy(given: str | None) -> str:
    for candidate in (given, os.environ.get("PYSPY"), shutil.which("py-spy"), "/tmp/pyspy/bin/py-spy"):
        if candidate and Path(candidate).exists():
            return candidate
    sys.exit("py-spy not found: pip install --target /tmp/pyspy py-spy (or pass --py-spy)")


def attach(py_spy: str, pid: int, out: Path, mode: str) -> subprocess.Popen[bytes]:
    """``mode``: "gil" samples only the thread holding the GIL (where CPU time goes in a
    GIL-bound server), "idle" samples every thread, waiting or not (where wall time goes)."""
    argv = [
        py_spy,
        "record",
        "-p",
        str(pid),
        "-f",
        "raw",
        "-o",
        str(out),
        "-r",
        str(RATE),
        "--nolineno",
        "--threads",
        "--gil" if mode == "gil" else "--idle",
    ]
    spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.3)  # let it attach
    return spy


def detach(spy: subprocess.Popen[bytes]) -> None:
    spy.send_signal(signal.SIGINT)
    try:
        spy.wait(timeout=120)
    except subprocess.TimeoutExpired:
        spy.kill()
        spy.wait(timeout=30)


def summarise(raw: Path, root: str | None, top: int) -> str:
    """Per-thread samples, then self and inclusive tables (relative to ``root`` stacks)."""
    threads: Counter[str] = Counter()
    own: Counter[str] = Counter()
    below: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        thread = "?"
        if frames[0].startswith("thread"):
            thread = re.sub(r"^thread \(\w+\):?\s*", "", frames[0]) or "unnamed"
            frames = frames[1:]
        threads[re.sub(r"\s*\d+$", "", thread)] += count
        if not frames:  # a thread sampled with no Python frame of its own
            continue
        if root is not None and not any(root in frame for frame in frames):
            continue
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            below[frame] += count
    lines = ["samples per thread: " + ", ".join(f"{t} {c / RATE:.1f}s" for t, c in threads.most_common(8))]
    if total == 0:
        return "\n".join([*lines, f"no samples pass through {root!r}"])
    lines.append(
        f"{total} samples ({total / RATE:.1f}s of thread time) "
        f"{'through ' + root if root else 'in all'}; percentages of those"
    )
    lines.append("-- self (where the samples are)")
    lines += [f"{c / total:6.1%} {c / RATE:7.2f}s  {f}" for f, c in own.most_common(top)]
    lines.append("-- inclusive, engine frames (the sample is somewhere below)")
    engine_frames = [(f, c) for f, c in below.most_common() if "assembly_engine/" in f]
    lines += [f"{c / total:6.1%} {c / RATE:7.2f}s  {f}" for f, c in engine_frames[:top]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=sorted(DEFAULT_ROOTS))
    parser.add_argument("--size", type=int, default=int(os.environ.get("BENCH_SIZE", "100000")))
    parser.add_argument("--base", type=Path, help="reuse a generated home (folder with home/ and staging/)")
    parser.add_argument("--keep", action="store_true", help="keep the generated home for --base")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--root", help="function the percentages are relative to")
    parser.add_argument("--all-threads", action="store_true", help="no root: every sample")
    parser.add_argument(
        "--idle",
        action="store_true",
        help="sample every thread, waiting or not (default for boot and writes; "
        "list runs sample the GIL holder)",
    )
    parser.add_argument(
        "--gil", action="store_true", help="sample the GIL holder only (where CPU goes), writes too"
    )
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--py-spy")
    parser.add_argument("--out", type=Path, help="keep the raw py-spy samples here")
    args = parser.parse_args()
    py_spy = find_py_spy(args.py_spy)
    work = Path(tempfile.mkdtemp(prefix="assembly-profile-"))
    base = args.base or work / "main"
    try:
        if args.base is None:
            progress(f"generating {args.size:,} assemblies in {base}")
            home = build_home(base, make_specs(args.size))
        else:
            home = Home(base / "home", base / "staging", {})
        raw = args.out or work / "samples.txt"
        engine = Engine(home.home, home.staging).start()
        try:
            if args.what == "boot":
                # Boots are measured as restarts: make sure the first start is behind us.
                if not (home.home / "engine.db").exists():
                    engine.wait_ready()
                    engine.stop()
                    engine = Engine(home.home, home.staging).start()
                spy = attach(py_spy, engine.pid, raw, "idle")
                progress(f"engine ready after {engine.wait_ready():.2f}s (under py-spy)")
                detach(spy)
            else:
                engine.wait_ready()
                ctx = Context(
                    size=args.size,
                    quick=False,
                    work=work,
                    duration=args.duration,
                    connections=args.connections,
                    repeats=1,
                    rounds=1,
                    wrk=ensure_wrk(),
                )
                headers = engine.auth()
                body: bytes | None = None
                method = "GET"
                target = TARGETS.get(args.what, TARGETS["list"])
                if args.what == "writes":
                    method, target = "POST", "/api/assemblies"
                    body = json.dumps(BODY).encode("utf-8")
                    headers["Content-Type"] = "application/json"
                else:
                    import httpx

                    first = httpx.get(engine.url + target, headers=headers, timeout=120)
                    if args.what == "304":
                        headers["If-None-Match"] = first.headers["etag"]
                mode = "idle" if args.idle or (args.what == "writes" and not args.gil) else "gil"
                spy = attach(py_spy, engine.pid, raw, mode)
                result = load_test(ctx, engine.url + target, method=method, headers=headers, body=body)
                detach(spy)
                progress(f"{args.what}: {result.rate:,.0f} req/s under py-spy, p50 {result.p50_ms:.1f} ms")
        finally:
            engine.stop()
        root = None if args.all_threads else (args.root or DEFAULT_ROOTS[args.what])
        print(summarise(raw, root, args.top))
    finally:
        if args.keep:
            progress(f"kept {work}; reuse the home with --base {base}")
        else:
            shutil.rmtree(work, ignore_errors=True)  # a --base home is outside it and stays


if __name__ == "__main__":
    main()
