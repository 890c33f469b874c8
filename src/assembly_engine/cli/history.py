"""``assemblies history``, ``diff``, ``restore`` and ``undelete``: the version history."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.table import Table

from assembly_engine.cli.common import NaturalGroup, console, emit, json_option, run
from assembly_engine.cli.connection import EngineClient
from assembly_engine.cli.text_diff import unified_diff


class HistoryGroup(NaturalGroup):
    """``assemblies history GUID`` shows a history; ``assemblies history prune`` and the
    other subcommands are found by name first."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return "show", self.commands["show"], args
        return super().resolve_command(ctx, args)


@click.group(cls=HistoryGroup)
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
            state = (
                f"deleted {body['deleted_at']} by {body['deleted_by'] or '-'}"
                if body["deleted"]
                else "current"
            )
            console.print(f"{guid} ({body['source']}): {body['total']} revision(s), {state}", highlight=False)
            table = Table()
            for column in ("revision", "action", "updated_at", "updated_by", "changed", "size"):
                table.add_column(column)
            for item in body["items"]:
                mark = " *" if item["is_current"] else ""
                table.add_row(
                    f"{item['revision']}{mark}",
                    item["action"],
                    item["updated_at"],
                    item["updated_by"] or "-",
                    ", ".join(item["changed_fields"]) or "-",
                    str(item["payload_size_bytes"]),
                )
            console.print(table)

        emit(as_json, body, human)

    run(ctx, work)


@history.command("prune")
@click.option(
    "--keep",
    type=click.IntRange(0),
    help="Revisions to keep per assembly (0: all; default ENGINE_HISTORY_KEEP).",
)
@click.option(
    "--trash-days",
    type=click.IntRange(0),
    help="Purge assemblies deleted longer ago than this (0: never; default ENGINE_TRASH_DAYS).",
)
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
        emit(
            as_json,
            result,
            lambda: click.echo(
                f"removed {result['revisions_removed']} revision(s), purged {result['deleted_purged']} "
                f"deleted assembly(ies), {len(result['payloads_removed'])} payload folder(s) "
                f"(keep={result['keep'] or 'all'}, trash_days={result['trash_days'] or 'forever'})"
            ),
        )

    run(ctx, work)


def _revision_text(record: dict[str, Any]) -> list[str]:
    """The script, playbook or workflow of a revision as lines to diff."""
    payload = record.get("payload") or {}
    if "workflow" in payload:
        text = json.dumps(payload["workflow"], indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    else:
        text = payload.get("script") or ""
    return text.splitlines(keepends=True)


DIFFED_FIELDS = ("display_name", "summary", "category", "assembly_type", "version", "metadata", "tags")


@click.command()
@click.argument("guid")
@click.argument("a", type=click.IntRange(1))
@click.argument("b", type=click.IntRange(1), required=False)
@json_option
@click.pass_context
def diff(ctx: click.Context, guid: str, a: int, b: int | None, as_json: bool) -> None:
    """Unified diff of GUID's script/playbook/workflow and changed fields between revisions
    A and B (B: the current revision)."""

    def work(client: EngineClient) -> None:
        older = client.call("GET", f"/api/assemblies/{guid}/revisions/{a}")
        if b is None:
            newest = client.call("GET", f"/api/assemblies/{guid}/revisions", params={"limit": 1})
            target = newest["items"][0]["revision"]
        else:
            target = b
        newer = client.call("GET", f"/api/assemblies/{guid}/revisions/{target}")
        fields = {
            name: {"a": older.get(name), "b": newer.get(name)}
            for name in DIFFED_FIELDS
            if older.get(name) != newer.get(name)
        }
        main_file = unified_diff(  # bounded: a huge revision cannot make it quadratic
            _revision_text(older),
            _revision_text(newer),
            fromfile=f"{guid} revision {a}",
            tofile=f"{guid} revision {target}",
        )
        old_files = {f["file_name"]: f.get("size") for f in (older.get("payload") or {}).get("files", [])}
        new_files = {f["file_name"]: f.get("size") for f in (newer.get("payload") or {}).get("files", [])}
        files = {
            "added": sorted(new_files.keys() - old_files.keys()),
            "removed": sorted(old_files.keys() - new_files.keys()),
        }
        data = {
            "assembly_guid": guid,
            "a": a,
            "b": target,
            "fields": fields,
            "diff": main_file,
            "files": files,
        }

        def human() -> None:
            for name, change in fields.items():
                click.echo(
                    f"{name}: {json.dumps(change['a'], ensure_ascii=False)} -> "
                    f"{json.dumps(change['b'], ensure_ascii=False)}"
                )
            for name in files["added"]:
                click.echo(f"attachment added: {name}")
            for name in files["removed"]:
                click.echo(f"attachment removed: {name}")
            if main_file:
                click.echo(main_file, nl=not main_file.endswith("\n"))
            if not (fields or main_file or files["added"] or files["removed"]):
                click.echo(f"revisions {a} and {target} are the same")

        emit(as_json, data, human)

    run(ctx, work)


@click.command()
@click.argument("guid")
@click.argument("revision", type=click.IntRange(1))
@click.option(
    "--expected-revision",
    type=click.IntRange(1),
    help="Refuse (exit 1) unless the current revision is this one.",
)
@json_option
@click.pass_context
def restore(
    ctx: click.Context, guid: str, revision: int, expected_revision: int | None, as_json: bool
) -> None:
    """Make REVISION's content GUID's new revision (history is kept, never rewritten)."""

    def work(client: EngineClient) -> None:
        body = {"expected_revision": expected_revision} if expected_revision is not None else None
        record = client.call("POST", f"/api/assemblies/{guid}/revisions/{revision}/restore", json_body=body)
        emit(
            as_json,
            record,
            lambda: click.echo(
                f"restored revision {revision} of {record['display_name']!r} as revision {record['revision']}"
            ),
        )

    run(ctx, work)


@click.command()
@click.argument("guid")
@json_option
@click.pass_context
def undelete(ctx: click.Context, guid: str, as_json: bool) -> None:
    """Bring back a deleted assembly at its last revision."""

    def work(client: EngineClient) -> None:
        record = client.call("POST", f"/api/assemblies/{guid}/undelete")
        emit(
            as_json,
            record,
            lambda: click.echo(
                f"undeleted {record['display_name']!r} ({record['source']}) as revision {record['revision']}"
            ),
        )

    run(ctx, work)
