"""Path and header parameters that routes declare in their signatures.

An assembly id is a path type: the route itself only matches a well-formed id (the ``guid``
convertor), so no handler checks one, and ``/api/assemblies/dev-mode`` is never taken for an
id. A malformed id still gets a clear 400 (``malformed_guid``, from the API's catch-all).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Header, Path
from pydantic import BeforeValidator
from starlette.convertors import Convertor, register_url_convertor
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from assembly_engine.api.errors import ApiError
from assembly_engine.domain.types import ASSEMBLY_GUID_REGEX as GUID_REGEX
from assembly_engine.domain.types import is_valid_assembly_guid


class _Text(Convertor[str]):
    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


class _GuidConvertor(_Text):
    # Not followed by a newline: a route's "$" would let ".../<id>\n" through as <id>.
    regex = GUID_REGEX + r"(?!\n)"


class _AnyPathConvertor(_Text):
    """Like Starlette's "path", newlines included (its ".*" stops at one), for catch-alls."""

    regex = r"[\s\S]*"


register_url_convertor("guid", _GuidConvertor())
register_url_convertor("any_path", _AnyPathConvertor())
_WELL_FORMED = "0" * 32

AssemblyId = Annotated[
    str,
    Path(
        pattern=f"^{GUID_REGEX}$",
        description="an assembly id: 32 lowercase hex characters (40 for some imported legacy assemblies)",
    ),
]


def _plain_revision(value: object) -> object:
    # "01", "+1" or " 1" would otherwise name revision 1: one revision, one address.
    if isinstance(value, str) and not re.fullmatch(r"[1-9][0-9]*", value):
        raise ValueError("a revision number is written in digits without a leading zero, such as 3")
    return value


RevisionNumber = Annotated[
    int, Path(ge=1, le=2**53, description="a revision number"), BeforeValidator(_plain_revision)
]

IF_MATCH_PATTERN = re.compile(r'[ \t]*(?:W/)?"*([0-9]{1,12})"*[ \t]*')

# Parsed by parse_if_match (a clear 400 rather than a validation error); the pattern is
# declared so the document says exactly what is accepted.
IfMatch = Annotated[
    str | None,
    Header(
        json_schema_extra={"type": "string", "pattern": f"^{IF_MATCH_PATTERN.pattern}$"},
        description='the revision you edited, e.g. "3" (the ETag of GET /api/assemblies/{guid})',
    ),
]


def parse_if_match(value: str | None) -> int | None:
    if value is None:
        return None
    match = IF_MATCH_PATTERN.fullmatch(value)
    if match is None:
        raise ApiError(
            400,
            "invalid_request",
            f'If-Match must be the revision number you edited (e.g. "3"), not {value!r}.',
        )
    return int(match.group(1))


def malformed_guid(routes: list[BaseRoute], scope: Scope) -> ApiError | None:
    """The refusal for a request that a route would serve if its id were well formed (asked
    only for a path that no route serves as it is)."""
    segments = scope["path"].split("/")
    for index, segment in enumerate(segments):
        if not segment or is_valid_assembly_guid(segment):
            continue
        probe = {**scope, "path": "/".join([*segments[:index], _WELL_FORMED, *segments[index + 1 :]])}
        if any(route.matches(probe)[0] is Match.FULL for route in routes):
            shown = segment if len(segment) <= 80 else segment[:80] + "…"
            return ApiError(
                400,
                "invalid_request",
                f"'{shown}' is not an assembly id: ids are 32 lowercase hex characters "
                "(40 for some imported legacy assemblies).",
            )
    return None
