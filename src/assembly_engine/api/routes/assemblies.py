"""The assembly endpoints (Docs/assemblies.md §7): routes parse, call the service, and shape the answer."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Body, Header, Query, Request, Response
from fastapi import Path as FastPath
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from ... import input_limits as limits
from ...services.assemblies.history import DELETED_SORT_KEYS
from ...services.assemblies.inputs import (
    AssemblyChanges,
    CloneRequest,
    FlushRequest,
    ImportBatchRequest,
    ImportDocument,
    ImportRequest,
    NewAssembly,
    StrictModel,
)
from ...services.assemblies.service import SORT_KEYS, GenerationCache, ImportItem, ListQuery
from ...services.caller import Caller
from ...services.container import EngineServices
from ...types import AssemblyKind, Domain, is_valid_assembly_guid
from ..deps import CurrentCaller, Services, authenticate
from ..errors import ApiError, error_responses
from ..responses import JsonResponse
from ..security_headers import attachment_disposition, download_headers

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


class ListParams(BaseModel):
    """The list's query parameters (unknown ones are ignored, as query strings go)."""

    domain: Domain | None = None
    kind: AssemblyKind | None = None
    category: str | None = Field(default=None, max_length=limits.CATEGORY_CHARS)
    q: str | None = Field(default=None, max_length=limits.SEARCH_CHARS)
    dirty: bool | None = None
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=10_000_000)
    sort: Literal[tuple(SORT_KEYS)] = "display_name"  # type: ignore[valid-type]
    order: Literal["asc", "desc"] = "asc"

    def to_query(self) -> ListQuery:
        return ListQuery(domain=self.domain, kind=self.kind, category=self.category, q=self.q,
                         dirty=self.dirty,
                         limit=self.limit, offset=self.offset, sort=self.sort,
                         descending=self.order == "desc")


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
    return [{"name": name, "in": "query", "required": False,
             "schema": _inline_refs(prop, definitions)}
            for name, prop in schema["properties"].items()]


LIST_PARAMETERS = _query_parameters(ListParams)


@lru_cache(maxsize=256)
def parse_list_query(query_string: bytes) -> ListQuery:
    """Query string -> validated query; clients repeat the same few, so parses are kept."""
    raw = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
    try:
        return ListParams.model_validate(raw).to_query()
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("query", *e["loc"])} for e in exc.errors(include_url=False)]) from None


class RenderedPages:
    """List answers as bytes with their ETag, kept while the cache's generation holds.

    An unchanged list is answered without rendering anything: a 304 for a client that
    sends the ETag back, the stored bytes for everyone else.
    """

    def __init__(self) -> None:
        self._pages = GenerationCache()

    async def answer(self, request: Request, engine: EngineServices, caller: Caller) -> Response:
        query_string: bytes = request.scope["query_string"]
        generation = engine.storage.cache.generation
        key = (query_string, caller.is_admin)
        engine.assemblies.list_allowed(caller)  # sign-in first, then the query's validity
        page: tuple[str, bytes] | None = self._pages.get(key, generation)
        if page is None:
            query = parse_list_query(query_string)
            page = await run_in_threadpool(self._render, engine, caller, query, key)
        etag, body = page
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag})
        return Response(body, media_type="application/json",
                        headers={"ETag": etag, "Cache-Control": "no-cache"})

    def _render(self, engine: EngineServices, caller: Caller, query: ListQuery,
                key: tuple[bytes, bool]) -> tuple[str, bytes]:
        generation = engine.storage.cache.generation  # read first: a later change means a new tag
        items, total = engine.assemblies.search(caller, query)
        body = orjson.dumps({"items": items, "total": total,
                             "queue": {"depth": engine.storage.cache.depth()}})
        tag = hashlib.sha256(b"%s|%d" % key).hexdigest()[:16]
        page = (f'W/"{generation}-{tag}"', body)
        self._pages.put(key, generation, page)
        return page


@router.get("", responses={**error_responses(400, 401, 422), 304: {"description": "unchanged"}},
            openapi_extra={"parameters": LIST_PARAMETERS})
async def list_assemblies(request: Request) -> Response:
    # The busiest route: requests reach it through api/fast_lane.py, not FastAPI's routing
    # (this registration gives the OpenAPI document). Its query is parsed (and cached) by
    # parse_list_query, and its answer comes from RenderedPages.
    engine: EngineServices = request.app.state.services
    caller = (await authenticate(request, engine)).caller
    pages: RenderedPages = request.app.state.rendered_pages
    return await pages.answer(request, engine, caller)


class FacetParams(BaseModel):
    """The list's filters, for counting what each filter choice would show."""

    domain: Domain | None = None
    kind: AssemblyKind | None = None
    category: str | None = Field(default=None, max_length=200)
    q: str | None = Field(default=None, max_length=200)
    dirty: bool | None = None


@router.get("/facets", responses=error_responses(400, 401, 422),
            openapi_extra={"parameters": _query_parameters(FacetParams)})
def list_facets(request: Request, caller: CurrentCaller, engine: Services) -> dict[str, Any]:
    """Counts per domain, kind and category for the list's search and filters."""
    raw = dict(parse_qsl(request.url.query, keep_blank_values=True))
    try:
        params = FacetParams.model_validate(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("query", *e["loc"])} for e in exc.errors(include_url=False)]) from None
    query = ListQuery(domain=params.domain, kind=params.kind, category=params.category,
                      q=params.q, dirty=params.dirty)
    return engine.assemblies.facets(caller, query)


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
             responses={**WRITE_ERRORS, 200: {"description": "replaced in place, or a dry run"}})
def import_assembly(body: Annotated[ImportRequest, Body()], caller: CurrentCaller, engine: Services,
                    response: Response) -> dict[str, Any]:
    """Import a document: a new assembly (201), or the replaced one it names (200).

    With ``dry_run: true`` nothing is created: the answer (200) is ``{"dry_run": true,
    "would_create": {record fields, payload, replaces}}``."""
    try:
        document, script = body.document_value(), body.script_bytes()
    except ValueError as exc:
        raise ApiError(422, "invalid_document", f"{exc}.") from None
    if body.dry_run:
        response.status_code = 200
        return {"dry_run": True, "would_create": engine.assemblies.dry_run_import(
            caller, document, body.domain, file_name=body.file_name, script=script,
            as_new=body.as_new)}
    record, created = engine.assemblies.import_document(caller, document, body.domain,
                                                        file_name=body.file_name, script=script,
                                                        as_new=body.as_new)
    if not created:
        response.status_code = 200
    return record


def _batch_item(item: ImportDocument) -> ImportItem:
    try:
        return ImportItem(item.document_value(), item.file_name, item.script_bytes())
    except ValueError as exc:
        return ImportItem(None, item.file_name, problem=f"{exc}.")


@router.post("/import/batch", responses=WRITE_ERRORS)
def import_batch(body: Annotated[ImportBatchRequest, Body()], caller: CurrentCaller,
                 engine: Services) -> dict[str, Any]:
    """Import many documents in one request; one result per document, in order.

    Every document is validated, then all payload folders are written and the assemblies
    made durable together (group commits). A refused document is a ``failed`` result with
    its ``error`` and ``message``; it never stops the others."""
    items = [_batch_item(item) for item in body.documents]
    return engine.assemblies.import_batch(caller, items, body.domain, dry_run=body.dry_run)


class DeletedParams(ListParams):
    """The deleted view's query: the list's, and ``deleted_at`` as a sort key too."""

    sort: Literal[DELETED_SORT_KEYS] = "display_name"  # type: ignore[valid-type]


class RestoreRequest(StrictModel):
    expected_revision: Annotated[int | None, Field(ge=1)] = None


class PageParams(BaseModel):
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=10_000_000)


RevisionNumber = Annotated[int, FastPath(ge=1, le=2**53, description="a revision number")]


@router.get("/deleted", responses=error_responses(401, 422),
            openapi_extra={"parameters": _query_parameters(DeletedParams)})
def deleted_assemblies(request: Request, caller: CurrentCaller, engine: Services) -> dict[str, Any]:
    """Deleted assemblies (undeletable until retention purges them), with the list's filters."""
    raw = dict(parse_qsl(request.url.query, keep_blank_values=True))
    try:
        params = DeletedParams.model_validate(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("query", *e["loc"])} for e in exc.errors(include_url=False)]) from None
    return engine.history.deleted(caller, ListQuery(
        domain=params.domain, kind=params.kind, category=params.category, q=params.q,
        limit=params.limit,
        offset=params.offset, sort=params.sort, descending=params.order == "desc"))


@router.get("/{guid}/revisions", responses=READ_ERRORS)
def list_revisions(guid: str, caller: CurrentCaller, engine: Services,
                   page: Annotated[PageParams, Query()]) -> dict[str, Any]:
    """Every kept revision, newest first, the current one included."""
    return engine.history.revisions(caller, valid_guid(guid), limit=page.limit, offset=page.offset)


@router.get("/{guid}/revisions/{revision}", responses=READ_ERRORS)
def get_revision(guid: str, revision: RevisionNumber, caller: CurrentCaller,
                 engine: Services) -> dict[str, Any]:
    """The record exactly as it was at ``revision``, with its payload."""
    return engine.history.revision(caller, valid_guid(guid), revision)


@router.get("/{guid}/revisions/{revision}/export", responses=READ_ERRORS)
def export_revision(guid: str, revision: RevisionNumber, caller: CurrentCaller,
                    engine: Services) -> JsonResponse:
    document, file_name = engine.history.export_revision(caller, valid_guid(guid), revision)
    return JsonResponse(document, headers={"Content-Disposition": attachment_disposition(file_name)})


@router.post("/{guid}/revisions/{revision}/restore", responses=WRITE_ERRORS)
def restore_revision(
    guid: str,
    revision: RevisionNumber,
    caller: CurrentCaller,
    engine: Services,
    body: Annotated[RestoreRequest | None, Body()] = None,
    if_match: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """A new revision with the content of ``revision`` (rules of an update)."""
    expected = parse_if_match(if_match)
    if expected is None and body is not None:
        expected = body.expected_revision
    return engine.history.restore(caller, valid_guid(guid), revision, expected_revision=expected)


@router.post("/{guid}/undelete", responses=WRITE_ERRORS)
def undelete_assembly(guid: str, caller: CurrentCaller, engine: Services) -> dict[str, Any]:
    """Bring a deleted assembly back at its last revision (rules of a create)."""
    return engine.history.undelete(caller, valid_guid(guid))


@router.get("/{guid}/export", responses=READ_ERRORS)
def export_assembly(guid: str, caller: CurrentCaller, engine: Services) -> JsonResponse:
    document, file_name = engine.assemblies.export(caller, valid_guid(guid))
    return JsonResponse(document, headers={"Content-Disposition": attachment_disposition(file_name)})


@router.get("/{guid}", responses=READ_ERRORS)
def get_assembly(guid: str, caller: CurrentCaller, engine: Services) -> dict[str, Any]:
    return engine.assemblies.get(caller, valid_guid(guid))


@router.get("/{guid}/files/{file_name}", responses=READ_ERRORS, response_class=Response)
def get_attachment(guid: str, file_name: str, caller: CurrentCaller, engine: Services) -> Response:
    # The stored media type stays in the record (payload.files[].mime_type); the download
    # is always opaque bytes, so an uploaded text/html or SVG never renders in this origin.
    data, _ = engine.assemblies.attachment(caller, valid_guid(guid), file_name)
    return Response(data, media_type="application/octet-stream", headers=download_headers(file_name))


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
