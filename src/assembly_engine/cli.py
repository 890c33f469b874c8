"""The ``assemblies`` command line (SPEC §7)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .config import Settings
from .persistence.runtime import EngineLocked, RuntimeLock


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]  # type: ignore[no-any-return]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(path_type=Path), help="Engine home (ENGINE_HOME).")
@click.option("--staging-root", type=click.Path(path_type=Path),
              help="Staging copy of the official library (ENGINE_STAGING_ROOT).")
@click.pass_context
def main(ctx: click.Context, home: Path | None, staging_root: Path | None) -> None:
    """Assembly Engine: the library service for IT-automation assemblies."""
    try:
        settings = Settings.from_env(home=home, staging_root=staging_root)
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

    from .api.app import create_app

    settings = _settings(ctx).with_overrides(host=host, port=port)
    probe = RuntimeLock(settings.runtime_root)
    try:  # refuse early and clearly rather than from inside uvicorn's lifespan
        probe.acquire()
    except EngineLocked as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    probe.release()
    app = create_app(settings)
    click.echo(f"Assembly Engine on http://{settings.host}:{settings.port}/ "
               f"(home {settings.home.resolve()})")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning",
                timeout_graceful_shutdown=30)


if __name__ == "__main__":
    main()
