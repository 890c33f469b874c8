"""``assemblies users``: user accounts (admins and operators)."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.table import Table

from assembly_engine.cli.common import NaturalGroup, console, emit, json_option, run
from assembly_engine.cli.connection import EngineClient


@click.group(cls=NaturalGroup)
def users() -> None:
    """Manage user accounts (admins and operators)."""


def _password(password_stdin: bool, prompt: str) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt(prompt, hide_input=True, confirmation_prompt=True))


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "operator"]), default="operator", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@json_option
@click.pass_context
def users_add(ctx: click.Context, username: str, role: str, password_stdin: bool, as_json: bool) -> None:
    """Create a user."""
    password = _password(password_stdin, f"Password for {username}")

    def work(client: EngineClient) -> None:
        user = client.call(
            "POST", "/api/users", json_body={"username": username, "password": password, "role": role}
        )
        emit(as_json, user, lambda: click.echo(f"created {user['username']} ({user['role']})"))

    run(ctx, work)


@users.command("list")
@json_option
@click.pass_context
def users_list(ctx: click.Context, as_json: bool) -> None:
    """List users."""

    def work(client: EngineClient) -> None:
        items = client.call("GET", "/api/users")["items"]

        def human() -> None:
            table = Table()
            for column in ("username", "role", "disabled", "created"):
                table.add_column(column)
            for user in items:
                table.add_row(
                    user["username"], user["role"], "yes" if user["disabled"] else "no", user["created_at"]
                )
            console.print(table)

        emit(as_json, items, human)

    run(ctx, work)


def _patch_user(ctx: click.Context, username: str, changes: dict[str, Any], as_json: bool, done: str) -> None:
    def work(client: EngineClient) -> None:
        user = client.call("PATCH", f"/api/users/{username}", json_body=changes)
        emit(as_json, user, lambda: click.echo(done))

    run(ctx, work)


@users.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(["admin", "operator"]))
@json_option
@click.pass_context
def users_set_role(ctx: click.Context, username: str, role: str, as_json: bool) -> None:
    """Change a user's role."""
    _patch_user(ctx, username, {"role": role}, as_json, f"{username} is now {role}")


@users.command("disable")
@click.argument("username")
@click.option("--enable", is_flag=True, help="Enable the account again instead.")
@json_option
@click.pass_context
def users_disable(ctx: click.Context, username: str, enable: bool, as_json: bool) -> None:
    """Disable a user (ends their sessions at once), or --enable them again."""
    _patch_user(
        ctx, username, {"disabled": not enable}, as_json, f"{username} {'enabled' if enable else 'disabled'}"
    )


@users.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
@json_option
@click.pass_context
def users_passwd(ctx: click.Context, username: str, password_stdin: bool, as_json: bool) -> None:
    """Set a user's password (ends their other sessions)."""
    password = _password(password_stdin, f"New password for {username}")
    _patch_user(ctx, username, {"password": password}, as_json, f"password of {username} changed")
