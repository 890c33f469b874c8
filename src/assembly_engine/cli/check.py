"""``assemblies check PATH…``: the script checks offline, for CI and before a sync.

No engine is needed: the checkers run here, under the same limits as in the engine
(ENGINE_CHECK_*). A folder is searched for scripts, playbooks and workflows (a library
folder of ``assembly.json`` + ``script.ps1`` pairs, a Tactical RMM ``scripts`` folder…).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from assembly_engine.cli.common import emit, settings_of
from assembly_engine.services.checks.diagnostics import CheckResult

LANGUAGE_OF_SUFFIX = {
    ".ps1": "powershell",
    ".psm1": "powershell",
    ".bat": "batch",
    ".cmd": "batch",
    ".sh": "bash",
    ".bash": "bash",
    ".py": "python",
    ".yml": "ansible",
    ".yaml": "ansible",
}


def _language(path: Path, text: str) -> str | None:
    if path.suffix.lower() == ".json":
        # Only a workflow canvas; assembly.json, manifests and legacy documents are not scripts.
        try:
            value = json.loads(text)
        except ValueError:
            return "workflow" if path.name == "workflow.json" else None
        return "workflow" if isinstance(value, dict) and {"nodes", "edges"} & set(value) else None
    return LANGUAGE_OF_SUFFIX.get(path.suffix.lower())


def _files(paths: tuple[Path, ...]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        else:
            found.append(path)
    return found


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8-sig", errors="replace")


@click.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option("--warnings-fail", is_flag=True, help="Exit 1 on warnings too, not only on errors.")
@click.pass_context
def check_command(ctx: click.Context, paths: tuple[Path, ...], as_json: bool, warnings_fail: bool) -> None:
    """Check scripts, playbooks and workflows offline; exit 1 when one has an error.

    PATHS are files or folders (searched for .ps1, .bat/.cmd, .sh, .py, .yml/.yaml and
    workflow .json files)."""
    # Imported here: the engine's services are heavy, and every other command starts without them.
    from assembly_engine.services.container import script_checks

    checks = script_checks(settings_of(ctx))
    try:
        planned = []
        for path in _files(paths):
            text = _read(path)
            language = _language(path, text)
            if language is not None:
                planned.append((path, language, checks.runner.submit(language, text)))
        results: list[tuple[Path, CheckResult]] = [
            (path, future.result()) for path, _, future in planned if future is not None
        ]
    finally:
        checks.close()
    failing = sum(1 for _, r in results if r.has_errors or (warnings_fail and r.counts["warning"]))
    report: dict[str, Any] = {
        "checked": len(results),
        "failing": failing,
        "files": [{"path": str(path), **result.to_dict()} for path, result in results],
    }

    def human() -> None:
        for path, result in results:
            for d in result.diagnostics:
                click.echo(f"{path}:{d.line}:{d.column}: {d.severity} {d.code} {d.message} ({d.source})")
            for run in result.checkers:
                if not run.available:
                    click.echo(f"{path}: not checked: {run.name} is not available here", err=True)
                elif run.timed_out or run.failed:
                    click.echo(f"{path}: {run.name} {run.failed or 'timed out'}", err=True)
        totals = {k: sum(r.counts[k] for _, r in results) for k in ("error", "warning", "info")}
        click.echo(
            f"checked {len(results)} file(s): {totals['error']} error(s), {totals['warning']} warning(s), "
            f"{totals['info']} info(s); {failing} file(s) failing"
        )

    emit(as_json, report, human)
    sys.exit(1 if failing else 0)
