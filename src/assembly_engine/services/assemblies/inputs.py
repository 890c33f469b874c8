"""Validated inputs of the assembly use cases (request bodies of the API, CLI arguments)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt

from ...types import AssemblyKind, Domain

MAX_NESTING = 64


def nesting_depth(value: Any) -> int:
    """Depth of nested lists/objects, computed without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_NESTING:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _shallow(value: Any) -> Any:
    if nesting_depth(value) > MAX_NESTING:
        raise ValueError(f"nested more than {MAX_NESTING} levels deep; flatten the document")
    return value


# A JSON object/value the engine will store: refused when absurdly deep (it would exhaust
# the stack of every JSON encoder and decoder down the line).
JsonObject = Annotated[dict[str, Any], AfterValidator(_shallow)]
JsonValue = Annotated[Any, AfterValidator(_shallow)]

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
    metadata: JsonObject = Field(default_factory=dict)
    tags: Annotated[list[Tag], Field(max_length=50)] = Field(default_factory=list)
    payload: JsonObject


class AssemblyChanges(_Strict):
    """A partial update: a field left out keeps its value."""

    domain: Domain | None = None  # if given it must be the assembly's own domain
    display_name: Name | None = None
    summary: Text | None = None
    category: Annotated[str, Field(max_length=200)] | None = None
    assembly_type: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    version: StrictInt | None = None
    metadata: JsonObject | None = None
    tags: Annotated[list[Tag], Field(max_length=50)] | None = None
    payload: JsonObject | None = None
    expected_revision: StrictInt | None = None


class CloneRequest(_Strict):
    target_domain: Domain = Domain.USER
    display_name: Name | None = None


class ImportRequest(_Strict):
    document: JsonValue  # a legacy JSON object, or the text of a document (JSON or raw YAML)
    domain: Domain = Domain.USER
    file_name: Annotated[str, Field(max_length=255)] | None = None  # names raw .yml playbooks


class FlushRequest(_Strict):
    domain: Domain | None = None


class DevModeSwitch(_Strict):
    enabled: StrictBool
    password: Annotated[str, Field(max_length=1024)] | None = None
    reason: Annotated[str, Field(max_length=500)] | None = None
