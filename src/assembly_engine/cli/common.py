"""What every ``assemblies`` command shares: output, the settings, and running a command
against the engine with one readable line and an exit code on failure."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click
from rich.console import Console

from assembly_engine.cli.connection import CliError, EngineClient, engine_client
from assembly_engine.config import Settings
from assembly_engine.domain.types import Domain

console = Console(stderr=False)
DOMAINS = click.Choice([d.value for d in Domain])
json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


def settings_of(ctx: click.Context) -> Settings:
    found: Settings = ctx.obj["settings"]
    return found


def emit(as_json: bool, data: Any, human: Callable[[], None]) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        human()


def run(ctx: click.Context, work: Callable[[EngineClient], int | None]) -> None:
    """Connect, run, and turn failures into one readable line and an exit code."""
    try:
        with engine_client(settings_of(ctx)) as client:
            code = work(client)
    except CliError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    sys.exit(code or 0)


class NaturalGroup(click.Group):
    """Lists its commands in the order they were added, not alphabetically."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)
