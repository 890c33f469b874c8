"""The assembly endpoints (Docs/assemblies.md §7): routes parse, call the service, shape the answer."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from assembly_engine import input_limits as limits
from assembly_engine.api.deps import CurrentCaller, Services, authenticate
from assembly_engine.api.errors import ApiError, error_responses
from assembly_engine.api.params import AssemblyId, IfMatch, RevisionNumber, parse_if_match
from assembly_engine.api.responses import JsonResponse, RawAnswer
from assembly_engine.api.security_headers import attachment_disposition, download_headers
from assembly_engine.services.answers.history import DeletedPage, RevisionDetail, RevisionPage
from assembly_engine.services.answers.imports import BatchImport, DryRun, Imported
from assembly_engine.services.answers.queue import Flushed, OfficialSynced, QueueState
from assembly_engine.services.answers.records import AssemblyDetail, AssemblyView, Deleted, Facets, ListPage
from assembly_engine.services.assemblies.batch_import import ImportItem
from assembly_engine.services.assemblies.history import DELETED_SORT_KEYS
from assembly_engine.services.assemblies.importing import ImportSource
from assembly_engine.services.assemblies.inputs import (
    AssemblyChanges,
    CloneRequest,
    FlushRequest,
    ImportBatchRequest,
    ImportDocument,
    ImportRequest,
    NewAssembly,
    expected_revision,
)
from assembly_engine.services.assemblies.list_query import FacetParams, ListParams, PageParams, query_values
from assembly_engine.services.container import EngineServices
from assembly_engine.services.request_bodies import WHOLE, StrictModel
from assembly_engine.storage.contract.upstream import UpstreamAction

Params = TypeVar("Params", bound=BaseModel)

router = APIRouter(prefix="/api/assemblies", tags=["assemblies"])

READ_ERRORS = error_responses(400, 401, 404, 409, 422)
WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 415, 422, 503)
# Exports are the legacy document, free-form JSON; an attachment is opaque bytes.
DOCUMENT = {"description": "the legacy document, as a download", "model": dict[str, Any]}
ATTACHMENT = {
    "description": "the file's bytes, as a download",
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
}


def _query_refused(exc: ValidationError) -> RequestValidationError:
    return RequestValidationError([{**e, "loc": ("query", *e["loc"])} for e in exc.errors(include_url=False)])


def _validated(model: type[Params], request: Request) -> Params:
    """The query of a route that reads its own (so the list's rules answer alike everywhere)."""
    try:
        return model.model_validate(query_values(request.url.query))
    except ValidationError as exc:
        raise _query_refused(exc) from None


def _inline_refs(schema: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if ref is not None:
            return _inline_refs(definitions[ref.rsplit("/", 1)[-1]], definitions)
        return {k: _inline_refs(v, definitions) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_inline_refs(v, definitions) for v in schema]
    return schema


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """OpenAPI query parameters of ``model`` (for routes that parse their query themselves)."""
    schema = model.model_json_schema()
    definitions = schema.get("$defs", {})
    return [
        {"name": name, "in": "query", "required": False, "schema": _inline_refs(prop, definitions)}
        for name, prop in schema["properties"].items()
    ]


@router.get(
    "",
    responses={200: {"model": ListPage}, **error_responses(400, 401, 422), 304: {"description": "unchanged"}},
    openapi_extra={"parameters": _query_parameters(ListParams)},
)
async def list_assemblies(request: Request) -> Response:
    # The busiest route: requests reach it through api/fast_lane.py, not FastAPI's routing
    # (this registration gives the OpenAPI document). The page comes from the service's
    # Listing (services/assemblies/listing.py) as bytes with its ETag.
    engine: EngineServices = request.app.state.services
    caller = (await authenticate(request, engine)).caller
    listing = engine.assemblies.listing
    query_string: bytes = request.scope["query_string"]
    page = listing.kept_page(caller, query_string)  # sign-in first, then the query's validity
    if page is None:
        try:
            page = await run_in_threadpool(listing.render, caller, query_string)
        except ValidationError as exc:
            raise _query_refused(exc) from None
    # The header lines Response(...) gave these answers, in its order, written out directly.
    etag = page.etag.encode("latin-1")
    if request.headers.get("if-none-match") == page.etag:
        return RawAnswer(304, [(b"etag", etag)])
    return RawAnswer(
        200,
        [
            (b"etag", etag),
            (b"cache-control", b"no-cache"),
            (b"content-length", str(len(page.body)).encode("latin-1")),
            (b"content-type", b"application/json"),
        ],
        page.body,
    )


@router.get(
    "/facets",
    response_model=Facets,
    responses=error_responses(400, 401, 422),
    openapi_extra={"parameters": _query_parameters(FacetParams)},
)
def list_facets(request: Request, caller: CurrentCaller, engine: Services) -> Facets:
    """Counts per domain, kind and category for the list's search and filters."""
    return engine.assemblies.listing.facets(caller, _validated(FacetParams, request).to_query())


@router.post(
    "",
    status_code=201,
    response_model=AssemblyView,
    response_model_exclude_unset=True,
    responses=WRITE_ERRORS,
)
def create_assembly(
    body: Annotated[NewAssembly, Body()], caller: CurrentCaller, engine: Services
) -> AssemblyView:
    return engine.assemblies.editing.create(caller, body)


@router.get("/queue", response_model=QueueState, responses=error_responses(401))
def queue(caller: CurrentCaller, engine: Services) -> QueueState:
    return engine.assemblies.queue_control.queue(caller)


@router.post(
    "/dev-mode/write", response_model=Flushed, responses=error_responses(400, 401, 403, 415, 422, 503)
)
def dev_mode_write(
    caller: CurrentCaller, engine: Services, body: Annotated[FlushRequest | None, Body()] = None
) -> Flushed:
    return engine.assemblies.queue_control.flush(caller, body.domain if body else None)


@router.post("/official/sync", response_model=OfficialSynced, responses=error_responses(401, 403, 503))
def official_sync(caller: CurrentCaller, engine: Services) -> OfficialSynced:
    return engine.assemblies.queue_control.sync_official(caller)


@router.post(
    "/import",
    status_code=201,
    response_model=Imported,
    response_model_exclude_unset=True,
    responses={**WRITE_ERRORS, 200: {"description": "replaced in place, or a dry run", "model": Imported}},
)
def import_assembly(
    body: Annotated[ImportRequest, Body()], caller: CurrentCaller, engine: Services, response: Response
) -> AssemblyView | DryRun:
    """Import a document: a new assembly (201), or the replaced one it names (200).

    With ``dry_run: true`` nothing is created: the answer (200) is ``{"dry_run": true,
    "would_create": {record fields, payload, replaces}}``."""
    try:
        document, script = body.document_value(), body.script_bytes()
    except ValueError as exc:
        raise ApiError(422, "invalid_document", f"{exc}.") from None
    source = ImportSource(document, body.file_name, script, as_new=body.as_new)
    if body.dry_run:
        response.status_code = 200
        would_create = engine.assemblies.dry_run_import(caller, source, body.domain)
        return DryRun.built(dry_run=True, would_create=would_create)
    record, created = engine.assemblies.import_document(caller, source, body.domain)
    if not created:
        response.status_code = 200
    return record


def _batch_item(item: ImportDocument) -> ImportItem:
    try:
        return ImportItem(item.document_value(), item.file_name, item.script_bytes())
    except ValueError as exc:
        return ImportItem(None, item.file_name, problem=f"{exc}.")


@router.post("/import/batch", response_model=BatchImport, responses=WRITE_ERRORS)
def import_batch(
    body: Annotated[ImportBatchRequest, Body()], caller: CurrentCaller, engine: Services
) -> BatchImport:
    """Import many documents in one request; one result per document, in order.

    Every document is validated, then all payload folders are written and the assemblies
    made durable together (group commits). A refused document is a ``failed`` result with
    its ``error`` and ``message``; it never stops the others."""
    items = [_batch_item(item) for item in body.documents]
    return engine.assemblies.import_batch(caller, items, body.domain, dry_run=body.dry_run)


class DeletedParams(ListParams):
    """The deleted view's query: the list's, and ``deleted_at`` as a sort key too."""

    # A Literal built from the keys, so OpenAPI lists them; mypy cannot evaluate it.
    sort: Literal[DELETED_SORT_KEYS] = "display_name"  # type: ignore[valid-type]


class RestoreRequest(StrictModel):
    expected_revision: Annotated[int, Field(ge=1, le=limits.INT64_MAX), WHOLE] | None = None


@router.get(
    "/deleted",
    response_model=DeletedPage,
    response_model_exclude_unset=True,
    responses=error_responses(401, 422),
    openapi_extra={"parameters": _query_parameters(DeletedParams)},
)
def deleted_assemblies(request: Request, caller: CurrentCaller, engine: Services) -> DeletedPage:
    """Deleted assemblies (undeletable until retention purges them), with the list's filters."""
    return engine.history.deleted(caller, _validated(DeletedParams, request).to_query())


@router.get("/{guid:guid}/revisions", response_model=RevisionPage, responses=READ_ERRORS)
def list_revisions(
    guid: AssemblyId, caller: CurrentCaller, engine: Services, page: Annotated[PageParams, Query()]
) -> RevisionPage:
    """Every kept revision, newest first, the current one included."""
    return engine.history.revisions(caller, guid, limit=page.limit, offset=page.offset)


@router.get(
    "/{guid:guid}/revisions/{revision}",
    response_model=RevisionDetail,
    response_model_exclude_unset=True,
    responses=READ_ERRORS,
)
def get_revision(
    guid: AssemblyId, revision: RevisionNumber, caller: CurrentCaller, engine: Services
) -> RevisionDetail:
    """The record exactly as it was at ``revision``, with its payload."""
    return engine.history.revision(caller, guid, revision)


@router.get("/{guid:guid}/revisions/{revision}/export", responses={200: DOCUMENT, **READ_ERRORS})
def export_revision(
    guid: AssemblyId, revision: RevisionNumber, caller: CurrentCaller, engine: Services
) -> JsonResponse:
    document, file_name = engine.history.export_revision(caller, guid, revision)
    return JsonResponse(document, headers={"Content-Disposition": attachment_disposition(file_name)})


@router.post(
    "/{guid:guid}/revisions/{revision}/restore",
    response_model=AssemblyView,
    response_model_exclude_unset=True,
    responses=WRITE_ERRORS,
)
def restore_revision(
    guid: AssemblyId,
    revision: RevisionNumber,
    caller: CurrentCaller,
    engine: Services,
    body: Annotated[RestoreRequest | None, Body()] = None,
    if_match: IfMatch = None,
) -> AssemblyView:
    """A new revision with the content of ``revision`` (rules of an update)."""
    expected = expected_revision(parse_if_match(if_match), body.expected_revision if body else None)
    return engine.history.restore(caller, guid, revision, expected_revision=expected)


class UpstreamRequest(StrictModel):
    """An admin's choice on a vendor change (Docs/official-library.md, "Upgrades")."""

    action: UpstreamAction
    expected_revision: Annotated[int, Field(ge=1, le=limits.INT64_MAX), WHOLE] | None = None


@router.post(
    "/{guid:guid}/upstream",
    response_model=AssemblyView,
    response_model_exclude_unset=True,
    responses=WRITE_ERRORS,
)
def choose_upstream(
    guid: AssemblyId,
    body: UpstreamRequest,
    caller: CurrentCaller,
    engine: Services,
    if_match: IfMatch = None,
) -> AssemblyView:
    """Take the vendor's new version of an official assembly, or keep the local one
    (admin with Dev Mode)."""
    assert engine.upstream is not None  # built by EngineServices.open
    expected = expected_revision(parse_if_match(if_match), body.expected_revision)
    return engine.upstream.resolve(caller, guid, body.action, expected_revision=expected)


@router.post(
    "/{guid:guid}/undelete",
    response_model=AssemblyView,
    response_model_exclude_unset=True,
    responses=WRITE_ERRORS,
)
def undelete_assembly(guid: AssemblyId, caller: CurrentCaller, engine: Services) -> AssemblyView:
    """Bring a deleted assembly back at its last revision (rules of a create)."""
    return engine.history.undelete(caller, guid)


@router.get("/{guid:guid}/export", responses={200: DOCUMENT, **READ_ERRORS})
def export_assembly(guid: AssemblyId, caller: CurrentCaller, engine: Services) -> JsonResponse:
    document, file_name = engine.assemblies.export(caller, guid)
    return JsonResponse(document, headers={"Content-Disposition": attachment_disposition(file_name)})


@router.get(
    "/{guid:guid}", response_model=AssemblyDetail, response_model_exclude_unset=True, responses=READ_ERRORS
)
def get_assembly(guid: AssemblyId, caller: CurrentCaller, engine: Services) -> AssemblyDetail:
    return engine.assemblies.get(caller, guid)


@router.get(
    "/{guid:guid}/files/{file_name}", responses={200: ATTACHMENT, **READ_ERRORS}, response_class=Response
)
def get_attachment(guid: AssemblyId, file_name: str, caller: CurrentCaller, engine: Services) -> Response:
    # The stored media type stays in the record (payload.files[].mime_type); the download
    # is always opaque bytes, so an uploaded text/html or SVG never renders in this origin.
    data, _ = engine.assemblies.attachment(caller, guid, file_name)
    return Response(data, media_type="application/octet-stream", headers=download_headers(file_name))


@router.put(
    "/{guid:guid}", response_model=AssemblyView, response_model_exclude_unset=True, responses=WRITE_ERRORS
)
def update_assembly(
    guid: AssemblyId,
    body: Annotated[AssemblyChanges, Body()],
    caller: CurrentCaller,
    engine: Services,
    if_match: IfMatch = None,
) -> AssemblyView:
    return engine.assemblies.editing.update(caller, guid, body, expected_revision=parse_if_match(if_match))


@router.delete("/{guid:guid}", status_code=202, response_model=Deleted, responses=WRITE_ERRORS)
def delete_assembly(
    guid: AssemblyId,
    caller: CurrentCaller,
    engine: Services,
    if_match: IfMatch = None,
) -> Deleted:
    return engine.assemblies.editing.delete(caller, guid, expected_revision=parse_if_match(if_match))


@router.post(
    "/{guid:guid}/clone",
    status_code=201,
    response_model=AssemblyView,
    response_model_exclude_unset=True,
    responses=WRITE_ERRORS,
)
def clone_assembly(
    guid: AssemblyId,
    caller: CurrentCaller,
    engine: Services,
    body: Annotated[CloneRequest | None, Body()] = None,
) -> AssemblyView:
    return engine.assemblies.editing.clone(caller, guid, body or CloneRequest())
