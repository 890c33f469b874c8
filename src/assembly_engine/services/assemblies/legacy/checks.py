"""Refusing a document: the errors and the field checks every legacy form shares.

Each check names the field (``where``) and what is wrong with it, so a refusal tells a
person what to change.
"""

from __future__ import annotations

import base64
import binascii
import copy
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any, NoReturn

from assembly_engine import input_limits as limits


class InvalidDocument(ValueError):
    """The document cannot be imported; the message names the field and the problem."""


class NotAnAssembly(InvalidDocument):
    """The input is not an assembly document at all (``{}``, a manifest, a JSON schema…)."""


class DocumentTooLarge(InvalidDocument):
    """A part of the document is over its size limit (answered 413, not 422)."""


def fail(message: str) -> NoReturn:
    raise InvalidDocument(message)


def check(problem: str | None) -> None:
    """Refuse the document with an input_limits problem sentence, if there is one."""
    if problem is not None:
        fail(problem)


def json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) <= 40 else "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def optional_str(doc: Mapping[str, Any], key: str, where: str) -> str | None:
    value = doc.get(key)
    if value is None or isinstance(value, str):
        return value
    fail(f"{where}.{key} must be a string, got {json_kind(value)}")


def summary(doc: Mapping[str, Any], key: str, where: str) -> str | None:
    value = optional_str(doc, key, where)
    if value is not None:
        check(limits.text_problem(value, f"{where}.{key}", limits.SUMMARY_CHARS))
    return value


def category(doc: Mapping[str, Any], where: str) -> str | None:
    value = optional_str(doc, "category", where)
    if value is not None:
        check(limits.name_problem(value, f"{where}.category", limits.CATEGORY_CHARS))
    return value


def optional_int(doc: Mapping[str, Any], key: str, where: str) -> int | None:
    value = doc.get(key)
    if value is None:
        return None
    if is_int(value):
        check(limits.integer_problem(value, f"{where}.{key}"))
        return int(value)
    fail(f"{where}.{key} must be a whole number, got {json_kind(value)}")


def display_name(value: object, where: str) -> str:
    if value is None:
        fail(f"{where} is missing: every assembly needs a name")
    if not isinstance(value, str) or not value.strip():
        fail(f"{where} must be a non-empty string, got {json_kind(value)}")
    value = limits.nfc(value)
    check(limits.name_problem(value, where, limits.DISPLAY_NAME_CHARS, visible=True))
    return value


def utf8(text: str, where: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidDocument(
            f"{where} contains a character that cannot be stored as UTF-8 "
            f"(a lone surrogate at position {exc.start})"
        ) from None


def decode_base64(value: object, where: str, *, lenient: bool) -> bytes:
    """Decode base64; ``lenient`` also accepts line breaks and other whitespace."""
    if not isinstance(value, str):
        fail(f"{where} must be a base64 string, got {json_kind(value)}")
    text = "".join(value.split()) if lenient else value
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise InvalidDocument(f"{where} is not valid base64 ({exc})") from None
    if not lenient and base64.b64encode(data).decode("ascii") != text:
        # Otherwise export (which always writes canonical base64) would not reproduce it.
        fail(f"{where} is not canonical base64 (no line breaks, standard padding)")
    return data


def safe_file_name(value: object, where: str) -> str:
    if value is None:
        fail(f"{where} is missing: every attached file needs a file_name")
    if not isinstance(value, str) or not value:
        fail(f"{where} must be a non-empty string, got {json_kind(value)}")
    value = limits.nfc(value)
    check(limits.file_name_problem(value, where))
    return value


def name_stem(file_name: str | None) -> str | None:
    if not file_name:
        return None
    stem = PurePosixPath(file_name.replace("\\", "/")).stem
    return stem if stem.strip() else None


def timeout(value: object, where: str) -> int:
    if not is_int(value):
        fail(f"{where} must be a whole number of seconds, got {json_kind(value)}")
    assert isinstance(value, int)
    if value < 0:
        fail(f"{where} must not be negative, got {value}")
    check(limits.integer_problem(value, where))
    return value


def _key_of_kind(value: dict[str, Any], key: str, kind: type, where: str, wanted: str) -> None:
    """Refuse ``value[key]`` (when present) unless it is a ``kind``, saying it must be ``wanted``."""
    if key in value and not isinstance(value[key], kind):
        fail(f"{where}.{key} must be {wanted}, got {json_kind(value[key])}")


def sites(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        fail(f'{where} must be an object like {{"mode": "all", "values": []}}, got {json_kind(value)}')
    _key_of_kind(value, "mode", str, where, "a string")
    _key_of_kind(value, "values", list, where, "a list")
    check(limits.sites_problem(value, where))
    return copy.deepcopy(value)


def variables(value: object, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        fail(f"{where} must be a list of variable objects, got {json_kind(value)}")
    seen: set[str] = set()
    for index, variable in enumerate(value):
        here = f"{where}[{index}]"
        if not isinstance(variable, dict):
            fail(f"{here} must be an object with at least a name, got {json_kind(variable)}")
        name = variable.get("name")
        if name is None:
            fail(f"{here}.name is missing: every variable needs a name")
        if not isinstance(name, str) or not name.strip():
            fail(f"{here}.name must be a non-empty string, got {json_kind(name)}")
        if name in seen:
            fail(f"{where} has two variables named {name!r}; variable names must be unique")
        seen.add(name)
        _key_of_kind(variable, "type", str, here, "a string such as 'string'")
        for key in ("label", "description"):
            if key in variable and not (variable[key] is None or isinstance(variable[key], str)):
                fail(f"{here}.{key} must be a string, got {json_kind(variable[key])}")
        _key_of_kind(variable, "required", bool, here, "true or false")
        _key_of_kind(variable, "options", list, here, "a list")
    check(limits.variables_problem(value, where))
    return copy.deepcopy(value)


def tags(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        fail(f"{where} must be a list of strings, got {json_kind(value)}")
    check(limits.tags_problem(value, where))
    return list(value)
