"""Library as code (Docs/library-as-code.md): plan, apply and render a library folder.

The caller (``assemblies sync …`` or a CI job) reads the folder and sends its items; the
engine never opens the caller's files.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from assembly_engine.api.deps import CurrentCaller, Services
from assembly_engine.api.errors import ApiError, error_responses
from assembly_engine.domain.types import Domain
from assembly_engine.services.answers.sync import Applied, Plan, Rendered
from assembly_engine.services.assemblies.formats.library_folder import Digests, LibraryItem
from assembly_engine.services.assemblies.formats.manifest_layout import ManifestLayout
from assembly_engine.services.assemblies.library_paths import Selection
from assembly_engine.services.assemblies.library_sync import SyncSource
from assembly_engine.services.request_bodies import NotJson, NotJsonValue, StrictModel, json_problem
from assembly_engine.storage.contract.models import PayloadFile

router = APIRouter(prefix="/api/sync", tags=["sync"])

MAX_ITEMS = 50_000
Glob = Annotated[str, Field(max_length=1000)]


Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class Nested(BaseModel):
    """A part of a request: unknown fields refused. Whether its values can be stored is
    checked once, by the enclosing request (SyncRequest._storable: checking each item too
    doubled the cost of a 10,000-item plan)."""

    model_config = ConfigDict(extra="forbid")


class SyncFile(Nested):
    file_name: Annotated[str, Field(min_length=1, max_length=255)]
    data: str | None = None  # base64
    sha256: Sha256 | None = None  # instead of data, in a digest-only item


class SyncItem(Nested):
    """One file of the library: its bytes (``content``, base64), or only their ``sha256``
    (a digest-only item: planned, not written; how a large library is sent in parts)."""

    path: Annotated[str, Field(min_length=1, max_length=4096)]
    content: str | None = None
    sha256: Sha256 | None = None
    sidecar: dict[str, Any] | None = None
    files: list[SyncFile] = []
    tactical_rmm: dict[str, Any] | None = None  # the manifest entry of a Tactical RMM library
    # The entry's index in its manifest (kept so a write keeps the order).
    position: Annotated[StrictInt, Field(ge=0, le=10_000_000)] | None = None


class ManifestLayoutBody(Nested):
    """How the library's ``community_scripts.json`` is laid out (``sync write`` keeps it)."""

    indent: Annotated[StrictInt, Field(ge=0, le=8)] = 2
    ensure_ascii: StrictBool = True
    final_newline: StrictBool = False


class SkippedFile(Nested):
    path: Annotated[str, Field(max_length=4096)]
    reason: Annotated[str, Field(max_length=1000)]


class SyncRequest(StrictModel):
    source: Annotated[str, Field(min_length=1, max_length=4096)]
    commit: Annotated[str, Field(max_length=100)] | None = None
    domain: Domain = Domain.USER
    items: Annotated[list[SyncItem], Field(max_length=MAX_ITEMS)] = []
    skipped: Annotated[list[SkippedFile], Field(max_length=MAX_ITEMS)] = []
    include: Annotated[list[Glob], Field(max_length=100)] = []
    exclude: Annotated[list[Glob], Field(max_length=100)] = []
    ignore: Annotated[list[Glob], Field(max_length=10_000)] = []  # the root's .assemblyignore lines
    prune: StrictBool = False
    manifest: ManifestLayoutBody | None = None

    @model_validator(mode="after")
    def _storable(self) -> SyncRequest:
        """StrictModel's check that every value can be stored as JSON, made on the parts that
        carry free text or JSON (paths, names, sidecars, manifest entries) rather than on a
        dump of the whole request: the dump of a 10,000-item plan cost a third of planning
        it. Digests and base64 are checked by their patterns and decoders."""
        for where, value in self._free_values():
            if value is None or (type(value) is str and value.isascii()):
                continue  # nothing in ASCII text that JSON cannot store
            problem = json_problem(value, where)
            if problem is not None:
                raise NotJsonValue(problem) if isinstance(problem, NotJson) else ValueError(problem)
        return self

    def _free_values(self) -> Iterator[tuple[str, Any]]:
        yield "source", self.source
        yield "commit", self.commit
        yield "skipped", [[s.path, s.reason] for s in self.skipped]
        yield "include", self.include
        yield "exclude", self.exclude
        yield "ignore", self.ignore
        for index, item in enumerate(self.items):
            yield f"items[{index}].path", item.path
            yield f"items[{index}].sidecar", item.sidecar
            yield f"items[{index}].tactical_rmm", item.tactical_rmm
            for n, f in enumerate(item.files):
                yield f"items[{index}].files[{n}].file_name", f.file_name


class ApplyRequest(SyncRequest):
    plan_id: Annotated[str, Field(max_length=64)] | None = None

    def _free_values(self) -> Iterator[tuple[str, Any]]:
        yield "plan_id", self.plan_id
        yield from super()._free_values()


class RenderRequest(StrictModel):
    domain: Domain = Domain.USER
    format: Literal["library", "tactical-rmm"] = "library"
    include: Annotated[list[Glob], Field(max_length=100)] = []
    exclude: Annotated[list[Glob], Field(max_length=100)] = []


def _bytes(value: str, where: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, "invalid_document", f"{where} is not valid base64.") from None


def _item(index: int, item: SyncItem) -> LibraryItem:
    where = f"items[{index}]"
    if (item.content is None) == (item.sha256 is None):
        raise ApiError(
            422, "invalid_document", f"{where} needs its content (base64) or its sha256, not both."
        )
    if item.content is None:
        assert item.sha256 is not None
        digests = []
        for n, f in enumerate(item.files):
            if f.sha256 is None or f.data is not None:
                raise ApiError(
                    422, "invalid_document", f"{where}.files[{n}] of a digest-only item needs sha256 only."
                )
            digests.append((f.file_name, f.sha256))
        return LibraryItem(
            item.path,
            b"",
            item.sidecar,
            (),
            item.tactical_rmm,
            Digests(item.sha256, tuple(digests)),
            item.position,
        )
    files = []
    for n, f in enumerate(item.files):
        if f.data is None:
            raise ApiError(422, "invalid_document", f"{where}.files[{n}] needs its data (base64).")
        files.append(PayloadFile(f.file_name, _bytes(f.data, f"{where}.files[{n}].data")))
    return LibraryItem(
        item.path,
        _bytes(item.content, f"{where}.content"),
        item.sidecar,
        tuple(files),
        item.tactical_rmm,
        position=item.position,
    )


def source_of(body: SyncRequest) -> SyncSource:
    items = tuple(_item(index, item) for index, item in enumerate(body.items))
    paths = [i.path for i in items]
    if len(set(paths)) != len(paths):
        raise ApiError(422, "invalid_document", "Every item needs its own path; some paths repeat.")
    return SyncSource(
        source=body.source,
        commit=body.commit,
        domain=body.domain,
        items=items,
        skipped=tuple((s.path, s.reason) for s in body.skipped),
        selection=Selection(tuple(body.include), tuple(body.exclude), tuple(body.ignore)),
        prune=body.prune,
        manifest=ManifestLayout(**body.manifest.model_dump()) if body.manifest is not None else None,
    )


@router.post("/plan", response_model=Plan, responses=error_responses(400, 401, 403, 413, 415, 422))
def plan(body: Annotated[SyncRequest, Body()], caller: CurrentCaller, engine: Services) -> Response:
    """What applying these library-folder items to the domain would do; changes nothing."""
    # Served through api/sync_plan_lane.py (which answers a body planned before from the
    # kept plan); this route documents it and serves an app without the fast lanes.
    # Serialised as the service built it (the model documents it): validating 10,000 plan
    # items again cost as much as planning them.
    return _sent(engine.assemblies.library_sync.plan(caller, source_of(body)))


@router.post(
    "/apply", response_model=Applied, responses=error_responses(400, 401, 403, 409, 413, 415, 422, 503)
)
def apply(body: Annotated[ApplyRequest, Body()], caller: CurrentCaller, engine: Services) -> Response:
    """Carry the plan out item by item through the normal write path. With ``plan_id``,
    refused (409 ``plan_changed``, nothing changed) when the source or domain moved."""
    return _sent(engine.assemblies.library_sync.apply(caller, source_of(body), plan_id=body.plan_id))


def _sent(answer: Plan) -> Response:
    return Response(
        answer.__pydantic_serializer__.to_json(answer, exclude_unset=True), media_type="application/json"
    )


@router.post(
    "/render",
    response_model=Rendered,
    response_model_exclude_unset=True,
    responses=error_responses(400, 401, 403, 415, 422),
)
def render(body: Annotated[RenderRequest, Body()], caller: CurrentCaller, engine: Services) -> Rendered:
    """The domain as library-folder items (``sync write``): paths, bytes, sidecars."""
    selection = Selection(tuple(body.include), tuple(body.exclude))
    return engine.assemblies.library_render.render(caller, body.domain, body.format, selection)
