"""Validated inputs of the assembly use cases (request bodies of the API, CLI arguments)."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from ...types import AssemblyKind, Domain

MAX_NESTING = 64


NOT_JSON = "is not valid JSON"


def json_problem(value: Any, where: str = "the request") -> str | None:
    """Why a parsed request value cannot be stored and served as JSON text, or None.

    Python's JSON parser accepts NaN/Infinity and lone UTF-16 surrogates (``"\\ud800"``);
    neither can be written as UTF-8 JSON, so both are refused here, at the edge, before
    anything reaches the journal. Absurd nesting is refused too (it would exhaust the stack
    of every encoder down the line). The answer names where the problem is.
    """
    stack: list[tuple[Any, int, str]] = [(value, 1, where)]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return (f"{path} contains a lone UTF-16 surrogate (\\ud800-\\udfff), which "
                            "cannot be stored as UTF-8 text")
        elif isinstance(item, float):
            if not math.isfinite(item):
                return f"{path} contains NaN or Infinity, which {NOT_JSON}"
        elif isinstance(item, (dict, list)):
            if depth > MAX_NESTING:
                return f"{path} is nested more than {MAX_NESTING} levels deep; flatten the document"
            if isinstance(item, dict):
                for key, child in item.items():
                    stack.append((key, depth, f"{path} (a key)"))
                    stack.append((child, depth + 1, f"{path}.{key}"))
            else:
                stack.extend((child, depth + 1, f"{path}[{i}]") for i, child in enumerate(item))
    return None


class StrictModel(BaseModel):
    """Base of every request body: unknown fields refused, every value storable as JSON."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _storable(self) -> StrictModel:
        data = self.model_dump(mode="python")
        for name, value in data.items():
            problem = json_problem(value, name)
            if problem is not None:
                raise ValueError(problem)
        return self


Name = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=10_000)]
Tag = Annotated[str, Field(min_length=1, max_length=64)]


class NewAssembly(StrictModel):
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


class AssemblyChanges(StrictModel):
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


class CloneRequest(StrictModel):
    target_domain: Domain = Domain.USER
    display_name: Name | None = None


class ImportRequest(StrictModel):
    document: Any  # a legacy JSON object, or the text of a document (JSON or raw YAML)
    domain: Domain = Domain.USER
    file_name: Annotated[str, Field(max_length=255)] | None = None  # names raw .yml playbooks


class FlushRequest(StrictModel):
    domain: Domain | None = None


class DevModeSwitch(StrictModel):
    enabled: StrictBool
    password: Annotated[str, Field(max_length=1024)] | None = None
    reason: Annotated[str, Field(max_length=500)] | None = None
