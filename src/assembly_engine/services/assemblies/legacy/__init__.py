"""The legacy format: its documents <-> the engine's representation (pure functions, no I/O).

Docs/assemblies.md §10 is the operator's account of the same rules.

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

One module per form: ``scripts``, ``playbooks``, ``workflows``, ``wrapped``; ``export``
rebuilds a document, ``checks`` holds the errors and field checks they share. The other
formats (upstream items, Tactical RMM entries, plain script files) and the choice between
them live in the ``formats`` package, which builds on this one.

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
document and ``export_document(parse_document(original))`` (Docs/assemblies.md §10.3); the
tests apply them to both sides with ``tests/legacy_comparison.py``:

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

import json
from collections.abc import Callable
from typing import Any

from assembly_engine.domain.types import AssemblyType
from assembly_engine.services.assemblies.legacy.checks import (
    DocumentTooLarge,
    InvalidDocument,
    NotAnAssembly,
    check,
    fail,
    json_kind,
)
from assembly_engine.services.assemblies.legacy.export import ExportFields, export_document, record_fields
from assembly_engine.services.assemblies.legacy.imported import (
    ENGINE_KEY,
    EngineBlock,
    ImportedAssembly,
    engine_block,
)
from assembly_engine.services.assemblies.legacy.playbooks import (
    YAML_SUFFIXES,
    playbook_from_text,
    playbook_or_none,
)
from assembly_engine.services.assemblies.legacy.scripts import from_script_document
from assembly_engine.services.assemblies.legacy.workflows import from_workflow
from assembly_engine.services.assemblies.legacy.wrapped import from_wrapped
from assembly_engine.services.request_bodies import json_problem


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
        fail(f"document must be text or bytes, got {type(raw).__name__}")

    if file_name is not None and file_name.lower().endswith(YAML_SUFFIXES):
        return playbook_from_text(text, raw_bytes, file_name, require_plays=False)

    try:
        value = json.loads(text.removeprefix("\ufeff"), parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        not_json = f"document is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        try:
            playbook = playbook_or_none(text, raw_bytes, file_name)
        except DocumentTooLarge as too_large:
            # It may be a JSON document with a typo: say both, not only the playbook limit.
            raise DocumentTooLarge(
                f"{not_json}, and it cannot be read as a YAML playbook either: {too_large}"
            ) from None
        if playbook is not None:
            return playbook
        raise InvalidDocument(f"{not_json} and not a YAML Ansible playbook") from None
    except RecursionError:
        raise InvalidDocument("document is nested too deeply to import") from None
    if from_dict is not None:
        return from_dict(value, file_name=file_name)
    if not isinstance(value, dict):
        fail(f"document must be a JSON object, got {json_kind(value)}")
    return document_from_dict(value, file_name=file_name)


def _reject_constant(name: str) -> Any:
    fail(f"document contains {name}, which is not valid JSON; use a number or a string")


def document_from_dict(doc: dict[str, Any], *, file_name: str | None = None) -> ImportedAssembly:
    """Import an already-parsed JSON object (the input is not modified)."""
    if not isinstance(doc, dict):
        fail(f"document must be a JSON object, got {json_kind(doc)}")
    body = dict(doc)
    block = engine_block(body.pop(ENGINE_KEY, None))
    guid, tags = block.assembly_guid, list(block.tags)
    if "payload" in body:
        imported = from_wrapped(body, guid, tags)
    elif (
        body.get("type") == AssemblyType.WORKFLOW.value
        or "tab_name" in body
        or ("nodes" in body and "script" not in body and "script_lines" not in body)
    ):
        imported = from_workflow(body, file_name, guid, tags, exported_name=block.display_name)
    else:
        imported = from_script_document(body, guid, tags)
    # Last, so the field checks above name their problems first: anything left that could
    # not be stored and answered as JSON (an integer outside signed 64-bit, deep inside an
    # unknown field or a workflow node) is refused too.
    check(json_problem(doc, "document"))
    return imported


__all__ = [
    "ENGINE_KEY",
    "DocumentTooLarge",
    "EngineBlock",
    "ExportFields",
    "ImportedAssembly",
    "InvalidDocument",
    "NotAnAssembly",
    "document_from_dict",
    "engine_block",
    "export_document",
    "parse_document",
    "record_fields",
]
