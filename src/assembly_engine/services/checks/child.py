"""The check child: a process that limits itself, then checks one script.

``python -I -m assembly_engine.services.checks.child --memory-mb M --cpu-seconds C LANGUAGE``
reads the script on standard input and prints its diagnostics as JSON;
``… --exec TOOL ARGS…`` instead replaces itself with an external checker, which keeps the
limits (rlimits survive exec). The limits are set here, in the child, so the engine never
needs ``preexec_fn`` (unsafe in a threaded process).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys


def limit(memory_mb: int, cpu_seconds: int, nice: int = 0) -> None:
    if nice:
        os.nice(nice)  # a background check yields the CPU to the engine's writes
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # a checker has no file to write
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _checker(language: str):  # type: ignore[no-untyped-def]
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
    parser.add_argument("--exec", dest="tool", nargs=argparse.REMAINDER)
    parser.add_argument("language", nargs="?")
    args = parser.parse_args(argv)
    limit(args.memory_mb, args.cpu_seconds, args.nice)
    if args.tool:
        os.execv(args.tool[0], args.tool)
    check = _checker(args.language)  # imported before the script arrives (a spare, runner.py)
    text = sys.stdin.buffer.read().decode("utf-8", errors="replace")
    diagnostics = check(text)
    json.dump([d.to_dict() for d in diagnostics], sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
