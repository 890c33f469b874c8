"""What every ``assemblies`` command shares: output, the settings, and running a command
against the engine with one readable line and an exit code on failure."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from typing import Any

import click
import orjson

from assembly_engine.cli.connection import CliError, EngineClient, engine_client
from assembly_engine.config import Settings
from assembly_engine.domain.types import Domain


class _LazyConsole:
    """rich's Console, made on first use: importing rich was a sixth of the start-up of a
    command that prints no table (``sync plan``)."""

    _made: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._made is None:
            from rich.console import Console

            self._made = Console(stderr=False)
        return getattr(self._made, name)


console = _LazyConsole()
DOMAINS = click.Choice([d.value for d in Domain])
json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


def settings_of(ctx: click.Context) -> Settings:
    found: Settings = ctx.obj["settings"]
    return found


def emit(as_json: bool, data: Any, human: Callable[[], None]) -> None:
    if as_json:
        click.echo(json_text(data))
    else:
        human()


def json_text(data: Any) -> str:
    """``data`` as indented JSON. orjson writes it in C (the standard library's indented
    encoder is pure Python: a 10,000-item plan took it about half a second); what orjson
    refuses (an integer beyond 64 bits) goes through the standard library."""
    try:
        return orjson.dumps(data, default=str, option=orjson.OPT_INDENT_2).decode("utf-8")
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(data, indent=2, default=str, ensure_ascii=False)


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


class LazyGroup(NaturalGroup):
    """A group whose subcommands named by ``add_lazy`` are imported when first used, so a
    command starts without importing every other command's modules (``sync plan`` does not
    load the signing keys' cryptography or the engine's document models). Listed in the
    order added, lazy or not."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._order: list[str] = []
        self._lazy: dict[str, tuple[str, str]] = {}

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        super().add_command(cmd, name)
        added = name or cmd.name
        if added is not None and added not in self._order:
            self._order.append(added)

    def add_lazy(self, name: str, module: str, attribute: str) -> None:
        self._lazy[name] = (module, attribute)
        self._order.append(name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self._order)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self._lazy:
            module, attribute = self._lazy[cmd_name]
            command = getattr(importlib.import_module(module), attribute)
            assert isinstance(command, click.Command)
            self.commands[cmd_name] = command
        return self.commands.get(cmd_name)
