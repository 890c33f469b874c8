"""Bulk actions on selected assemblies (Docs/assemblies.md §7, "Bulk actions"): one
request per operation, one result per assembly."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from assembly_engine.api.deps import CurrentCaller, Services
from assembly_engine.api.errors import error_responses
from assembly_engine.api.security_headers import attachment_disposition
from assembly_engine.services.answers.records import BulkDone
from assembly_engine.services.assemblies.bulk import BulkActions, BulkRequest, BulkTarget
from assembly_engine.services.assemblies.bulk_export import BulkExport, export_name, report_json

router = APIRouter(prefix="/api/assemblies", tags=["assemblies"])

ZIP = {
    "description": "the assemblies as a library folder, zipped (a download)",
    "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
}


@router.post(
    "/bulk",
    response_model=BulkDone,
    response_model_exclude_unset=True,
    responses=error_responses(400, 401, 413, 415, 422, 503),
)
def bulk_action(body: Annotated[BulkRequest, Body()], caller: CurrentCaller, engine: Services) -> BulkDone:
    """Delete, undelete, set the category of, add or remove tags on, or clone the named
    assemblies. Each item is done as its own route would do it (policy of the domain it
    writes, Dev Mode, ``expected_revision``, audit); a refused item is a result
    (``status: refused`` with ``code`` and ``message``) and never stops the others."""
    actions = BulkActions(engine.assemblies.changes, engine.assemblies.editing, engine.history)
    return actions.run(caller, body)


@router.post(
    "/bulk/export",
    response_class=StreamingResponse,
    responses={200: ZIP, **error_responses(400, 401, 413, 415, 422)},
)
async def bulk_export(
    body: Annotated[BulkTarget, Body()], caller: CurrentCaller, engine: Services
) -> StreamingResponse:
    """The named assemblies as a zip of the library-folder layout (as ``assemblies sync
    write`` writes it). ``X-Assemblies-Exported`` and ``X-Assemblies-Left-Out`` count them;
    ``X-Assemblies-Left-Out-Items`` lists the first 20 left out with why; the zip's
    ``.assembly-export.json`` lists every one."""
    exporter = BulkExport(engine.assemblies.changes, engine.assemblies.library_render)
    guids = [item.assembly_guid for item in body.items]
    plan = await run_in_threadpool(exporter.plan, caller, guids)
    headers = {
        "Content-Disposition": attachment_disposition(export_name(len(plan.exported))),
        "X-Assemblies-Exported": str(len(plan.exported)),
        "X-Assemblies-Left-Out": str(len(plan.left_out)),
        "X-Assemblies-Left-Out-Items": report_json(plan),
        "Cache-Control": "no-store",
    }
    return StreamingResponse(exporter.stream(plan), media_type="application/zip", headers=headers)
