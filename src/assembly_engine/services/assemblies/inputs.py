"""Validated inputs of the assembly use cases (request bodies of the API, CLI arguments)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from ...types import AssemblyKind, Domain

Name = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=10_000)]
Tag = Annotated[str, Field(min_length=1, max_length=64)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewAssembly(_Strict):
    domain: Domain = Domain.USER
    display_name: Name
    assembly_kind: AssemblyKind
    assembly_type: Annotated[str, Field(min_length=1, max_length=32)]
    summary: Text | None = None
    category: Annotated[str, Field(max_length=200)] | None = None
    version: StrictInt | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    tags: Annotated[list[Tag], Field(max_length=50)] = Field(default_factory=list)
    payload: dict[str, Any]


class AssemblyChanges(_Strict):
    """A partial update: a field left out keeps its value."""

    domain: Domain | None = None  # if given it must be the assembly's own domain
    display_name: Name | None = None
    summary: Text | None = None
    category: Annotated[str, Field(max_length=200)] | None = None
    assembly_type: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    version: StrictInt | None = None
    metadata: dict[str, Any] | None = None
    tags: Annotated[list[Tag], Field(max_length=50)] | None = None
    payload: dict[str, Any] | None = None
    expected_revision: StrictInt | None = None


class CloneRequest(_Strict):
    target_domain: Domain = Domain.USER
    display_name: Name | None = None


class ImportRequest(_Strict):
    document: Any  # a legacy JSON object, or the text of a document (JSON or raw YAML)
    domain: Domain = Domain.USER
    file_name: Annotated[str, Field(max_length=255)] | None = None  # names raw .yml playbooks


class FlushRequest(_Strict):
    domain: Domain | None = None


class DevModeSwitch(_Strict):
    enabled: StrictBool
    password: Annotated[str, Field(max_length=1024)] | None = None
    reason: Annotated[str, Field(max_length=500)] | None = None
