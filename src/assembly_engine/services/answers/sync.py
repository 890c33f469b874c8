"""Library sync: a plan and an apply (the library-as-code workflow)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from assembly_engine.services.answers.base import Answer, PublishedAsObject, UnsaidExtras


class PlanItem(Answer):
    path: str
    action: Literal["create", "update", "unchanged", "conflict", "archive", "skip"]
    assembly_guid: str | None
    reason: str | None
    checksums: dict[str, str | None] | None = None
    base_revision: int | None = None


class PlanSource(Answer):
    path: str
    commit: str | None


class Plan(Answer):
    """What applying a library folder's items to a domain would do (Docs/library-sync.md)."""

    plan_id: str
    source: PlanSource
    domain: str
    counts: dict[str, int]
    items: list[PlanItem]


class ItemResult(Answer):
    path: str
    action: str
    status: Literal["done", "failed"]
    assembly_guid: str | None
    error: str | None = None
    message: str | None = None


class Applied(Plan):
    """A plan and what applying it did, item by item."""

    results: list[ItemResult]
    done: int
    failed: int


@dataclass(frozen=True)
class RenderedItem(PublishedAsObject):
    """One assembly as library-folder files (bytes in base64; ``files`` as file_name, data)."""

    path: str
    content: str
    sidecar: dict[str, Any] | None
    files: tuple[tuple[str, str], ...]
    tactical_rmm: dict[str, Any] | None  # the manifest entry of a Tactical RMM library

    def published(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "content": self.content,
            "sidecar": self.sidecar,
            "files": [{"file_name": name, "data": data} for name, data in self.files],
            "tactical_rmm": self.tactical_rmm,
        }


@dataclass(frozen=True)
class LeftOut(PublishedAsObject):
    assembly_guid: str
    reason: str
    path: str | None = None  # left out of the answer when it could not be rendered at all

    def published(self) -> dict[str, Any]:
        if self.path is None:
            return {"assembly_guid": self.assembly_guid, "reason": self.reason}
        return {"assembly_guid": self.assembly_guid, "path": self.path, "reason": self.reason}


@dataclass(frozen=True)
class ManifestShape(PublishedAsObject):
    """How a Tactical RMM manifest is laid out (indent 0: one line)."""

    indent: int
    ensure_ascii: bool
    final_newline: bool

    def published(self) -> dict[str, Any]:
        return {"indent": self.indent, "ensure_ascii": self.ensure_ascii, "final_newline": self.final_newline}


# A domain as library-folder items (``sync write``); ``manifest`` is null but for tactical-rmm.
class Rendered(UnsaidExtras):
    domain: str
    format: str
    items: list[RenderedItem]
    left_out: list[LeftOut]
    manifest: ManifestShape | None = None
