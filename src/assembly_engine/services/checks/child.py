"""The check child: a process that limits itself, then checks one script.

``python -I -m assembly_engine.services.checks.child --memory-mb M --cpu-seconds C LANGUAGE``
reads the script on standard input and prints its diagnostics as JSON;
``… --exec TOOL ARGS…`` instead replaces itself with an external checker, which keeps the
limits (rlimits survive exec). The limits are set here, in the child, so the engine never
needs ``preexec_fn`` (unsafe in a threaded process).

``… --serve`` is a *warm worker* (workers.py): it loads every in-process checker once,
then checks one script after another, each under a CPU limit of its own, until its
standard input ends; after a check that failed it exits, so the next check gets a fresh
process. Once loaded it answers ``{"ready": true}``; then a request is
``LANGUAGE LENGTH\n`` and the script's bytes; the answer is
``LENGTH\n`` and JSON: ``{"diagnostics": [...], "cpu_seconds": …}`` or ``{"failed": …}``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:  # for the annotation only: the child imports a checker when it needs it
    from assembly_engine.services.checks.diagnostics import Diagnostic

# A warm worker is replaced after this many checks: whatever a check left in its memory
# (fragmentation, caches) never accumulates without end.
SERVE_CHECKS = 500


def limit(memory_mb: int, cpu_seconds: int | None, nice: int = 0) -> None:
    if nice:
        os.nice(nice)  # a background check yields the CPU to the engine's writes
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    if cpu_seconds is not None:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # a checker has no file to write
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def _answer(out: BinaryIO, answer: dict[str, Any]) -> None:
    body = json.dumps(answer).encode("utf-8")
    out.write(b"%d\n" % len(body) + body)
    out.flush()


def serve(cpu_seconds: int) -> int:
    """Check scripts from stdin until it ends (the module's docstring has the framing)."""
    checkers = {language: _checker(language) for language in ("powershell", "batch", "ansible", "workflow")}
    source, out = sys.stdin.buffer, sys.stdout.buffer
    _answer(out, {"ready": True})  # loaded: the engine's clock for a check starts now
    for _ in range(SERVE_CHECKS):
        head = source.readline()
        if not head:
            return 0
        language, length = head.decode("ascii").split()
        text = source.read(int(length)).decode("utf-8", errors="replace")
        started = _cpu()
        # Each check gets the full CPU limit from here (the hard limit stays open, so it
        # can be set again for the next one); SIGXCPU ends the worker past it.
        resource.setrlimit(resource.RLIMIT_CPU, (int(started) + 1 + cpu_seconds, resource.RLIM_INFINITY))
        try:
            diagnostics = checkers[language](text)
        except (MemoryError, RecursionError) as exc:
            _answer(out, {"failed": f"{type(exc).__name__}: it exceeded the check's memory or CPU limit"})
            return 1
        except Exception as exc:  # a checker's bug on odd input: no answer, a fresh worker next
            _answer(out, {"failed": f"{type(exc).__name__}: {exc}"[:200]})
            return 1
        _answer(out, {"diagnostics": [d.to_dict() for d in diagnostics], "cpu_seconds": _cpu() - started})
    return 0


def _checker(language: str) -> Callable[[str], list[Diagnostic]]:
    if language == "powershell":
        from assembly_engine.services.checks import powershell

        powershell.warm()
        return powershell.check
    if language == "batch":
        from assembly_engine.services.checks import batch

        return batch.check
    if language == "ansible":
        from assembly_engine.services.checks import ansible

        ansible.warm()
        return ansible.check
    if language == "workflow":
        from assembly_engine.services.checks import workflow

        return workflow.check
    raise SystemExit(f"no in-process checker for {language!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="check-child")
    parser.add_argument("--memory-mb", type=int, required=True)
    parser.add_argument("--cpu-seconds", type=int, required=True)
    parser.add_argument("--nice", type=int, default=0)
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--exec", dest="tool", nargs=argparse.REMAINDER)
    parser.add_argument("language", nargs="?")
    args = parser.parse_args(argv)
    limit(args.memory_mb, None if args.serve else args.cpu_seconds, args.nice)
    if args.serve:
        return serve(args.cpu_seconds)
    if args.tool:
        os.execv(args.tool[0], args.tool)
    check = _checker(args.language)  # imported before the script arrives (a spare, runner.py)
    text = sys.stdin.buffer.read().decode("utf-8", errors="replace")
    diagnostics = check(text)
    json.dump([d.to_dict() for d in diagnostics], sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
