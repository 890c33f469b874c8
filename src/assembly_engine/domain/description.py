"""The six columns that say what an assembly is, read alike from a stored record, a create
request and an imported document, so the answers and records built from one of them
name the columns in one place."""

from __future__ import annotations

from typing import Protocol, TypedDict

from assembly_engine.domain.types import AssemblyKind


class Describes(Protocol):
    """Anything that carries the six columns (read-only, so frozen dataclasses qualify)."""

    @property
    def display_name(self) -> str: ...
    @property
    def summary(self) -> str | None: ...
    @property
    def category(self) -> str | None: ...
    @property
    def assembly_kind(self) -> AssemblyKind: ...
    @property
    def assembly_type(self) -> str | None: ...
    @property
    def version(self) -> int | None: ...


class Description(TypedDict):
    display_name: str
    summary: str | None
    category: str | None
    assembly_kind: AssemblyKind
    assembly_type: str | None
    version: int | None


def description(source: Describes) -> Description:
    """The six columns of ``source``, as keyword arguments for a record or an answer."""
    return Description(
        display_name=source.display_name,
        summary=source.summary,
        category=source.category,
        assembly_kind=source.assembly_kind,
        assembly_type=source.assembly_type,
        version=source.version,
    )
