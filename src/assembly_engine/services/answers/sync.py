"""Library sync: a plan and an apply (the library-as-code workflow)."""

from __future__ import annotations

from typing import Literal

from assembly_engine.services.answers.base import Answer


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
