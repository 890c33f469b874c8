"""What a payload folder's main file is called and how a workflow becomes its bytes.

One place for the whole engine: the API payload (``payload_codec``), the legacy format
(``legacy``), the other import formats and the official library build all use these, so
one workflow always gets the same bytes, and so the same checksum, however it arrived.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from assembly_engine.domain.types import SCRIPT_EXTENSIONS, AssemblyKind, AssemblyType, PayloadType

PLAYBOOK_FILE_NAME = "playbook.yml"
WORKFLOW_FILE_NAME = "workflow.json"


def main_file_name(kind: AssemblyKind, assembly_type: str) -> str:
    if kind is AssemblyKind.WORKFLOW:
        return WORKFLOW_FILE_NAME
    if kind is AssemblyKind.ANSIBLE:
        return PLAYBOOK_FILE_NAME
    return "script" + SCRIPT_EXTENSIONS[AssemblyType(assembly_type)]


def payload_type_for(kind: AssemblyKind) -> PayloadType:
    return PayloadType.WORKFLOW if kind is AssemblyKind.WORKFLOW else PayloadType.SCRIPT


def workflow_bytes(workflow: Mapping[str, Any]) -> bytes:
    """The stored form of a workflow: indented JSON, keys in their order, a final newline.

    Raises ``UnicodeEncodeError`` for text that UTF-8 cannot hold (a lone surrogate)."""
    return (json.dumps(workflow, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
