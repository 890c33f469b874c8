"""Health's and metrics' official counts at boot: taken from the rows not built yet, equal
to what the built records give, counted again only when the cache or the signature state
changes. Real SQLite files under a temp home; no worker, no warmer."""

from __future__ import annotations

from types import MappingProxyType

from assembly_engine.config import Settings
from assembly_engine.domain.types import Domain
from assembly_engine.services.assemblies.upstream_choice import upstream_counts
from assembly_engine.services.official_summary import OfficialSummary
from assembly_engine.storage.contract.models import COLUMNS, AssemblyRecord
from assembly_engine.storage.contract.record_facts import RecordFacts
from assembly_engine.storage.contract.signatures import ManifestEntry, OfficialTrust, SignaturePolicy
from assembly_engine.storage.sqlite.databases import ConnectionOptions, DomainDatabase
from assembly_engine.storage.sqlite.payload_folders import PayloadStore
from tests.storage.support import boot, runtime_official, stage_official
from tests.support import make_record


def test_official_counts_come_from_rows_and_match_the_built_records(settings: Settings) -> None:
    shipped = stage_official(settings, ["Kept", "Edited", "Stranger", "Fourth"])
    boot(settings).close()
    # A runtime row staging does not hold: the next boot keeps it as removed upstream.
    extra = make_record(PayloadStore(settings.payloads_root), Domain.OFFICIAL, "Smuggled in")
    db = DomainDatabase(Domain.OFFICIAL, runtime_official(settings), ConnectionOptions())
    db.write([extra.to_row()], [])
    db.close()
    kept, edited = shipped[0], shipped[1]
    trust = OfficialTrust(
        SignaturePolicy.WARN,
        MappingProxyType(
            {
                kept.assembly_guid: ManifestEntry(kept.assembly_guid, kept.version, kept.payload.checksum),
                edited.assembly_guid: ManifestEntry(edited.assembly_guid, 99, edited.payload.checksum),
            }
        ),
    )
    rt = boot(settings)
    try:
        counter = OfficialSummary(lambda: rt.cache, lambda: trust)
        counted = counter.counts()
        assert not rt.cache.wait_warm(0)  # nothing was built for them
        assert counter.counts() is counted  # nothing changed: not counted again
        assert counted.signatures["counts"] == {"verified": 1, "modified": 1, "unsigned": 3}
        assert counted.upstream == {"update_available": 0, "removed_upstream": 1}

        built = [a.record for a in rt.cache.items(Domain.OFFICIAL)]
        assert rt.cache.wait_warm(0)
        assert trust.summary(RecordFacts.of(r) for r in built) == counted.signatures
        assert upstream_counts(RecordFacts.of(r) for r in built) == counted.upstream
        assert counter.counts() is counted  # building changed nothing a reader sees

        rt.cache.delete(extra.assembly_guid)  # flagging it made revision 2
        again = counter.counts()
        assert again is not counted and again.upstream["removed_upstream"] == 0
        assert sum(again.signatures["counts"].values()) == 4
    finally:
        rt.close()


def test_facts_of_an_odd_row_are_those_of_the_record_it_repairs(settings: Settings) -> None:
    record = make_record(PayloadStore(settings.payloads_root), Domain.OFFICIAL, "Odd")
    plain = record.to_row()
    odd_rows = []
    for column, value in (
        ("version", "3"),
        ("version", 4.0),
        ("payload_checksum", 5),
        ("metadata_json", b'{"upstream": {"state": "removed_upstream"}}'),
        ("assembly_guid", None),
        ("metadata_json", None),
        ("payload_checksum", None),
        ("version", None),
    ):
        changed = list(plain)
        changed[COLUMNS.index(column)] = value
        odd_rows.append(tuple(changed))
    for odd in [plain, *odd_rows]:
        expected = RecordFacts.of(AssemblyRecord.from_row(odd, Domain.OFFICIAL))
        assert RecordFacts.of_row(odd, Domain.OFFICIAL) == expected, odd
