"""``assemblies serve`` with the checks that follow a save taken out, so
bench_check_writes can measure what they cost the writes: saves store exactly as
before, nothing is checked beside them and no sweep runs."""

from __future__ import annotations

from typing import Any

from assembly_engine.cli.main import main as cli
from assembly_engine.services.checks.gate import ScriptChecks


def _nothing(*_: Any, **__: Any) -> None:
    return None


if __name__ == "__main__":
    ScriptChecks.after_store = _nothing  # type: ignore[method-assign]
    ScriptChecks.start_sweep = _nothing  # type: ignore[method-assign]
    cli.main(["serve"])
