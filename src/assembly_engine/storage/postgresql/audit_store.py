"""The audit chain of the whole cluster in PostgreSQL (schema_v1's ``audit_log``, ``audit_head``).

The cluster backend of the AuditStore interface. An entry is made exactly as the file
backend makes it (audit_chain.chained_entry: same fields, same hash), so ``verify`` runs
the file's own checks over the rows, and ``copy_to`` writes the very ``audit.log`` and
``audit.log.head`` a copy of the file would be: a backup reads the same on either backend.

Appends are serialised across nodes by the row lock of ``audit_head`` (``SELECT ... FOR
UPDATE``), held until commit. Within a node, appends that arrive while a commit is under
way are numbered and committed together in the next transaction (group commit, like the
file's shared fsync), so the chain does not cost every audited request its own commit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from assembly_engine.storage.contract.errors import Unavailable
from assembly_engine.storage.contract.reports import VerifyResult
from assembly_engine.storage.files.durable_files import replace_file
from assembly_engine.storage.formats.audit_chain import (
    FIELDS,
    LOG_FILE_NAME,
    ZERO_HASH,
    Head,
    chained_entry,
    entry_line,
    head_bytes,
    head_path_for,
    shape_problem,
    verify_lines,
)
from assembly_engine.storage.postgresql.errors import translated

HEAD_NAME = "audit_head"
_COLUMNS = ", ".join(f'"{name}"' if name == "user" else name for name in FIELDS)
_INSERT = f"INSERT INTO audit_log ({_COLUMNS}) VALUES ({', '.join(['%s'] * len(FIELDS))})"
_SELECT = f"SELECT {_COLUMNS} FROM audit_log"


@dataclass
class _Append:
    """One caller's append, waiting for (or done by) a group commit."""

    fields: dict[str, Any]
    announce: Callable[[dict[str, Any]], None] | None
    entry: dict[str, Any] | None = None
    error: BaseException | None = None
    done: bool = False


def append_chained(conn: Any, fields: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chain entries made of ``fields`` onto the cluster's chain, in ``conn``'s open
    transaction: the row lock of ``audit_head`` it takes is held until that transaction
    ends, which is what keeps every node's appends in one unbroken order."""
    conn.execute("SET LOCAL lock_timeout = '10s'")
    head = conn.execute("SELECT seq, hash FROM audit_head FOR UPDATE").fetchone()
    if head is None:
        raise RuntimeError("the audit_head row is missing: the audit chain cannot continue")
    seq, prev_hash = int(head[0]), str(head[1])
    entries = []
    for item in fields:
        entry = chained_entry(seq + 1, prev_hash, item)
        entries.append(entry)
        seq, prev_hash = entry["seq"], entry["hash"]
    with conn.cursor() as cursor:
        cursor.executemany(_INSERT, [tuple(entry[name] for name in FIELDS) for entry in entries])
    conn.execute("UPDATE audit_head SET seq = %s, hash = %s", (seq, prev_hash))
    return entries


def _location(pool: ConnectionPool) -> str:
    # Only the database's address: the URL's user and password stay out of messages.
    params = conninfo_to_dict(pool.conninfo) if isinstance(pool.conninfo, str) else {}
    host = params.get("host", "localhost")
    port = params.get("port", "5432")
    return f"PostgreSQL database {params.get('dbname', '?')} on {host}:{port}, table audit_log"


class PostgresAuditStore:
    """One hash chain for every node of a cluster, on this node's connection pool."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool
        self._location = _location(pool)
        self._pending: list[_Append] = []
        self._pending_lock = threading.Lock()
        # One group commit at a time from this node; announcements keep the chain's order.
        self._commit_lock = threading.Lock()

    @property
    def location(self) -> str:
        return self._location

    # -- appending -------------------------------------------------------------------------

    def append(
        self, fields: dict[str, Any], announce: Callable[[dict[str, Any]], None] | None = None
    ) -> dict[str, Any]:
        """Number, chain and store one entry made of ``fields`` (every FIELDS name but
        ``seq``, ``prev_hash`` and ``hash``); return it once committed. ``announce`` is
        called with it after the commit, in chain order among this node's appends."""
        problem = shape_problem(chained_entry(1, ZERO_HASH, fields))
        if problem is not None:
            raise ValueError(f"not an audit entry: {problem}")
        item = _Append(dict(fields), announce)
        with self._pending_lock:
            self._pending.append(item)
        with self._commit_lock:
            if not item.done:
                with self._pending_lock:
                    batch, self._pending = self._pending, []
                self._commit(batch)
        if item.error is not None:
            raise item.error
        assert item.entry is not None
        return dict(item.entry)

    def _commit(self, batch: list[_Append]) -> None:
        try:
            entries = self._store(batch)
        except Unavailable as exc:
            for item in batch:
                item.error, item.done = exc, True
            return
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error, batch[0].done = exc, True
                return
            # One caller's bad text must not refuse the others': commit them one by one.
            for item in batch:
                self._commit([item])
            return
        for item, entry in zip(batch, entries, strict=True):
            item.entry = entry
            try:
                if item.announce is not None:
                    item.announce(entry)
            except Exception as exc:
                item.error = exc
            finally:
                item.done = True

    def _store(self, batch: list[_Append]) -> list[dict[str, Any]]:
        with (
            translated("recording an audit entry"),
            self._pool.connection() as conn,
            conn.transaction(),
        ):
            return append_chained(conn, [item.fields for item in batch])

    # -- reading ---------------------------------------------------------------------------

    def entries(self) -> list[dict[str, Any]]:
        """Every entry in chain order."""
        with translated("reading the audit log"), self._pool.connection() as conn:
            rows = conn.execute(_SELECT + " ORDER BY seq").fetchall()
        return [dict(zip(FIELDS, row, strict=True)) for row in rows]

    def entries_since(self, time: str) -> list[dict[str, Any]]:
        """The entries at or after ``time`` (the engine's timestamps compare as text)."""
        with translated("reading the audit log"), self._pool.connection() as conn:
            rows = conn.execute(_SELECT + ' WHERE time COLLATE "C" >= %s ORDER BY seq', (time,)).fetchall()
        return [dict(zip(FIELDS, row, strict=True)) for row in rows]

    def _snapshot(self) -> tuple[list[dict[str, Any]], Head | None]:
        """The entries and the head as of one moment (a repeatable-read snapshot)."""
        with translated("reading the audit log"), self._pool.connection() as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            head = conn.execute("SELECT seq, hash FROM audit_head").fetchone()
            rows = conn.execute(_SELECT + " ORDER BY seq").fetchall()
        entries = [dict(zip(FIELDS, row, strict=True)) for row in rows]
        # seq 0 is the head of an empty chain: the file backend has no head file then.
        return entries, None if head is None or head[0] == 0 else Head(int(head[0]), str(head[1]))

    def verify(self) -> VerifyResult:
        """The file backend's checks over the stored entries (line N is entry N) and
        ``audit_head``: an edited row, a gap, or entries cut off the end are reported."""
        entries, head = self._snapshot()
        return verify_lines([entry_line(entry) for entry in entries], head, HEAD_NAME)

    def copy_to(self, directory: Path) -> None:
        """Write ``audit.log`` and ``audit.log.head`` as the file backend keeps them, from one
        snapshot (nothing when the chain is empty, as a fresh file backend has no files)."""
        entries, head = self._snapshot()
        if not entries and head is None:
            return
        directory.mkdir(parents=True, exist_ok=True)
        log_path = directory / LOG_FILE_NAME
        replace_file(log_path, b"".join(entry_line(entry) + b"\n" for entry in entries), mode=0o600)
        if head is not None:
            replace_file(head_path_for(log_path), head_bytes(head.seq, head.hash), mode=0o600)
