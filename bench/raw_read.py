"""Hydration baseline, run in a fresh process: ``SELECT *`` of every row into tuples.

``python bench/raw_read.py A.db B.db C.db`` prints one JSON line: the seconds the reads
took (connect, query, fetch into a list of tuples) and the CPU seconds they used, the row
count, and how much resident memory the tuples added (the memory baseline: bytes per row
as plain tuples).
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time


def rss() -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def main(paths: list[str]) -> None:
    before = rss()
    began = time.perf_counter()
    began_cpu = time.process_time()
    rows: list[tuple[object, ...]] = []
    for path in paths:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        rows.extend(conn.execute("SELECT * FROM assemblies").fetchall())
        conn.close()
    seconds = time.perf_counter() - began
    cpu = time.process_time() - began_cpu
    print(json.dumps({"seconds": seconds, "cpu": cpu, "rows": len(rows), "rss_delta": rss() - before}))


if __name__ == "__main__":
    main(sys.argv[1:])
