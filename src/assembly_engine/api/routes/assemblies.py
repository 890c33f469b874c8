"""The assembly endpoints (SPEC §4): routes parse, call the service, and shape the answer."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from ...services.assemblies.inputs import (
    AssemblyChanges,
    CloneRequest,
    FlushRequest,
    ImportRequest,
    NewAssembly,
)
from ...services.assemblies.service import SORT_KEYS, ListQuery
from ...types import AssemblyKind, Domain, is_valid_assembly_guid
from ..deps import CurrentCaller, Services
from ..errors import ApiError, error_responses
from ..responses import JsonResponse

router = APIRouter(prefix="/api/assemblies", tags=["assemblies"])

READ_ERRORS = error_responses(400, 401, 404, 409)
WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422, 503)


def valid_guid(guid: str) -> str:
    if not is_valid_assembly_guid(guid):
        shown = guid if len(guid) <= 80 else guid[:80] + "…"
        raise ApiError(400, "invalid_request",
                       f"'{shown}' is not an assembly id: ids are 32 lowercase hex characters "
                       "(40 for some imported legacy assemblies).")
    return guid


def parse_if_match(value: str | None) -> int | None:
    if value is None:
        return None
    cleaned = value.strip()
    if cleaned.startswith("W/"):
        cleaned = cleaned[2:]
    cleaned = cleaned.strip('"')
    if not cleaned.isdigit() or len(cleaned) > 12:
        raise ApiError(400, "invalid_request",
                       f"If-Match must be the revision number you edited (e.g. \"3\"), not {value!r}.")
    return int(cleaned)


@router.get("", responses={**error_responses(400, 401, 422), 304: {"description": "unchanged"}})
async def list_assemblies(
    request: Request,
    caller: CurrentCaller,
    engine: Services,
    domain: Domain | None = None,
    kind: AssemblyKind | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    dirty: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    sort: Annotated[str, Query(pattern="^(" + "|".join(SORT_KEYS) + ")$")] = "display_name",
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = "asc",
) -> Response:
    query = ListQuery(domain=domain, kind=kind, q=q, dirty=dirty, limit=limit, offset=offset,
                      sort=sort, descending=order == "desc")
    # The cache generation changes with every visible change: an unchanged list is a 304.
    generation = engine.storage.cache.generation
    tag = hashlib.sha256(f"{request.url.query}|{caller.is_admin}".encode()).hexdigest()[:16]
    etag = f'W/"{generation}-{tag}"'
    if request.headers.get("if-none-match") == etag:
        engine.assemblies.list_allowed(caller)
        return Response(status_code=304, headers={"ETag": etag})
    # A current page is answered straight from memory; rebuilding one (after a change, up
    # to a sort of every cached assembly) runs in the thread pool, off the event loop.
    page = engine.assemblies.cached_page(caller, query)
    if page is None:
        page = await run_in_threadpool(engine.assemblies.search, caller, query)
    items, total = page
    return JsonResponse({"items": items, "total": total, "queue": {"depth": engine.storage.cache.depth()}},
                        headers={"ETag": etag, "Cache-Control": "no-cache"})


@router.post("", status_code=201, responses=WRITE_ERRORS)
def create_assembly(body: Annotated[NewAssembly, Body()], caller: CurrentCaller,
                    engine: Services) -> dict[str, Any]:
    return engine.assemblies.create(caller, body)


@router.get("/queue", responses=error_responses(401))
def queue(caller: CurrentCaller, engine: Services) -> dict[str, Any]:
    return engine.assemblies.queue(caller)


@router.post("/dev-mode/write", responses=error_responses(400, 401, 403, 422, 503))
def dev_mode_write(caller: CurrentCaller, engine: Services,
                   body: Annotated[FlushRequest | None, Body()] = None) -> dict[str, Any]:
    return engine.assemblies.flush(caller, body.domain if body else None)


@router.post("/official/sync", responses=error_responses(401, 403, 503))
def official_sync(caller: CurrentCaller, engine: Services) -> dict[str, Any]:
    return engine.assemblies.sync_official(caller)


@router.post("/import", status_code=201,
             responses={**WRITE_ERRORS, 200: {"description": "replaced in place"}})
def import_assembly(body: Annotated[ImportRequest, Body()], caller: CurrentCaller, engine: Services,
                    response: Response) -> dict[str, Any]:
    """Import a legacy document: a new assembly (201), or the replaced one it names (200)."""
    record, created = engine.assemblies.import_document(caller, body.document, body.domain,
                                                        file_name=body.file_name)
    if not created:
        response.status_code = 200
    return record


@router.get("/{guid}/export", responses=READ_ERRORS)
def export_assembly(guid: str, caller: CurrentCaller, engine: Services) -> JsonResponse:
    document, file_name = engine.assemblies.export(caller, valid_guid(guid))
    return JsonResponse(document, headers={
        "Content-Disposition": f'attachment; filename="{file_name}"',
    })


@router.get("/{guid}", responses=READ_ERRORS)
def get_assembly(guid: str, caller: CurrentCaller, engine: Services) -> dict[str, Any]:
    return engine.assemblies.get(caller, valid_guid(guid))


@router.get("/{guid}/files/{file_name}", responses=READ_ERRORS, response_class=Response)
def get_attachment(guid: str, file_name: str, caller: CurrentCaller, engine: Services) -> Response:
    data, mime = engine.assemblies.attachment(caller, valid_guid(guid), file_name)
    safe = "".join(c if c.isalnum() or c in "._- " else "_" for c in file_name)[:120] or "file"
    return Response(data, media_type=mime,
                    headers={"Content-Disposition": f'attachment; filename="{safe}"'})


@router.put("/{guid}", responses=WRITE_ERRORS)
def update_assembly(
    guid: str,
    body: Annotated[AssemblyChanges, Body()],
    caller: CurrentCaller,
    engine: Services,
    if_match: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    return engine.assemblies.update(caller, valid_guid(guid), body,
                                    expected_revision=parse_if_match(if_match))


@router.delete("/{guid}", status_code=202, responses=WRITE_ERRORS)
def delete_assembly(
    guid: str,
    caller: CurrentCaller,
    engine: Services,
    if_match: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    return engine.assemblies.delete(caller, valid_guid(guid),
                                    expected_revision=parse_if_match(if_match))


@router.post("/{guid}/clone", status_code=201, responses=WRITE_ERRORS)
def clone_assembly(guid: str, caller: CurrentCaller, engine: Services,
                   body: Annotated[CloneRequest | None, Body()] = None) -> dict[str, Any]:
    return engine.assemblies.clone(caller, valid_guid(guid), body or CloneRequest())
