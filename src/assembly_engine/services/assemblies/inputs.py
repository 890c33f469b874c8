"""Validated inputs of the assembly use cases (request bodies of the API, CLI arguments)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StrictBool, StrictInt, ValidationInfo

from ... import input_limits as limits
from ...types import AssemblyKind, Domain
from ..request_bodies import StrictModel


def _one_line_name(max_chars: int) -> AfterValidator:
    """A name field: one line of visible text within ``max_chars`` (input_limits)."""

    def check(value: str, info: ValidationInfo) -> str:
        problem = limits.name_problem(value, info.field_name or "name", max_chars)
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
Name = Annotated[str, Field(min_length=1, json_schema_extra={"maxLength": limits.DISPLAY_NAME_CHARS}),
                 _one_line_name(limits.DISPLAY_NAME_CHARS)]
Summary = Annotated[str, Field(json_schema_extra={"maxLength": limits.SUMMARY_CHARS}),
                    _free_text(limits.SUMMARY_CHARS)]
Category = Annotated[str, Field(json_schema_extra={"maxLength": limits.CATEGORY_CHARS}),
                     _one_line_name(limits.CATEGORY_CHARS)]
AssemblyTypeName = Annotated[str, Field(min_length=1, max_length=limits.ASSEMBLY_TYPE_CHARS)]
Tags = Annotated[list[Annotated[str, Field(min_length=1)]],
                 Field(json_schema_extra={"maxItems": limits.TAGS_PER_ASSEMBLY}), AfterValidator(_tags)]
Metadata = Annotated[dict[str, Any], AfterValidator(_metadata)]


class NewAssembly(StrictModel):
    domain: Domain = Domain.USER
    display_name: Name
    assembly_kind: AssemblyKind
    assembly_type: AssemblyTypeName
    summary: Summary | None = None
    category: Category | None = None
    version: StrictInt | None = None
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
    version: StrictInt | None = None
    metadata: Metadata | None = None
    tags: Tags | None = None
    payload: dict[str, Any] | None = None
    expected_revision: StrictInt | None = None


class CloneRequest(StrictModel):
    target_domain: Domain = Domain.USER
    display_name: Name | None = None


def _file_name(value: str, info: ValidationInfo) -> str:
    where = info.field_name or "file_name"
    problem = (limits.file_name_bytes_problem(value, where)
               or limits.name_problem(value, where, limits.FILE_NAME_BYTES))
    if problem is not None:
        raise ValueError(problem)
    return value


class ImportDocument(StrictModel):
    # A legacy JSON object, or the text of a document (JSON, raw YAML, a plain script) —
    # or that text byte for byte as document_base64.
    document: Any = None
    document_base64: str | None = None
    # Names raw .yml playbooks and plain scripts; a relative path's folders are the category.
    file_name: Annotated[str, AfterValidator(_file_name)] | None = None
    # The script a Tactical RMM entry names, as text or (byte for byte) base64.
    script: str | None = None
    script_base64: str | None = None

    def document_value(self) -> Any:
        """The document: the object or text sent, or the bytes of document_base64."""
        if self.document_base64 is None:
            if self.document is None:
                raise ValueError("document is missing: send the document (an object or its "
                                 "text), or its bytes as document_base64")
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
    domain: Domain = Domain.USER
    dry_run: StrictBool = False  # validate and answer what would be created; write nothing
    # Always a new assembly, even when the document names an existing one (the editor).
    as_new: StrictBool = False


MAX_BATCH_DOCUMENTS = 10_000


class ImportBatchRequest(StrictModel):
    documents: Annotated[list[ImportDocument], Field(min_length=1, max_length=MAX_BATCH_DOCUMENTS)]
    domain: Domain = Domain.USER
    dry_run: StrictBool = False


def _base64(value: str, where: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{where} is not valid base64") from None


class FlushRequest(StrictModel):
    domain: Domain | None = None
