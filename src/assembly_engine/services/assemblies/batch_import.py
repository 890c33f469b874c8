"""A batch import: many documents in one request, each with its own result.

Every document is validated first, then all are written at once. Both steps run
concurrently: the journal makes the creates durable in group commits, and the audit log
shares its fsyncs the same way, both for refused documents and for imported ones. One
refused document never stops the others.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from assembly_engine.domain.types import Domain
from assembly_engine.services.answers.imports import (
    BatchFailed,
    BatchImport,
    BatchImported,
    BatchResult,
    BatchValid,
)
from assembly_engine.services.answers.records import AssemblyView
from assembly_engine.services.assemblies.formats import ImportedAssembly
from assembly_engine.services.assemblies.imported_before import (
    PlainKey,
    content_checksum,
    earlier_imports,
    plain_key,
    tactical_guid,
)
from assembly_engine.services.assemblies.importing import Importing
from assembly_engine.services.audit import Outcome
from assembly_engine.services.caller import Caller
from assembly_engine.services.errors import EngineError, InvalidInput

# Concurrent writers of a batch import: enough to fill the journal's group commits.
BATCH_WORKERS = 32

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


@dataclass(frozen=True)
class ImportItem:
    """One document of a batch import (``problem``: why its request part was unusable)."""

    document: Any
    file_name: str | None = None
    script: bytes | None = None
    problem: str | None = None


def _failed(index: int, error: EngineError, **before: Any) -> BatchFailed:
    return BatchFailed.built(index=index, status="failed", error=error.code, message=error.message, **before)


def _concurrently(
    work: Callable[[_Item], _Result], items: list[_Item], name: str
) -> list[_Result | EngineError]:
    """``work`` of every item on up to BATCH_WORKERS threads, a refusal as its result."""

    def attempt(item: _Item) -> _Result | EngineError:
        try:
            return work(item)
        except EngineError as exc:
            return exc

    workers = max(1, min(BATCH_WORKERS, len(items)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name) as pool:
        return list(pool.map(attempt, items))


def import_batch(
    importing: Importing, caller: Caller, items: list[ImportItem], domain: Domain, *, dry_run: bool
) -> BatchImport:
    """Import ``items`` into ``domain``; ``dry_run`` validates and answers what would be
    created, writing nothing."""
    importing.require(caller, domain)
    auditor = importing.changes.auditor
    results: list[BatchResult | None] = [None] * len(items)

    def validate(item: ImportItem) -> ImportedAssembly:
        if item.problem is not None:
            raise InvalidInput(item.problem)
        # Refusals are audited once for the whole batch, below.
        return importing.parse(
            caller, item.document, domain, file_name=item.file_name, script=item.script, audit=False
        )

    parsed: list[tuple[int, ImportedAssembly]] = []
    refused: list[tuple[int, EngineError]] = []
    for index, outcome in enumerate(_concurrently(validate, items, "import-check")):
        if isinstance(outcome, EngineError):
            results[index] = _failed(index, outcome)
            refused.append((index, outcome))
        else:
            parsed.append((index, outcome))
    if refused and not dry_run:
        # One entry for every document a batch refused (10,000 empty documents must not
        # become 10,000 fsynced entries); each document's own reason is in the answer.
        auditor.record(
            caller,
            "assembly.import",
            Outcome.FAILED,
            domain=domain,
            detail=_refusal_summary(refused, len(items)),
        )
    # Looked up before anything of this batch is written, so only earlier imports count.
    before = _imported_before(importing, parsed, domain)
    if dry_run:
        for index, imported in parsed:
            results[index] = BatchValid.built(
                index=index,
                status="valid",
                would_create=importing.preview(caller, imported, domain),
                **_noted(before, index),
            )
    elif parsed:

        def write_chain(
            chain: list[tuple[int, ImportedAssembly]],
        ) -> list[tuple[int, tuple[AssemblyView, bool] | EngineError]]:
            written: list[tuple[int, tuple[AssemblyView, bool] | EngineError]] = []
            for index, imported in chain:
                try:
                    written.append((index, importing.write(caller, imported, domain)))
                except EngineError as exc:
                    written.append((index, exc))
            return written

        # The documents' checks and indexing run once the import is done, not against its writes.
        with importing.changes.bulk():
            written = _concurrently(write_chain, _chains(parsed), "import")
        for chain_written in written:
            assert not isinstance(chain_written, EngineError)  # write_chain keeps refusals per document
            _record_written(results, chain_written, before)
    done = [r for r in results if r is not None]
    counts: dict[str, Any] = {
        status: sum(1 for r in done if r.status == status)
        for status in ("imported", "replaced", "valid", "failed")
    }
    return BatchImport.built(dry_run=dry_run, **counts, results=done)


def _noted(before: dict[int, str], index: int) -> dict[str, Any]:
    """``imported_before`` for a document an earlier import made, else nothing (left out)."""
    return {"imported_before": before[index]} if index in before else {}


def _imported_before(
    importing: Importing, parsed: list[tuple[int, ImportedAssembly]], domain: Domain
) -> dict[int, str]:
    """Index of a document -> the assembly an earlier import of it made (the same Tactical
    RMM guid, or a plain script file with the same path and content: imported_before.py)."""
    guids = {index: tactical_guid(imported.metadata) for index, imported in parsed}
    plain: dict[int, PlainKey] = {}
    for index, imported in parsed:
        if guids[index] is None:
            checksum = content_checksum(imported.content)
            key = plain_key(imported.metadata, checksum) if checksum is not None else None
            if key is not None:
                plain[index] = key
    if not any(guids.values()) and not plain:
        return {}
    earlier = earlier_imports(
        importing.changes.cache.items(domain), guids=any(guids.values()), plain=bool(plain)
    )
    found = {
        index: earlier.by_guid[guid]
        for index, guid in guids.items()
        if guid is not None and guid in earlier.by_guid
    }
    found.update({index: earlier.by_plain[key] for index, key in plain.items() if key in earlier.by_plain})
    return found


def _refusal_summary(refused: list[tuple[int, EngineError]], total: int) -> str:
    shown = "; ".join(f"document {index}: {error.message[:120]}" for index, error in refused[:3])
    more = f"; and {len(refused) - 3} more" if len(refused) > 3 else ""
    return f"{len(refused)} of {total} document(s) of a batch refused: {shown}{more}"


def _chains(parsed: list[tuple[int, ImportedAssembly]]) -> list[list[tuple[int, ImportedAssembly]]]:
    """The documents in chains written one after the other: those naming the same assembly
    share a chain in batch order, so the last of them wins (the others run concurrently)."""
    chains: dict[object, list[tuple[int, ImportedAssembly]]] = {}
    for index, imported in parsed:
        guid = imported.source_assembly_guid
        key: object = guid.lower() if guid else index
        chains.setdefault(key, []).append((index, imported))
    return list(chains.values())


def _record_written(
    results: list[BatchResult | None],
    written: list[tuple[int, tuple[AssemblyView, bool] | EngineError]],
    before: dict[int, str],
) -> None:
    for index, result in written:
        if isinstance(result, EngineError):
            results[index] = _failed(index, result, **_noted(before, index))
        else:
            record, created = result
            results[index] = BatchImported.built(
                index=index,
                status="imported" if created else "replaced",
                assembly_guid=record.assembly_guid,
                display_name=record.display_name,
                assembly_kind=record.assembly_kind,
                **_noted(before, index),
            )
