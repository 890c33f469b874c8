"""Synthetic libraries: engine homes with N assemblies, and the same assemblies as a legacy
JSON folder tree.

Generating 100,000 assemblies through the API would take longer than the benchmarks, so
rows go straight into the three domain databases (created with the engine's own
``create_schema``) with one ``executemany`` each, and payload folders are real, verified
folders written once per assembly type by ``PayloadStore.write_with_guid`` and then
hard-linked into each row's folder (a payload folder is write-once, so sharing the file
inodes is safe, and the manifest checksum only depends on the content). ext4 allows at most
65,000 links per inode, so a fresh template folder is written every ``MAX_LINKS`` uses.
"""

from __future__ import annotations

import base64
import json
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assembly_engine.domain.types import DATABASE_FILES, Domain, PayloadType
from assembly_engine.storage.contract.models import COLUMNS, PayloadContent, canonical_json
from assembly_engine.storage.sqlite.databases import ConnectionOptions, connect, create_schema
from assembly_engine.storage.sqlite.payload_folders import PayloadStore

MAX_LINKS = 60_000
STAMP = "2025-11-24T00:00:00.000Z"

# (assembly_kind, assembly_type, main file, share of the library)
TYPES: tuple[tuple[str, str, str, float], ...] = (
    ("script", "powershell", "script.ps1", 0.35),
    ("script", "bash", "script.sh", 0.20),
    ("script", "python", "script.py", 0.12),
    ("script", "batch", "script.bat", 0.05),
    ("ansible", "ansible", "playbook.yml", 0.16),
    ("workflow", "workflow", "workflow.json", 0.12),
)
MAIN_FILE = {atype: main for _, atype, main, _ in TYPES}
KIND_OF = {atype: kind for kind, atype, _, _ in TYPES}

SCRIPTS: dict[str, str] = {
    "powershell": (
        "param([string]$Path = $env:TargetPath)\n"
        "$ErrorActionPreference = 'Stop'\n"
        "Get-ChildItem -Path $Path -Recurse -File |\n"
        "  Where-Object { $_.LastWriteTime -lt (Get-Date).AddDays(-30) } |\n"
        "  Remove-Item -Force -WhatIf:$false\n"
        'Write-Host "Cleaned $Path"\n'
    ),
    "bash": (
        "#!/usr/bin/env bash\nset -euo pipefail\n"
        'target="${TARGET_PATH:-/var/tmp}"\n'
        'find "$target" -type f -mtime +30 -print -delete\n'
        'echo "cleaned $target"\n'
    ),
    "python": (
        "import os, sys, time\n"
        "root = os.environ.get('TARGET_PATH', '/var/tmp')\n"
        "cutoff = time.time() - 30 * 86400\n"
        "for base, _, files in os.walk(root):\n"
        "    for name in files:\n"
        "        path = os.path.join(base, name)\n"
        "        if os.path.getmtime(path) < cutoff:\n"
        "            os.remove(path)\n"
    ),
    "batch": '@echo off\r\nforfiles /p %TARGET_PATH% /s /d -30 /c "cmd /c del @path"\r\n',
    "ansible": (
        "- hosts: \"{{ target_hosts | default('all') }}\"\n  become: true\n  tasks:\n"
        "    - name: Ensure the package is present\n"
        '      ansible.builtin.package:\n        name: "{{ package_name }}"\n        state: present\n'
        "    - name: Ensure the service runs\n"
        '      ansible.builtin.service:\n        name: "{{ package_name }}"\n        state: started\n'
    ),
}
WORKFLOW: dict[str, Any] = {
    "nodes": [
        {
            "id": "node-1",
            "type": "API_Request",
            "position": {"x": 27, "y": 28},
            "data": {"label": "API Request", "url": "http://localhost:5000/health", "intervalSec": "10"},
        },
        {
            "id": "node-2",
            "type": "Display_JSON",
            "position": {"x": 245, "y": 28},
            "data": {"label": "Display JSON Data"},
        },
    ],
    "edges": [{"id": "edge-1", "source": "node-1", "target": "node-2", "type": "smoothstep"}],
}

VERBS = (
    "Clean",
    "Backup",
    "Restart",
    "Install",
    "Audit",
    "Collect",
    "Rotate",
    "Patch",
    "Sync",
    "Deploy",
    "Check",
    "Reset",
    "Export",
    "Monitor",
    "Configure",
    "Archive",
    "Unlock",
    "Scan",
)
OBJECTS = (
    "Temp Folder",
    "IIS Logs",
    "Print Spooler",
    "Chrome",
    "Event Logs",
    "DNS Cache",
    "SQL Agent Jobs",
    "User Profile",
    "Certificates",
    "Firewall Rules",
    "Disk Usage",
    "Windows Updates",
    "AD Account",
    "Nginx",
    "Docker Images",
    "Scheduled Tasks",
    "Backup Share",
    "VPN Client",
    "Defender Signatures",
    "Local Admins",
)
TARGETS = ("WIN", "LINUX", "MAC", "DC", "SQL", "WEB", "EDGE", "LAB")
CATEGORIES = (
    "script",
    "application",
    "maintenance",
    "security",
    "network",
    "backup",
    "monitoring",
    "inventory",
)


@dataclass(frozen=True)
class Spec:
    """One synthetic assembly, the same in the engine and in the legacy tree."""

    index: int
    assembly_guid: str
    payload_guid: str
    name: str
    summary: str
    category: str
    atype: str
    timeout: int
    variables: tuple[dict[str, Any], ...]
    tags: tuple[str, ...]

    @property
    def kind(self) -> str:
        return KIND_OF[self.atype]

    def slug(self) -> str:
        return "".join(c if c.isalnum() else "-" for c in self.name.lower()).strip("-")


def make_specs(count: int, seed: int = 20251124) -> list[Spec]:
    rng = random.Random(seed)
    weights = [share for *_, share in TYPES]
    atypes = [atype for _, atype, _, _ in TYPES]
    specs: list[Spec] = []
    for index in range(count):
        atype = rng.choices(atypes, weights)[0]
        verb, obj, target = rng.choice(VERBS), rng.choice(OBJECTS), rng.choice(TARGETS)
        name = f"{verb} {obj} [{target}] #{index}"
        variables = tuple(
            {
                "name": f"Var{v}",
                "label": f"{obj} setting {v}",
                "type": "string",
                "default": "",
                "required": v == 0,
                "description": f"Value {v} for {verb.lower()}",
            }
            for v in range(rng.randint(0, 3))
        )
        specs.append(
            Spec(
                index=index,
                assembly_guid=f"{rng.getrandbits(128):032x}",
                payload_guid=f"{rng.getrandbits(128):032x}",
                name=name,
                summary=f"{verb}s {obj.lower()} on {target} hosts; safe to run repeatedly.",
                category=rng.choice(CATEGORIES),
                atype=atype,
                timeout=rng.choice((600, 1800, 3600)),
                variables=variables,
                tags=tuple(sorted({target.lower(), verb.lower(), rng.choice(CATEGORIES)})),
            )
        )
    return specs


def content_for(atype: str) -> PayloadContent:
    if atype == "workflow":
        text = json.dumps(WORKFLOW, indent=2)
        return PayloadContent(PayloadType.WORKFLOW, MAIN_FILE[atype], text.encode("utf-8"))
    return PayloadContent(PayloadType.SCRIPT, MAIN_FILE[atype], SCRIPTS[atype].encode("utf-8"))


class PayloadFarm:
    """Real payload folders made cheap: one verified template folder per type, hard-linked."""

    def __init__(self, root: Path) -> None:
        self.store = PayloadStore(root)
        self._templates: dict[str, tuple[Path, int]] = {}
        self.refs: dict[str, tuple[str, int, str]] = {}  # atype -> (payload_type, size, checksum)
        self._counter = 0

    def _template(self, atype: str) -> Path:
        found = self._templates.get(atype)
        if found is not None and found[1] < MAX_LINKS:
            self._templates[atype] = (found[0], found[1] + 1)
            return found[0]
        self._counter += 1
        guid = f"{self._counter:032x}"
        ref = self.store.write_with_guid(guid, content_for(atype))
        self.refs[atype] = (ref.payload_type.value, ref.size_bytes, ref.checksum)
        folder = self.store.root / guid
        self._templates[atype] = (folder, 1)
        return folder

    def place(self, payloads_root: Path, payload_guid: str, atype: str) -> None:
        template = self._template(atype)
        target = payloads_root / payload_guid
        os.mkdir(target)
        main = MAIN_FILE[atype]
        os.link(template / "manifest.json", target / "manifest.json")
        os.link(template / main, target / main)

    def ref(self, atype: str) -> tuple[str, int, str]:
        if atype not in self.refs:
            self._template(atype)
        return self.refs[atype]


@dataclass
class Home:
    """An engine home plus its staging root, and what is in them."""

    home: Path
    staging: Path
    counts: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def runtime_root(self) -> Path:
        return self.home / "Assemblies"

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def runtime_databases(self) -> list[Path]:
        return [self.runtime_root / DATABASE_FILES[d] for d in Domain]


def row_for(spec: Spec, domain: Domain, farm: PayloadFarm) -> tuple[Any, ...]:
    payload_type, size, checksum = farm.ref(spec.atype)
    metadata = canonical_json(
        {
            "sites": {"mode": "all", "values": []},
            "source_path": f"library/{domain.value}/{spec.slug()}",
            "timeout_seconds": spec.timeout,
            "variables": list(spec.variables),
        }
    )
    row = (
        spec.assembly_guid,
        spec.name,
        spec.summary,
        spec.category,
        spec.kind,
        spec.atype,
        1,
        1,
        metadata,
        json.dumps(list(spec.tags)),
        spec.payload_guid,
        payload_type,
        size,
        checksum,
        STAMP,
        STAMP,
        "bench",
        "bench",
    )
    assert len(row) == len(COLUMNS)
    return row


def write_database(path: Path, rows: list[tuple[Any, ...]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = connect(path, ConnectionOptions(shared_cache=False, synchronous="OFF"))
    try:
        create_schema(conn)
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            f"INSERT INTO assemblies ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
            rows,
        )
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def domain_split(count: int) -> list[Domain]:
    """Which domain each spec goes to: a third each (official, community, user)."""
    third = count // 3
    return [Domain.OFFICIAL] * third + [Domain.COMMUNITY] * third + [Domain.USER] * (count - 2 * third)


def build_home(base: Path, specs: list[Spec]) -> Home:
    """An engine home with ``specs`` spread over the three domains.

    Official rows go to the staging root (the engine rebuilds runtime official from it at
    every boot) *and* to the runtime root with their payload folders, as after any
    earlier boot, so a timed boot is a normal restart, not a first start.
    """
    home, staging = base / "home", base / "staging"
    runtime = home / "Assemblies"
    (runtime / "Payloads").mkdir(parents=True, exist_ok=True)
    (staging / "Payloads").mkdir(parents=True, exist_ok=True)
    farm = PayloadFarm(base / "templates")
    domains = domain_split(len(specs))
    rows: dict[Domain, list[tuple[Any, ...]]] = {d: [] for d in Domain}

    began = time.perf_counter()
    for spec, domain in zip(specs, domains, strict=True):
        rows[domain].append(row_for(spec, domain, farm))
    rows_built = time.perf_counter()
    for domain in Domain:
        write_database(runtime / DATABASE_FILES[domain], rows[domain])
    write_database(staging / DATABASE_FILES[Domain.OFFICIAL], rows[Domain.OFFICIAL])
    databases_written = time.perf_counter()
    for spec, domain in zip(specs, domains, strict=True):
        farm.place(runtime / "Payloads", spec.payload_guid, spec.atype)
        if domain is Domain.OFFICIAL:
            farm.place(staging / "Payloads", spec.payload_guid, spec.atype)
    folders_written = time.perf_counter()
    return Home(
        home,
        staging,
        {d.value: len(rows[d]) for d in Domain},
        seconds={
            "rows": rows_built - began,
            "databases": databases_written - rows_built,
            "payload_folders": folders_written - databases_written,
            "total": folders_written - began,
        },
    )


# ----------------------------------------------------------------------- legacy tree


def legacy_document(spec: Spec) -> dict[str, Any]:
    """The spec as an older file-based library stores it (Docs/assemblies.md §10)."""
    if spec.atype == "workflow":
        return {"tab_name": spec.name, "description": spec.summary, "category": spec.category, **WORKFLOW}
    return {
        "version": 1,
        "name": spec.name,
        "description": spec.summary,
        "category": spec.category,
        "type": spec.atype,
        "script": base64.b64encode(SCRIPTS[spec.atype].encode("utf-8")).decode("ascii"),
        "script_encoding": "base64",
        "timeout_seconds": spec.timeout,
        "sites": {"mode": "all", "values": []},
        "variables": list(spec.variables),
        "files": [],
    }


LEGACY_FOLDERS = {"script": "Scripts", "ansible": "Ansible_Playbooks", "workflow": "Workflows"}


def build_legacy_tree(root: Path, specs: list[Spec]) -> float:
    """``root/<Scripts|Workflows|Ansible_Playbooks>/<category>/<name>.json``; seconds taken."""
    began = time.perf_counter()
    made: set[Path] = set()
    for spec in specs:
        folder = root / LEGACY_FOLDERS[spec.kind] / spec.category
        if folder not in made:
            folder.mkdir(parents=True, exist_ok=True)
            made.add(folder)
        text = json.dumps(legacy_document(spec), indent=2)
        (folder / f"{spec.slug()}.json").write_text(text, encoding="utf-8")
    return time.perf_counter() - began
