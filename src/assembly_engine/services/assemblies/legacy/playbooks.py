"""Raw YAML Ansible playbooks: a ``.yml``/``.yaml`` file, or text that parses as plays."""

from __future__ import annotations

import yaml

from assembly_engine import input_limits as limits
from assembly_engine.domain.types import AssemblyKind, AssemblyType, PayloadType
from assembly_engine.services.assemblies.file_kinds import YAML_LOADER
from assembly_engine.services.assemblies.legacy.checks import (
    DocumentTooLarge,
    InvalidDocument,
    check,
    fail,
    json_kind,
    name_stem,
    utf8,
)
from assembly_engine.services.assemblies.legacy.imported import ImportedAssembly
from assembly_engine.services.assemblies.payload_layout import PLAYBOOK_FILE_NAME
from assembly_engine.storage.contract.models import PayloadContent

YAML_SUFFIXES = (".yml", ".yaml")
# A mapping with one of these keys is a play (ansible needs hosts or an import).
PLAY_KEYS = frozenset({"hosts", "import_playbook", "ansible.builtin.import_playbook", "tasks", "roles"})


def check_playbook_size(size_bytes: int, where: str) -> None:
    too_large = limits.playbook_problem(size_bytes, where)
    if too_large is not None:
        raise DocumentTooLarge(too_large)


def playbook_or_none(text: str, raw_bytes: bytes | None, file_name: str | None) -> ImportedAssembly | None:
    try:
        return playbook_from_text(text, raw_bytes, file_name, require_plays=True)
    except DocumentTooLarge:
        raise
    except InvalidDocument:
        return None


def _looks_like_plays(data: object) -> bool:
    plays = [data] if isinstance(data, dict) else data
    if not isinstance(plays, list) or not plays:
        return False
    return all(isinstance(play, dict) and PLAY_KEYS.intersection(play) for play in plays)


def playbook_from_text(
    text: str, raw_bytes: bytes | None, file_name: str | None, *, require_plays: bool
) -> ImportedAssembly:
    label = f"playbook {file_name!r}" if file_name else "playbook"
    size = len(raw_bytes) if raw_bytes is not None else len(text.encode("utf-8", "surrogatepass"))
    check_playbook_size(size, label)  # before parsing: the size is what costs
    try:
        data = yaml.load(text, Loader=YAML_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        raise InvalidDocument(f"{label} is not valid YAML: {problem}{where}") from None
    except (RecursionError, TypeError, ValueError) as exc:
        raise InvalidDocument(f"{label} is not valid YAML: {exc}") from None
    if data is None:
        fail(f"{label} is empty: it needs at least one play")
    if not isinstance(data, list | dict):
        fail(f"{label} must be a YAML list of plays, got {json_kind(data)}")
    if require_plays and not _looks_like_plays(data):
        fail(f"{label} is not a list of Ansible plays")
    first = data[0] if isinstance(data, list) and data else data
    play_name = first.get("name") if isinstance(first, dict) else None
    display_name = name_stem(file_name)
    where = "file_name"
    if display_name is None:
        where = f"{label}: the first play's name"
        if isinstance(play_name, str) and play_name.strip():
            display_name = play_name
        else:
            display_name = "Imported playbook"
    check(limits.name_problem(display_name, where, limits.DISPLAY_NAME_CHARS, visible=True))
    main = raw_bytes if raw_bytes is not None else utf8(text, "playbook")
    return ImportedAssembly(
        display_name=display_name,
        summary=None,
        category=None,
        assembly_kind=AssemblyKind.ANSIBLE,
        assembly_type=AssemblyType.ANSIBLE.value,
        version=None,
        metadata={"legacy_format": {"source_format": "ansible-yaml"}},
        tags=[],
        content=PayloadContent(PayloadType.SCRIPT, PLAYBOOK_FILE_NAME, main),
    )
