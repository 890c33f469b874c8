"""The embedded journal keeps large metadata once (issue 23, 5), and loses nothing for it.

Before: every entry carried the whole row, so 40 small edits of an assembly with 10 MiB
of metadata wrote ~430 MB of journal (journal.db and its WAL, measured). Now the
metadata is stored once by SHA-256 beside the entries, in their own commit.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

from assembly_engine.domain.types import Domain
from assembly_engine.storage.contract.errors import StorageFailed
from assembly_engine.storage.contract.journal_entry import new_entry
from assembly_engine.storage.contract.models import AssemblyRecord
from assembly_engine.storage.sqlite.databases import ConnectionOptions
from assembly_engine.storage.sqlite.journal import Journal
from assembly_engine.storage.sqlite.payload_folders import PayloadStore
from assembly_engine.storage.sqlite.read_only_journal import ReadOnlyJournal
from tests.support import make_record

MIB = 1024 * 1024
REPOSITORY = Path(__file__).resolve().parents[2]


def journal_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.glob("journal.db*"))


def large_record(root: Path, size: int) -> AssemblyRecord:
    record = make_record(PayloadStore(root / "Payloads"), Domain.USER, "Large metadata")
    return replace(record, metadata_json=json.dumps({"sites": "x" * size}))


def test_forty_edits_of_ten_mib_metadata_keep_it_once(tmp_path: Path) -> None:
    base = large_record(tmp_path, 10 * MIB)
    journal = Journal(tmp_path / "journal.db", ConnectionOptions())
    edits = [replace(base, summary=f"edit {n}", revision=n + 1) for n in range(40)]
    for record in edits:
        journal.submit(new_entry(journal, "upsert", record)).result(timeout=60)
    # one copy in the database and one in its WAL at most, against 40 × 10 MiB before
    assert journal_bytes(tmp_path) < 25 * MIB
    pending = journal.pending()
    assert [e.record for e in pending] == edits
    # one string for all of them in memory too
    assert len({id(e.record.metadata_json) for e in pending}) == 1
    journal.close()


def test_a_discard_forgets_metadata_no_entry_names(tmp_path: Path) -> None:
    base = large_record(tmp_path, 8 * 1024)
    changed = replace(base, revision=2, metadata_json=json.dumps({"sites": "y" * 8 * 1024}))
    journal = Journal(tmp_path / "journal.db", ConnectionOptions())
    first = journal.submit(new_entry(journal, "upsert", base)).result(timeout=30)
    journal.submit(new_entry(journal, "upsert", changed)).result(timeout=30)
    journal.discard([(base.assembly_guid, first)])
    journal.wait_idle()
    assert [e.record for e in journal.pending()] == [changed]
    journal.close()
    conn = sqlite3.connect(tmp_path / "journal.db")
    try:
        kept = [h for (h,) in conn.execute("SELECT hash FROM journal_metadata")]
    finally:
        conn.close()
    assert len(kept) == 1


def test_a_journal_from_before_shared_metadata_replays(tmp_path: Path) -> None:
    """Entries written by an older engine (no metadata_hash column) come back as they were,
    through the writing journal (which adds the column) and a read-only start alike."""
    record = large_record(tmp_path, 4 * 1024)
    path = tmp_path / "journal.db"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE journal (seq INTEGER PRIMARY KEY, op TEXT NOT NULL, domain TEXT NOT NULL, "
        "assembly_guid TEXT NOT NULL, record_json TEXT NOT NULL, created_at TEXT NOT NULL, "
        "note TEXT, action TEXT, actor TEXT)"
    )
    conn.execute(
        "INSERT INTO journal VALUES "
        "(1, 'upsert', 'user', ?, ?, '2026-01-01T00:00:00.000Z', NULL, 'create', 'a')",
        (record.assembly_guid, json.dumps(record.to_json())),
    )
    conn.commit()
    conn.close()
    read_only = ReadOnlyJournal(path, StorageFailed("read-only"))
    assert read_only.problem is None and [e.record for e in read_only.pending()] == [record]
    journal = Journal(path, ConnectionOptions())
    assert [e.record for e in journal.pending()] == [record]
    later = replace(record, revision=2, summary="later")
    journal.submit(new_entry(journal, "upsert", later)).result(timeout=30)
    assert [e.record for e in journal.pending()] == [record, later]
    journal.close()


WRITER = textwrap.dedent(
    """
    import json, sys
    from dataclasses import replace
    from pathlib import Path
    from assembly_engine.storage.contract.journal_entry import new_entry
    from assembly_engine.storage.contract.models import AssemblyRecord
    from assembly_engine.storage.sqlite.databases import ConnectionOptions
    from assembly_engine.storage.sqlite.journal import Journal

    root = Path(sys.argv[1])
    base = AssemblyRecord.from_json(json.loads((root / "record.json").read_text()))
    journal = Journal(root / "journal.db", ConnectionOptions())
    n = 0
    while True:  # until killed: each acknowledged edit is announced once durable
        n += 1
        metadata = json.dumps({"sites": str(n // 5) * 256 * 1024})  # changes every 5 edits
        record = replace(base, revision=n, summary=f"edit {n}", metadata_json=metadata)
        journal.submit(new_entry(journal, "upsert", record)).result()
        print(n, flush=True)
    """
)


def test_kill_9_while_appending_loses_no_acknowledged_entry(tmp_path: Path) -> None:
    """A real process appends edits with large (and now and then new) metadata and is
    killed -9 mid-stream: every edit it acknowledged comes back whole."""
    base = large_record(tmp_path, 16)
    (tmp_path / "record.json").write_text(json.dumps(base.to_json()))
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path)],
        stdout=subprocess.PIPE,
        cwd=REPOSITORY,
        text=True,
    )
    assert writer.stdout is not None
    acknowledged = 0
    for line in writer.stdout:
        acknowledged = int(line)
        if acknowledged >= 23:  # several metadata changes in, mid-stream
            break
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=60)
    writer.stdout.close()
    journal = Journal(tmp_path / "journal.db", ConnectionOptions())
    pending = journal.pending()
    journal.close()
    assert len(pending) >= acknowledged
    for entry in pending:
        n = entry.record.revision
        assert entry.record == replace(
            base,
            revision=n,
            summary=f"edit {n}",
            metadata_json=json.dumps({"sites": str(n // 5) * 256 * 1024}),
        )
    assert [e.record.revision for e in pending] == list(range(1, len(pending) + 1))
