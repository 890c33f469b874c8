"""What ``assemblies import PATH…`` finds and how it accounts for it.

Walking the named paths gives import *jobs* (one request body each) and the files that
are no jobs. Every file ends in exactly one of three states:

* ``imported`` — the engine created (or replaced) an assembly from it;
* ``skipped`` — it is not an assembly document (a README, an image, a JSON file that is no
  assembly): the reason says why and what was expected;
* ``failed`` — it is an assembly document, or meant to be one, and was refused: the reason
  is the engine's message (or why the file could not be read).

The command exits 1 when anything failed, or when a path named on the command line held
nothing importable (no file of it was imported or failed).
"""

from __future__ import annotations

import base64
import json
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
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
from rich.text import Text

from assembly_engine.cli.common import DOMAINS, emit, json_option, run
from assembly_engine.cli.connection import CliError, EngineClient
from assembly_engine.storage.files import library_tree

DOCUMENT_SUFFIXES = (".json", ".yml", ".yaml")
SCRIPT_SUFFIXES = (".ps1", ".bat", ".cmd", ".sh", ".py")  # plain scripts, sent byte for byte
NOT_A_DOCUMENT = (
    "not an assembly document (imported are .json, .yml, .yaml, plain scripts "
    ".ps1 .bat .cmd .sh .py, and files starting with a #! line)"
)
NOT_AN_ASSEMBLY = "not_an_assembly"  # the engine's error code for such documents
# One batch request carries at most this many documents and about this much JSON (the
# engine refuses bodies over ENGINE_IMPORT_MAX_BYTES, 32 MiB by default).
BATCH_DOCUMENTS = 250
BATCH_BYTES = 8 * 1024 * 1024
TRMM_MANIFEST = "community_scripts.json"  # Tactical RMM: this manifest beside scripts/
TRMM_SCRIPTS = "scripts"


@dataclass
class Job:
    """One document to send to the engine."""

    path: str
    root: int  # index of the named path it came from
    body: dict[str, Any]


@dataclass
class FileResult:
    path: str
    root: int
    status: str  # imported | skipped | failed
    reason: str | None = None
    assembly_guid: str | None = None
    display_name: str | None = None
    imported_before: str | None = None  # the assembly an earlier import of this file made

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "status": self.status}
        if self.status == "imported":
            out.update(assembly_guid=self.assembly_guid, display_name=self.display_name)
            if self.imported_before is not None:
                out["imported_before"] = self.imported_before
        else:
            out["reason"] = self.reason
        return out


@dataclass
class Discovery:
    jobs: list[Job] = field(default_factory=list)
    results: list[FileResult] = field(default_factory=list)  # decided without the engine

    def skip(self, path: Path, root: int, reason: str) -> None:
        self.results.append(FileResult(str(path), root, "skipped", reason))

    def fail(self, path: Path, root: int, reason: str) -> None:
        self.results.append(FileResult(str(path), root, "failed", reason))


def discover(paths: tuple[Path, ...]) -> Discovery:
    found = Discovery()
    for root, path in enumerate(paths):
        if path.is_dir():
            tree = library_tree.walk(path)  # links and what leaves the folder are refused
            files = tree.files
            consumed: set[Path] = set()
            for manifest in (p for p in files if _is_manifest(p)):
                consumed |= _manifest(found, manifest, root)
            for refused, reason in tree.refused:
                if refused not in consumed:  # a manifest's entry reports it already
                    found.fail(refused, root, reason)
            for child in files:
                if child not in consumed:
                    _file(found, child, root, base=path)
        elif path.is_file():
            if _is_manifest(path):
                _manifest(found, path, root)
            else:
                _file(found, path, root, base=None)
        else:
            found.fail(path, root, "no such file or folder")
    return found


def _is_manifest(path: Path) -> bool:
    return path.name == TRMM_MANIFEST and (path.parent / TRMM_SCRIPTS).is_dir()


def _manifest(found: Discovery, manifest: Path, root: int) -> set[Path]:
    """Jobs for every entry of a Tactical RMM manifest; returns the files it accounts for."""
    consumed = {manifest}
    try:
        entries = json.loads(manifest.read_bytes())
    except (OSError, ValueError, RecursionError) as exc:
        found.fail(manifest, root, f"Tactical RMM manifest cannot be read: {exc}")
        return consumed
    if not isinstance(entries, list):
        found.fail(manifest, root, "Tactical RMM manifest must be a JSON list of script entries")
        return consumed
    scripts = manifest.parent / TRMM_SCRIPTS
    for index, entry in enumerate(entries):
        file_name = entry.get("filename") if isinstance(entry, dict) else None
        if not isinstance(file_name, str) or not file_name or Path(file_name).name != file_name:
            found.fail(
                manifest, root, f"entry {index} of the manifest has no usable filename (got {file_name!r})"
            )
            continue
        script = scripts / file_name
        consumed.add(script)
        problem = library_tree.entry_problem(script, manifest.parent.resolve())
        if problem is not None:
            found.fail(script, root, f"named by {manifest.name} entry {index} but {problem}")
            continue
        try:
            raw = library_tree.read_inside(script)
        except OSError as exc:
            found.fail(
                script,
                root,
                f"named by {manifest.name} entry {index} but cannot be read: {exc.strerror or exc}",
            )
            continue
        found.jobs.append(
            Job(
                str(script),
                root,
                {
                    "document": entry,
                    "file_name": file_name,
                    "script_base64": encode_bytes(raw),
                },
            )
        )
    found.skip(
        manifest, root, f"Tactical RMM manifest: its {len(entries)} entries are listed under {TRMM_SCRIPTS}/"
    )
    return consumed


def _has_shebang(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(5).removeprefix(b"\xef\xbb").startswith(b"#!")
    except OSError:
        return False


def _file(found: Discovery, path: Path, root: int, *, base: Path | None) -> None:
    """A job for one file (``base``: the named folder it was found in, or None)."""
    suffix = path.suffix.lower()
    plain = suffix in SCRIPT_SUFFIXES or (not suffix and _has_shebang(path))
    if suffix not in DOCUMENT_SUFFIXES and not plain:
        found.skip(path, root, NOT_A_DOCUMENT)
        return
    try:
        raw = library_tree.read_inside(path) if base is not None else path.read_bytes()
    except OSError as exc:
        found.fail(path, root, f"cannot read: {exc.strerror or exc}")
        return
    # Plain scripts and playbooks found in a folder get their folder path as category.
    relative = path.relative_to(base).as_posix() if base is not None else path.name
    if plain:
        found.jobs.append(Job(str(path), root, {"document_base64": encode_bytes(raw), "file_name": relative}))
        return
    document: Any
    if suffix == ".json":
        try:
            document = json.loads(raw)
        except ValueError as exc:
            found.fail(path, root, f"not valid JSON: {exc}")
            return
        except RecursionError:
            found.fail(path, root, "not readable as JSON: it is nested too deeply")
            return
        file_name = path.name
    else:
        try:
            document = raw.decode("utf-8")
        except UnicodeDecodeError:
            found.fail(path, root, "not UTF-8 text (save it as UTF-8 and import it again)")
            return
        file_name = relative
    found.jobs.append(Job(str(path), root, {"document": document, "file_name": file_name}))


def encode_bytes(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def result_of(
    job: Job, answer: dict[str, Any] | None, error: dict[str, Any] | None, message: str | None
) -> FileResult:
    """Turn the engine's answer for one job into a file result."""
    if answer is not None:
        return FileResult(
            job.path,
            job.root,
            "imported",
            assembly_guid=answer["assembly_guid"],
            display_name=answer["display_name"],
        )
    code = error.get("error") if isinstance(error, dict) else None
    status = "skipped" if code == NOT_AN_ASSEMBLY else "failed"
    return FileResult(job.path, job.root, status, message or "refused by the engine")


def batch_result(job: Job, item: dict[str, Any]) -> FileResult:
    """A file result from one entry of a batch answer (a dry run's ``valid`` counts as
    imported: it would be)."""
    status = item.get("status")
    if status in ("valid", "imported", "replaced"):
        dry = status == "valid"  # nothing was created: the record it would be has no GUID yet
        return FileResult(
            job.path,
            job.root,
            "imported",
            assembly_guid=None if dry else item["assembly_guid"],
            display_name=(item["would_create"] if dry else item)["display_name"],
            imported_before=item.get("imported_before"),
        )
    return result_of(job, None, item, item.get("message"))


def batches(jobs: list[Job]) -> Iterator[list[Job]]:
    """Jobs in batches of at most BATCH_DOCUMENTS documents and about BATCH_BYTES of JSON."""
    batch: list[Job] = []
    size = 0
    for job in jobs:
        weight = _weight(job.body)
        if batch and (len(batch) >= BATCH_DOCUMENTS or size + weight > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(job)
        size += weight
    if batch:
        yield batch


def _weight(body: dict[str, Any]) -> int:
    return len(json.dumps(body, ensure_ascii=False, separators=(",", ":")))


def empty_roots(paths: tuple[Path, ...], results: list[FileResult]) -> list[str]:
    """Named paths of which nothing was imported or failed (nothing importable)."""
    useful = {r.root for r in results if r.status != "skipped"}
    return [str(path) for index, path in enumerate(paths) if index not in useful]


def summary(results: list[FileResult]) -> dict[str, int]:
    return {
        status: sum(1 for r in results if r.status == status) for status in ("imported", "skipped", "failed")
    }


def ordered(results: list[FileResult]) -> Iterator[FileResult]:
    return iter(sorted(results, key=lambda r: (r.root, r.path)))


# --------------------------------------------------------------------------- the command


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--domain", type=DOMAINS, default="user", show_default=True, help="Domain to import into.")
@click.option("--dry-run", is_flag=True, help="Check every document and report; create nothing.")
@json_option
@click.pass_context
def import_command(
    ctx: click.Context, paths: tuple[Path, ...], domain: str, dry_run: bool, as_json: bool
) -> None:
    """Import legacy documents: files or whole legacy folder trees.

    Import always creates new assemblies (to keep a folder in step with a domain, use
    `assemblies sync`). Every file is reported once: imported (or, with --dry-run, valid),
    skipped (not an assembly document, with why) or failed (an assembly the engine refused,
    with its message). Exits 1 when anything failed or when a named path held nothing
    importable.
    """
    found = discover(paths)

    def work(client: EngineClient) -> int:
        results = list(found.results)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            RateColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=as_json,
        ) as progress:
            task = progress.add_task("checking" if dry_run else "importing", total=len(found.jobs))
            sent = 0
            try:
                for batch in batches(found.jobs):
                    results.extend(_send_batch(client, batch, domain, dry_run))
                    sent += len(batch)
                    progress.advance(task, len(batch))
            except KeyboardInterrupt:
                # Ctrl-C: say what was done; the batch in flight may or may not have landed.
                done = summary(results)["imported"]
                click.echo(
                    f"interrupted: {done} imported, {len(found.jobs) - sent} not sent (the batch "
                    "being sent when you pressed Ctrl-C may have been imported too). Importing "
                    "again creates new assemblies for every file; `assemblies sync apply` "
                    "continues a folder without duplicates.",
                    err=True,
                )
                return 130
        results = list(ordered(results))
        counts = summary(results)
        seen = sum(1 for r in results if r.imported_before is not None)
        empty = empty_roots(paths, results)

        def human() -> None:
            if seen:
                _note_imported_before(results, paths, domain, dry_run)
            for r in results:
                before = f" (imported before as {r.imported_before})" if r.imported_before else ""
                if r.status == "imported" and dry_run:
                    click.echo(f"valid     {r.path} -> would create {r.display_name}{before}")
                elif r.status == "imported":
                    click.echo(f"imported  {r.path} -> {r.display_name} ({r.assembly_guid}){before}")
                else:
                    click.echo(f"{r.status:<9} {r.path}: {r.reason}")
            for path in empty:
                click.echo(f"nothing importable in {path}", err=True)
            done = "would be imported (dry run, nothing created)" if dry_run else "imported"
            click.echo(f"{counts['imported']} {done}, {counts['skipped']} skipped, {counts['failed']} failed")

        report = {**counts, "empty_paths": empty, "files": [r.as_dict() for r in results]}
        emit(as_json, {**report, "dry_run": dry_run, "imported_before": seen}, human)
        return 1 if counts["failed"] or empty else 0

    run(ctx, work)


def _note_imported_before(
    results: list[FileResult], paths: tuple[Path, ...], domain: str, dry_run: bool
) -> None:
    """Say (on stderr) how many files were imported before and which sync commands would keep
    their folders in step instead: one per named folder that held such a file."""
    seen = [r for r in results if r.imported_before is not None]
    folders = sorted({str(paths[r.root] if paths[r.root].is_dir() else paths[r.root].parent) for r in seen})
    commands = " or ".join(f"`assemblies sync plan {shlex.quote(f)} --domain {domain}`" for f in folders)
    verb = "would create" if dry_run else "created"
    click.echo(
        f"note: {len(seen)} of these files were imported into {domain} before (the same Tactical "
        f"RMM guid, or a plain script with the same path and content); import {verb} new "
        f"assemblies for them. To keep a folder in step without duplicates, use sync: {commands}, "
        "then `assemblies sync apply` (sync keeps its own assemblies; it does not take over "
        "what import made).",
        err=True,
    )


def _send_batch(client: EngineClient, batch: list[Job], domain: str, dry_run: bool) -> list[FileResult]:
    """One batch request; a batch the engine refuses as a whole fails each of its files."""
    try:
        answer = client.call(
            "POST",
            "/api/assemblies/import/batch",
            json_body={"documents": [job.body for job in batch], "domain": domain, "dry_run": dry_run},
        )
    except CliError as exc:
        return [result_of(job, None, exc.body, str(exc)) for job in batch]
    return [batch_result(job, item) for job, item in zip(batch, answer["results"], strict=True)]


class RateColumn(ProgressColumn):
    """Documents per second so far."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        rate = task.completed / elapsed if elapsed > 0 else 0.0
        return Text(f"{rate:,.0f} docs/s")
