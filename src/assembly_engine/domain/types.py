"""Small shared vocabulary: domains, kinds, payload types, roles and id checks."""

from __future__ import annotations

import re
from enum import StrEnum

# Engine-generated ids are uuid4 as 32 lowercase hex characters. Legacy documents also
# carry 40-hex (SHA-1) ids; those are accepted as assembly ids on import, never as paths.
PAYLOAD_GUID_PATTERN = re.compile(r"^[0-9a-f]{32}$")
ASSEMBLY_GUID_REGEX = "[0-9a-f]{32}(?:[0-9a-f]{8})?"  # also the API's path type (api/params.py)
ASSEMBLY_GUID_PATTERN = re.compile(ASSEMBLY_GUID_REGEX)


class Domain(StrEnum):
    OFFICIAL = "official"
    COMMUNITY = "community"
    USER = "user"


DATABASE_FILES: dict[Domain, str] = {
    Domain.OFFICIAL: "official.db",
    Domain.COMMUNITY: "community.db",
    Domain.USER: "user_created.db",
}


class Role(StrEnum):
    """What a signed-in user may do (Docs/assemblies.md §8)."""

    ADMIN = "admin"
    OPERATOR = "operator"


class AssemblyKind(StrEnum):
    SCRIPT = "script"
    WORKFLOW = "workflow"
    ANSIBLE = "ansible"


class AssemblyType(StrEnum):
    POWERSHELL = "powershell"
    BATCH = "batch"
    BASH = "bash"
    PYTHON = "python"
    ANSIBLE = "ansible"
    WORKFLOW = "workflow"


class PayloadType(StrEnum):
    SCRIPT = "script"
    WORKFLOW = "workflow"
    BINARY = "binary"


class Integrity(StrEnum):
    OK = "ok"
    MISSING = "missing"
    CORRUPT = "corrupt"


# File extension of the main payload file, by assembly type.
SCRIPT_EXTENSIONS: dict[AssemblyType, str] = {
    AssemblyType.POWERSHELL: ".ps1",
    AssemblyType.BATCH: ".bat",
    AssemblyType.BASH: ".sh",
    AssemblyType.PYTHON: ".py",
    AssemblyType.ANSIBLE: ".yml",
    AssemblyType.WORKFLOW: ".json",
}

# Which assembly types belong to which kind.
KIND_TYPES: dict[AssemblyKind, frozenset[AssemblyType]] = {
    AssemblyKind.SCRIPT: frozenset(
        {AssemblyType.POWERSHELL, AssemblyType.BATCH, AssemblyType.BASH, AssemblyType.PYTHON}
    ),
    AssemblyKind.ANSIBLE: frozenset({AssemblyType.ANSIBLE}),
    AssemblyKind.WORKFLOW: frozenset({AssemblyType.WORKFLOW}),
}


def is_valid_payload_guid(value: object) -> bool:
    return isinstance(value, str) and PAYLOAD_GUID_PATTERN.fullmatch(value) is not None


def is_valid_assembly_guid(value: object) -> bool:
    return isinstance(value, str) and ASSEMBLY_GUID_PATTERN.fullmatch(value) is not None
