"""8. PostgreSQL baseline: one durable single-row commit per write, from 1, 2 and 3 clients.

A throwaway PostgreSQL server (tests/postgresql_server.py: Debian's binaries, fsync and
synchronous_commit on, its data in the run's temp folder). Each client is one connection
in autocommit mode inserting one small row per statement for DURATION seconds: every
insert is a commit PostgreSQL has flushed to disk before it answers. Clients run as
threads of this process (psycopg waits for the server without holding the interpreter
lock); concurrent commits share WAL flushes, so more clients may commit more per second.

This is the baseline of cluster mode's acknowledged writes through 1, 2 and 3 engine
nodes (target >= 0.5 x the rate of the same number of clients): bench/bench_cluster.py
measures both in turns on a server of its own (rows 9a-9c); these rows record the
server's rate on its own (no ratio, no target).
"""

from __future__ import annotations

import statistics
import threading
import time

import psycopg

from tests.postgresql_server import PostgresServer

from .common import Context, Result, progress

CLIENTS = (1, 2, 3)
ROW = "x" * 200  # about the size of one queued change's fixed columns
CREATE = "CREATE TABLE bench_commit (id BIGSERIAL PRIMARY KEY, client INTEGER NOT NULL, body TEXT NOT NULL)"
INSERT = "INSERT INTO bench_commit (client, body) VALUES (%s, %s)"


def commit_rate(url: str, clients: int, duration: float) -> tuple[int, float, list[float]]:
    """(commits, seconds, per-commit latencies in ms) of ``clients`` insert loops."""
    connections = [psycopg.connect(url, autocommit=True) for _ in range(clients)]
    counts = [0] * clients
    latencies: list[list[float]] = [[] for _ in range(clients)]
    gate = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(index: int) -> None:
        conn = connections[index]
        gate.wait()
        while (began := time.perf_counter()) < deadline[0]:
            conn.execute(INSERT, (index, ROW))
            latencies[index].append((time.perf_counter() - began) * 1000)
            counts[index] += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    deadline[0] = started + duration
    gate.wait()
    for thread in threads:
        thread.join(timeout=duration + 60)
    elapsed = time.perf_counter() - started
    for conn in connections:
        conn.close()
    return sum(counts), elapsed, [ms for per in latencies for ms in per]


def run(ctx: Context) -> list[Result]:
    progress("postgresql: starting a throwaway server (fsync on)")
    with PostgresServer(durable=True) as server:
        _, url = server.create_database()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(CREATE)
            version = conn.execute("SHOW server_version").fetchone()
            settings = conn.execute(
                "SELECT current_setting('fsync'), current_setting('synchronous_commit'), "
                "current_setting('wal_sync_method')"
            ).fetchone()
        commit_rate(url, 1, min(1.0, ctx.duration))  # warm-up: WAL segments, caches
        results = []
        for clients in CLIENTS:
            rounds = [commit_rate(url, clients, ctx.duration / ctx.rounds) for _ in range(ctx.rounds)]
            commits = sum(r[0] for r in rounds)
            seconds = sum(r[1] for r in rounds)
            latencies = sorted(ms for r in rounds for ms in r[2])
            rate = commits / seconds if seconds > 0 else 0.0
            p50 = statistics.median(latencies) if latencies else 0.0
            p99 = latencies[int(len(latencies) * 0.99)] if latencies else 0.0
            progress(
                f"postgresql: {clients} client(s): {rate:,.0f} commits/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms"
            )
            results.append(
                Result(
                    number=f"8{'abc'[clients - 1]}",
                    name=f"PostgreSQL: one durable single-row commit per write, {clients} client(s)",
                    figure=rate,
                    unit="commits/s",
                    baseline=None,
                    baseline_label="- (this is the baseline of cluster-mode writes)",
                    ratio=None,
                    ratio_label="",
                    notes=[
                        f"{clients} client(s): {commits:,} commits in {seconds:.1f}s, latency p50/p99 "
                        f"{p50:.2f}/{p99:.2f} ms; PostgreSQL {version[0] if version else '?'}, fsync "
                        f"{settings[0] if settings else '?'}, synchronous_commit "
                        f"{settings[1] if settings else '?'}, "
                        f"wal_sync_method {settings[2] if settings else '?'}"
                    ],
                )
            )
    return results
