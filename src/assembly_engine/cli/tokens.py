"""``assemblies tokens``: API tokens for programs (create, list, revoke).

The CLI is no user itself, so ``create`` names the token's owner; the secret is printed
once and never again.
"""

from __future__ import annotations

import click
from rich.table import Table

from assembly_engine.cli.common import NaturalGroup, console, emit, json_option, run
from assembly_engine.cli.connection import EngineClient

SCOPES = ("assemblies:read", "assemblies:write", "metrics:read")


@click.group(cls=NaturalGroup)
def tokens() -> None:
    """Manage API tokens for programs (runners, CI jobs)."""


@tokens.command("create")
@click.argument("name")
@click.option("--owner", required=True, help="The user the token acts as.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(SCOPES),
    help="A scope the token grants (repeat for several).",
)
@click.option(
    "--days", type=int, default=30, show_default=True, help="Lifetime in days (ENGINE_TOKEN_MAX_DAYS)."
)
@json_option
@click.pass_context
def tokens_create(
    ctx: click.Context, name: str, owner: str, scopes: tuple[str, ...], days: int, as_json: bool
) -> None:
    """Create a token; its secret is shown this once."""

    def work(client: EngineClient) -> None:
        made = client.call(
            "POST",
            "/api/tokens",
            json_body={"name": name, "scopes": list(scopes), "expires_in_days": days, "owner": owner},
        )

        def human() -> None:
            click.echo(f"created {made['id']} for {made['owner']}, expires {made['expires_at']}")
            click.echo("token (shown once, keep it secret):")
            click.echo(made["token"])

        emit(as_json, made, human)

    run(ctx, work)


@tokens.command("list")
@json_option
@click.pass_context
def tokens_list(ctx: click.Context, as_json: bool) -> None:
    """List every token (never their secrets)."""

    def work(client: EngineClient) -> None:
        items = client.call("GET", "/api/tokens")["items"]

        def human() -> None:
            table = Table()
            for column in ("id", "name", "owner", "scopes", "expires", "last used", "status"):
                table.add_column(column)
            for token in items:
                table.add_row(
                    token["id"],
                    token["name"],
                    token["owner"],
                    " ".join(token["scopes"]),
                    token["expires_at"],
                    token["last_used_at"] or "never",
                    token["status"],
                )
            console.print(table)

        emit(as_json, items, human)

    run(ctx, work)


@tokens.command("revoke")
@click.argument("token_id")
@json_option
@click.pass_context
def tokens_revoke(ctx: click.Context, token_id: str, as_json: bool) -> None:
    """Revoke a token; it stops working at once."""

    def work(client: EngineClient) -> None:
        client.call("DELETE", f"/api/tokens/{token_id}", ok=(204,))
        emit(as_json, {"revoked": token_id}, lambda: click.echo(f"revoked {token_id}"))

    run(ctx, work)
