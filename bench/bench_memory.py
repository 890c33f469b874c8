"""5. Memory: resident bytes per cached assembly.

(RSS of the engine once every record is built (health ``cache_warm``) with SIZE
assemblies - RSS of an engine with an empty library) / SIZE. Both engines are measured on
a restart (not the first start of their home). The full-library RSS comes from the
hydration benchmark's boots when it ran, else from a boot of its own.

Baseline: the resident memory the same rows take as plain tuples from ``SELECT *`` in a
fresh process (``bench/raw_read.py``), per row. No target; the ratio says how much the
cache's records, snapshots and index cost over the raw rows.
"""

from __future__ import annotations

from .bench_hydration import boot, raw_read
from .common import Context, Result, median, progress, scratch
from .dataset import Home, build_home


def run(ctx: Context) -> list[Result]:
    home: Home = ctx.shared["main_home"]
    full_samples: list[int] = ctx.shared.get("hydrated_rss") or []
    if not full_samples:
        progress("memory: booting the full library")
        boot(home)  # first start
        full_samples = [boot(home).resident]
    raw_per_row = ctx.shared.get("raw_rss_per_row")
    if raw_per_row is None:
        raw_per_row = raw_read(home)["rss_delta"] / max(1, home.total)
    with scratch(ctx, "empty") as base:
        empty = build_home(base, [])
        boot(empty)  # first start: creates the admin account
        empty_samples = [boot(empty).resident for _ in range(max(1, ctx.repeats - 1))]
    full_rss, empty_rss = median(full_samples), median(empty_samples)
    per = (full_rss - empty_rss) / home.total
    progress(
        f"memory: full {full_rss / 2**20:.0f} MiB, empty {empty_rss / 2**20:.0f} MiB, {per:.0f} B/assembly"
    )
    return [
        Result(
            number="5",
            name=f"Memory per cached assembly at {home.total:,}",
            figure=per,
            unit="B",
            baseline=raw_per_row,
            baseline_label=f"{raw_per_row:.0f} B/row as SELECT * tuples",
            ratio=per / raw_per_row if raw_per_row > 0 else None,
            ratio_label="engine / raw tuples",
            target="report",
            met=None,
            notes=[
                f"engine RSS {full_rss / 2**20:.0f} MiB with the library, {empty_rss / 2**20:.0f} MiB empty"
            ],
        )
    ]
