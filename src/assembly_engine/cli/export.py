"""``assemblies export``: one assembly or a domain as a folder tree that import reads.

The default ``legacy`` format writes one legacy JSON document each, in a folder by kind.
``--format raw`` writes an assembly as the plain file it is: scripts and playbooks as
their script bytes (exactly as stored: CRLF, BOM and encoding kept), workflows as their
canvas JSON. The file goes into the folder path of the assembly's category (so importing
the folder gives the categories back) under its original file name when it was imported
from a plain file or a Tactical RMM entry, else under its name plus the type's extension.
Attached files are not part of a plain script: the command lists them as not written (the
default ``legacy`` format keeps them).
"""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import click

from assembly_engine.cli.common import DOMAINS, emit, json_option, run
from assembly_engine.cli.connection import EngineClient

EXPORT_REQUESTS = 8  # export requests in flight at once
KIND_FOLDERS = {"script": "Scripts", "workflow": "Workflows", "ansible": "Ansible_Playbooks"}
EXTENSIONS = {
    "powershell": ".ps1",
    "batch": ".bat",
    "bash": ".sh",
    "python": ".py",
    "ansible": ".yml",
    "workflow": ".json",
}


@dataclass(frozen=True)
class RawFile:
    relative: PurePosixPath
    data: bytes
    attachments: tuple[str, ...] = ()


def safe_part(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_.() " else "_" for c in name).strip(" .")
    return cleaned[:100] or "assembly"


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def raw_file(item: dict[str, Any], document: dict[str, Any]) -> RawFile:
    """The plain file of an assembly: ``item`` its record, ``document`` its export."""
    kind, assembly_type = item["assembly_kind"], item.get("assembly_type") or ""
    metadata = _dict(item.get("metadata"))
    notes, legacy = _dict(metadata.get("legacy_format")), _dict(metadata.get("legacy"))
    body = _dict(document.get("payload")) or document  # an item wraps its document
    attachments: tuple[str, ...] = ()
    if kind == "workflow":
        canvas = {k: v for k, v in body.items() if k != "assembly_engine"}
        data = (json.dumps(canvas, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    else:
        script = body.get("script", "")
        data = (
            base64.b64decode(script)
            if body.get("script_encoding") == "base64"
            else str(script).encode("utf-8")
        )
        files = body.get("files")
        attachments = tuple(str(_dict(f).get("file_name")) for f in files or [])
    extension = EXTENSIONS.get("workflow" if kind == "workflow" else assembly_type, ".txt")
    original = notes.get("file_name") if notes.get("source_format") == "plain-script" else None
    trmm_name = _dict(legacy.get("tactical_rmm")).get("filename")
    if original is None and isinstance(trmm_name, str):
        original = trmm_name
    if isinstance(original, str):
        name = safe_part(original)
    else:
        name = safe_part(item["display_name"]) + extension
    folders = [safe_part(part) for part in (item.get("category") or "").split("/") if part.strip()]
    return RawFile(PurePosixPath(*folders, name), data, attachments)


@click.command()
@click.argument("guid", required=False)
@click.option("--domain", type=DOMAINS, help="Export every assembly of this domain.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder to write the legacy tree into (Scripts/, Workflows/, Ansible_Playbooks/).",
)
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["legacy", "raw"]),
    default="legacy",
    show_default=True,
    help="legacy: one legacy JSON document each; raw: the plain script files, in folders by category.",
)
@json_option
@click.pass_context
def export(
    ctx: click.Context, guid: str | None, domain: str | None, out_dir: Path, file_format: str, as_json: bool
) -> None:
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
                page = client.call(
                    "GET", "/api/assemblies", params={"domain": domain, "limit": 1000, "offset": offset}
                )
                targets.extend(page["items"])
                offset += len(page["items"])
                if not page["items"] or offset >= page["total"]:
                    break
        written: list[dict[str, Any]] = []
        taken: set[Path] = set()

        def fetch(item: dict[str, Any]) -> tuple[dict[str, Any], Any]:
            document = client.call("GET", f"/api/assemblies/{item['assembly_guid']}/export")
            if file_format == "raw" and "metadata" not in item:  # list items leave it out
                item = client.call("GET", f"/api/assemblies/{item['assembly_guid']}")
            return item, document

        # Several requests in flight: the engine's audit log group-commits their entries.
        with ThreadPoolExecutor(max_workers=EXPORT_REQUESTS) as pool:
            fetched = list(pool.map(fetch, targets))
        for item, document in fetched:
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
                    click.echo(
                        f"  attached files not written in raw format: "
                        f"{', '.join(item['attachments_not_written'])}"
                    )
            click.echo(f"{len(written)} assemblies exported to {out_dir}")

        emit(as_json, {"written": written}, human)

    run(ctx, work)


def _write_raw(
    out_dir: Path, item: dict[str, Any], document: dict[str, Any], taken: set[Path]
) -> dict[str, Any]:
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
