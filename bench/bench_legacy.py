"""6. Against the old approach: listing LEGACY (10,000) assemblies.

Legacy: a JSON folder tree as file-based libraries keep it
(``Scripts|Workflows|Ansible_Playbooks/<category>/<name>.json``), listed the way they do
it on every request: walk the tree, ``json.load`` every file, build the list items, sort
by name, cut the first page of 100, serialise it. Timed in this process, with a warm page
cache and no HTTP at all, which flatters the legacy side.

Engine: the same assemblies (same names, summaries, categories, types) as rows in an
engine home; ``GET /api/assemblies?limit=100`` over HTTP from one sequential client:

* warm: the cache's sorted view is reused (the usual case: nothing changed since);
* cold: a write precedes every timed request, so each one filters and sorts anew.

Reported as the speed-up legacy time / engine time (no target).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import httpx

from .common import Context, Result, fmt, median, progress, running_engine, scratch, sequential_latency
from .dataset import build_home, build_legacy_tree, make_specs

PAGE = "/api/assemblies?limit=100"
WRITE = {
    "display_name": "Legacy comparison write",
    "assembly_kind": "script",
    "assembly_type": "bash",
    "payload": {"script": "echo hi\n"},
}


def legacy_list(root: Path, *, offset: int = 0, limit: int = 100) -> bytes:
    """What a file-based library does per list request."""
    items: list[dict[str, Any]] = []
    for base, folders, files in os.walk(root):
        folders.sort()
        for name in sorted(files):
            if not name.endswith(".json"):
                continue
            path = os.path.join(base, name)
            with open(path, encoding="utf-8") as handle:
                document = json.load(handle)
            is_workflow = "nodes" in document and "script" not in document
            items.append(
                {
                    "path": os.path.relpath(path, root),
                    "name": document.get("tab_name" if is_workflow else "name", name[:-5]),
                    "description": document.get("description", ""),
                    "category": document.get("category", ""),
                    "type": "workflow" if is_workflow else document.get("type", ""),
                }
            )
    items.sort(key=lambda item: (str(item["name"]).casefold(), item["path"]))
    return json.dumps({"items": items[offset : offset + limit], "total": len(items)}).encode("utf-8")


def run(ctx: Context) -> list[Result]:
    count = min(10_000, ctx.size)
    specs = make_specs(count, seed=6)
    with scratch(ctx, "legacy") as base:
        tree = base / "legacy"
        made = build_legacy_tree(tree, specs)
        home = build_home(base / "engine", specs)
        progress(f"legacy: {count:,} JSON files in {made:.1f}s, engine home in {home.seconds['total']:.1f}s")
        legacy_list(tree)  # warm the page cache
        scans: list[float] = []
        deadline = time.monotonic() + 120
        for _ in range(max(3, ctx.repeats + 2)):
            began = time.perf_counter()
            page = json.loads(legacy_list(tree))
            scans.append(time.perf_counter() - began)
            if time.monotonic() > deadline:
                break
        if page["total"] != count:
            raise RuntimeError(f"legacy scan found {page['total']} documents, expected {count}")

        with (
            running_engine(home.home, home.staging, home.counts) as engine,
            httpx.Client(base_url=engine.url, headers=engine.auth(), timeout=60) as client,
        ):
            first = client.get(PAGE)
            first.raise_for_status()
            if first.json()["total"] != count:
                raise RuntimeError(f"engine lists {first.json()['total']}, expected {count}")
            warm = sequential_latency(client, lambda c: c.get(PAGE), 300, 15)
            cold: list[float] = []
            for _ in range(30 if not ctx.quick else 10):
                client.post("/api/assemblies", json=WRITE).raise_for_status()
                cold.extend(sequential_latency(client, lambda c: c.get(PAGE), 1, 10))
    legacy_s, warm_s, cold_s = median(scans), median(warm), median(cold)
    return [
        Result(
            number="6",
            name=f"List {count:,} assemblies: legacy JSON folder scan vs engine (first page of 100)",
            figure=warm_s * 1000,
            unit="ms",
            baseline=legacy_s * 1000,
            baseline_label="legacy scan per request (in-process, no HTTP)",
            ratio=legacy_s / warm_s,
            ratio_label="speed-up legacy / engine",
            target="report",
            met=None,
            notes=[
                f"engine warm {fmt(warm_s * 1000, 'ms')}, cold (after a write) {fmt(cold_s * 1000, 'ms')} "
                f"-> speed-up {legacy_s / cold_s:.0f}x cold; legacy {fmt(legacy_s * 1000, 'ms')} "
                f"(median of {len(scans)})"
            ],
        )
    ]
