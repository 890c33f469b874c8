"""Schema version 2: what the nodes need to agree on the write queue's state.

* ``write_queue.flushed_at``: a flush no longer deletes the changes it wrote; it stamps
  them. Every node catches up by sequence number (the changes after the last one it saw),
  and a change another node already flushed is still there to be read, so a node that
  missed notifications, or was down while others wrote and flushed, applies everything
  in order. Flushed changes are purged once they are older than the retention the nodes
  are configured with (a node further behind than that reloads the domain tables).
* ``revision_heads``: one head per assembly id across the domains (a unique index), so
  two nodes creating the same id in two domains at once cannot both succeed.
* ``flush_state``: each domain's last flush and its error, written by whichever node
  flushed, so ``/api/assemblies/queue`` reads the same on every node.
"""

from __future__ import annotations

from assembly_engine.domain.types import Domain

_DOMAIN_VALUES = ", ".join(f"'{d.value}'" for d in Domain)

NAME = "write queue: flushed changes kept for catching up, shared flush state"
STATEMENTS: tuple[str, ...] = (
    "ALTER TABLE write_queue ADD COLUMN flushed_at TEXT",
    "CREATE INDEX write_queue_unflushed ON write_queue (seq) WHERE flushed_at IS NULL",
    "CREATE UNIQUE INDEX revision_heads_guid ON revision_heads (assembly_guid)",
    f"""CREATE TABLE flush_state (
        domain     TEXT PRIMARY KEY CHECK (domain IN ({_DOMAIN_VALUES})),
        last_flush TEXT,
        last_error TEXT
    )""",
)
