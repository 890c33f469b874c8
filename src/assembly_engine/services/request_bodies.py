"""Request-body vocabulary shared by every route: the strict base model and its JSON check.

Assembly bodies (``assemblies.inputs``), sign-in, users, admin and Dev Mode all build on
:class:`StrictModel`, so every body refuses unknown fields and unstorable values alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationInfo,
    model_validator,
)

from assembly_engine import input_limits as limits

MAX_NESTING = 64


NOT_JSON = "is not valid JSON"


class NotJson(str):
    """A problem that makes the request no JSON at all (NaN, Infinity): answered with 400
    like unparseable JSON, where other problems with a value are 422."""


class NotJsonValue(ValueError):
    """Raised by request models for a :class:`NotJson` problem (api/errors.py looks for it)."""


def json_problem(value: Any, where: str = "the request") -> str | None:
    """Why a parsed request value cannot be stored and served as JSON text, or None.

    Python's JSON parser accepts NaN/Infinity and lone UTF-16 surrogates (``"\\ud800"``);
    neither can be written as UTF-8 JSON, so both are refused here, at the edge, before
    anything reaches the journal. So are integers outside signed 64-bit, which SQLite and
    orjson cannot hold. Absurd nesting is refused too (it would exhaust the stack
    of every encoder down the line). The answer names where the problem is; that path is
    built only for a problem found (building one per value cost seconds per MiB of small
    values, issue 23, 8).
    """
    # A trail is (parent trail, key) per container, never per scalar.
    stack: list[tuple[Any, int, Trail]] = [(value, 1, None)]
    if not isinstance(value, (dict, list)):
        problem = _scalar_problem(value)
        return None if problem is None else problem(where)
    while stack:
        item, depth, trail = stack.pop()
        if depth > MAX_NESTING:
            deep = _path(where, trail)
            return f"{deep} is nested more than {MAX_NESTING} levels deep; flatten the document"
        pairs = item.items() if isinstance(item, dict) else enumerate(item)
        for key, child in pairs:
            if isinstance(key, str) and not key.isascii() and _scalar_problem(key) is not None:
                return f"{_path(where, trail)} (a key) " + _SURROGATE
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1, (trail, key)))
                continue
            problem = _scalar_problem(child)
            if problem is not None:
                return problem(_path(where, (trail, key)))
    return None


Trail = tuple[Any, Any] | None
_SURROGATE = "contains a lone UTF-16 surrogate (\\ud800-\\udfff), which cannot be stored as UTF-8 text"


def _path(where: str, trail: Trail) -> str:
    keys: list[Any] = []
    while trail is not None:
        trail, key = trail
        keys.append(key)
    return where + "".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in reversed(keys))


def _scalar_problem(item: Any) -> Callable[[str], str] | None:
    """None for a storable scalar, else a function of its path giving the problem."""
    kind = type(item)
    if kind is int:
        if limits.INT64_MIN <= item <= limits.INT64_MAX:
            return None
        return lambda path: limits.integer_problem(item, path) or ""
    if kind is str:
        if item.isascii():
            return None
        try:
            item.encode("utf-8")
        except UnicodeEncodeError:
            return lambda path: f"{path} {_SURROGATE}"
        return None
    if kind is float and not math.isfinite(item):
        return lambda path: NotJson(f"{path} contains NaN or Infinity, which {NOT_JSON}")
    if isinstance(item, int) and not isinstance(item, bool):  # an int subclass
        return _scalar_problem(int(item))
    return None


def _whole_number(value: Any, info: ValidationInfo) -> Any:
    """JSON's integers: 3 and 3.0 alike (JSON Schema's "integer"), never true or "3"."""
    where = info.field_name or "the value"
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or isinstance(value, float)
        and not value.is_integer()
    ):
        raise ValueError(f"{where} must be a whole number")
    problem = limits.integer_problem(int(value), where)
    if problem is not None:
        raise ValueError(problem)
    return int(value)


# Annotated[int, Field(ge=..., le=...), WHOLE]: the bounds before the validator, so the
# schema shows them as minimum and maximum.
WHOLE = BeforeValidator(_whole_number)
# A whole number that SQLite and orjson can hold (signed 64-bit).
WholeNumber = Annotated[int, Field(ge=limits.INT64_MIN, le=limits.INT64_MAX), WHOLE]


class StrictModel(BaseModel):
    """Base of every request body: unknown fields refused, every value storable as JSON."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _storable(self) -> StrictModel:
        data = self.model_dump(mode="python")
        for name, value in data.items():
            problem = json_problem(value, name)
            if problem is not None:
                raise NotJsonValue(problem) if isinstance(problem, NotJson) else ValueError(problem)
        return self


# A reason the Dev Mode service takes (dev_mode.validate_reason): one line, not blank.
_LINE = limits.ONE_LINE_PATTERN[1:-2]  # one character of a one-line name
_SPACE = r"[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"  # str.strip's
_VISIBLE = r"[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
REASON_PATTERN = f"^{_SPACE}*{_VISIBLE}(?:{_LINE}*{_VISIBLE})?{_SPACE}*$"


class DevModeSwitch(StrictModel):
    # Switching on needs your password and a reason; switching off needs neither.
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"enabled": {"const": True}}},
            "then": {
                "required": ["password", "reason"],
                "properties": {
                    "password": {"type": "string"},
                    "reason": {"type": "string", "pattern": REASON_PATTERN},
                },
            },
        }
    )

    enabled: StrictBool
    password: Annotated[str, Field(max_length=1024)] | None = None
    reason: Annotated[str, Field(max_length=limits.REASON_CHARS)] | None = None
