"""Legacy assembly documents <-> the engine's representation (pure functions, no I/O).

Accepted on import (``parse_document`` / ``document_from_dict``):

* script documents of all three generations: base64 ``script`` + ``script_encoding:
  "base64"``; plaintext ``script`` without ``script_encoding``; the oldest plaintext
  ``script`` + ``script_lines``. ``type`` ``ansible`` makes it a playbook document;
* raw YAML playbooks (a file name ending in ``.yml``/``.yaml``, or text that is not JSON
  but parses as a YAML list of plays or a single play mapping);
* workflow canvases ``{tab_name, nodes, edges, ...}``;
* the wrapped form ``{assembly_guid?, display_name, assembly_kind, ..., metadata, tags,
  payload: {script, files} | {workflow}}`` (an API record saved to a file); fields it does
  not map are kept in ``metadata.legacy`` (unknown payload keys under ``payload_fields``).

The other formats (upstream items, Tactical RMM entries, plain script files) and the
choice between them live in the ``formats`` package, which builds on this module.

``export_document`` rebuilds the legacy document and adds one top-level key,
``"assembly_engine": {assembly_guid, display_name, source, revision, updated_at, tags}``,
which the old tool ignores (its ``display_name`` names a workflow that has no
``tab_name`` when the export is imported again). On import that key is dropped: nothing
of it enters ``metadata``; its ``assembly_guid`` becomes ``source_assembly_guid`` and its
``tags`` the tags (they are the assembly's own data), so importing an export and exporting
again is a fixed point.

Where things go on import:

* ``content.main`` holds the script/playbook bytes exactly as decoded (line endings,
  trailing newlines, stray tokens and all) or the workflow object as JSON text (the whole
  object, so every UI field of nodes and edges survives); attachments are raw bytes.
* ``metadata``: ``timeout_seconds``, ``sites``, ``variables`` (verbatim, only if the
  document has them), ``legacy`` (unknown top-level fields verbatim, only if any), and
  ``legacy_format`` -- notes needed to rebuild the original: ``source_format``,
  ``key_order`` (top-level keys in their original order; a standard key missing from it
  was absent, which is how absent ``files``/``variables``/``description`` are remembered),
  ``script_was_plaintext``, ``had_script_lines``, ``script_lines`` (verbatim, only when
  they disagree with the script text), ``script_utf8: false`` (script bytes are not
  UTF-8), ``variable_key_order``, ``file_entries`` (per attachment: original key order and
  unknown keys), ``derived_name`` (a workflow named after its file). Key-order notes exist
  because the metadata column may be stored as sorted-key JSON.

Decisions:

* ``script`` wins over ``script_lines``: in every corpus document the script text equals
  ``"\\n".join(script_lines)``, and where other writers disagree it is only about trailing
  newlines, which the line list cannot express faithfully. The lines are derived data;
  they are only used when ``script`` is missing.
* A base64 script that does not decode to UTF-8 is kept byte for byte (payload files are
  bytes) and flagged ``legacy_format.script_utf8 = false``; export re-encodes the same
  bytes. Only a plaintext script must be text (it is encoded as UTF-8).
* Export always writes the script as base64 with ``script_encoding: "base64"`` and never
  writes ``script_lines``. Header fields (name, description, category, version) come from
  the record, so renames and edits show up; a key the original lacked is only added once
  the record has a value for it.
* A document that was never a legacy JSON document (raw YAML, created in the engine) is
  exported in the legacy tool's full layout with its defaults (version 1, description "",
  category "script", timeout 3600, sites all, no variables, no files).

Normalisations -- the complete list of differences allowed between an original legacy
document and ``export_document(parse_document(original))``, as applied to both sides by
``normalise_for_comparison``:

1. Key order is ignored (the result is compared with ``==``).
2. A plaintext ``script`` becomes base64 with ``script_encoding: "base64"``; base64 is
   compared by the bytes it decodes to.
3. ``script_lines`` is folded into ``script`` (used only when ``script`` is missing) and
   dropped.
4. CRLF line endings in the script become LF. (The importer itself keeps line endings
   byte for byte; this rule only tolerates writers that do not.)
5. The ``assembly_engine`` key is removed.
6. An upstream item's ``payload`` (a legacy document) gets rules 2-4 as well.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, NoReturn

import yaml

from ... import input_limits as limits
from ...persistence.models import PayloadContent, PayloadFile
from ...types import (
    KIND_TYPES,
    SCRIPT_EXTENSIONS,
    AssemblyKind,
    AssemblyType,
    PayloadType,
    is_valid_assembly_guid,
)
from .inputs import json_problem

ENGINE_KEY = "assembly_engine"
SCRIPT_TYPES: tuple[str, ...] = ("powershell", "batch", "bash", "python")
# The legacy tool's full layout, in its order (script_lines is read, never written).
EXPORT_KEYS: tuple[str, ...] = (
    "version",
    "name",
    "description",
    "category",
    "type",
    "script",
    "script_encoding",
    "timeout_seconds",
    "sites",
    "variables",
    "files",
)
STANDARD_KEYS = frozenset(EXPORT_KEYS) | {"script_lines"}
FILE_KEYS: tuple[str, ...] = ("file_name", "size", "mime_type", "data")
DEFAULT_MIME_TYPE = "application/octet-stream"
DEFAULT_TIMEOUT_SECONDS = 3600
DEFAULT_CATEGORY = "script"
PLAYBOOK_FILE_NAME = "playbook.yml"
WORKFLOW_FILE_NAME = "workflow.json"
YAML_SUFFIXES = (".yml", ".yaml")
# A mapping with one of these keys is a play (ansible needs hosts or an import).
PLAY_KEYS = frozenset({"hosts", "import_playbook", "ansible.builtin.import_playbook", "tasks", "roles"})
MAX_FILE_NAME_BYTES = limits.FILE_NAME_BYTES


def yaml_loader(module: Any = yaml) -> Any:
    """PyYAML's C safe loader if this PyYAML has libyaml, else its pure-Python SafeLoader.

    The pure-Python loader spends seconds of CPU, holding the interpreter lock, on a
    playbook of a few MiB; libyaml parses the same several times faster. Both construct
    only plain data (no Python objects from tags).
    """
    return getattr(module, "CSafeLoader", None) or module.SafeLoader


YAML_LOADER = yaml_loader()
# The API record form: the fields it maps, and the engine's own state in a record view
# (``revision``, ``is_dirty``, …), which the engine sets itself and does not import.
WRAPPED_KEYS = frozenset({
    "assembly_guid", "display_name", "name", "assembly_kind", "assembly_type", "type", "summary",
    "description", "category", "version", "metadata", "tags", "payload", "source", "revision",
    "is_dirty", "dirty_since", "last_persisted", "integrity", "created_at", "updated_at",
    "created_by", "updated_by", "payload_guid",
})
WRAPPED_PAYLOAD_KEYS = frozenset({"script", "script_encoding", "script_lines", "files", "workflow",
                                  "error"})


class InvalidDocument(ValueError):
    """The document cannot be imported; the message names the field and the problem."""


class NotAnAssembly(InvalidDocument):
    """The input is not an assembly document at all (``{}``, a manifest, a JSON schema…)."""


@dataclass(frozen=True)
class ImportedAssembly:
    display_name: str
    summary: str | None
    category: str | None
    assembly_kind: AssemblyKind
    assembly_type: str
    version: int | None
    metadata: dict[str, Any]
    tags: list[str]
    content: PayloadContent
    source_assembly_guid: str | None = None


# --------------------------------------------------------------------------- helpers


def _fail(message: str) -> NoReturn:
    raise InvalidDocument(message)


def _check(problem: str | None) -> None:
    """Refuse the document with an input_limits problem sentence, if there is one."""
    if problem is not None:
        _fail(problem)


class DocumentTooLarge(InvalidDocument):
    """A part of the document is over its size limit (answered 413, not 422)."""


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) <= 40 else "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _optional_str(doc: Mapping[str, Any], key: str, where: str) -> str | None:
    value = doc.get(key)
    if value is None or isinstance(value, str):
        return value
    _fail(f"{where}.{key} must be a string, got {_json_kind(value)}")


def _summary(doc: Mapping[str, Any], key: str, where: str) -> str | None:
    value = _optional_str(doc, key, where)
    if value is not None:
        _check(limits.text_problem(value, f"{where}.{key}", limits.SUMMARY_CHARS))
    return value


def _category(doc: Mapping[str, Any], where: str) -> str | None:
    value = _optional_str(doc, "category", where)
    if value is not None:
        _check(limits.name_problem(value, f"{where}.category", limits.CATEGORY_CHARS))
    return value


def _optional_int(doc: Mapping[str, Any], key: str, where: str) -> int | None:
    value = doc.get(key)
    if value is None:
        return None
    if _is_int(value):
        _check(limits.integer_problem(value, f"{where}.{key}"))
        return int(value)
    _fail(f"{where}.{key} must be a whole number, got {_json_kind(value)}")


def _display_name(value: object, where: str) -> str:
    if value is None:
        _fail(f"{where} is missing: every assembly needs a name")
    if not isinstance(value, str) or not value.strip():
        _fail(f"{where} must be a non-empty string, got {_json_kind(value)}")
    _check(limits.name_problem(value, where, limits.DISPLAY_NAME_CHARS))
    return value


def _utf8(text: str, where: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidDocument(
            f"{where} contains a character that cannot be stored as UTF-8 "
            f"(a lone surrogate at position {exc.start})"
        ) from None


def _decode_base64(value: object, where: str, *, lenient: bool) -> bytes:
    """Decode base64; ``lenient`` also accepts line breaks and other whitespace."""
    if not isinstance(value, str):
        _fail(f"{where} must be a base64 string, got {_json_kind(value)}")
    text = "".join(value.split()) if lenient else value
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise InvalidDocument(f"{where} is not valid base64 ({exc})") from None
    if not lenient and base64.b64encode(data).decode("ascii") != text:
        # Otherwise export (which always writes canonical base64) would not reproduce it.
        _fail(f"{where} is not canonical base64 (no line breaks, standard padding)")
    return data


def _unsafe_file_name_reason(name: str) -> str | None:
    if "/" in name or "\\" in name:
        return "contains a path separator"
    if "\x00" in name:
        return "contains a NUL character"
    if ".." in name:
        return "contains '..'"
    if name.startswith("."):
        return "starts with '.'"
    bad = limits.forbidden_name_character(name)
    if bad is not None:
        return f"contains {bad}"
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text"
    if len(encoded) > MAX_FILE_NAME_BYTES:
        return f"is longer than {MAX_FILE_NAME_BYTES} bytes"
    return None


def _safe_file_name(value: object, where: str) -> str:
    if value is None:
        _fail(f"{where} is missing: every attached file needs a file_name")
    if not isinstance(value, str) or not value:
        _fail(f"{where} must be a non-empty string, got {_json_kind(value)}")
    reason = _unsafe_file_name_reason(value)
    if reason is not None:
        _fail(
            f"{where} {value!r} is not a safe file name: it {reason}; use a plain name "
            "such as 'installer.msi' (no '/', '\\', NUL, '..' or leading '.')"
        )
    return value


def _name_stem(file_name: str | None) -> str | None:
    if not file_name:
        return None
    stem = PurePosixPath(file_name.replace("\\", "/")).stem
    return stem if stem.strip() else None


# ------------------------------------------------------------------ field validation


def _timeout(value: object, where: str) -> int:
    if not _is_int(value):
        _fail(f"{where} must be a whole number of seconds, got {_json_kind(value)}")
    assert isinstance(value, int)
    if value < 0:
        _fail(f"{where} must not be negative, got {value}")
    _check(limits.integer_problem(value, where))
    return value


def _sites(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        _fail(f"{where} must be an object like {{\"mode\": \"all\", \"values\": []}}, "
              f"got {_json_kind(value)}")
    if "mode" in value and not isinstance(value["mode"], str):
        _fail(f"{where}.mode must be a string, got {_json_kind(value['mode'])}")
    if "values" in value and not isinstance(value["values"], list):
        _fail(f"{where}.values must be a list, got {_json_kind(value['values'])}")
    _check(limits.sites_problem(value, where))
    return copy.deepcopy(value)


def _variables(value: object, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        _fail(f"{where} must be a list of variable objects, got {_json_kind(value)}")
    seen: set[str] = set()
    for index, variable in enumerate(value):
        here = f"{where}[{index}]"
        if not isinstance(variable, dict):
            _fail(f"{here} must be an object with at least a name, got {_json_kind(variable)}")
        name = variable.get("name")
        if name is None:
            _fail(f"{here}.name is missing: every variable needs a name")
        if not isinstance(name, str) or not name.strip():
            _fail(f"{here}.name must be a non-empty string, got {_json_kind(name)}")
        if name in seen:
            _fail(f"{where} has two variables named {name!r}; variable names must be unique")
        seen.add(name)
        if "type" in variable and not isinstance(variable["type"], str):
            _fail(f"{here}.type must be a string such as 'string', got "
                  f"{_json_kind(variable['type'])}")
        for key in ("label", "description"):
            if key in variable and not (variable[key] is None or isinstance(variable[key], str)):
                _fail(f"{here}.{key} must be a string, got {_json_kind(variable[key])}")
        if "required" in variable and not isinstance(variable["required"], bool):
            _fail(f"{here}.required must be true or false, got {_json_kind(variable['required'])}")
        if "options" in variable and not isinstance(variable["options"], list):
            _fail(f"{here}.options must be a list, got {_json_kind(variable['options'])}")
    _check(limits.variables_problem(value, where))
    return copy.deepcopy(value)


def _files(value: object, where: str) -> tuple[tuple[PayloadFile, ...], dict[str, Any]]:
    """Attachments, plus per-entry layout notes for entries not in the canonical shape."""
    if not isinstance(value, list):
        _fail(f"{where} must be a list of file objects, got {_json_kind(value)}")
    files: list[PayloadFile] = []
    notes: dict[str, Any] = {}
    seen: set[str] = set()
    for index, entry in enumerate(value):
        here = f"{where}[{index}]"
        if not isinstance(entry, dict):
            _fail(f"{here} must be an object with file_name and data, got {_json_kind(entry)}")
        name = _safe_file_name(entry.get("file_name"), f"{here}.file_name")
        if name in seen:
            _fail(f"{where} has two files named {name!r}; file names must be unique")
        seen.add(name)
        if "data" not in entry:
            _fail(f"{here}.data is missing: include the file content base64-encoded")
        data = _decode_base64(entry["data"], f"{here}.data", lenient=False)
        if "size" in entry:
            size = entry["size"]
            if not _is_int(size):
                _fail(f"{here}.size must be a whole number of bytes, got {_json_kind(size)}")
            if size != len(data):
                _fail(f"{here}.size is {size} but data decodes to {len(data)} bytes")
        mime_type = entry.get("mime_type", DEFAULT_MIME_TYPE)
        if not isinstance(mime_type, str) or not mime_type:
            _fail(f"{here}.mime_type must be a non-empty string, got {_json_kind(mime_type)}")
        _check(limits.mime_type_problem(mime_type, f"{here}.mime_type"))
        files.append(PayloadFile(file_name=name, data=data, mime_type=mime_type))
        order = list(entry)
        extra = {key: copy.deepcopy(val) for key, val in entry.items() if key not in FILE_KEYS}
        if order != list(FILE_KEYS) or extra:
            note: dict[str, Any] = {"key_order": order}
            if extra:
                note["extra"] = extra
            notes[name] = note
    return tuple(files), notes


def _read_script(doc: Mapping[str, Any], where: str) -> tuple[bytes, dict[str, Any]]:
    """The script bytes of a script/playbook document and the notes about its form."""
    encoding = doc.get("script_encoding")
    if encoding is not None and encoding != "base64":
        _fail(f"{where}.script_encoding {encoding!r} is not supported: use \"base64\", or "
              "leave script_encoding out for a plain-text script")
    lines: list[str] | None = None
    if "script_lines" in doc:
        raw_lines = doc["script_lines"]
        if not isinstance(raw_lines, list) or not all(isinstance(x, str) for x in raw_lines):
            _fail(f"{where}.script_lines must be a list of strings, got {_json_kind(raw_lines)}")
        lines = raw_lines
    notes: dict[str, Any] = {}
    script = doc.get("script")
    if script is not None:
        if not isinstance(script, str):
            _fail(f"{where}.script must be a string, got {_json_kind(script)}")
        if encoding == "base64":
            main = _decode_base64(script, f"{where}.script", lenient=True)
        else:
            main = _utf8(script, f"{where}.script")
        notes["script_was_plaintext"] = encoding is None
    elif lines is not None:
        main = _utf8("\n".join(lines), f"{where}.script_lines")
        notes["script_was_plaintext"] = True
    else:
        _fail(f"{where}.script is missing: a script document needs its script text "
              "(base64 with script_encoding \"base64\", or plain text)")
    try:
        text: str | None = main.decode("utf-8")
    except UnicodeDecodeError:
        text = None
        notes["script_utf8"] = False
    if lines is not None:
        notes["had_script_lines"] = True
        derived = text.replace("\r\n", "\n").split("\n") if text is not None else None
        if script is not None and lines != derived:
            notes["script_lines"] = list(lines)
    return main, notes


@dataclass(frozen=True)
class EngineBlock:
    """What an ``assembly_engine`` block (written by export) tells an import."""

    assembly_guid: str | None = None
    tags: tuple[str, ...] = ()
    display_name: str | None = None


def engine_block(value: object) -> EngineBlock:
    if value is None:
        return EngineBlock()
    if not isinstance(value, dict):
        _fail(f"document.{ENGINE_KEY} must be an object, got {_json_kind(value)}")
    guid = value.get("assembly_guid")
    if guid is not None and not is_valid_assembly_guid(guid):
        _fail(f"document.{ENGINE_KEY}.assembly_guid {guid!r} is not a valid assembly id "
              "(32 or 40 lowercase hex characters)")
    name = value.get("display_name")
    if name is not None:
        _display_name(name, f"document.{ENGINE_KEY}.display_name")
    tags = _tags(value.get("tags", []), f"document.{ENGINE_KEY}.tags")
    return EngineBlock(guid, tuple(tags), name)


def _tags(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        _fail(f"{where} must be a list of strings, got {_json_kind(value)}")
    _check(limits.tags_problem(value, where))
    return list(value)


def _main_file_name(kind: AssemblyKind, assembly_type: str) -> str:
    if kind is AssemblyKind.WORKFLOW:
        return WORKFLOW_FILE_NAME
    if kind is AssemblyKind.ANSIBLE:
        return PLAYBOOK_FILE_NAME
    return "script" + SCRIPT_EXTENSIONS[AssemblyType(assembly_type)]


def _script_kind(assembly_type: object, where: str) -> tuple[AssemblyKind, str]:
    if assembly_type is None:
        _fail(f"{where} is missing: say which kind of script this is "
              f"({', '.join(SCRIPT_TYPES)}) or 'ansible' for a playbook")
    if assembly_type == AssemblyType.ANSIBLE.value:
        return AssemblyKind.ANSIBLE, AssemblyType.ANSIBLE.value
    if assembly_type in SCRIPT_TYPES:
        assert isinstance(assembly_type, str)
        return AssemblyKind.SCRIPT, assembly_type
    shown = repr(assembly_type) if isinstance(assembly_type, str) else _json_kind(assembly_type)
    _fail(f"{where} {shown} is not a known script type ({', '.join(SCRIPT_TYPES)}); "
          "playbooks use 'ansible'")


def _workflow_bytes(workflow: Mapping[str, Any]) -> bytes:
    return (json.dumps(workflow, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _check_workflow(workflow: Mapping[str, Any], where: str) -> None:
    if "nodes" not in workflow:
        _fail(f"{where}.nodes is missing: a workflow needs a nodes list")
    if not isinstance(workflow["nodes"], list):
        _fail(f"{where}.nodes must be a list, got {_json_kind(workflow['nodes'])}")
    if "edges" in workflow and not isinstance(workflow["edges"], list):
        _fail(f"{where}.edges must be a list, got {_json_kind(workflow['edges'])}")
    if "tab_name" in workflow:
        _display_name(workflow["tab_name"], f"{where}.tab_name")
    _summary(workflow, "description", where)
    name = workflow.get("name")
    if "tab_name" not in workflow and isinstance(name, str) and name.strip():
        _check(limits.name_problem(name, f"{where}.name", limits.DISPLAY_NAME_CHARS))
    try:
        _workflow_bytes(workflow)
    except UnicodeEncodeError:
        _fail(f"{where} contains a character that cannot be stored as UTF-8 (a lone surrogate)")


# ------------------------------------------------------------------------- import


def parse_document(
    raw: bytes | str,
    *,
    file_name: str | None = None,
    from_dict: Callable[..., ImportedAssembly] | None = None,
) -> ImportedAssembly:
    """Parse a legacy document (JSON text or a raw YAML playbook) for import.

    ``from_dict`` imports the parsed JSON value (default ``document_from_dict``; the
    ``formats`` package passes its own, which knows every format)."""
    raw_bytes: bytes | None = None
    if isinstance(raw, bytes | bytearray):
        raw_bytes = bytes(raw)
        try:
            text = raw_bytes.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidDocument(
                f"document is not UTF-8 text (byte 0x{raw_bytes[exc.start]:02x} at offset "
                f"{exc.start}); save it as UTF-8 and import it again"
            ) from None
    elif isinstance(raw, str):
        text = raw
    else:
        _fail(f"document must be text or bytes, got {type(raw).__name__}")

    if file_name is not None and file_name.lower().endswith(YAML_SUFFIXES):
        return _playbook_from_text(text, raw_bytes, file_name, require_plays=False)

    try:
        value = json.loads(text.removeprefix("\ufeff"), parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        not_json = f"document is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        try:
            playbook = _playbook_or_none(text, raw_bytes, file_name)
        except DocumentTooLarge as too_large:
            # It may be a JSON document with a typo: say both, not only the playbook limit.
            raise DocumentTooLarge(f"{not_json}, and it cannot be read as a YAML playbook "
                                   f"either: {too_large}") from None
        if playbook is not None:
            return playbook
        raise InvalidDocument(f"{not_json} and not a YAML Ansible playbook") from None
    except RecursionError:
        raise InvalidDocument("document is nested too deeply to import") from None
    if from_dict is not None:
        return from_dict(value, file_name=file_name)
    if not isinstance(value, dict):
        _fail(f"document must be a JSON object, got {_json_kind(value)}")
    return document_from_dict(value, file_name=file_name)


def _reject_constant(name: str) -> Any:
    _fail(f"document contains {name}, which is not valid JSON; use a number or a string")


def _playbook_or_none(
    text: str, raw_bytes: bytes | None, file_name: str | None
) -> ImportedAssembly | None:
    try:
        return _playbook_from_text(text, raw_bytes, file_name, require_plays=True)
    except DocumentTooLarge:
        raise
    except InvalidDocument:
        return None


def _check_playbook_size(size_bytes: int, where: str) -> None:
    too_large = limits.playbook_problem(size_bytes, where)
    if too_large is not None:
        raise DocumentTooLarge(too_large)


def _looks_like_plays(data: object) -> bool:
    plays = [data] if isinstance(data, dict) else data
    if not isinstance(plays, list) or not plays:
        return False
    return all(isinstance(play, dict) and PLAY_KEYS.intersection(play) for play in plays)


def _playbook_from_text(
    text: str, raw_bytes: bytes | None, file_name: str | None, *, require_plays: bool
) -> ImportedAssembly:
    label = f"playbook {file_name!r}" if file_name else "playbook"
    size = len(raw_bytes) if raw_bytes is not None else len(text.encode("utf-8", "surrogatepass"))
    _check_playbook_size(size, label)  # before parsing: the size is what costs
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
        _fail(f"{label} is empty: it needs at least one play")
    if not isinstance(data, list | dict):
        _fail(f"{label} must be a YAML list of plays, got {_json_kind(data)}")
    if require_plays and not _looks_like_plays(data):
        _fail(f"{label} is not a list of Ansible plays")
    first = data[0] if isinstance(data, list) and data else data
    play_name = first.get("name") if isinstance(first, dict) else None
    display_name = _name_stem(file_name)
    where = "file_name"
    if display_name is None:
        where = f"{label}: the first play's name"
        if isinstance(play_name, str) and play_name.strip():
            display_name = play_name
        else:
            display_name = "Imported playbook"
    _check(limits.name_problem(display_name, where, limits.DISPLAY_NAME_CHARS))
    main = raw_bytes if raw_bytes is not None else _utf8(text, "playbook")
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


def document_from_dict(doc: dict[str, Any], *, file_name: str | None = None) -> ImportedAssembly:
    """Import an already-parsed JSON object (the input is not modified)."""
    if not isinstance(doc, dict):
        _fail(f"document must be a JSON object, got {_json_kind(doc)}")
    body = dict(doc)
    block = engine_block(body.pop(ENGINE_KEY, None))
    guid, tags = block.assembly_guid, list(block.tags)
    if "payload" in body:
        imported = _from_wrapped(body, guid, tags)
    elif (
        body.get("type") == AssemblyType.WORKFLOW.value
        or "tab_name" in body
        or ("nodes" in body and "script" not in body and "script_lines" not in body)
    ):
        imported = _from_workflow(body, file_name, guid, tags,
                                  exported_name=block.display_name)
    else:
        imported = _from_script_document(body, guid, tags)
    # Last, so the field checks above name their problems first: anything left that could
    # not be stored and answered as JSON (an integer outside signed 64-bit, deep inside an
    # unknown field or a workflow node) is refused too.
    _check(json_problem(doc, "document"))
    return imported


def _from_script_document(
    doc: dict[str, Any], guid: str | None, tags: list[str]
) -> ImportedAssembly:
    where = "document"
    kind, assembly_type = _script_kind(doc.get("type"), f"{where}.type")
    display_name = _display_name(doc.get("name"), f"{where}.name")
    summary = _summary(doc, "description", where)
    category = _category(doc, where)
    version = _optional_int(doc, "version", where)
    main, script_notes = _read_script(doc, where)
    if kind is AssemblyKind.ANSIBLE:
        _check_playbook_size(len(main), f"{where}.script")

    metadata: dict[str, Any] = {}
    if "timeout_seconds" in doc:
        metadata["timeout_seconds"] = _timeout(doc["timeout_seconds"], f"{where}.timeout_seconds")
    if "sites" in doc:
        metadata["sites"] = _sites(doc["sites"], f"{where}.sites")
    variables: list[dict[str, Any]] | None = None
    if "variables" in doc:
        variables = _variables(doc["variables"], f"{where}.variables")
        metadata["variables"] = variables
    files: tuple[PayloadFile, ...] = ()
    file_notes: dict[str, Any] = {}
    if "files" in doc:
        files, file_notes = _files(doc["files"], f"{where}.files")
    legacy = {key: copy.deepcopy(val) for key, val in doc.items() if key not in STANDARD_KEYS}
    if legacy:
        metadata["legacy"] = legacy

    legacy_format: dict[str, Any] = {"source_format": "legacy-json", "key_order": list(doc)}
    legacy_format.update(script_notes)
    if variables and any(list(var) != sorted(var) for var in variables):
        legacy_format["variable_key_order"] = [list(var) for var in variables]
    if file_notes:
        legacy_format["file_entries"] = file_notes
    metadata["legacy_format"] = legacy_format

    return ImportedAssembly(
        display_name=display_name,
        summary=summary,
        category=category,
        assembly_kind=kind,
        assembly_type=assembly_type,
        version=version,
        metadata=metadata,
        tags=tags,
        content=PayloadContent(
            PayloadType.SCRIPT, _main_file_name(kind, assembly_type), main, files
        ),
        source_assembly_guid=guid,
    )


def _workflow_display_name(workflow: Mapping[str, Any]) -> str | None:
    """The workflow's own name: ``tab_name``, else a non-empty ``name``."""
    if "tab_name" in workflow:
        return str(workflow["tab_name"])
    name = workflow.get("name")
    return name if isinstance(name, str) and name.strip() else None


def _from_workflow(
    doc: dict[str, Any], file_name: str | None, guid: str | None, tags: list[str],
    *, exported_name: str | None = None,
) -> ImportedAssembly:
    _check_workflow(doc, "document")
    legacy_format: dict[str, Any] = {"source_format": "workflow-json"}
    display_name = _workflow_display_name(doc)
    if display_name is None:
        # A workflow without a name of its own: the record's name its export carries, or
        # the file's name.
        display_name = exported_name or _name_stem(file_name)
        if display_name is None:
            _fail("document.tab_name is missing: a workflow needs a tab_name "
                  "(or import it from a file whose name can be used)")
        _check(limits.name_problem(display_name, "file_name", limits.DISPLAY_NAME_CHARS))
        legacy_format["derived_name"] = display_name
    workflow = copy.deepcopy(doc)
    return ImportedAssembly(
        display_name=display_name,
        summary=doc.get("description"),
        category=None,
        assembly_kind=AssemblyKind.WORKFLOW,
        assembly_type=AssemblyType.WORKFLOW.value,
        version=None,
        metadata={"legacy_format": legacy_format},
        tags=tags,
        content=PayloadContent(PayloadType.WORKFLOW, WORKFLOW_FILE_NAME, _workflow_bytes(workflow)),
        source_assembly_guid=guid,
    )


def _from_wrapped(doc: dict[str, Any], guid: str | None, tags: list[str]) -> ImportedAssembly:
    where = "document"
    payload = doc["payload"]
    if not isinstance(payload, dict):
        _fail(f"{where}.payload must be an object ({{\"script\": ..., \"files\": [...]}} or "
              f"{{\"workflow\": {{...}}}}), got {_json_kind(payload)}")
    raw_type = doc.get("assembly_type", doc.get("type"))
    raw_kind = doc.get("assembly_kind")
    if raw_kind is None:
        if "workflow" in payload:
            kind = AssemblyKind.WORKFLOW
        else:
            kind = _script_kind(raw_type, f"{where}.assembly_type")[0]
    else:
        try:
            kind = AssemblyKind(raw_kind)
        except ValueError:
            shown = repr(raw_kind) if isinstance(raw_kind, str) else _json_kind(raw_kind)
            raise InvalidDocument(
                f"{where}.assembly_kind {shown} is not a known kind "
                f"({', '.join(k.value for k in AssemblyKind)})"
            ) from None
    if kind is AssemblyKind.SCRIPT:
        assembly_type = _script_kind(raw_type, f"{where}.assembly_type")[1]
        if assembly_type == AssemblyType.ANSIBLE.value:
            _fail(f"{where}.assembly_type 'ansible' needs assembly_kind 'ansible'")
    else:
        assembly_type = next(iter(KIND_TYPES[kind])).value
        if raw_type is not None and raw_type != assembly_type:
            _fail(f"{where}.assembly_type {raw_type!r} does not fit assembly_kind "
                  f"{kind.value!r} (expected {assembly_type!r})")

    display_name = _display_name(doc.get("display_name", doc.get("name")), f"{where}.display_name")
    summary = _summary(doc, "summary", where)
    if summary is None and "summary" not in doc:
        summary = _summary(doc, "description", where)
    category = _category(doc, where)
    version = _optional_int(doc, "version", where)

    metadata_value = doc.get("metadata", {})
    if metadata_value is None:
        metadata_value = {}
    if not isinstance(metadata_value, dict):
        _fail(f"{where}.metadata must be an object, got {_json_kind(metadata_value)}")
    metadata = copy.deepcopy(metadata_value)
    if "timeout_seconds" in metadata:
        _timeout(metadata["timeout_seconds"], f"{where}.metadata.timeout_seconds")
    if "sites" in metadata:
        _sites(metadata["sites"], f"{where}.metadata.sites")
    if "variables" in metadata:
        _variables(metadata["variables"], f"{where}.metadata.variables")
    for key in ("legacy", "legacy_format"):
        if key in metadata and not isinstance(metadata[key], dict):
            _fail(f"{where}.metadata.{key} must be an object, got {_json_kind(metadata[key])}")

    if "tags" in doc:
        tags = _tags(doc["tags"], f"{where}.tags")
    own_guid = doc.get("assembly_guid")
    if own_guid is not None:
        if not is_valid_assembly_guid(own_guid):
            _fail(f"{where}.assembly_guid {own_guid!r} is not a valid assembly id "
                  "(32 or 40 lowercase hex characters)")
        guid = own_guid
    # Fields this form does not map are kept (never dropped silently): top-level ones and
    # unknown payload keys in metadata.legacy, which export writes back as top-level keys.
    extra = {key: copy.deepcopy(val) for key, val in doc.items() if key not in WRAPPED_KEYS}
    extra_payload = {key: copy.deepcopy(val) for key, val in payload.items()
                     if key not in WRAPPED_PAYLOAD_KEYS}
    if extra_payload:
        extra["payload_fields"] = extra_payload
    if extra:
        legacy = metadata.get("legacy")
        metadata["legacy"] = {**extra, **(legacy if isinstance(legacy, dict) else {})}

    files: tuple[PayloadFile, ...] = ()
    if kind is AssemblyKind.WORKFLOW:
        workflow = payload.get("workflow")
        if not isinstance(workflow, dict):
            _fail(f"{where}.payload.workflow must be an object with nodes and edges, "
                  f"got {_json_kind(workflow)}")
        _check_workflow(workflow, f"{where}.payload.workflow")
        content = PayloadContent(
            PayloadType.WORKFLOW, WORKFLOW_FILE_NAME, _workflow_bytes(workflow)
        )
    else:
        main, _ = _read_script(payload, f"{where}.payload")
        if kind is AssemblyKind.ANSIBLE:
            _check_playbook_size(len(main), f"{where}.payload.script")
        if "files" in payload:
            files, _ = _files(payload["files"], f"{where}.payload.files")
        content = PayloadContent(
            PayloadType.SCRIPT, _main_file_name(kind, assembly_type), main, files
        )
    return ImportedAssembly(
        display_name=display_name,
        summary=summary,
        category=category,
        assembly_kind=kind,
        assembly_type=assembly_type,
        version=version,
        metadata=metadata,
        tags=tags,
        content=content,
        source_assembly_guid=guid,
    )


# ------------------------------------------------------------------------- export


def export_document(
    *,
    display_name: str,
    summary: str | None,
    category: str | None,
    assembly_kind: AssemblyKind | str,
    assembly_type: str | None,
    version: int | None,
    metadata: Mapping[str, Any],
    tags: Sequence[str],
    content: PayloadContent,
    assembly_guid: str,
    source: str,
    revision: int,
    updated_at: str,
) -> dict[str, Any]:
    """Rebuild the legacy document of an assembly, plus the ``assembly_engine`` key."""
    kind = AssemblyKind(assembly_kind)
    legacy_format = metadata.get("legacy_format")
    notes: Mapping[str, Any] = legacy_format if isinstance(legacy_format, dict) else {}
    if kind is AssemblyKind.WORKFLOW:
        doc = _export_workflow(display_name, summary, notes, content)
    else:
        if assembly_type is None:
            assembly_type = _type_from_main_file(kind, content.main_file_name)
        doc = _export_script(
            display_name, summary, category, assembly_type, version, metadata, notes, content
        )
    doc[ENGINE_KEY] = {
        "assembly_guid": assembly_guid,
        "display_name": display_name,
        "source": str(source),
        "revision": revision,
        "updated_at": updated_at,
        "tags": list(tags),
    }
    return doc


def _type_from_main_file(kind: AssemblyKind, main_file_name: str) -> str:
    if kind is AssemblyKind.ANSIBLE:
        return AssemblyType.ANSIBLE.value
    suffix = PurePosixPath(main_file_name).suffix
    for assembly_type, extension in SCRIPT_EXTENSIONS.items():
        if extension == suffix and assembly_type.value in SCRIPT_TYPES:
            return assembly_type.value
    return AssemblyType.POWERSHELL.value


def _export_file(item: PayloadFile, note: object) -> dict[str, Any]:
    values: dict[str, Any] = {
        "file_name": item.file_name,
        "size": item.size,
        "mime_type": item.mime_type,
        "data": base64.b64encode(item.data).decode("ascii"),
    }
    if not isinstance(note, dict) or not isinstance(note.get("key_order"), list):
        return values
    extra = note.get("extra") if isinstance(note.get("extra"), dict) else {}
    assert isinstance(extra, dict)
    out: dict[str, Any] = {}
    for key in note["key_order"]:
        if key in values:
            out[key] = values[key]
        elif key in extra:
            out[key] = copy.deepcopy(extra[key])
    # Keys the original entry lacked come back only when they carry information.
    for key in FILE_KEYS:
        if key in out:
            continue
        if key == "size" or (key == "mime_type" and item.mime_type == DEFAULT_MIME_TYPE):
            continue
        out[key] = values[key]
    for key, val in extra.items():
        out.setdefault(key, copy.deepcopy(val))
    return out


def _ordered_variables(variables: object, orders: object) -> object:
    if not isinstance(variables, list) or not isinstance(orders, list):
        return variables
    result: list[Any] = []
    for index, variable in enumerate(variables):
        order = orders[index] if index < len(orders) else None
        if (
            isinstance(variable, dict)
            and isinstance(order, list)
            and len(order) == len(variable)
            and set(order) == set(variable)
        ):
            variable = {key: variable[key] for key in order}
        result.append(variable)
    return result


def _export_script(
    display_name: str,
    summary: str | None,
    category: str | None,
    assembly_type: str,
    version: int | None,
    metadata: Mapping[str, Any],
    notes: Mapping[str, Any],
    content: PayloadContent,
) -> dict[str, Any]:
    legacy_value = metadata.get("legacy")
    legacy: Mapping[str, Any] = legacy_value if isinstance(legacy_value, dict) else {}
    file_notes_value = notes.get("file_entries")
    file_notes = file_notes_value if isinstance(file_notes_value, dict) else {}
    files = [_export_file(item, file_notes.get(item.file_name)) for item in content.files]
    values: dict[str, Any] = {
        "version": version,
        "name": display_name,
        "description": summary,
        "category": category,
        "type": assembly_type,
        "script": base64.b64encode(content.main).decode("ascii"),
        "script_encoding": "base64",
        "files": files,
    }
    for key in ("timeout_seconds", "sites", "variables"):
        if key in metadata:
            values[key] = copy.deepcopy(metadata[key])
    if "variables" in values:
        values["variables"] = _ordered_variables(
            values["variables"], notes.get("variable_key_order")
        )

    order = notes.get("key_order")
    out: dict[str, Any] = {}
    if isinstance(order, list):
        for key in order:
            if key in ("script", "script_lines"):
                if "script" not in out:
                    out["script"] = values["script"]
                    if "script_encoding" not in order:
                        out["script_encoding"] = "base64"
            elif key in STANDARD_KEYS:
                if key in values:
                    out[key] = values[key]
            elif key in legacy and key != ENGINE_KEY:
                out[key] = copy.deepcopy(legacy[key])
        for key in EXPORT_KEYS:
            if key in out or key not in values:
                continue
            value = values[key]
            if value is None or (key == "files" and not value):
                continue
            out[key] = value
    else:
        # Never a legacy JSON document: the legacy tool's full layout and defaults.
        defaults: dict[str, Any] = {
            "version": 1,
            "description": "",
            "category": DEFAULT_CATEGORY,
            "timeout_seconds": DEFAULT_TIMEOUT_SECONDS,
            "sites": {"mode": "all", "values": []},
            "variables": [],
        }
        for key in EXPORT_KEYS:
            value = values.get(key)
            out[key] = copy.deepcopy(defaults[key]) if value is None and key in defaults else value
    for key, val in legacy.items():
        if key not in out and key not in STANDARD_KEYS and key != ENGINE_KEY:
            out[key] = copy.deepcopy(val)
    return out


def _export_workflow(
    display_name: str, summary: str | None, notes: Mapping[str, Any], content: PayloadContent
) -> dict[str, Any]:
    try:
        workflow = json.loads(content.main.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidDocument(f"the stored workflow is not valid JSON ({exc})") from None
    if not isinstance(workflow, dict):
        _fail(f"the stored workflow must be a JSON object, got {_json_kind(workflow)}")
    if "tab_name" in workflow:
        workflow["tab_name"] = display_name
    elif _workflow_display_name(workflow) is not None:
        workflow["name"] = display_name
    elif display_name != notes.get("derived_name"):
        workflow = {"tab_name": display_name, **workflow}
    if "description" in workflow or summary is not None:
        workflow["description"] = summary
    return workflow


# -------------------------------------------------------------------- comparison


def normalise_for_comparison(doc: dict[str, Any]) -> dict[str, Any]:
    """Apply the documented normalisations (module docstring) to a legacy document."""
    result = copy.deepcopy(doc)
    result.pop(ENGINE_KEY, None)
    inner = result.get("payload")
    if isinstance(inner, dict) and ("script" in inner or "script_lines" in inner):
        result["payload"] = normalise_for_comparison(inner)  # an item's legacy document
    if "script" not in result and "script_lines" not in result:
        return result
    script = result.get("script")
    if isinstance(script, str):
        if result.get("script_encoding") == "base64":
            raw = _decode_base64(script, "document.script", lenient=True)
        else:
            raw = _utf8(script, "document.script")
    else:
        lines = result.get("script_lines")
        if not isinstance(lines, list):
            return result
        raw = _utf8("\n".join(str(line) for line in lines), "document.script_lines")
    result.pop("script_lines", None)
    result["script"] = base64.b64encode(raw.replace(b"\r\n", b"\n")).decode("ascii")
    result["script_encoding"] = "base64"
    return result


__all__ = [
    "ENGINE_KEY",
    "ImportedAssembly",
    "EngineBlock",
    "InvalidDocument",
    "NotAnAssembly",
    "document_from_dict",
    "engine_block",
    "export_document",
    "normalise_for_comparison",
    "parse_document",
]
