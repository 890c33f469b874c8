"""A synthetic library in PostgreSQL: the rows bench/dataset.py writes into SQLite files and
payload folders, written straight into a cluster database instead.

The database is brought to the engine's schema with the engine's own migrations, then each
domain's ``assemblies`` table is filled with one ``COPY`` of the same rows ``build_home``
writes (``dataset.row_for``, same specs, same domain split), and ``payload_files`` with one
``COPY`` of every payload's rows: its main file, then ``manifest.json`` (a payload exists
when its manifest row does). The bytes are those of ``PayloadStore`` (``image_of`` of the
same content), so the checksums in the rows are the ones the folder store computed.
The revision heads stay empty: a node adopts a row as its head on its first change, as it
does for a library copied in.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import psycopg

from assembly_engine.domain.types import Domain
from assembly_engine.storage.contract.models import COLUMNS
from assembly_engine.storage.contract.payload_manifest import MANIFEST_NAME, image_of
from assembly_engine.storage.postgresql.pool import migrate_database
from assembly_engine.storage.postgresql.schema_v1 import DOMAIN_SCHEMAS

from .dataset import PayloadFarm, Spec, content_for, domain_split, row_for


def _payload_files(atype: str, checksum: str) -> list[tuple[str, bytes, int, str]]:
    """(file name, bytes, size, sha256) of a payload of ``atype``, the manifest last."""
    image = image_of(content_for(atype), "0" * 32)
    if image.checksum != checksum:
        raise RuntimeError(
            f"{atype}: manifest checksum {image.checksum} differs from the folder's {checksum}"
        )
    return [
        (name, data, len(data), hashlib.sha256(data).hexdigest())
        for name, data in [*image.stored_files(), (MANIFEST_NAME, image.manifest_bytes)]
    ]


def build_pg_library(url: str, specs: list[Spec], templates: Path) -> tuple[dict[str, int], float]:
    """Migrate the empty database at ``url`` and fill it with ``specs``; (counts, seconds)."""
    began = time.perf_counter()
    migrate_database(url)
    farm = PayloadFarm(templates)  # the folder store computes each type's reference once
    rows: dict[Domain, list[tuple[Any, ...]]] = {d: [] for d in Domain}
    for spec, domain in zip(specs, domain_split(len(specs)), strict=True):
        rows[domain].append(row_for(spec, domain, farm))
    files = {atype: _payload_files(atype, farm.ref(atype)[2]) for atype in {s.atype for s in specs}}
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        for domain, domain_rows in rows.items():
            table = f"{DOMAIN_SCHEMAS[domain]}.assemblies"
            with cur.copy(f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in domain_rows:
                    copy.write_row(row)
        with cur.copy(
            "COPY payload_files (payload_guid, file_name, content, size_bytes, sha256) FROM STDIN"
        ) as copy:
            for spec in specs:
                for name, data, size, digest in files[spec.atype]:
                    copy.write_row((spec.payload_guid, name, data, size, digest))
        conn.commit()
        cur.execute("ANALYZE")
    return {d.value: len(rows[d]) for d in Domain}, time.perf_counter() - began
