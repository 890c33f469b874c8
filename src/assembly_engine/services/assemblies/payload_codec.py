"""The API's ``payload`` shape ↔ payload folder content (Docs/assemblies.md §7, "Payload shape").

Scripts and playbooks: ``{"script": "<text>", "files": [{file_name, mime_type, size, data}]}``
with ``data`` base64 in JSON. Workflows: ``{"workflow": {...}}``. On an update, a file entry
without ``data`` keeps the bytes of the existing file of that name, so clients need not
send attachments back just to change a script.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from assembly_engine import input_limits as limits
from assembly_engine.domain.types import AssemblyKind, PayloadType
from assembly_engine.services.assemblies.payload_layout import (
    main_file_name,
    workflow_bytes,
)
from assembly_engine.storage.contract.models import PayloadContent, PayloadFile


class PayloadInputError(ValueError):
    """A payload that cannot be stored; the message says which field and why."""


class PayloadTooLarge(PayloadInputError):
    """A payload part over its size limit (answered 413, not 422)."""


def _decode_files(files: object, previous: dict[str, PayloadFile] | None) -> tuple[PayloadFile, ...]:
    if files is None:
        return tuple(previous.values()) if previous else ()
    if not isinstance(files, list):
        raise PayloadInputError("payload.files must be a list of {file_name, mime_type, data}.")
    too_many = limits.file_count_problem(len(files), "payload.files")
    if too_many is not None:
        raise PayloadInputError(f"{too_many}.")
    decoded: list[PayloadFile] = []
    for index, item in enumerate(files):
        where = f"payload.files[{index}]"
        if not isinstance(item, dict):
            raise PayloadInputError(f"{where} must be an object with file_name and data.")
        name = item.get("file_name")
        if not isinstance(name, str) or not name:
            raise PayloadInputError(f"{where}.file_name must be a non-empty string.")
        name = limits.nfc(name)  # "é.txt" beside "e\u0301.txt" is one name, refused twice
        problem = limits.file_name_problem(name, f"{where}.file_name")
        if problem is not None:
            raise PayloadInputError(f"{problem}.")
        mime = item.get("mime_type") or "application/octet-stream"
        if not isinstance(mime, str):
            raise PayloadInputError(f"{where}.mime_type must be a string.")
        problem = limits.mime_type_problem(mime, f"{where}.mime_type")
        if problem is not None:
            raise PayloadInputError(f"{problem}.")
        data = item.get("data")
        if data is None:
            if previous is None or name not in previous:
                raise PayloadInputError(
                    f"{where} ({name}) has no data and there is no existing file of that name to keep."
                )
            decoded.append(PayloadFile(name, previous[name].data, mime))
            continue
        if not isinstance(data, str):
            raise PayloadInputError(f"{where}.data must be a base64 string.")
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise PayloadInputError(f"{where}.data ({name}) is not valid base64.") from None
        decoded.append(PayloadFile(name, raw, mime))
    return tuple(decoded)


def content_from_api(
    payload: dict[str, Any],
    kind: AssemblyKind,
    assembly_type: str,
    previous: PayloadContent | None = None,
) -> PayloadContent:
    """Build folder content from an API payload (``previous`` fills what an update left out)."""
    if not isinstance(payload, dict):
        raise PayloadInputError("payload must be an object.")
    name = main_file_name(kind, assembly_type)
    if kind is AssemblyKind.WORKFLOW:
        workflow = payload.get("workflow")
        if workflow is None and previous is not None:
            return PayloadContent(PayloadType.WORKFLOW, name, previous.main)
        if not isinstance(workflow, dict):
            raise PayloadInputError('payload.workflow must be an object such as {"nodes": [], "edges": []}.')
        for key in ("nodes", "edges"):
            if key in workflow and not isinstance(workflow[key], list):
                raise PayloadInputError(f"payload.workflow.{key} must be a list.")
        # Request models already refuse lone surrogates, so this encodes.
        return PayloadContent(PayloadType.WORKFLOW, name, workflow_bytes(workflow))
    script = payload.get("script")
    if script is None:
        if previous is None:
            raise PayloadInputError("payload.script is required (the script or playbook text).")
        main = previous.main
    elif not isinstance(script, str):
        raise PayloadInputError("payload.script must be a string of plain text.")
    else:
        main = script.encode("utf-8")
        if kind is AssemblyKind.ANSIBLE:  # only new text: a kept playbook stays as it was
            too_large = limits.playbook_problem(len(main), "payload.script")
            if too_large is not None:
                raise PayloadTooLarge(f"{too_large}.")
    old_files = {f.file_name: f for f in previous.files} if previous is not None else None
    files = _decode_files(payload.get("files"), old_files)
    names = [f.file_name for f in files]
    if len(set(names)) != len(names):
        raise PayloadInputError("payload.files has two files with the same file_name.")
    return PayloadContent(PayloadType.SCRIPT, name, main, files)
