"""Payload content in PostgreSQL: the cluster backend of the PayloadStore interface.

One ``payload_files`` row per file of a payload (schema_v1): ``manifest.json``, the main
file and ``files/<attachment>``, holding the same bytes a payload folder holds (the same
manifest, so the same checksum). A payload's rows are inserted in one transaction, the
manifest last, so a payload is whole or absent; it "exists" when its manifest row does.
Rows are write-once (the database refuses an UPDATE and checks each row's size and
SHA-256 against its content); a copy from another store replaces a payload's rows in one
transaction.

Reads check what the folder store checks, with the same results: a missing manifest or
listed file is ``missing``, an unreadable manifest or a file that does not match its
manifest entry is ``corrupt``, and so is a manifest whose checksum is not the one expected.

A node keeps the payloads it read or wrote in a bounded cache (payload_cache.py), so the
detail of such an assembly still answers while PostgreSQL is away. What judges the stored
rows (``check``, ``ref_for``, ``manifest_bytes``, ``exists``) always reads the database:
``assemblies verify`` must see damage done after a payload was cached.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool

from assembly_engine.domain.types import Integrity, is_valid_payload_guid
from assembly_engine.storage.contract.models import PayloadContent, PayloadRef
from assembly_engine.storage.contract.payload_manifest import (
    ATTACHMENTS_DIR,
    MANIFEST_NAME,
    FileEntry,
    InvalidFileName,
    Manifest,
    PayloadExists,
    PayloadImage,
    image_of,
    new_payload_guid,
    require_guid,
)
from assembly_engine.storage.contract.reports import REPORT_ONLY, OrphanSweep, SweepScope
from assembly_engine.storage.formats.payload_checks import (
    MissingEntry,
    check_entry,
    integrity_of,
    parse_stored_manifest,
    verified_load,
)
from assembly_engine.storage.formats.payload_copy import copy_payload
from assembly_engine.storage.formats.payload_sweep import split_by_age
from assembly_engine.storage.postgresql.errors import translated
from assembly_engine.storage.postgresql.payload_cache import PayloadCache

if TYPE_CHECKING:
    from assembly_engine.storage.contract import interfaces

logger = logging.getLogger("assembly_engine.payloads")

_INSERT = (
    "INSERT INTO payload_files (payload_guid, file_name, content, size_bytes, sha256) "
    "VALUES (%s, %s, %s, %s, %s)"
)


@dataclass(frozen=True, slots=True)
class _Loaded:
    manifest_bytes: bytes
    manifest: Manifest
    image: PayloadImage | None  # only when the content was fetched

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.manifest_bytes).hexdigest()


class PostgresPayloadStore:
    """Write-once payloads of the whole cluster in ``payload_files``, on one node's pool.

    ``cache_bytes``: the budget of the node's cache of verified payloads (0: none, as for
    a one-off copy that reads each payload once)."""

    def __init__(self, pool: ConnectionPool, *, cache_bytes: int = 0) -> None:
        self._pool = pool
        self._cache = PayloadCache(cache_bytes)

    def __repr__(self) -> str:
        return f"PostgresPayloadStore({self._pool.name!r})"

    def exists(self, payload_guid: str) -> bool:
        """True when the payload's manifest row is there (content not verified)."""
        require_guid(payload_guid)
        with translated("looking up a payload"), self._pool.connection() as conn:
            row = conn.execute(
                "SELECT 1 FROM payload_files WHERE payload_guid = %s AND file_name = %s",
                (payload_guid, MANIFEST_NAME),
            ).fetchone()
        return row is not None

    def list_guids(self) -> set[str]:
        with translated("listing payloads"), self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT payload_guid FROM payload_files WHERE file_name = %s", (MANIFEST_NAME,)
            ).fetchall()
        return {row[0] for row in rows}

    # --------------------------------------------------------------------- writing

    def write_new(self, content: PayloadContent) -> PayloadRef:
        """Write ``content`` under a fresh GUID, for a change about to be queued.

        Its commit does not wait for the disk: nothing refers to a fresh payload until the
        change that uses it commits, after it, and PostgreSQL writes its log in order, so
        that change's durable commit makes this one durable too. A crash before it loses a
        payload nothing refers to (the change was never acknowledged)."""
        payload_guid = new_payload_guid()
        image = image_of(content, payload_guid)
        self._insert(payload_guid, image, replace=False, wait_for_disk=False)
        return image.ref(payload_guid)

    def write_with_guid(self, payload_guid: str, content: PayloadContent) -> PayloadRef:
        """Write ``content`` under a given GUID; :class:`PayloadExists` if it is taken."""
        require_guid(payload_guid)
        image = image_of(content, payload_guid)
        self._insert(payload_guid, image, replace=False)
        return image.ref(payload_guid)

    def install_copy(self, payload_guid: str, image: PayloadImage) -> None:
        """Store a payload copied from another store byte for byte, replacing the rows
        held under its GUID (a damaged or different copy) in the same transaction."""
        require_guid(payload_guid)
        self._insert(payload_guid, image, replace=True)

    def _insert(
        self, payload_guid: str, image: PayloadImage, *, replace: bool, wait_for_disk: bool = True
    ) -> None:
        rows = [
            (payload_guid, name, data, len(data), hashlib.sha256(data).hexdigest())
            for name, data in [*image.stored_files(), (MANIFEST_NAME, image.manifest_bytes)]
        ]
        since = self._cache.generation()
        try:
            self._write_rows(payload_guid, rows, replace=replace, wait_for_disk=wait_for_disk)
        finally:
            if replace:  # also when it failed: the rows may have been replaced or not
                self._cache.evict([payload_guid])
        # A new payload is at hand and checked: the node serves it without asking
        # PostgreSQL again. A replaced one is left to its next read: put here, after the
        # eviction, it could outlive a delete of the GUID committed in between.
        if not replace:
            self._cache.put(payload_guid, image, since=since)

    def _write_rows(
        self,
        payload_guid: str,
        rows: list[tuple[str, str, bytes, int, str]],
        *,
        replace: bool,
        wait_for_disk: bool,
    ) -> None:
        try:
            with translated("storing a payload"), self._pool.connection() as conn, conn.transaction():
                if not wait_for_disk:
                    conn.execute("SET LOCAL synchronous_commit = off")
                if replace:
                    conn.execute("DELETE FROM payload_files WHERE payload_guid = %s", (payload_guid,))
                with conn.cursor() as cursor:
                    cursor.executemany(_INSERT, rows)  # the manifest is the last row
        except pg_errors.UniqueViolation:
            raise PayloadExists(f"payload {payload_guid} already exists", payload_guid) from None
        except pg_errors.CheckViolation as exc:
            # The names passed validate_file_name, but the database's rule for control
            # characters is its locale's: it also refuses Unicode's C1 controls (U+0080-
            # U+009F), which the services refuse before a name gets here.
            reason = exc.diag.message_primary
            raise InvalidFileName(
                f"a file name of payload {payload_guid} is refused by the database: {reason}", payload_guid
            ) from None

    # --------------------------------------------------------------------- reading

    def _load(self, payload_guid: str, expected_checksum: str | None, *, keep: bool) -> _Loaded:
        """Read and verify a payload's rows; log and raise PayloadMissing / PayloadCorrupt."""
        require_guid(payload_guid)
        return verified_load(payload_guid, expected_checksum, lambda: self._fetch(payload_guid, keep=keep))

    def _fetch(self, payload_guid: str, *, keep: bool) -> _Loaded:
        """The payload's rows checked against its manifest. Without ``keep`` only the
        manifest's bytes travel: the database hashes the other files where they are."""
        content = "content" if keep else "CASE WHEN file_name = %s THEN content END"
        params: tuple[str, ...] = (payload_guid,) if keep else (MANIFEST_NAME, payload_guid)
        with translated("reading a payload"), self._pool.connection() as conn:
            rows = conn.execute(
                f"SELECT file_name, {content}, octet_length(content), encode(sha256(content), 'hex') "
                "FROM payload_files WHERE payload_guid = %s",
                params,
            ).fetchall()
        by_name = {name: (data, size, digest) for name, data, size, digest in rows}
        if MANIFEST_NAME not in by_name:
            raise MissingEntry(f"{MANIFEST_NAME!r} is missing")
        manifest_bytes = bytes(by_name[MANIFEST_NAME][0])
        manifest = parse_stored_manifest(manifest_bytes, payload_guid)

        def verified(entry: FileEntry, stored_name: str) -> bytes:
            if stored_name not in by_name:
                raise MissingEntry(f"{entry.name!r} is missing")
            data, stored_size, digest = by_name[stored_name]
            if keep:  # hashed again here: what arrived is what is checked
                data = bytes(data)
                stored_size, digest = len(data), hashlib.sha256(data).hexdigest()
            check_entry(entry, stored_size, digest)
            return data if keep else b""

        main = verified(manifest.main, manifest.main.name)
        files = tuple(verified(entry, f"{ATTACHMENTS_DIR}/{entry.name}") for entry in manifest.files)
        image = PayloadImage(manifest_bytes, manifest, main, files) if keep else None
        return _Loaded(manifest_bytes, manifest, image)

    def read_image(self, payload_guid: str, expected_checksum: str | None = None) -> PayloadImage:
        """The verified stored form (manifest bytes and files), as :meth:`read` checks it;
        from the cache when this node read or wrote it before."""
        require_guid(payload_guid)
        cached = self._cache.get(payload_guid)
        if cached is not None:
            if not expected_checksum or cached.checksum == expected_checksum.lower():
                return cached.image
            # The record names another copy (another node may have replaced the rows):
            # the database judges it, and the cache follows what it holds.
            self._cache.evict([payload_guid])
        since = self._cache.generation()
        image = self._load(payload_guid, expected_checksum, keep=True).image
        assert image is not None
        self._cache.put(payload_guid, image, since=since)
        return image

    def read(self, payload_guid: str, expected_checksum: str | None = None) -> PayloadContent:
        """The verified content; raises InvalidPayloadGuid, PayloadMissing or PayloadCorrupt."""
        return self.read_image(payload_guid, expected_checksum).content()

    def check(self, payload_guid: str, expected_checksum: str | None = None) -> Integrity:
        """``ok`` / ``missing`` / ``corrupt`` of the stored rows, never of the cache (an
        integrity check must see damage done after a read); only a malformed GUID raises."""
        return integrity_of(lambda: self._load(payload_guid, expected_checksum, keep=False))

    def ref_for(self, payload_guid: str) -> PayloadRef:
        """Recompute the reference (type, size, checksum) from the verified rows."""
        loaded = self._load(payload_guid, None, keep=False)
        return PayloadRef(
            payload_guid, loaded.manifest.payload_type, loaded.manifest.size_bytes, loaded.checksum
        )

    def manifest_bytes(self, payload_guid: str) -> bytes | None:
        """The payload's manifest as stored, unchecked; None when there is none."""
        if not is_valid_payload_guid(payload_guid):
            return None
        with translated("reading a payload"), self._pool.connection() as conn:
            row = conn.execute(
                "SELECT content FROM payload_files WHERE payload_guid = %s AND file_name = %s",
                (payload_guid, MANIFEST_NAME),
            ).fetchone()
        return None if row is None else bytes(row[0])

    def copy_to(
        self, payload_guid: str, target: interfaces.PayloadStore, *, trust_identical: bool = False
    ) -> PayloadRef:
        """Mirror one verified payload into ``target`` (payload_copy.copy_payload)."""
        return copy_payload(self, payload_guid, target, trust_identical=trust_identical)

    # -------------------------------------------------------------- delete and gc

    def delete(self, payload_guid: str) -> None:
        """Remove a payload's rows; nothing happens when they are already gone."""
        require_guid(payload_guid)
        try:
            with translated("deleting a payload"), self._pool.connection() as conn:
                conn.execute("DELETE FROM payload_files WHERE payload_guid = %s", (payload_guid,))
        finally:  # after the delete, so no read that began before it can fill it back
            self._cache.evict([payload_guid])

    def sweep_orphans(self, referenced: set[str], scope: SweepScope = REPORT_ONLY) -> OrphanSweep:
        """Find (and with ``remove``, delete) the payloads no record references. Those
        written less than ``grace_seconds`` ago (``created_at``, the database's clock) are
        only reported: they may belong to a write in progress on some node. Rows of a GUID
        without a manifest can never be read (a payload is written in one transaction, so
        only a hand edit makes them); they are the ``stale_temp`` of this store.
        ``listed``: the GUIDs to consider, as the folder store takes it."""
        grace_seconds, remove, listed = scope.grace_seconds, scope.remove, scope.listed
        with translated("looking for orphan payloads"), self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT payload_guid, EXTRACT(EPOCH FROM now() - min(created_at))::float8, "
                "bool_or(file_name = %s) FROM payload_files GROUP BY payload_guid",
                (MANIFEST_NAME,),
            ).fetchall()
        ages = {guid: float(age) for guid, age, complete in rows if complete}
        candidates = set(ages) if listed is None else listed
        orphans, recent = split_by_age(candidates - set(referenced), ages.get, grace_seconds)
        stale = sorted(guid for guid, age, complete in rows if not complete and float(age) >= grace_seconds)
        removed: list[str] = []
        if remove and (orphans or stale):
            try:
                with translated("removing orphan payloads"), self._pool.connection() as conn:
                    conn.execute("DELETE FROM payload_files WHERE payload_guid = ANY(%s)", (orphans + stale,))
            finally:
                self._cache.evict(orphans)
            for payload_guid in orphans:
                logger.info("removed orphan payload %s", payload_guid)
            removed = orphans + stale
        return OrphanSweep(tuple(orphans), tuple(recent), tuple(stale), tuple(removed))
