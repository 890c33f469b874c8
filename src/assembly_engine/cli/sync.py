"""``assemblies sync plan|apply|diff|write``: a domain kept as a library folder
(Docs/library-as-code.md). The CLI reads and writes the files; the engine decides, through
``POST /api/sync/plan``, ``/api/sync/apply`` and ``/api/sync/render``.

Exit codes: 0 everything planned was done (or, for plan, nothing is in conflict); 1 a
conflict or a refusal is left (each reported); 2 ``--plan-id`` no longer matches (nothing
was changed).
"""

from __future__ import annotations

import difflib
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from assembly_engine.cli.common import DOMAINS, NaturalGroup, emit, json_option, run
from assembly_engine.cli.connection import CliError, EngineClient
from assembly_engine.cli.git_sources import commit_and_push, opened
from assembly_engine.cli.library_files import FolderItem, read_folder, write_items
from assembly_engine.cli.loopback_http import compact_json

PLAN_CHANGED = "plan_changed"
# An apply request carries about this much file content (base64); a larger library goes in
# several requests, each naming every item by digest (ASSEMBLIES_SYNC_CHUNK_BYTES).
CHUNK_BYTES = 8 * 1024 * 1024


def chunk_bytes() -> int:
    value = os.environ.get("ASSEMBLIES_SYNC_CHUNK_BYTES", "")
    return int(value) if value.isdigit() and int(value) > 0 else CHUNK_BYTES


def apply_in_parts(
    client: EngineClient, body: dict[str, Any], items: list[FolderItem], budget: int
) -> dict[str, Any]:
    """Apply in one request, or, for a library over ``budget``, plan it by digest and send
    the content of the items to write in parts. Each part re-plans on the engine (only the
    first holds to ``plan_id``: the parts before it moved the domain), so an interrupted
    apply simply continues with the next run."""
    if sum(i.weight for i in items) <= budget:
        answer: dict[str, Any] = client.call(
            "POST", "/api/sync/apply", json_body={**body, "items": [i.full() for i in items]}
        )
        answer["requests"] = 1
        return answer
    digests = {i.path: i.digests() for i in items}
    full = {i.path: i for i in items}
    plan_body = {k: v for k, v in body.items() if k != "plan_id"}
    plan = client.call("POST", "/api/sync/plan", json_body={**plan_body, "items": list(digests.values())})
    if body.get("plan_id") is not None and plan["plan_id"] != body["plan_id"]:
        raise CliError(
            "The source or the domain changed since that plan: nothing was applied. Run sync plan again.",
            exit_code=2,
        )
    todo = [p["path"] for p in plan["items"] if p["action"] in ("create", "update") and p["path"] in full]
    parts: list[list[str]] = [[]]
    size = 0
    for path in todo:
        if parts[-1] and size + full[path].weight > budget:
            parts.append([])
            size = 0
        parts[-1].append(path)
        size += full[path].weight
    head: dict[str, Any] | None = None
    results: list[dict[str, Any]] = []
    for number, part in enumerate(parts):
        chosen = set(part)
        request = {
            **body,
            "items": [full[p].full() if p in chosen else digests[p] for p in digests],
            "plan_id": body.get("plan_id") if number == 0 else None,
        }
        answer = client.call("POST", "/api/sync/apply", json_body=request)
        head = head or answer
        results.extend(answer["results"])
    assert head is not None
    return {
        **head,
        "results": results,
        "done": sum(1 for r in results if r["status"] == "done"),
        "failed": sum(1 for r in results if r["status"] == "failed"),
        "requests": len(parts),
    }


_ref_option = click.option("--ref", default=None, help="Branch (or tag) of a repository URL.")


@dataclass(frozen=True)
class SyncSource:
    """The library a sync reads and what it takes of it: the options plan and apply share."""

    location: str
    ref: str | None
    domain: str
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    prune: bool = False
    name: str | None = None

    def read(self) -> tuple[dict[str, Any], list[FolderItem]]:
        """Read the source (a folder, a git work tree, or a repository URL cloned for the
        purpose): the request without its items, and the items."""
        with opened(self.location, self.ref) as place:
            try:
                found = read_folder(place.path, self.include, self.exclude)
            except CliError as exc:  # read before any engine is reached: one line, exit 1
                raise click.ClickException(str(exc)) from None
        return {
            "source": self.name or place.name,
            "commit": place.commit,
            "domain": self.domain,
            "skipped": found.skipped,
            "include": list(self.include),
            "exclude": list(self.exclude),
            "ignore": found.ignore,
            "prune": self.prune,
            "manifest": found.manifest,
        }, found.items


def _source_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """The SOURCE argument and its options, handed to the command as one ``source``."""

    @functools.wraps(f)
    def command(
        *args: Any,
        source: str,
        ref: str | None,
        domain: str,
        include: tuple[str, ...],
        exclude: tuple[str, ...],
        prune: bool,
        source_name: str | None,
        **kwargs: Any,
    ) -> Any:
        chosen = SyncSource(source, ref, domain, include, exclude, prune, source_name)
        return f(*args, source=chosen, **kwargs)

    # Applied from the last option up: --help lists SOURCE, --domain, --ref, ... in this order.
    wrapped: Callable[..., Any] = command
    for option in (
        click.option(
            "--source-name",
            default=None,
            help="How the engine names this source (default: a work tree's origin URL, a "
            "repository URL, or the folder's absolute path). Give a stable name when the "
            "folder moves, e.g. in CI checkouts.",
        ),
        click.option("--prune", is_flag=True, help="Delete (undeletably) what is gone from the source."),
        click.option("--exclude", multiple=True, help="Leave out paths matching this glob (repeatable)."),
        click.option("--include", multiple=True, help="Read only paths matching this glob (repeatable)."),
        _ref_option,
        click.option("--domain", type=DOMAINS, required=True, help="The domain the folder holds."),
        click.argument("source"),
    ):
        wrapped = option(wrapped)
    return wrapped


def _print_items(answer: dict[str, Any]) -> None:
    lines = []  # written at once: an echo per line of a 10,000-item plan cost a tenth of a second
    for item in answer["items"]:
        reason = f" ({item['reason']})" if item.get("reason") else ""
        lines.append(f"{item['action']:<9} {item['path']}{reason}")
        sums = item.get("checksums")
        if item["action"] == "conflict" and sums:
            lines.append(f"          base {sums['base']}  engine {sums['engine']}  source {sums['source']}")
    counts = ", ".join(f"{n} {action}" for action, n in answer["counts"].items())
    lines.append(f"plan {answer['plan_id']}: {counts}")
    click.echo("\n".join(lines))


@click.group("sync", cls=NaturalGroup)
def sync() -> None:
    """Keep a domain as a library folder: plan, apply, diff and write."""


@sync.command("plan")
@_source_option
@json_option
@click.pass_context
def plan_command(ctx: click.Context, source: SyncSource, as_json: bool) -> None:
    """What applying SOURCE to the domain would do, one line per item; changes nothing.

    Exits 1 when an item is in conflict."""
    body, items = source.read()
    # A large library is planned by digest (new items are then checked when applied).
    by_digest = sum(i.weight for i in items) > chunk_bytes()
    body["items"] = [i.digests() if by_digest else i.full() for i in items]

    try:
        # Sent as encoded (orjson; the folder's JSON was read without NaN): the engine keeps
        # the plan of these very bytes, so an unchanged library is answered from it.
        encoded = compact_json(body)
    except ValueError as exc:  # text that is no UTF-8 (a file name the file system mangled)
        raise click.ClickException(f"The request cannot be sent as JSON: {exc}.") from None

    def work(client: EngineClient) -> int:
        answer = client.call("POST", "/api/sync/plan", json_bytes=encoded)
        emit(as_json, answer, lambda: _print_items(answer))
        return 1 if answer["counts"]["conflict"] else 0

    run(ctx, work)


@sync.command("apply")
@_source_option
@click.option("--plan-id", default=None, help="Refuse (exit 2) unless the plan is still this one.")
@json_option
@click.pass_context
def apply_command(ctx: click.Context, source: SyncSource, plan_id: str | None, as_json: bool) -> None:
    """Carry the plan out through the normal write path (durable, audited, history kept).

    Exits 0 when everything planned was done, 1 when a conflict or refusal is left, 2 when
    --plan-id no longer matches (nothing changed)."""
    request, items = source.read()
    body = {**request, "plan_id": plan_id}

    def work(client: EngineClient) -> int:
        try:
            answer = apply_in_parts(client, body, items, chunk_bytes())
        except CliError as exc:
            if isinstance(exc.body, dict) and exc.body.get("error") == PLAN_CHANGED:
                raise CliError(str(exc), exit_code=2, body=exc.body) from None
            raise

        def human() -> None:
            _print_items(answer)
            for result in answer["results"]:
                if result["status"] == "failed":
                    click.echo(f"failed    {result['path']}: {result['message']}")
            click.echo(f"{answer['done']} done, {answer['failed']} failed")

        emit(as_json, answer, human)
        return 1 if answer["failed"] or answer["counts"]["conflict"] else 0

    run(ctx, work)


@sync.command("diff")
@click.argument("source")
@click.argument("path")
@click.option("--domain", type=DOMAINS, required=True, help="The domain the folder holds.")
@_ref_option
@click.option("--source-name", default=None, help="The name the source was synced under.")
@json_option
@click.pass_context
def diff_command(
    ctx: click.Context,
    source: str,
    path: str,
    domain: str,
    ref: str | None,
    source_name: str | None,
    as_json: bool,
) -> None:
    """The three-way difference of one file: base (the last sync) -> engine, base -> source."""
    body, items = SyncSource(source, ref, domain, include=(path,), name=source_name).read()
    chosen = [i for i in items if i.path == path]
    if not chosen:
        raise click.ClickException(f"{path} is no library item of {source}.")
    body["items"] = [chosen[0].full()]
    local = chosen[0].raw
    body["skipped"] = []

    def work(client: EngineClient) -> int:
        answer = client.call("POST", "/api/sync/plan", json_body=body)
        item = next(i for i in answer["items"] if i["path"] == path)
        guid = item.get("assembly_guid")
        diffs: dict[str, str] = {}
        if guid is not None:
            engine = _text(client.call("GET", f"/api/assemblies/{guid}"))
            base_revision = item.get("base_revision")
            base = engine
            if base_revision:
                base = _text(client.call("GET", f"/api/assemblies/{guid}/revisions/{base_revision}"))
            mine = local.decode("utf-8", errors="replace")
            for label, text in (("engine", engine), ("source", mine)):
                lines = difflib.unified_diff(
                    base.splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    f"base/{path}",
                    f"{label}/{path}",
                )
                diffs[label] = "".join(lines)

        def human() -> None:
            click.echo(f"{item['action']}: {path}")
            if guid is None:
                click.echo("not in the engine yet (create)")
            for text in diffs.values():
                click.echo(text, nl=False)

        emit(as_json, {**item, "diff": diffs}, human)
        return 1 if item["action"] == "conflict" else 0

    run(ctx, work)


def _text(record: dict[str, Any]) -> str:
    payload = record.get("payload") or {}
    script = payload.get("script")
    return script if isinstance(script, str) else str(payload.get("workflow", ""))


def _engine_user(client: EngineClient) -> str:
    """Who the CLI acts as: a signed-in user, or the engine's own ``cli`` admin (its token
    has no session for /api/auth/me to describe)."""
    try:
        who = client.call("GET", "/api/auth/me")
    except CliError:
        return "cli"
    name = who.get("username") if isinstance(who, dict) else None
    return name if isinstance(name, str) and name else "cli"


@sync.command("write")
@click.argument("dest")
@click.option("--domain", type=DOMAINS, required=True, help="The domain to write.")
@_ref_option
@click.option("--commit", "message", default=None, help="Commit what was written with this message (git).")
@click.option("--push", is_flag=True, help="Push the commit upstream (with --commit).")
@click.option(
    "--format",
    "form",
    type=click.Choice(["library", "tactical-rmm"]),
    default="library",
    show_default=True,
    help="The library-folder layout, or a Tactical RMM library (community_scripts.json + scripts/).",
)
@click.option("--include", multiple=True, help="Write only paths matching this glob (repeatable).")
@json_option
@click.pass_context
def write_command(
    ctx: click.Context,
    dest: str,
    domain: str,
    ref: str | None,
    message: str | None,
    push: bool,
    form: str,
    include: tuple[str, ...],
    as_json: bool,
) -> None:
    """Write the domain into DEST (a folder, a git work tree or a repository URL); files
    already holding the same bytes are not rewritten. --commit commits them as the engine
    user, --push pushes the commit upstream."""
    if push and message is None:
        raise click.UsageError("--push needs --commit MESSAGE.")

    def work(client: EngineClient) -> int:
        answer = client.call(
            "POST", "/api/sync/render", json_body={"domain": domain, "format": form, "include": list(include)}
        )
        author = _engine_user(client)
        with opened(dest, ref, shallow=False) as place:
            place.path.mkdir(parents=True, exist_ok=True)
            written, unchanged = write_items(place.path, answer, form)
            commit = None
            if message is not None:
                commit = commit_and_push(place, written, message, str(author), push=push)
        result = {
            "written": len(written),
            "unchanged": unchanged,
            "items": len(answer["items"]),
            "left_out": answer["left_out"],
            "commit": commit,
        }

        def human() -> None:
            for left in answer["left_out"]:
                click.echo(f"left out  {left.get('path') or left['assembly_guid']}: {left['reason']}")
            click.echo(
                f"{len(answer['items'])} assemblies: {len(written)} files written, {unchanged} unchanged"
            )
            if commit is not None:
                click.echo(f"committed {commit}" + (" and pushed" if push else ""))

        emit(as_json, result, human)
        return 0

    run(ctx, work)
