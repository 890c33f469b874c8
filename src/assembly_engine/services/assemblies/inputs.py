"""Validated inputs of the assembly use cases (request bodies of the API, CLI arguments)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    ValidationInfo,
    model_validator,
)

from assembly_engine import input_limits as limits
from assembly_engine.domain.types import KIND_TYPES, AssemblyKind, AssemblyType, Domain
from assembly_engine.services.request_bodies import WHOLE, StrictModel, WholeNumber, json_problem


def _one_line_name(max_chars: int, *, visible: bool = False) -> AfterValidator:
    """A name field: one line of visible text within ``max_chars`` (input_limits), in NFC."""

    def check(value: str, info: ValidationInfo) -> str:
        value = limits.nfc(value)
        problem = limits.name_problem(value, info.field_name or "name", max_chars, visible=visible)
        if problem is not None:
            raise ValueError(problem)
        return value

    return AfterValidator(check)


def _free_text(max_chars: int) -> AfterValidator:
    def check(value: str, info: ValidationInfo) -> str:
        problem = limits.text_problem(value, info.field_name or "text", max_chars)
        if problem is not None:
            raise ValueError(problem)
        return value

    return AfterValidator(check)


def _tags(value: list[str], info: ValidationInfo) -> list[str]:
    problem = limits.tags_problem(value, info.field_name or "tags")
    if problem is not None:
        raise ValueError(problem)
    return value


def _metadata(value: dict[str, Any] | None, info: ValidationInfo) -> dict[str, Any] | None:
    problem = None if value is None else limits.metadata_problem(value, info.field_name or "metadata")
    if problem is not None:
        raise ValueError(problem)
    return value


# The lengths are checked by the validators (with a message naming the field and the
# limit); the schema entries only tell OpenAPI readers about them.
ONE_LINE = limits.ONE_LINE_PATTERN
Name = Annotated[
    str,
    Field(min_length=1, json_schema_extra={"maxLength": limits.DISPLAY_NAME_CHARS, "pattern": ONE_LINE}),
    _one_line_name(limits.DISPLAY_NAME_CHARS, visible=True),
]
Summary = Annotated[
    str, Field(json_schema_extra={"maxLength": limits.SUMMARY_CHARS}), _free_text(limits.SUMMARY_CHARS)
]
Category = Annotated[
    str,
    Field(json_schema_extra={"maxLength": limits.CATEGORY_CHARS, "pattern": ONE_LINE}),
    _one_line_name(limits.CATEGORY_CHARS),
]
# Checked against the kind by the service (a clearer refusal than a validation error).
AssemblyTypeName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=limits.ASSEMBLY_TYPE_CHARS,
        json_schema_extra={"enum": [t.value for t in AssemblyType]},
    ),
]
Tags = Annotated[
    list[
        Annotated[
            str, Field(min_length=1, json_schema_extra={"maxLength": limits.TAG_CHARS, "pattern": ONE_LINE})
        ]
    ],
    Field(json_schema_extra={"maxItems": limits.TAGS_PER_ASSEMBLY}),
    AfterValidator(_tags),
]
Metadata = Annotated[dict[str, Any], AfterValidator(_metadata)]


BASE64_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
_TOKEN = r"[A-Za-z0-9!#$&^_.+-]{1,127}"  # input_limits.mime_type_problem
_SCRIPT_PAYLOAD = {
    "type": "object",
    "required": ["script"],
    "properties": {
        "script": {"type": "string"},
        "files": {
            "type": "array",
            "maxItems": limits.FILES_PER_ASSEMBLY,
            "items": {
                "type": "object",
                "required": ["file_name", "data"],
                "properties": {
                    "file_name": {"type": "string", "minLength": 1, "pattern": limits.ONE_LINE_PATTERN},
                    "mime_type": {
                        "type": ["string", "null"],
                        "pattern": f"^(?:{_TOKEN}/{_TOKEN})?$",
                    },  # "": the default
                    "data": {"type": "string", "pattern": BASE64_PATTERN, "contentEncoding": "base64"},
                },
            },
        },
    },
}
_WORKFLOW_PAYLOAD = {
    "type": "object",
    "required": ["workflow"],
    "properties": {
        "workflow": {"type": "object", "properties": {"nodes": {"type": "array"}, "edges": {"type": "array"}}}
    },
}


def _types_by_kind(schema: dict[str, Any]) -> None:
    """The schema says which assembly_type fits which assembly_kind (KIND_TYPES), and what
    the payload of each kind holds (payload_codec.content_from_api)."""
    schema["allOf"] = [
        {
            "if": {"properties": {"assembly_kind": {"const": kind.value}}},
            "then": {
                "properties": {
                    "assembly_type": {"enum": sorted(t.value for t in types)},
                    "payload": _WORKFLOW_PAYLOAD if kind is AssemblyKind.WORKFLOW else _SCRIPT_PAYLOAD,
                }
            },
        }
        for kind, types in KIND_TYPES.items()
    ]


class NewAssembly(StrictModel):
    model_config = ConfigDict(json_schema_extra=_types_by_kind)

    domain: Domain = Domain.USER
    display_name: Name
    assembly_kind: AssemblyKind
    assembly_type: AssemblyTypeName
    summary: Summary | None = None
    category: Category | None = None
    version: WholeNumber | None = None
    metadata: Metadata = Field(default_factory=dict)
    tags: Tags = Field(default_factory=list)
    payload: dict[str, Any]


class AssemblyChanges(StrictModel):
    """A partial update: a field left out keeps its value."""

    domain: Domain | None = None  # if given it must be the assembly's own domain
    display_name: Name | None = None
    summary: Summary | None = None
    category: Category | None = None
    assembly_type: AssemblyTypeName | None = None
    version: WholeNumber | None = None
    metadata: Metadata | None = None
    tags: Tags | None = None
    payload: dict[str, Any] | None = None
    expected_revision: Annotated[int, Field(ge=1, le=limits.INT64_MAX), WHOLE] | None = None


def expected_revision(if_match: int | None, in_body: int | None) -> int | None:
    """The revision a change was planned on: an ``If-Match`` header wins over the body's
    ``expected_revision`` (Docs/assemblies.md §7)."""
    return if_match if if_match is not None else in_body


class CloneRequest(StrictModel):
    target_domain: Domain = Domain.USER
    display_name: Name | None = None


def _file_name(value: str, info: ValidationInfo) -> str:
    value = limits.nfc(value)
    where = info.field_name or "file_name"
    problem = limits.file_name_bytes_problem(value, where) or limits.name_problem(
        value, where, limits.FILE_NAME_BYTES
    )
    if problem is not None:
        raise ValueError(problem)
    return value


def _sent_once(schema: dict[str, Any]) -> None:
    """What document_value and script_bytes check: the document exactly once (as itself or
    as base64), the script at most once, base64 that decodes. (A batch answers these per
    document, as failed results, so only the single import's schema says them.)"""
    base64_text = {"type": "string", "pattern": BASE64_PATTERN, "contentEncoding": "base64"}
    for name in ("document_base64", "script_base64"):
        schema["properties"][name] = {"anyOf": [base64_text, {"type": "null"}], "default": None}
    # No document is empty (refused with 422 as "not an assembly"); say so in the schema.
    schema["properties"]["document_base64"]["anyOf"][0] = {**base64_text, "minLength": 1}
    schema["oneOf"] = [
        {"required": ["document"], "properties": {"document": {"not": {"type": "null"}}}},
        {"required": ["document_base64"], "properties": {"document_base64": {"type": "string"}}},
    ]
    schema["not"] = {
        "required": ["script", "script_base64"],
        "properties": {"script": {"type": "string"}, "script_base64": {"type": "string"}},
    }


class ImportDocument(StrictModel):
    # A legacy JSON object, or the text of a document (JSON, raw YAML, a plain script) —
    # or that text byte for byte as document_base64.
    document: Any = None
    document_base64: str | None = None
    # Names raw .yml playbooks and plain scripts; a relative path's folders are the category.
    file_name: (
        Annotated[str, Field(json_schema_extra={"pattern": ONE_LINE}), AfterValidator(_file_name)] | None
    ) = None
    # The script a Tactical RMM entry names, as text or (byte for byte) base64.
    script: str | None = None
    script_base64: str | None = None

    def document_value(self) -> Any:
        """The document: the object or text sent, or the bytes of document_base64."""
        if self.document_base64 is None:
            if self.document is None:
                raise ValueError(
                    "document is missing: send the document (an object or its "
                    "text), or its bytes as document_base64"
                )
            return self.document
        if self.document is not None:
            raise ValueError("send the document once: as document or as document_base64")
        return _base64(self.document_base64, "document_base64")

    def script_bytes(self) -> bytes | None:
        """The script of a Tactical RMM entry, or None; ValueError says what is wrong."""
        if self.script is not None and self.script_base64 is not None:
            raise ValueError("send the script once: as script (text) or as script_base64")
        if self.script is not None:
            return self.script.encode("utf-8")
        if self.script_base64 is not None:
            return _base64(self.script_base64, "script_base64")
        return None


class ImportRequest(ImportDocument):
    model_config = ConfigDict(json_schema_extra=_sent_once)

    domain: Domain = Domain.USER
    dry_run: StrictBool = False  # validate and answer what would be created; write nothing
    # Always a new assembly, even when the document names an existing one (the editor).
    as_new: StrictBool = False


MAX_BATCH_DOCUMENTS = 10_000


class BatchDocument(ImportDocument):
    """One document of a batch. A value it holds that cannot be stored (an integer beyond
    signed 64-bit, nesting deeper than the limit, NaN, a lone surrogate) is this document's
    own refusal, answered in its result; it never refuses the batch."""

    _problem: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _storable(self) -> BatchDocument:
        for name in type(self).model_fields:
            problem = json_problem(getattr(self, name), name)
            if problem is not None:
                self._problem = str(problem)
                break
        return self

    def document_value(self) -> Any:
        if self._problem is not None:
            raise ValueError(self._problem)
        return super().document_value()


class ImportBatchRequest(StrictModel):
    documents: Annotated[list[BatchDocument], Field(min_length=1, max_length=MAX_BATCH_DOCUMENTS)]
    domain: Domain = Domain.USER
    dry_run: StrictBool = False

    @model_validator(mode="after")
    def _storable(self) -> ImportBatchRequest:
        return self  # each document checks itself (BatchDocument); domain and dry_run are plain


def _base64(value: str, where: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{where} is not valid base64") from None


class FlushRequest(StrictModel):
    domain: Domain | None = None
