"""The ``assemblies`` command line (Docs/assemblies.md §11).

Every command but ``serve`` and ``audit verify`` goes through the engine's REST API —
the running engine's, or an in-process one (see cli_connection.py) — so the CLI and the
API share one set of rules. ``--json`` prints machine-readable output on reporting
commands.
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from .cli_connection import CliError, EngineClient, engine_client, running_engine_client
from .cli_export import raw_file
from .cli_import import (
    FileResult,
    Job,
    batch_result,
    batches,
    discover,
    empty_roots,
    ordered,
    result_of,
    summary,
)
from .config import Settings
from .persistence.runtime import EngineLocked, RuntimeLock
from .types import Domain

console = Console(stderr=False)
DOMAINS = click.Choice([d.value for d in Domain])
EXPORT_REQUESTS = 8  # export requests in flight at once
KIND_FOLDERS = {"script": "Scripts", "workflow": "Workflows", "ansible": "Ansible_Playbooks"}
json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]  # type: ignore[no-any-return]


def _emit(as_json: bool, data: Any, human: Callable[[], None]) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        human()


def _run(ctx: click.Context, work: Callable[[EngineClient], int | None]) -> None:
    """Connect, run, and turn failures into one readable line and an exit code."""
    try:
        with engine_client(_settings(ctx)) as client:
            code = work(client)
    except CliError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    sys.exit(code or 0)


class NaturalGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


@click.group(cls=NaturalGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(path_type=Path), help="Engine home (ENGINE_HOME, default ./Engine).")
@click.option("--staging-root", type=click.Path(path_type=Path),
              help="Staging copy of the official library (ENGINE_STAGING_ROOT).")
@click.pass_context
def main(ctx: click.Context, home: Path | None, staging_root: Path | None) -> None:
    """Assembly Engine: the library service for IT-automation assemblies.

    Commands work whether or not the engine is running on the same home: they talk to
    the running engine, or start one in-process for the duration of the command.
    """
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
    app = create_app(settings, publish_cli_access=True)
    click.echo(f"Assembly Engine on http://{settings.host}:{settings.port}/ "
               f"(home {settings.home.resolve()})")
    # uvicorn shuts down gracefully on SIGINT/SIGTERM (the lifespan flushes the queue), then
    # re-raises the signal into the handlers it found: make those end the process with 0.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _exit_after_graceful_shutdown)
    # proxy_headers off: X-Forwarded-* are judged in one place, against ENGINE_TRUSTED_PROXIES
    # (api/client_origin.py); uvicorn would otherwise believe them from loopback.
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning",
                timeout_graceful_shutdown=30, proxy_headers=False)
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
        data = {"engine": client.mode, "assemblies": health["assemblies"], "queue": queue}

        def human() -> None:
            table = Table(title=f"Assembly Engine ({client.mode})")
            for column in ("domain", "assemblies", "queued", "last flush", "last error"):
                table.add_column(column)
            for domain, info in queue["domains"].items():
                table.add_row(domain, str(health["assemblies"][domain]), str(info["pending"]),
                              info["last_flush"] or "-", info["last_error"] or "-")
            console.print(table)
            console.print(f"queue depth: {queue['depth']}")
            for domain, info in queue["domains"].items():
                for item in info["items"]:
                    if item.get("flush_error"):
                        console.print(f"[red]cannot be written[/red] ({domain}) {item['assembly_guid']} "
                                      f"{item['display_name']!r}: {item['flush_error']}", markup=True,
                                      highlight=False)

        _emit(as_json, data, human)

    _run(ctx, work)


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

        _emit(as_json, body, human)

    _run(ctx, work)


@main.command("sync-official")
@json_option
@click.pass_context
def sync_official(ctx: click.Context, as_json: bool) -> None:
    """Rebuild the runtime official library from staging; exit 1 if the counts differ."""

    def work(client: EngineClient) -> int:
        report = client.call("POST", "/api/assemblies/official/sync")

        def human() -> None:
            click.echo(f"staging:  {_settings(ctx).staging_root}  {report['staging_count']} assemblies")
            click.echo(f"runtime:  {_settings(ctx).runtime_root}  {report['runtime_count']} assemblies")
            click.echo(f"payloads: {report['payloads_copied']} copied, {report['payloads_removed']} removed")
            for problem in report["problems"]:
                click.echo(f"problem:  {problem}", err=True)
            click.echo("counts match" if report["matches"] else "MISMATCH between staging and runtime")

        _emit(as_json, report, human)
        return 0 if report["matches"] else 1

    _run(ctx, work)


@main.command()
@click.option("--fix", is_flag=True, help="Remove orphan payload folders.")
@click.option("--grace-seconds", type=float, default=60.0, show_default=True,
              help="Never remove folders younger than this (they may belong to a write in progress).")
@json_option
@click.pass_context
def verify(ctx: click.Context, fix: bool, grace_seconds: float, as_json: bool) -> None:
    """Check schemas, payload checksums, missing and orphan payloads; exit 1 on problems."""

    def work(client: EngineClient) -> int:
        if fix:
            report = client.call("POST", "/api/admin/verify",
                                 json_body={"fix": True, "grace_seconds": grace_seconds})
        else:
            report = client.call("GET", "/api/admin/verify")

        def human() -> None:
            for info in report["schema"].values():
                state = "ok" if info["ok"] else f"PROBLEM (missing {', '.join(info['missing_columns'])})"
                click.echo(f"schema {info['file']}: {state}")
            click.echo(f"payloads checked: {report['payloads_checked']}")
            for label in ("missing", "corrupt"):
                for item in report[label]:
                    click.echo(f"{label}: {item['display_name']} ({item['assembly_guid']}, "
                               f"{item['domain']}) payload {item['payload_guid']}")
            for guid in report["orphans"]:
                click.echo(f"orphan payload: {guid}" + (" (removed)" if guid in report["removed"] else ""))
            click.echo("verify: ok" if report["ok"] else "verify: PROBLEMS FOUND")

        _emit(as_json, report, human)
        return 0 if report["ok"] else 1

    _run(ctx, work)


@main.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--domain", type=DOMAINS, default="user", show_default=True, help="Domain to import into.")
@json_option
@click.pass_context
def import_command(ctx: click.Context, paths: tuple[Path, ...], domain: str, as_json: bool) -> None:
    """Import legacy documents: files or whole legacy folder trees.

    Every file is reported once: imported, skipped (not an assembly document, with why) or
    failed (an assembly the engine refused, with its message). Exits 1 when anything failed
    or when a named path held nothing importable.
    """
    found = discover(paths)

    def work(client: EngineClient) -> int:
        results = list(found.results)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      RateColumn(), TimeElapsedColumn(), console=Console(stderr=True),
                      disable=as_json) as progress:
            task = progress.add_task("importing", total=len(found.jobs))
            for batch in batches(found.jobs):
                results.extend(_send_batch(client, batch, domain))
                progress.advance(task, len(batch))
        results = list(ordered(results))
        counts = summary(results)
        empty = empty_roots(paths, results)

        def human() -> None:
            for r in results:
                if r.status == "imported":
                    click.echo(f"imported  {r.path} -> {r.display_name} ({r.assembly_guid})")
                else:
                    click.echo(f"{r.status:<9} {r.path}: {r.reason}")
            for path in empty:
                click.echo(f"nothing importable in {path}", err=True)
            click.echo(f"{counts['imported']} imported, {counts['skipped']} skipped, "
                       f"{counts['failed']} failed")

        _emit(as_json, {**counts, "empty_paths": empty, "files": [r.as_dict() for r in results]},
              human)
        return 1 if counts["failed"] or empty else 0

    _run(ctx, work)


def _send_batch(client: EngineClient, batch: list[Job], domain: str) -> list[FileResult]:
    """One batch request; a batch the engine refuses as a whole fails each of its files."""
    try:
        answer = client.call("POST", "/api/assemblies/import/batch",
                             json_body={"documents": [job.body for job in batch], "domain": domain})
    except CliError as exc:
        return [result_of(job, None, exc.body, str(exc)) for job in batch]
    return [batch_result(job, item) for job, item in zip(batch, answer["results"], strict=True)]


class RateColumn(ProgressColumn):
    """Documents per second so far."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        rate = task.completed / elapsed if elapsed > 0 else 0.0
        return Text(f"{rate:,.0f} docs/s")


@main.command()
@click.argument("guid", required=False)
@click.option("--domain", type=DOMAINS, help="Export every assembly of this domain.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True,
              help="Folder to write the legacy tree into (Scripts/, Workflows/, Ansible_Playbooks/).")
@click.option("--format", "file_format", type=click.Choice(["legacy", "raw"]), default="legacy",
              show_default=True,
              help="legacy: one legacy JSON document each; raw: the plain script files, in "
                   "folders by category.")
@json_option
@click.pass_context
def export(ctx: click.Context, guid: str | None, domain: str | None, out_dir: Path,
           file_format: str, as_json: bool) -> None:
    """Export one assembly (GUID) or a whole domain as a folder tree that import reads."""
    if (guid is None) == (domain is None):
        raise click.UsageError("Give either a GUID or --domain.")

    def work(client: EngineClient) -> None:
        if guid is not None:
            targets = [client.call("GET", f"/api/assemblies/{guid}")]
        else:
            targets = []
            offset = 0
            while True:
                page = client.call("GET", "/api/assemblies",
                                   params={"domain": domain, "limit": 1000, "offset": offset})
                targets.extend(page["items"])
                offset += len(page["items"])
                if not page["items"] or offset >= page["total"]:
                    break
        written: list[dict[str, Any]] = []
        taken: set[Path] = set()
        def fetch(item: dict[str, Any]) -> Any:
            return client.call("GET", f"/api/assemblies/{item['assembly_guid']}/export")

        # Several requests in flight: the engine's audit log group-commits their entries.
        with ThreadPoolExecutor(max_workers=EXPORT_REQUESTS) as pool:
            documents = list(pool.map(fetch, targets))
        for item, document in zip(targets, documents, strict=True):
            if file_format == "raw":
                written.append(_write_raw(out_dir, item, document, taken))
                continue
            folder = out_dir / KIND_FOLDERS.get(item["assembly_kind"], "Other")
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / _file_name(item["display_name"])
            if target.exists() and _exported_guid(target) != item["assembly_guid"]:
                target = folder / _file_name(f"{item['display_name']}-{item['assembly_guid'][:8]}")
            target.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            written.append({"assembly_guid": item["assembly_guid"], "path": str(target)})
        def human() -> None:
            for item in written:
                click.echo(f"wrote {item['path']}")
                if item.get("attachments_not_written"):
                    click.echo(f"  attached files not written in raw format: "
                               f"{', '.join(item['attachments_not_written'])}")
            click.echo(f"{len(written)} assemblies exported to {out_dir}")

        _emit(as_json, {"written": written}, human)

    _run(ctx, work)


def _write_raw(out_dir: Path, item: dict[str, Any], document: dict[str, Any],
               taken: set[Path]) -> dict[str, Any]:
    raw = raw_file(item, document)
    target = out_dir.joinpath(*raw.relative.parts)
    if target in taken:  # another assembly of this export has the same name and folder
        target = target.with_name(f"{target.stem}-{item['assembly_guid'][:8]}{target.suffix}")
    taken.add(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(raw.data)
    result: dict[str, Any] = {"assembly_guid": item["assembly_guid"], "path": str(target)}
    if raw.attachments:
        result["attachments_not_written"] = list(raw.attachments)
    return result


def _exported_guid(path: Path) -> str | None:
    """The assembly an earlier export wrote to ``path`` (so a re-export overwrites it)."""
    try:
        block = json.loads(path.read_text(encoding="utf-8")).get("assembly_engine") or {}
    except (OSError, ValueError, AttributeError):
        return None
    guid = block.get("assembly_guid") if isinstance(block, dict) else None
    return guid if isinstance(guid, str) else None


def _file_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_. " else "_" for c in name).strip(" .")
    return (cleaned[:100] or "assembly") + ".json"


# --------------------------------------------------------------------------- history


class HistoryGroup(NaturalGroup):
    """``assemblies history GUID`` shows a history; ``assemblies history prune`` and the
    other subcommands are found by name first."""

    def resolve_command(self, ctx: click.Context, args: list[str]
                        ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return "show", self.commands["show"], args
        return super().resolve_command(ctx, args)


@main.group(cls=HistoryGroup)
def history() -> None:
    """Version history: `assemblies history GUID` lists every kept revision."""


@history.command("show")
@click.argument("guid")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@json_option
@click.pass_context
def history_show(ctx: click.Context, guid: str, limit: int, as_json: bool) -> None:
    """Every kept revision of GUID, newest first (also for a deleted assembly)."""

    def work(client: EngineClient) -> None:
        body = client.call("GET", f"/api/assemblies/{guid}/revisions", params={"limit": limit})

        def human() -> None:
            state = (f"deleted {body['deleted_at']} by {body['deleted_by'] or '-'}" if body["deleted"]
                     else "current")
            console.print(f"{guid} ({body['source']}): {body['total']} revision(s), {state}",
                          highlight=False)
            table = Table()
            for column in ("revision", "action", "updated_at", "updated_by", "changed", "size"):
                table.add_column(column)
            for item in body["items"]:
                mark = " *" if item["is_current"] else ""
                table.add_row(f"{item['revision']}{mark}", item["action"], item["updated_at"],
                              item["updated_by"] or "-", ", ".join(item["changed_fields"]) or "-",
                              str(item["payload_size_bytes"]))
            console.print(table)

        _emit(as_json, body, human)

    _run(ctx, work)


@history.command("prune")
@click.option("--keep", type=click.IntRange(0), help="Revisions to keep per assembly (0: all; "
              "default ENGINE_HISTORY_KEEP).")
@click.option("--trash-days", type=click.IntRange(0), help="Purge assemblies deleted longer ago "
              "than this (0: never; default ENGINE_TRASH_DAYS).")
@json_option
@click.pass_context
def history_prune(ctx: click.Context, keep: int | None, trash_days: int | None, as_json: bool) -> None:
    """Apply retention now: remove old revisions, purge old deleted assemblies and the
    payload folders nothing uses any more."""

    def work(client: EngineClient) -> None:
        body: dict[str, Any] = {}
        if keep is not None:
            body["keep"] = keep
        if trash_days is not None:
            body["trash_days"] = trash_days
        result = client.call("POST", "/api/admin/history/prune", json_body=body)
        _emit(as_json, result, lambda: click.echo(
            f"removed {result['revisions_removed']} revision(s), purged {result['deleted_purged']} "
            f"deleted assembly(ies), {len(result['payloads_removed'])} payload folder(s) "
            f"(keep={result['keep'] or 'all'}, trash_days={result['trash_days'] or 'forever'})"))

    _run(ctx, work)


def _revision_text(record: dict[str, Any]) -> list[str]:
    """The script, playbook or workflow of a revision as lines to diff."""
    payload = record.get("payload") or {}
    if "workflow" in payload:
        text = json.dumps(payload["workflow"], indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    else:
        text = payload.get("script") or ""
    return text.splitlines(keepends=True)


DIFFED_FIELDS = ("display_name", "summary", "category", "assembly_type", "version", "metadata", "tags")


@main.command()
@click.argument("guid")
@click.argument("a", type=click.IntRange(1))
@click.argument("b", type=click.IntRange(1), required=False)
@json_option
@click.pass_context
def diff(ctx: click.Context, guid: str, a: int, b: int | None, as_json: bool) -> None:
    """Unified diff of GUID's script/playbook/workflow and changed fields between revisions
    A and B (B: the current revision)."""
    import difflib

    def work(client: EngineClient) -> None:
        older = client.call("GET", f"/api/assemblies/{guid}/revisions/{a}")
        if b is None:
            newest = client.call("GET", f"/api/assemblies/{guid}/revisions", params={"limit": 1})
            target = newest["items"][0]["revision"]
        else:
            target = b
        newer = client.call("GET", f"/api/assemblies/{guid}/revisions/{target}")
        fields = {name: {"a": older.get(name), "b": newer.get(name)} for name in DIFFED_FIELDS
                  if older.get(name) != newer.get(name)}
        main_file = "".join(difflib.unified_diff(
            _revision_text(older), _revision_text(newer),
            fromfile=f"{guid} revision {a}", tofile=f"{guid} revision {target}"))
        old_files = {f["file_name"]: f.get("size") for f in (older.get("payload") or {}).get("files", [])}
        new_files = {f["file_name"]: f.get("size") for f in (newer.get("payload") or {}).get("files", [])}
        files = {"added": sorted(new_files.keys() - old_files.keys()),
                 "removed": sorted(old_files.keys() - new_files.keys())}
        data = {"assembly_guid": guid, "a": a, "b": target, "fields": fields, "diff": main_file,
                "files": files}

        def human() -> None:
            for name, change in fields.items():
                click.echo(f"{name}: {json.dumps(change['a'], ensure_ascii=False)} -> "
                           f"{json.dumps(change['b'], ensure_ascii=False)}")
            for name in files["added"]:
                click.echo(f"attachment added: {name}")
            for name in files["removed"]:
                click.echo(f"attachment removed: {name}")
            if main_file:
                click.echo(main_file, nl=not main_file.endswith("\n"))
            if not (fields or main_file or files["added"] or files["removed"]):
                click.echo(f"revisions {a} and {target} are the same")

        _emit(as_json, data, human)

    _run(ctx, work)


@main.command()
@click.argument("guid")
@click.argument("revision", type=click.IntRange(1))
@click.option("--expected-revision", type=click.IntRange(1),
              help="Refuse (exit 1) unless the current revision is this one.")
@json_option
@click.pass_context
def restore(ctx: click.Context, guid: str, revision: int, expected_revision: int | None,
            as_json: bool) -> None:
    """Make REVISION's content GUID's new revision (history is kept, never rewritten)."""

    def work(client: EngineClient) -> None:
        body = {"expected_revision": expected_revision} if expected_revision is not None else None
        record = client.call("POST", f"/api/assemblies/{guid}/revisions/{revision}/restore",
                             json_body=body)
        _emit(as_json, record, lambda: click.echo(
            f"restored revision {revision} of {record['display_name']!r} as revision {record['revision']}"))

    _run(ctx, work)


@main.command()
@click.argument("guid")
@json_option
@click.pass_context
def undelete(ctx: click.Context, guid: str, as_json: bool) -> None:
    """Bring back a deleted assembly at its last revision."""

    def work(client: EngineClient) -> None:
        record = client.call("POST", f"/api/assemblies/{guid}/undelete")
        _emit(as_json, record, lambda: click.echo(
            f"undeleted {record['display_name']!r} ({record['source']}) as revision {record['revision']}"))

    _run(ctx, work)


@main.group(cls=NaturalGroup)
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
        user = client.call("POST", "/api/users",
                           json_body={"username": username, "password": password, "role": role})
        _emit(as_json, user, lambda: click.echo(f"created {user['username']} ({user['role']})"))

    _run(ctx, work)


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
                table.add_row(user["username"], user["role"], "yes" if user["disabled"] else "no",
                              user["created_at"])
            console.print(table)

        _emit(as_json, items, human)

    _run(ctx, work)


def _patch_user(ctx: click.Context, username: str, changes: dict[str, Any], as_json: bool,
                done: str) -> None:
    def work(client: EngineClient) -> None:
        user = client.call("PATCH", f"/api/users/{username}", json_body=changes)
        _emit(as_json, user, lambda: click.echo(done))

    _run(ctx, work)


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
    _patch_user(ctx, username, {"disabled": not enable}, as_json,
                f"{username} {'enabled' if enable else 'disabled'}")


@users.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
@json_option
@click.pass_context
def users_passwd(ctx: click.Context, username: str, password_stdin: bool, as_json: bool) -> None:
    """Set a user's password (ends their other sessions)."""
    password = _password(password_stdin, f"New password for {username}")
    _patch_user(ctx, username, {"password": password}, as_json, f"password of {username} changed")


@main.command()
@click.argument("dest", type=click.Path(path_type=Path))
@json_option
@click.pass_context
def backup(ctx: click.Context, dest: Path, as_json: bool) -> None:
    """Snapshot all databases, payloads and the audit log into DEST (engine may be running)."""

    def work(client: EngineClient) -> None:
        result = client.call("POST", "/api/admin/backup", json_body={"destination": str(dest.resolve())})
        _emit(as_json, result, lambda: click.echo(
            f"backup written to {result['destination']} ({result['copied']['payloads']} payloads) "
            f"in {result['seconds']}s"))

    _run(ctx, work)


@main.group(cls=NaturalGroup)
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
@json_option
@click.pass_context
def audit_verify(ctx: click.Context, as_json: bool) -> None:
    """Check the audit chain; name the first entry edited, removed or reordered (exit 1).

    With an engine running on the home, the engine checks its own log under its lock (so a
    half-written entry is never mistaken for tampering); otherwise the files are read.
    """
    from .services.audit import verify_file
    from .services.container import AUDIT_FILE

    settings = _settings(ctx)
    try:
        running = running_engine_client(settings)
    except CliError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    if running is not None:
        with running.http:
            data = running.call("GET", "/api/admin/audit/verify")
    else:
        path = settings.logs_dir / AUDIT_FILE
        result = verify_file(path)
        data = {"ok": result.ok, "entries": result.entries, "first_bad_line": result.first_bad_line,
                "problem": result.problem, "path": str(path)}
    _emit(as_json, data, lambda: click.echo(
        f"audit log {data['path']}: intact, {data['entries']} entries" if data["ok"]
        else f"audit log {data['path']}: TAMPERED — {data['problem']}"))
    sys.exit(0 if data["ok"] else 1)


if __name__ == "__main__":
    main()
