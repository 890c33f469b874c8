"""TCP Port Reachability Check.

Tries a TCP connection to every ``host:port`` in Targets (comma, space or newline
separated; IPv6 as ``[addr]:port``) in parallel and prints the result and connect time of
each. Read-only. Exits 1 when any target is unreachable, 2 on bad input.
Variables (environment): Targets, TimeoutSeconds
"""

from __future__ import annotations

import os
import re
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor

TARGET = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9._-]+)):(?P<port>\d{1,5})$")


def parse_targets(raw: str) -> list[tuple[str, int]]:
    targets: list[tuple[str, int]] = []
    for item in re.split(r"[,\s]+", raw.strip()):
        if not item:
            continue
        match = TARGET.match(item)
        if match is None or not 1 <= int(match["port"]) <= 65535:
            raise ValueError(f"'{item}' is not host:port (port 1-65535)")
        targets.append((match["v6"] or match["host"], int(match["port"])))
    return targets


def probe(host: str, port: int, timeout: float) -> tuple[bool, str]:
    started = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        return False, exc.strerror or str(exc) or type(exc).__name__
    return True, f"{(time.monotonic() - started) * 1000:.0f} ms"


def main() -> int:
    try:
        targets = parse_targets(os.environ.get("Targets", ""))
        timeout = float(os.environ.get("TimeoutSeconds") or "3")
    except ValueError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    if not targets:
        print("ERROR: Targets is required, for example 'db01:5432, 10.0.0.5:22'.", file=sys.stderr)
        return 2
    if not 0 < timeout <= 120:
        print("ERROR: TimeoutSeconds must be between 0 and 120.", file=sys.stderr)
        return 2

    def check(target: tuple[str, int]) -> tuple[str, int, bool, str]:
        host, port = target
        return (host, port, *probe(host, port, timeout))

    with ThreadPoolExecutor(max_workers=min(32, len(targets))) as pool:
        results = list(pool.map(check, targets))

    failures = 0
    print(f"{'TARGET':45} {'RESULT':12} DETAIL")
    for host, port, ok, detail in results:
        shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        print(f"{shown:45} {'open' if ok else 'UNREACHABLE':12} {detail}")
        failures += not ok
    print(f"{len(targets) - failures} of {len(targets)} target(s) reachable.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
