"""Real scripts of the shared corpus for the script-check tests (read-only)."""

from __future__ import annotations

import json
from pathlib import Path

from assembly_engine.services.assemblies.payload_layout import workflow_bytes

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
TRMM = CORPUS / "tactical-rmm" / "scripts"
LANGUAGE_OF_SUFFIX = {".ps1": "powershell", ".bat": "batch", ".sh": "bash", ".py": "python"}


def text(path: Path) -> str:
    # The corpus keeps its originals' BOM and CRLF line endings; a check sees them as stored.
    return path.read_bytes().decode("utf-8-sig")


def trmm(name: str) -> str:
    return text(TRMM / name)


def playbook() -> str:
    return text(CORPUS / "ansible_playbooks" / "Write Canary to C Drive Root.yml")


def workflow(name: str = "Value Parser") -> dict:  # type: ignore[type-arg]
    return dict(json.loads((CORPUS / "workflows" / f"{name}.json").read_text(encoding="utf-8")))


def clean_corpus() -> list[tuple[str, str, str]]:
    """(name, language, text) of every corpus script, playbook and workflow."""
    found = [(p.name, LANGUAGE_OF_SUFFIX[p.suffix], text(p)) for p in sorted(TRMM.iterdir())]
    found.append(("playbook", "ansible", playbook()))
    for path in sorted((CORPUS / "workflows").glob("*.json")):
        found.append((path.name, "workflow", workflow_bytes(workflow(path.stem)).decode()))
    return found
