"""Workflows: the structure an editor and a runner rely on.

Nodes are objects with a unique, non-empty ``id``; every edge's ``source`` and ``target``
name an existing node. Positions point at the edge or node in the stored JSON
(payload_layout.workflow_bytes: indented, one key per line), found by its id's text.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from assembly_engine.services.checks.diagnostics import Diagnostic

SOURCE = "workflow-structure"


def _locator(text: str) -> Callable[..., tuple[int, int]]:
    def where(needle: str, after: int = 0) -> tuple[int, int]:
        offset = text.find(needle, after)
        if offset < 0:
            return 1, 1
        line = text.count("\n", 0, offset) + 1
        return line, offset - (text.rfind("\n", 0, offset) + 1) + 1

    return where


def check(text: str) -> list[Diagnostic]:
    try:
        workflow = json.loads(text)
    except ValueError as exc:
        line, column = getattr(exc, "lineno", 1), getattr(exc, "colno", 1)
        return [Diagnostic.at(line, column, "error", "json", f"Not valid JSON: {exc}.", SOURCE)]
    where = _locator(text)
    if not isinstance(workflow, dict):
        return [
            Diagnostic.at(1, 1, "error", "shape", "A workflow is an object with nodes and edges.", SOURCE)
        ]
    found: list[Diagnostic] = []
    nodes, edges = workflow.get("nodes", []), workflow.get("edges", [])
    for key, value in (("nodes", nodes), ("edges", edges)):
        if not isinstance(value, list):
            found.append(
                Diagnostic.at(*where(f'"{key}"'), "error", "shape", f"'{key}' must be a list.", SOURCE)
            )
    if found:
        return found
    edges_at = text.find('"edges"')
    ids: set[str] = set()
    for index, node in enumerate(nodes):
        node_id = node.get("id") if isinstance(node, dict) else None
        if not isinstance(node_id, str) or not node_id:
            found.append(
                Diagnostic.at(
                    1, 1, "error", "node-id", f"Node {index + 1} has no id (a non-empty text).", SOURCE
                )
            )
        elif node_id in ids:
            found.append(
                Diagnostic.at(
                    *where(json.dumps(node_id, ensure_ascii=False)),
                    "error",
                    "duplicate-node",
                    f"Two nodes have the id {node_id!r}; edges cannot tell them apart.",
                    SOURCE,
                )
            )
        else:
            ids.add(node_id)
    for index, edge in enumerate(edges):
        if not isinstance(edge, dict):
            found.append(Diagnostic.at(1, 1, "error", "edge", f"Edge {index + 1} is not an object.", SOURCE))
            continue
        label = edge.get("id") if isinstance(edge.get("id"), str) else f"number {index + 1}"
        for end in ("source", "target"):
            value = edge.get(end)
            if value in ids:
                continue
            needle = f'"{end}": ' + json.dumps(value, ensure_ascii=False)
            found.append(
                Diagnostic.at(
                    *where(needle, max(edges_at, 0)),
                    "error",
                    "edge-node",
                    f"Edge {label}: its {end} {value!r} is not a node of this workflow.",
                    SOURCE,
                )
            )
    return found
