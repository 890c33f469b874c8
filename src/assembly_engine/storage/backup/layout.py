"""A backup folder's life, alike for every backend: started only when new or empty, sealed
owner-only; and the orphan sweeps every Maintenance hands to its payload store."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from assembly_engine.storage.contract.maintenance import BACKUP_ASSEMBLIES
from assembly_engine.storage.contract.reports import OrphanSweep, SweepScope
from assembly_engine.storage.files.private_files import make_tree_private

if TYPE_CHECKING:
    from assembly_engine.storage.contract import interfaces


class SharedMaintenance:
    """What every backend's Maintenance does alike: sweeps go to its payload store, and a
    backup folder is started and sealed the same way (every backend writes one layout)."""

    payloads: interfaces.PayloadStore

    def sweep_orphans(self, referenced: set[str], scope: SweepScope) -> OrphanSweep:
        return self.payloads.sweep_orphans(referenced, scope)

    def start_backup(self, destination: Path) -> Path:
        """The resolved destination, refused (FileExistsError) unless new or empty."""
        destination = destination.resolve()
        if destination.exists() and any(destination.iterdir()):
            raise FileExistsError(f"{destination} is not empty; give backup a new or empty folder.")
        (destination / BACKUP_ASSEMBLIES).mkdir(parents=True, exist_ok=True)
        return destination

    def seal_backup(self, destination: Path) -> None:
        """A backup holds the password hashes and every assembly: owner-only like a home,
        including files copied from a home made before homes were private."""
        make_tree_private(destination)
