"""``assemblies migrate-storage``: move the library to another backend, offline."""

from __future__ import annotations

import sys

import click
from rich.table import Table

from assembly_engine.cli.common import console, emit, json_option, settings_of
from assembly_engine.database_url import InvalidDatabaseUrl, is_database_url, validate_database_url
from assembly_engine.storage.contract.errors import EngineError
from assembly_engine.storage.files.runtime_lock import EngineLocked


@click.command("migrate-storage")
@click.option(
    "--to",
    "target",
    required=True,
    metavar="URL|FOLDER",
    help="A PostgreSQL URL (cluster mode) or the folder of a new embedded home.",
)
@json_option
@click.pass_context
def migrate_storage(ctx: click.Context, target: str, as_json: bool) -> None:
    """Copy the whole library to another backend and check the copy.

    Copies the three domains with their history, every payload, the users (sessions are
    not copied: users sign in again) and the audit chain, into an empty target. Stop the
    engine first (for a cluster: every node). Queued changes are written to their domains
    first. Prints what each side holds; exits 1 if anything differs.
    """
    from assembly_engine.services.storage_migration import migrate_storage as migrate
    from assembly_engine.storage.postgresql.migrations import MigrationError
    from assembly_engine.storage.postgresql.pool import DatabaseUnreachable

    settings = settings_of(ctx)
    if is_database_url(target):
        try:
            validate_database_url(target)
        except InvalidDatabaseUrl as exc:
            raise click.UsageError(f"--to: {exc}") from None
    say = (lambda _: None) if as_json else (lambda line: click.echo(line, err=True))
    try:
        report = migrate(settings, target, say)
    except (EngineError, EngineLocked, DatabaseUnreachable, MigrationError) as exc:
        click.echo(f"error: {getattr(exc, 'message', exc)}", err=True)
        sys.exit(2)
    data = {
        "source": report.source,
        "target": report.target,
        "counts": {what: {"source": a, "target": b} for what, (a, b) in report.counts.items()},
        "problems": report.problems,
        "ok": report.ok,
    }

    def human() -> None:
        table = Table(title=f"{report.source} -> {report.target}")
        for column in ("what", "source", "target"):
            table.add_column(column)
        for what, (a, b) in report.counts.items():
            table.add_row(what, f"{a:,}", f"{b:,}")
        console.print(table)
        for problem in report.problems:
            click.echo(f"MISMATCH: {problem}")
        click.echo(
            "copy verified: counts match and every payload checks out"
            if report.ok
            else "the copy does NOT match the source; do not switch to it"
        )

    emit(as_json, data, human)
    sys.exit(0 if report.ok else 1)
