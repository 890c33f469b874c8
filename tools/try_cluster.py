"""Try cluster mode on this machine: a throwaway PostgreSQL and two engine nodes on it.

    make cluster            # = .venv/bin/python tools/try_cluster.py
    .venv/bin/python tools/try_cluster.py --nodes 3 --first-port 8101

Starts Debian's PostgreSQL as an unprivileged user in a temporary folder (as the tests
do), creates a database, and runs ``assemblies serve`` once per node, each with its own
home under the temporary folder and the repository's staging copy of the official
library. Prints each node's address and the admin password, then waits; Ctrl-C stops the
nodes and the server and removes everything. Nothing outside the temporary folder is
touched. Not for production: see Docs/cluster.md for a real deployment.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.postgresql_server import PostgresServer, PostgresUnavailable  # noqa: E402

STAGING = REPO / "Data" / "Engine" / "Assemblies"


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"a node exited with {proc.returncode}; see its engine.log")
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not become ready within {timeout:.0f}s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=2, choices=range(1, 6), metavar="N")
    parser.add_argument("--first-port", type=int, default=8001)
    args = parser.parse_args()
    password = secrets.token_urlsafe(12)
    root = Path(tempfile.mkdtemp(prefix="assembly-cluster-"))
    try:
        server = PostgresServer(durable=True).start()
    except PostgresUnavailable as exc:
        print(f"PostgreSQL could not start: {exc}", file=sys.stderr)
        return 1
    nodes: list[subprocess.Popen[bytes]] = []
    try:
        _, url = server.create_database()
        for index in range(args.nodes):
            port = args.first_port + index
            home = root / f"node-{index + 1}"
            env = {
                **os.environ,
                "ENGINE_DATABASE_URL": url,
                "ENGINE_HOME": str(home),
                "ENGINE_STAGING_ROOT": str(STAGING),
                "ENGINE_PORT": str(port),
                "ENGINE_ADMIN_PASSWORD": password,
            }
            proc = subprocess.Popen(
                [sys.executable, "-m", "assembly_engine.cli.main", "serve"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            nodes.append(proc)
            wait_ready(f"http://127.0.0.1:{port}", proc)
            print(f"node {index + 1}: http://127.0.0.1:{port}/  (home {home})")
        print(f"\nsign in as admin / {password} on any node; Ctrl-C stops everything\n")
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        for proc in nodes:
            proc.send_signal(signal.SIGTERM)
        for proc in nodes:
            proc.wait(timeout=120)
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
