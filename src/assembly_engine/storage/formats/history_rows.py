"""A domain's version history as both backends keep it: the reads, written once.

The embedded store (sqlite/databases.py) and the cluster store (postgresql/domain_store.py)
hold the same ``revisions``, ``revision_metadata`` and ``deleted_assemblies`` tables (the
cluster's in one schema per domain). A backend supplies ``_read`` and how it names a
table and a parameter; writing and pruning stay with each backend, whose SQL differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assembly_engine.storage.contract.history import RevisionRef, StoredDeletion, StoredRevision
from assembly_engine.storage.contract.shared_metadata import join_row, metadata_hash, split_row

Row = tuple[Any, ...]


def stored_revisions(rows: Sequence[Row]) -> tuple[list[Row], dict[str, str]]:
    """The revision rows as stored, and the large metadata they name by hash, each once
    (revision_metadata's rows)."""
    stored: list[Row] = []
    shared: dict[str, str] = {}
    hashes: dict[int, str] = {}  # by the text's identity: the rows hold it meanwhile
    for row in rows:
        guid, revision, action, whole, payload_guid, recorded_at = row[:6]
        apart = row[6] if len(row) > 6 else None
        if apart is not None:  # already left out of the row, as the cache keeps it
            hashed = hashes.get(id(apart))
            if hashed is None:
                hashed = hashes[id(apart)] = metadata_hash(apart)
            shared[hashed] = apart
            stored.append((guid, revision, action, whole, payload_guid, recorded_at, hashed))
            continue
        split = split_row(whole)
        if split.metadata_hash is not None and split.metadata_json is not None:
            shared[split.metadata_hash] = split.metadata_json
        stored.append(
            (guid, revision, action, split.row_json, payload_guid, recorded_at, split.metadata_hash)
        )
    return stored, shared


class HistoryReads:
    """The history half of a DomainStore; empty answers where no history is kept."""

    history: bool
    # Before a table's name ("" or "schema."), and the parameter marker ("?" or "%s").
    _table_prefix: str = ""
    _placeholder: str = "?"

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        raise NotImplementedError

    def _history(self, statement: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run a statement written with ``{t}`` before each table and "?" for parameters."""
        return self._read(statement.format(t=self._table_prefix).replace("?", self._placeholder), params)

    def revisions(self, guid: str) -> list[StoredRevision]:
        """The kept revisions of ``guid``, oldest first."""
        if not self.history:
            return []
        return [
            StoredRevision(int(r[0]), r[1], join_row(r[2], r[4]), r[3])
            for r in self._history(
                "SELECT r.revision, r.action, r.row_json, r.recorded_at, m.metadata_json "
                f"FROM {_JOINED} WHERE r.assembly_guid = ? ORDER BY r.revision",
                (guid,),
            )
        ]

    def deletion(self, guid: str) -> StoredDeletion | None:
        """The deletion of ``guid``, if it is deleted here."""
        if not self.history:
            return None
        rows = self._history(
            "SELECT revision, deleted_at, deleted_by, row_json FROM {t}deleted_assemblies "
            "WHERE assembly_guid = ?",
            (guid,),
        )
        return None if not rows else StoredDeletion(guid, int(rows[0][0]), rows[0][1], rows[0][2], rows[0][3])

    def deletions(self) -> list[StoredDeletion]:
        """Every deleted assembly."""
        if not self.history:
            return []
        return [
            StoredDeletion(r[0], int(r[1]), r[2], r[3], r[4])
            for r in self._history(
                "SELECT assembly_guid, revision, deleted_at, deleted_by, row_json FROM {t}deleted_assemblies"
            )
        ]

    def last_revisions(self) -> dict[str, int]:
        """The highest revision kept of every assembly with history."""
        if not self.history:
            return {}
        return {
            g: int(r)
            for g, r in self._history(
                "SELECT assembly_guid, MAX(revision) FROM {t}revisions GROUP BY assembly_guid"
            )
        }

    def revision_payloads(self) -> set[str]:
        """Payloads any kept revision points at."""
        if not self.history:
            return set()
        return {r[0] for r in self._history("SELECT DISTINCT payload_guid FROM {t}revisions")}

    def revision_refs(self) -> list[RevisionRef]:
        """The payload of every kept revision (for verify)."""
        if not self.history:
            return []
        return [
            RevisionRef(r[0], int(r[1]), r[2], join_row(r[3], r[4]))
            for r in self._history(
                "SELECT r.assembly_guid, r.revision, r.payload_guid, r.row_json, m.metadata_json "
                f"FROM {_JOINED}"
            )
        ]


# A revision's row with its shared metadata (NULL when the row was kept whole).
_JOINED = "{t}revisions AS r LEFT JOIN {t}revision_metadata AS m ON m.hash = r.metadata_hash"
