"""The ``assemblies`` command line (Docs/assemblies.md §11).

Every command but ``serve`` and ``audit verify`` goes through the engine's REST API —
the running engine's, or an in-process one (see cli/connection.py) — so the CLI and the
API share one set of rules. ``--json`` prints machine-readable output on reporting
commands. This module holds the group and the engine-wide commands; import, export, the
version history and users have a module each (``cli_import`` … ``cli_users``), and
``cli_common`` what they all share.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import click

from assembly_engine.cli.common import (
    DOMAINS,
    LazyGroup,
    NaturalGroup,
    console,
    emit,
    json_option,
    run,
    settings_of,
)
from assembly_engine.cli.connection import CliError, EngineClient, engine_client, running_engine_client
from assembly_engine.config import Settings
from assembly_engine.storage.files.cli_access import engine_running


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(path_type=Path), help="Engine home (ENGINE_HOME, default ./Engine).")
@click.option(
    "--staging-root",
    type=click.Path(path_type=Path),
    help="Staging copy of the official library (ENGINE_STAGING_ROOT).",
)
@click.option(
    "--database-url",
    metavar="URL",
    help="PostgreSQL URL: run as a node of a cluster (ENGINE_DATABASE_URL, Docs/cluster.md).",
)
@click.pass_context
def main(ctx: click.Context, home: Path | None, staging_root: Path | None, database_url: str | None) -> None:
    """Assembly Engine: the library service for IT-automation assemblies.

    Commands work whether or not the engine is running on the same home: they talk to
    the running engine, or start one in-process for the duration of the command.
    """
    try:
        settings = Settings.from_env(home=home, staging_root=staging_root, database_url=database_url or None)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    ctx.obj = {"settings": settings}


@main.command()
@click.option("--host", help="Address to bind (ENGINE_HOST, default 127.0.0.1).")
@click.option("--port", type=int, help="Port to bind (ENGINE_PORT, default 8000).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Start the engine (API and web UI) in the foreground; Ctrl-C flushes and stops."""
    import uvicorn

    from assembly_engine.api.app import create_app
    from assembly_engine.api.connections import engine_protocol

    settings = settings_of(ctx).with_overrides(host=host, port=port)
    taken = engine_running(settings.runtime_root)
    if taken is not None:  # refuse early and clearly rather than from inside uvicorn's lifespan
        click.echo(f"error: {taken}", err=True)
        sys.exit(2)
    app = create_app(settings, publish_cli_access=True)
    click.echo(f"Assembly Engine on http://{settings.host}:{settings.port}/ (home {settings.home.resolve()})")
    # uvicorn shuts down gracefully on SIGINT/SIGTERM (the lifespan flushes the queue), then
    # re-raises the signal into the handlers it found: make those end the process with 0.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _exit_after_graceful_shutdown)
    # proxy_headers off: X-Forwarded-* are judged in one place, against ENGINE_TRUSTED_PROXIES
    # (api/client_origin.py); uvicorn would otherwise believe them from loopback.
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        # Access lines are below that level; uvicorn still worked out their client address
        # and quoted path for every request before the logger dropped them.
        access_log=False,
        timeout_graceful_shutdown=30,
        proxy_headers=False,
        http=engine_protocol(),  # header, time and connection limits (api/connections.py)
    )
    if getattr(app.state, "startup_error", None) is not None:
        sys.exit(3)


def _exit_after_graceful_shutdown(signum: int, frame: object) -> None:
    raise SystemExit(0)


@main.command()
@json_option
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show cached assemblies per domain and the write queue (pending writes per domain)."""

    def work(client: EngineClient) -> None:
        health = client.call("GET", "/api/health")
        queue = client.call("GET", "/api/assemblies/queue")
        signatures = health["official_signatures"]
        data = {
            "engine": client.mode,
            "assemblies": health["assemblies"],
            "queue": queue,
            "official_signatures": signatures,
            "official_upstream": health.get("official_upstream", {}),
        }

        def human() -> None:
            from rich.table import Table

            table = Table(title=f"Assembly Engine ({client.mode})")
            for column in ("domain", "assemblies", "queued", "last flush", "last error"):
                table.add_column(column)
            for domain, info in queue["domains"].items():
                table.add_row(
                    domain,
                    str(health["assemblies"][domain]),
                    str(info["pending"]),
                    info["last_flush"] or "-",
                    info["last_error"] or "-",
                )
            console.print(table)
            console.print(f"queue depth: {queue['depth']}")
            counts = ", ".join(f"{n} {status}" for status, n in signatures["counts"].items())
            console.print(
                f"official signatures ({signatures['policy']}): {signatures['state']}; {counts}",
                highlight=False,
            )
            for problem in signatures["problems"]:
                console.print(f"  {problem}", markup=False, highlight=False)
            waiting = data["official_upstream"]
            if any(waiting.values()):  # official upgrades waiting for an admin's choice
                console.print(
                    "official upgrades: "
                    + ", ".join(f"{n} {state}" for state, n in waiting.items())
                    + " (GET /api/assemblies?upstream=attention)",
                    highlight=False,
                )
            for domain, info in queue["domains"].items():
                for item in info["items"]:
                    if item.get("flush_error"):
                        console.print(
                            f"[red]cannot be written[/red] ({domain}) {item['assembly_guid']} "
                            f"{item['display_name']!r}: {item['flush_error']}",
                            markup=True,
                            highlight=False,
                        )

        emit(as_json, data, human)

    run(ctx, work)


@main.command()
@click.option("--domain", type=DOMAINS, help="Only this domain (default: all).")
@json_option
@click.pass_context
def flush(ctx: click.Context, domain: str | None, as_json: bool) -> None:
    """Write queued changes to their databases now."""

    def work(client: EngineClient) -> None:
        body = client.call("POST", "/api/assemblies/dev-mode/write", json_body={"domain": domain})

        def human() -> None:
            for name, info in body["results"].items():
                click.echo(f"{name}: {info['persisted']} change(s) written")
                for refused in info.get("refused", []):
                    click.echo(f"  stays queued: {refused['assembly_guid']}: {refused['error']}")

        emit(as_json, body, human)

    run(ctx, work)


@main.command("sync-official")
@json_option
@click.pass_context
def sync_official(ctx: click.Context, as_json: bool) -> None:
    """Rebuild the runtime official library from staging; exit 1 if the counts differ."""

    def work(client: EngineClient) -> int:
        report = client.call("POST", "/api/assemblies/official/sync")

        def human() -> None:
            click.echo(f"staging:  {settings_of(ctx).staging_root}  {report['staging_count']} assemblies")
            click.echo(f"runtime:  {settings_of(ctx).runtime_root}  {report['runtime_count']} assemblies")
            click.echo(f"payloads: {report['payloads_copied']} copied, {report['payloads_removed']} removed")
            for problem in report["problems"]:
                click.echo(f"problem:  {problem}", err=True)
            click.echo("counts match" if report["matches"] else "MISMATCH between staging and runtime")

        emit(as_json, report, human)
        return 0 if report["matches"] else 1

    run(ctx, work)


@main.command()
@click.option("--fix", is_flag=True, help="Remove orphan payload folders.")
@click.option(
    "--grace-seconds",
    type=float,
    default=60.0,
    show_default=True,
    help="Never remove folders younger than this (they may belong to a write in progress).",
)
@json_option
@click.pass_context
def verify(ctx: click.Context, fix: bool, grace_seconds: float, as_json: bool) -> None:
    """Check schemas, payload checksums, missing and orphan payloads; exit 1 on problems."""

    def work(client: EngineClient) -> int:
        if fix:
            report = client.call(
                "POST", "/api/admin/verify", json_body={"fix": True, "grace_seconds": grace_seconds}
            )
        else:
            report = client.call("GET", "/api/admin/verify")

        def human() -> None:
            for info in report["schema"].values():
                state = "ok" if info["ok"] else f"PROBLEM (missing {', '.join(info['missing_columns'])})"
                click.echo(f"schema {info['file']}: {state}")
            click.echo(f"payloads checked: {report['payloads_checked']}")
            for label in ("missing", "corrupt"):
                for item in report[label]:
                    click.echo(
                        f"{label}: {item['display_name']} ({item['assembly_guid']}, "
                        f"{item['domain']}) payload {item['payload_guid']}"
                    )
            for guid in report["orphans"]:
                click.echo(f"orphan payload: {guid}" + (" (removed)" if guid in report["removed"] else ""))
            click.echo("verify: ok" if report["ok"] else "verify: PROBLEMS FOUND")

        emit(as_json, report, human)
        return 0 if report["ok"] else 1

    run(ctx, work)


# Added here so that `assemblies --help` lists the commands in this order; each module is
# imported only when its command runs (or --help lists them).
assert isinstance(main, LazyGroup)
for name, module, attribute in (
    ("import", "importing", "import_command"),
    ("sync", "sync", "sync"),
    ("export", "export", "export"),
    ("history", "history", "history"),
    ("diff", "history", "diff"),
    ("restore", "history", "restore"),
    ("undelete", "history", "undelete"),
    ("users", "users", "users"),
    ("tokens", "tokens", "tokens"),
    ("migrate-storage", "storage", "migrate_storage"),
    ("check", "check", "check_command"),
    ("official", "official", "official"),
):
    main.add_lazy(name, f"assembly_engine.cli.{module}", attribute)


@main.command()
@click.argument("dest", type=click.Path(path_type=Path))
@json_option
@click.pass_context
def backup(ctx: click.Context, dest: Path, as_json: bool) -> None:
    """Snapshot all databases, payloads and the audit log into DEST (engine may be running)."""

    def work(client: EngineClient) -> None:
        result = client.call("POST", "/api/admin/backup", json_body={"destination": str(dest.resolve())})
        emit(
            as_json,
            result,
            lambda: click.echo(
                f"backup written to {result['destination']} ({result['copied']['payloads']} payloads) "
                f"in {result['seconds']}s"
            ),
        )

    run(ctx, work)


@main.command("export-official")
@click.argument("dest", type=click.Path(path_type=Path))
@json_option
@click.pass_context
def export_official(ctx: click.Context, dest: Path, as_json: bool) -> None:
    """Write the official library as a new staging copy in DEST (official.db + Payloads).

    Cluster mode does not mirror Dev Mode changes of official assemblies to a staging
    folder; point ENGINE_STAGING_ROOT at DEST (or copy it there) to keep staging in step.
    """

    def work(client: EngineClient) -> None:
        result = client.call(
            "POST", "/api/admin/export-official", json_body={"destination": str(dest.resolve())}
        )
        emit(
            as_json,
            result,
            lambda: click.echo(
                f"{result['assemblies']} official assemblies written to {result['destination']}"
            ),
        )

    run(ctx, work)


@main.group(cls=NaturalGroup)
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
@json_option
@click.pass_context
def audit_verify(ctx: click.Context, as_json: bool) -> None:
    """Check the audit chain; name the first entry edited, removed or reordered (exit 1).

    With an engine running on the home, the engine checks its own log under its lock (so a
    half-written entry is never mistaken for tampering); in cluster mode a node started
    for the command checks the chain in PostgreSQL; otherwise the files are read.
    """
    from assembly_engine.services.container import AUDIT_FILE
    from assembly_engine.storage.formats.audit_chain import verify_file

    settings = settings_of(ctx)
    try:
        running = running_engine_client(settings)
        if running is not None:
            with running.http:
                data = running.call("GET", "/api/admin/audit/verify")
        elif settings.database_url is not None:
            # Cluster mode: the chain is in PostgreSQL; a node started for the command reads it.
            with engine_client(settings) as client:
                data = client.call("GET", "/api/admin/audit/verify")
        else:
            path = settings.logs_dir / AUDIT_FILE
            result = verify_file(path)
            data = {
                "ok": result.ok,
                "entries": result.entries,
                "first_bad_line": result.first_bad_line,
                "problem": result.problem,
                "path": str(path),
            }
    except CliError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    emit(
        as_json,
        data,
        lambda: click.echo(
            f"audit log {data['path']}: intact, {data['entries']} entries"
            if data["ok"]
            else f"audit log {data['path']}: TAMPERED — {data['problem']}"
        ),
    )
    sys.exit(0 if data["ok"] else 1)


if __name__ == "__main__":
    main()
