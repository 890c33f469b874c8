"""10. Script checks: one check of a typical 5 KB script, per language.

A script of about 5 KB in each language (realistic statements repeated to size, each
copy slightly different so nothing is served from the kept results) is checked through
the engine's CheckRunner exactly as the check route does it: ShellCheck and ruff in a
one-shot child with the check limits, the other checkers in a warm worker (workers.py),
the answer parsed. Reported per language: p95 of the wall-clock time (target <= 300 ms,
Docs/script-checks.md) and p95 of the CPU time of the check's process, which does not
grow with the machine's load the way wall-clock time does; the load average is given
with them. No baseline: nothing else checks scripts.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assembly_engine.services.checks.runner import CheckRunner  # noqa: E402
from bench.common import Context, Result, progress  # noqa: E402

TARGET_MS = 300.0
SIZE = 5 * 1024
BLOCKS = {
    "powershell": (
        "$path = 'C:\\Temp\\{n}'\n"
        "if (Test-Path -Path $path) {{\n"
        "    $items = Get-ChildItem -Path $path -Recurse -ErrorAction SilentlyContinue\n"
        '    foreach ($item in $items) {{ Write-Output ("{{0}} {{1}}" -f $item.Name, $item.Length) }}\n'
        "}}\n"
    ),
    "batch": (
        'if exist "C:\\Temp\\{n}" (\n'
        "  echo Cleaning {n}\n"
        '  del /q "C:\\Temp\\{n}\\*" >nul 2>&1\n'
        ") else (\n"
        "  call :log missing {n}\n"
        ")\n"
    ),
    "bash": (
        'dir="/var/log/app{n}"\n'
        'if [ -d "$dir" ]; then\n'
        '  find "$dir" -name "*.log" -mtime +7 -exec gzip {{}} \\;\n'
        '  echo "compressed $(ls "$dir" | wc -l) files in $dir"\n'
        "fi\n"
    ),
    "python": (
        "def usage_{n}(path: str) -> int:\n"
        "    total = 0\n"
        "    for entry in os.scandir(path):\n"
        "        total += entry.stat().st_size if entry.is_file() else 0\n"
        "    return total\n\n\n"
    ),
    "ansible": (
        "    - name: Ensure package {n} is present\n"
        "      ansible.builtin.package:\n"
        "        name: tool{n}\n"
        "        state: present\n"
    ),
}
HEADERS = {
    "powershell": "",
    "batch": "@echo off\nsetlocal\n",
    "bash": "#!/usr/bin/env bash\nset -euo pipefail\n",
    "python": "import os\n\n\n",
    "ansible": "- name: Typical playbook\n  hosts: all\n  become: true\n  tasks:\n",
}
FOOTERS = {"batch": "exit /b 0\n:log\necho %*\nexit /b 0\n"}


def script(language: str, variant: int) -> str:
    text, n = HEADERS[language], 0
    while len(text) < SIZE:
        text += BLOCKS[language].format(n=f"{variant}x{n}")
        n += 1
    return text + FOOTERS.get(language, "")


def workflow(variant: int) -> str:
    nodes = [{"id": f"node-{variant}-{i}", "type": "Step", "data": {"label": f"Step {i}"}} for i in range(40)]
    edges = [{"id": f"e{i}", "source": nodes[i]["id"], "target": nodes[i + 1]["id"]} for i in range(39)]
    return json.dumps({"tab_name": "Typical", "nodes": nodes, "edges": edges}, indent=2) + "\n"


def measure(runs: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """(wall-clock ms, CPU ms) of each check, per language."""
    runner = CheckRunner()
    timings: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    try:
        for language in [*BLOCKS, "workflow"]:
            runner.run(language, script(language, -1) if language != "workflow" else workflow(-1))  # warm-up
            times, cpu_times = [], []
            for variant in range(runs):
                text = script(language, variant) if language != "workflow" else workflow(variant)
                started = time.perf_counter()
                result = runner.run(language, text)
                times.append((time.perf_counter() - started) * 1000)
                assert not result.timed_out and not result.has_errors, (language, result.to_dict())
                cpu_times.append(result.checkers[0].cpu_seconds * 1000)
            timings[language] = times
            cpu[language] = cpu_times
    finally:
        runner.close()
    return timings, cpu


def p95(values: list[float]) -> float:
    return float(statistics.quantiles(values, n=20, method="inclusive")[-1])


def run(ctx: Context) -> list[Result]:
    runs = 10 if ctx.quick else 40
    progress(f"script checks: {runs} checks of a 5 KB script per language")
    results = []
    load_before = os.getloadavg()[0]
    timings, cpu = measure(runs)
    load = f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after ({os.cpu_count()} cores)"
    for language, times in timings.items():
        figure = p95(times)
        results.append(
            Result(
                number="10",
                name=f"Script check of a typical 5 KB {language} script, p95",
                figure=figure,
                unit="ms",
                baseline=None,
                baseline_label="",
                ratio=None,
                ratio_label="",
                target="<= 300 ms",
                met=figure <= TARGET_MS,
                notes=[
                    f"median {statistics.median(times):.0f} ms over {len(times)} checks; CPU time p50 "
                    f"{statistics.median(cpu[language]):.0f} ms, p95 {p95(cpu[language]):.0f} ms",
                    load,
                ],
            )
        )
    return results


if __name__ == "__main__":
    print(f"load average {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    timings, cpu = measure(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
    for language, times in timings.items():
        print(
            f"{language:10} wall p50 {statistics.median(times):6.1f} ms  p95 {p95(times):6.1f} ms"
            f"   CPU p50 {statistics.median(cpu[language]):6.1f} ms  p95 {p95(cpu[language]):6.1f} ms"
        )
    print(f"load average {os.getloadavg()[0]:.1f}")
