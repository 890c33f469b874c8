"""The results table (console and Docs/performance.md) and the machine it was measured on."""

from __future__ import annotations

import os
import platform
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from .common import REPO, Result, fmt

DOC = REPO / "Docs" / "performance.md"
BEGIN = "<!-- bench-results:begin (written by `bench/run.py --write-docs`) -->"
END = "<!-- bench-results:end -->"


def machine_line(size: int, tool: str) -> str:
    return (
        f"Measured {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} on {os.cpu_count()} cores "
        f"({platform.machine()}, Linux {platform.release()}), Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, SIZE={size:,}, load generator: {tool}."
    )


def table(results: list[Result]) -> str:
    lines = [
        "| # | benchmark | engine | baseline | ratio | target | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in sorted(results, key=lambda r: (int(r.number[0]), r.number)):
        baseline = (
            f"{fmt(r.baseline, r.unit)} ({r.baseline_label})" if r.baseline is not None else r.baseline_label
        )
        ratio = f"{r.ratio:.2f} ({r.ratio_label})" if r.ratio is not None else "-"
        lines.append(
            f"| {r.number} | {r.name} | {fmt(r.figure, r.unit)} | {baseline} | {ratio} | "
            f"{r.target} | {r.verdict()} |"
        )
    return "\n".join(lines)


def notes(results: list[Result]) -> str:
    return "\n".join(f"- **{r.number}**: " + "; ".join(r.notes) for r in results if r.notes)


def write_docs(results: list[Result], header: str) -> Path:
    """Replace the results block of Docs/performance.md (append one if it has none)."""
    block = f"{BEGIN}\n{header}\n\n{table(results)}\n\n{notes(results)}\n{END}"
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Performance\n"
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n## Results\n\n" + block + "\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text, encoding="utf-8")
    return DOC
