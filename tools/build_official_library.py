#!/usr/bin/env python3
"""Build the shipped official library (the staging root) from its readable sources.

Sources live in ``library/official/<slug>/``: ``assembly.json`` (metadata only) next to the
payload file (``script.ps1``, ``script.sh``, ``script.bat``, ``script.py``, ``playbook.yml``
or ``workflow.json``). The build validates every source, then writes ``official.db`` (the
shared schema) and ``Payloads/<payload_guid>/`` into a temporary folder next to the
target, and only then swaps them into the target. A failed build leaves the previous
staging copy untouched.

The output is reproducible: payload GUIDs are derived from the assembly GUID and the
SHA-256 of the payload source, timestamps come from the sources, so two builds of the same
sources give identical rows and identical payload folders.

Usage::

    python tools/build_official_library.py                # -> Data/Engine/Assemblies/
    python tools/build_official_library.py --out DIR      # another staging root
    python tools/build_official_library.py --check        # validate the sources only
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
if str(REPOSITORY_ROOT / "src") not in sys.path:  # runnable without an installed package
    sys.path.insert(0, str(REPOSITORY_ROOT / "src"))

from assembly_engine.domain.types import (  # noqa: E402
    DATABASE_FILES,
    KIND_TYPES,
    AssemblyKind,
    AssemblyType,
    Domain,
    Integrity,
    is_valid_payload_guid,
)
from assembly_engine.services.assemblies.payload_layout import (  # noqa: E402
    main_file_name,
    payload_type_for,
)
from assembly_engine.storage.contract.models import (  # noqa: E402
    COLUMNS,
    AssemblyRecord,
    PayloadContent,
    PayloadRef,
    canonical_json,
)
from assembly_engine.storage.sqlite.databases import create_schema, write_changes  # noqa: E402
from assembly_engine.storage.sqlite.payload_folders import PayloadStore  # noqa: E402

DEFAULT_SOURCE_ROOT = REPOSITORY_ROOT / "library" / "official"
DEFAULT_OUT = REPOSITORY_ROOT / "Data" / "Engine" / "Assemblies"
METADATA_FILE = "assembly.json"
PAYLOADS_DIR = "Payloads"
OFFICIAL_DB = DATABASE_FILES[Domain.OFFICIAL]
BUILD_USER = "assembly-engine"

# Fixed namespace for payload GUIDs: uuid5(namespace, "<assembly_guid>:<sha256 of source>").
PAYLOAD_NAMESPACE = uuid.UUID("6f1d2b0e-8c3a-5e47-9d21-0b7c4a6e3f58")

REQUIRED_KEYS: tuple[str, ...] = (
    "assembly_guid",
    "name",
    "description",
    "category",
    "kind",
    "type",
    "version",
    "timeout_seconds",
    "sites",
    "variables",
    "tags",
    "created_at",
)
VARIABLE_KEYS = frozenset({"name", "label", "type", "default", "required", "description"})
VARIABLE_TYPES = frozenset({"string", "number", "boolean"})
SITE_MODES = frozenset({"all", "specific"})
MAX_TIMEOUT_SECONDS = 24 * 3600
# Variables reach scripts as environment variables, so their names must be valid ones.
VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z$")
NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")


class SourceError(ValueError):
    """A library source is invalid; the message starts with the offending file."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


class BuildError(RuntimeError):
    """The build could not be completed; the previous staging copy was kept."""


@dataclass(frozen=True)
class SourceAssembly:
    """One validated assembly source: its metadata and the exact bytes of its payload."""

    slug: str
    metadata_path: Path
    payload_path: Path
    assembly_guid: str
    name: str
    description: str
    category: str
    kind: AssemblyKind
    assembly_type: AssemblyType
    version: int
    timeout_seconds: int
    sites: dict[str, Any]
    variables: list[dict[str, Any]]
    tags: list[str]
    created_at: str
    content: bytes

    @property
    def content_sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def payload_guid(self) -> str:
        seed = f"{self.assembly_guid}:{self.content_sha256}"
        return uuid.uuid5(PAYLOAD_NAMESPACE, seed).hex

    @property
    def main_file_name(self) -> str:
        return self.payload_path.name

    def payload_content(self) -> PayloadContent:
        return PayloadContent(
            payload_type=payload_type_for(self.kind),
            main_file_name=self.main_file_name,
            main=self.content,
        )

    def metadata(self) -> dict[str, Any]:
        return {
            "timeout_seconds": self.timeout_seconds,
            "sites": self.sites,
            "variables": self.variables,
            "source_path": f"library/official/{self.slug}",
        }

    def record(self, payload: PayloadRef) -> AssemblyRecord:
        return AssemblyRecord(
            assembly_guid=self.assembly_guid,
            domain=Domain.OFFICIAL,
            display_name=self.name,
            assembly_kind=self.kind,
            assembly_type=self.assembly_type.value,
            payload=payload,
            revision=1,
            summary=self.description,
            category=self.category,
            version=self.version,
            metadata_json=canonical_json(self.metadata()),
            tags_json=canonical_json(self.tags),
            created_at=self.created_at,
            updated_at=self.created_at,
            created_by=BUILD_USER,
            updated_by=BUILD_USER,
        )


# ----------------------------------------------------------------------- validation


def _text(doc: dict[str, Any], key: str, path: Path, *, allow_empty: bool = False) -> str:
    value = doc[key]
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise SourceError(path, f"'{key}' must be a non-empty string")
    return value


def _integer(doc: dict[str, Any], key: str, path: Path, low: int, high: int) -> int:
    value = doc[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SourceError(path, f"'{key}' must be a whole number from {low} to {high}")
    return value


def _timestamp(value: object, path: Path) -> str:
    """Normalise to the engine's form: ISO-8601 UTC, millisecond precision, ``Z``."""
    if not isinstance(value, str) or not TIMESTAMP.fullmatch(value):
        raise SourceError(path, "'created_at' must be ISO-8601 UTC ending in Z")
    try:
        moment = datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
    except ValueError as exc:
        raise SourceError(path, f"'created_at' is not a valid date: {exc}") from None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _sites(value: object, path: Path) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) != {"mode", "values"}:
        raise SourceError(path, "'sites' must be an object with exactly 'mode' and 'values'")
    mode, values = value["mode"], value["values"]
    if mode not in SITE_MODES:
        raise SourceError(path, f"'sites.mode' must be one of {sorted(SITE_MODES)}")
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise SourceError(path, "'sites.values' must be a list of site names")
    if mode == "all" and values:
        raise SourceError(path, "'sites.values' must be empty when 'sites.mode' is 'all'")
    return {"mode": mode, "values": list(values)}


def _variables(value: object, path: Path) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise SourceError(path, "'variables' must be a list")
    seen: set[str] = set()
    result: list[dict[str, Any]] = []
    for index, item in enumerate(value):
        where = f"variables[{index}]"
        if not isinstance(item, dict) or set(item) != VARIABLE_KEYS:
            raise SourceError(
                path, f"{where} must be an object with exactly the keys {sorted(VARIABLE_KEYS)}"
            )
        name = item["name"]
        if not isinstance(name, str) or not VARIABLE_NAME.fullmatch(name):
            raise SourceError(path, f"{where}.name must be a valid environment variable name")
        if name.lower() in seen:
            raise SourceError(path, f"{where}.name '{name}' is declared twice")
        seen.add(name.lower())
        for key in ("label", "description"):
            if not isinstance(item[key], str) or not item[key].strip():
                raise SourceError(path, f"{where}.{key} ({name}) must be a non-empty string")
        if item["type"] not in VARIABLE_TYPES:
            raise SourceError(path, f"{where}.type ({name}) must be one of {sorted(VARIABLE_TYPES)}")
        if not isinstance(item["required"], bool):
            raise SourceError(path, f"{where}.required ({name}) must be true or false")
        default = item["default"]
        if not isinstance(default, str):
            raise SourceError(path, f"{where}.default ({name}) must be a string")
        if item["type"] == "number" and default and not NUMBER.fullmatch(default):
            raise SourceError(path, f"{where}.default ({name}) must be a number")
        if item["type"] == "boolean" and default not in {"true", "false"}:
            raise SourceError(path, f'{where}.default ({name}) must be "true" or "false"')
        result.append(dict(item))
    return result


def _tags(value: object, path: Path) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(t, str) and t.strip() for t in value):
        raise SourceError(path, "'tags' must be a list of non-empty strings")
    if len(set(value)) != len(value):
        raise SourceError(path, "'tags' lists a tag twice")
    return list(value)


def validate_workflow(data: object, path: Path) -> dict[str, Any]:
    """A workflow canvas: ``{tab_name, nodes: [...], edges: [...]}`` with sound references."""
    if not isinstance(data, dict):
        raise SourceError(path, "a workflow must be a JSON object")
    if not isinstance(data.get("tab_name"), str) or not data["tab_name"].strip():
        raise SourceError(path, "'tab_name' must be a non-empty string")
    nodes, edges = data.get("nodes"), data.get("edges")
    if not isinstance(nodes, list) or not nodes:
        raise SourceError(path, "'nodes' must be a non-empty list")
    if not isinstance(edges, list):
        raise SourceError(path, "'edges' must be a list")
    node_ids: set[str] = set()
    for index, node in enumerate(nodes):
        where = f"nodes[{index}]"
        if not isinstance(node, dict):
            raise SourceError(path, f"{where} must be an object")
        node_id = node.get("id")
        if not isinstance(node_id, str) or not node_id or node_id in node_ids:
            raise SourceError(path, f"{where}.id must be a unique non-empty string")
        node_ids.add(node_id)
        if not isinstance(node.get("type"), str) or not node["type"]:
            raise SourceError(path, f"{where}.type ({node_id}) must be a non-empty string")
        position = node.get("position")
        if not isinstance(position, dict) or not all(
            isinstance(position.get(axis), int | float) and not isinstance(position.get(axis), bool)
            for axis in ("x", "y")
        ):
            raise SourceError(path, f"{where}.position ({node_id}) must be {{x, y}} numbers")
        node_data = node.get("data")
        if not isinstance(node_data, dict) or not isinstance(node_data.get("label"), str):
            raise SourceError(path, f"{where}.data ({node_id}) must be an object with a label")
    edge_ids: set[str] = set()
    for index, edge in enumerate(edges):
        where = f"edges[{index}]"
        if not isinstance(edge, dict):
            raise SourceError(path, f"{where} must be an object")
        edge_id = edge.get("id")
        if not isinstance(edge_id, str) or not edge_id or edge_id in edge_ids:
            raise SourceError(path, f"{where}.id must be a unique non-empty string")
        edge_ids.add(edge_id)
        for end in ("source", "target"):
            if edge.get(end) not in node_ids:
                raise SourceError(path, f"{where}.{end} ({edge_id}) does not name a node of this workflow")
    return data


def validate_playbook(text: str, path: Path) -> list[dict[str, Any]]:
    """A playbook: a non-empty YAML list of plays, each with ``hosts`` and a task list."""
    try:
        plays = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SourceError(path, f"not valid YAML: {exc}") from None
    if not isinstance(plays, list) or not plays:
        raise SourceError(path, "a playbook must be a non-empty YAML list of plays")
    for index, play in enumerate(plays):
        if not isinstance(play, dict):
            raise SourceError(path, f"play {index} must be a mapping")
        if not isinstance(play.get("hosts"), str) or not play["hosts"].strip():
            raise SourceError(path, f"play {index} must name its 'hosts'")
        tasks = play.get("tasks")
        if not isinstance(tasks, list) or not tasks:
            raise SourceError(path, f"play {index} must have a non-empty 'tasks' list")
        if not all(isinstance(task, dict) for task in tasks):
            raise SourceError(path, f"play {index}: every task must be a mapping")
    return plays


def _validate_payload(kind: AssemblyKind, atype: AssemblyType, content: bytes, path: Path) -> None:
    if not content.strip():
        raise SourceError(path, "the payload file is empty")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(path, f"the payload file is not UTF-8 text: {exc}") from None
    if text.startswith("\ufeff"):
        raise SourceError(path, "the payload file starts with a byte order mark; save it without")
    if kind is AssemblyKind.WORKFLOW:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(path, f"not valid JSON: {exc}") from None
        validate_workflow(data, path)
    elif kind is AssemblyKind.ANSIBLE:
        validate_playbook(text, path)
    elif atype is AssemblyType.PYTHON:
        try:
            compile(text, str(path), "exec", dont_inherit=True)
        except SyntaxError as exc:
            raise SourceError(path, f"Python syntax error on line {exc.lineno}: {exc.msg}") from None


def load_source(directory: Path) -> SourceAssembly:
    """Read and validate one ``library/official/<slug>/`` folder."""
    metadata_path = directory / METADATA_FILE
    if not SLUG.fullmatch(directory.name):
        raise SourceError(directory, "folder names must be lowercase-words-with-dashes")
    try:
        doc = json.loads(metadata_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceError(metadata_path, "missing") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(metadata_path, f"not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise SourceError(metadata_path, "must be a JSON object")
    missing = [key for key in REQUIRED_KEYS if key not in doc]
    if missing:
        raise SourceError(metadata_path, f"missing field(s): {', '.join(missing)}")
    unknown = sorted(set(doc) - set(REQUIRED_KEYS))
    if unknown:
        raise SourceError(metadata_path, f"unknown field(s): {', '.join(unknown)}")

    guid = doc["assembly_guid"]
    if not is_valid_payload_guid(guid):  # same shape: 32 lowercase hex
        raise SourceError(metadata_path, "'assembly_guid' must be 32 lowercase hex characters")
    try:
        kind = AssemblyKind(doc["kind"])
    except ValueError:
        raise SourceError(metadata_path, f"'kind' must be one of {[k.value for k in AssemblyKind]}") from None
    try:
        atype = AssemblyType(doc["type"])
    except ValueError:
        raise SourceError(metadata_path, f"'type' must be one of {[t.value for t in AssemblyType]}") from None
    if atype not in KIND_TYPES[kind]:
        allowed = sorted(t.value for t in KIND_TYPES[kind])
        raise SourceError(
            metadata_path,
            f"type '{atype.value}' does not belong to kind '{kind.value}' (allowed: {', '.join(allowed)})",
        )

    expected = main_file_name(kind, atype.value)
    others = sorted(p.name for p in directory.iterdir() if p.name not in {METADATA_FILE, expected})
    if others:
        raise SourceError(
            directory,
            f"unexpected file(s) {', '.join(others)}; a {kind.value}/{atype.value} "
            f"assembly has only {METADATA_FILE} and {expected}",
        )
    payload_path = directory / expected
    if not payload_path.is_file() or payload_path.is_symlink():
        raise SourceError(payload_path, "missing (the payload file of this assembly)")
    content = payload_path.read_bytes()
    _validate_payload(kind, atype, content, payload_path)

    return SourceAssembly(
        slug=directory.name,
        metadata_path=metadata_path,
        payload_path=payload_path,
        assembly_guid=guid,
        name=_text(doc, "name", metadata_path).strip(),
        description=_text(doc, "description", metadata_path),
        category=_text(doc, "category", metadata_path),
        kind=kind,
        assembly_type=atype,
        version=_integer(doc, "version", metadata_path, 1, 1_000_000),
        timeout_seconds=_integer(doc, "timeout_seconds", metadata_path, 1, MAX_TIMEOUT_SECONDS),
        sites=_sites(doc["sites"], metadata_path),
        variables=_variables(doc["variables"], metadata_path),
        tags=_tags(doc["tags"], metadata_path),
        created_at=_timestamp(doc["created_at"], metadata_path),
        content=content,
    )


def load_sources(root: Path = DEFAULT_SOURCE_ROOT) -> list[SourceAssembly]:
    """Every assembly under ``root`` (one folder each), validated, sorted by folder name.

    Raises :class:`SourceError` naming the file at fault. Files directly in ``root``
    (README.md, .gitattributes) and hidden folders (tool caches) are skipped.
    """
    if not root.is_dir():
        raise SourceError(root, "the library source folder does not exist")
    folders = [d for d in sorted(root.iterdir()) if d.is_dir() and not d.name.startswith(".")]
    sources = [load_source(d) for d in folders]
    if not sources:
        raise SourceError(root, "no assemblies found")

    by_guid: dict[str, SourceAssembly] = {}
    by_name: dict[str, SourceAssembly] = {}
    for source in sources:
        other = by_guid.setdefault(source.assembly_guid, source)
        if other is not source:
            raise SourceError(source.metadata_path, f"assembly_guid is also used by {other.metadata_path}")
        other = by_name.setdefault(source.name.casefold(), source)
        if other is not source:
            raise SourceError(source.metadata_path, f"name is also used by {other.metadata_path}")
    # Workflow nodes may run library assemblies; a reference must point into the library.
    for source in sources:
        if source.kind is not AssemblyKind.WORKFLOW:
            continue
        for node in json.loads(source.content)["nodes"]:
            ref = node["data"].get("assembly_guid")
            if ref is not None and ref not in by_guid:
                raise SourceError(
                    source.payload_path,
                    f"node {node['id']} refers to assembly {ref!r}, which is not in the library",
                )
    return sources


# ---------------------------------------------------------------------------- build


@dataclass(frozen=True)
class BuildResult:
    out: Path
    records: list[AssemblyRecord]

    def counts(self) -> Counter[str]:
        return Counter(f"{r.assembly_kind.value}/{r.assembly_type}" for r in self.records)


def _write_staging(sources: Sequence[SourceAssembly], folder: Path) -> list[AssemblyRecord]:
    """Write ``official.db`` and ``Payloads/`` into an empty ``folder`` and verify them."""
    store = PayloadStore(folder / PAYLOADS_DIR)
    records = [s.record(store.write_with_guid(s.payload_guid, s.payload_content())) for s in sources]

    # A plain connection in rollback-journal mode: the shipped file must be self-contained
    # (no -wal/-shm companions to forget when committing it).
    conn = sqlite3.connect(folder / OFFICIAL_DB, isolation_level=None)
    try:
        create_schema(conn)
        write_changes(conn, [r.to_row() for r in records], ())
        stored = conn.execute(
            f"SELECT {', '.join(COLUMNS)} FROM assemblies ORDER BY assembly_guid"
        ).fetchall()
    finally:
        conn.close()

    expected = sorted(r.to_row() for r in records)
    if [tuple(row) for row in stored] != expected:
        raise BuildError(f"{folder / OFFICIAL_DB}: rows read back differ from the rows written")
    for record in records:
        integrity = store.check(record.payload.payload_guid, record.payload.checksum)
        if integrity is not Integrity.OK:
            raise BuildError(
                f"payload {record.payload.payload_guid} of {record.display_name} is "
                f"{integrity.value} right after writing it"
            )
    return records


def _swap_into(built: Path, out: Path) -> None:
    """Replace ``out``'s official.db and Payloads/ with the freshly built ones.

    The old entries are first moved aside (same file system, so each move is a rename) and
    put back if anything fails; other files in ``out`` (community.db…) are not touched.
    """
    names = [OFFICIAL_DB, PAYLOADS_DIR]
    stale = [f"{OFFICIAL_DB}-wal", f"{OFFICIAL_DB}-shm", f"{OFFICIAL_DB}-journal"]
    backup = Path(tempfile.mkdtemp(prefix=f".{out.name}.previous-", dir=out.parent))
    moved_old: list[str] = []
    moved_new: list[str] = []
    try:
        for name in names + stale:
            if os.path.lexists(out / name):
                os.replace(out / name, backup / name)
                moved_old.append(name)
        for name in names:
            os.replace(built / name, out / name)
            moved_new.append(name)
    except BaseException:
        for name in moved_new:
            target = out / name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)
        for name in moved_old:
            os.replace(backup / name, out / name)
        shutil.rmtree(backup, ignore_errors=True)
        raise
    shutil.rmtree(backup, ignore_errors=True)


def build(sources: Sequence[SourceAssembly], out: Path = DEFAULT_OUT) -> BuildResult:
    """Build the staging root ``out`` from validated ``sources`` (all or nothing)."""
    out = Path(os.path.abspath(out))
    out.mkdir(parents=True, exist_ok=True)
    # Build beside the target so the final moves are renames on one file system.
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.build-", dir=out.parent))
    try:
        records = _write_staging(sources, work)
        _swap_into(work, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BuildResult(out=out, records=records)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Build the official library staging root (official.db + Payloads/) "
        "from library/official/ sources."
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"staging root to (re)build (default: {DEFAULT_OUT.relative_to(REPOSITORY_ROOT)})",
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=DEFAULT_SOURCE_ROOT,
        help=f"source folder (default: {DEFAULT_SOURCE_ROOT.relative_to(REPOSITORY_ROOT)})",
    )
    parser.add_argument("--check", action="store_true", help="validate the sources, write nothing")
    args = parser.parse_args(argv)

    try:
        sources = load_sources(args.source)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.check:
        print(f"{len(sources)} assemblies in {args.source} are valid.")
        return 0
    try:
        result = build(sources, args.out)
    except Exception as exc:  # report, keep the previous staging copy, fail the command
        print(f"error: build failed, previous staging copy kept: {exc}", file=sys.stderr)
        return 1
    print(f"Built {len(result.records)} official assemblies into {result.out}")
    for key, count in sorted(result.counts().items()):
        print(f"  {key:20} {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
