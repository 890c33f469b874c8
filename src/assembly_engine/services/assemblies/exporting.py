"""Export: an assembly as the document of the format it was imported from, with a download
name that is safe on every file system."""

from __future__ import annotations

from typing import Any

from assembly_engine.services.assemblies.changes import Changes
from assembly_engine.services.assemblies.formats import export_value
from assembly_engine.services.assemblies.legacy import record_fields
from assembly_engine.services.assemblies.records import require_whole_row
from assembly_engine.services.audit import Outcome
from assembly_engine.services.auth import policy
from assembly_engine.services.caller import Caller
from assembly_engine.storage.contract.upstream import with_note


def export_file_name(display_name: str) -> str:
    """A download name safe on every file system: letters, digits, ``-_.`` and spaces."""
    cleaned = "".join(c if c.isalnum() or c in "-_. " else "_" for c in display_name).strip(" .")
    return (cleaned[:100] or "assembly") + ".json"


def export(changes: Changes, caller: Caller, guid: str) -> tuple[dict[str, Any], str]:
    """The document of an assembly and its download file name (audited)."""
    auditor = changes.auditor
    auditor.require(policy.may_export(caller.actor), caller, "assembly.export", guid=guid)
    item = changes.existing_for(caller, "assembly.export", guid)
    with changes.audited(caller, "assembly.export", domain=item.domain, guid=guid):
        require_whole_row(item)
        content = changes.contents.read(item)
    record = with_note(item.record, None)  # the vendor note is this engine's bookkeeping
    document = export_value(**record_fields(record, content))
    auditor.record(
        caller, "assembly.export", Outcome.SUCCESS, domain=item.domain, guid=guid, detail=record.display_name
    )
    return document, export_file_name(record.display_name)
