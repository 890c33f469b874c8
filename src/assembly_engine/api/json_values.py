"""How many JSON values a request body may hold, judged before anything validates it.

Validating a body costs far more per value than reading its bytes: a 12 MiB body of small
numbers cost seconds of CPU and hundreds of MiB in the models (issue 23, 8). The body-size
gate (limits.py) calls :func:`too_many_values` on every body it has read; past
``MAX_JSON_VALUES`` values (keys not counted) the body is refused with 413 before pydantic
sees it. Real bodies are far below: a batch of 10,000 documents holds some 100,000 values.

The check is cheap in the common case: every value but the top one follows a ``[``, a
``,`` or a ``:``, so counting those three bytes (in C) bounds the number from above. Only
a body whose bound is over the limit (a large script full of commas, say) is parsed and
walked, and the walk stops at the limit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

MAX_JSON_VALUES = 500_000


def _upper_bound(chunks: Iterable[bytes]) -> int:
    return 1 + sum(chunk.count(b"[") + chunk.count(b",") + chunk.count(b":") for chunk in chunks)


def _count_up_to(value: Any, limit: int) -> int:
    """The number of values in ``value``, or ``limit + 1`` as soon as it is passed."""
    count = 0
    stack = [value]
    while stack:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, list):
            continue
        for child in item:
            if isinstance(child, (dict, list)):
                stack.append(child)
            else:
                count += 1
                if count > limit:
                    return limit + 1
    return count if count <= limit else limit + 1


def too_many_values(chunks: list[bytes], limit: int = MAX_JSON_VALUES) -> bool:
    """True when the JSON body made of ``chunks`` holds more than ``limit`` values (a body
    that is not JSON at all is left to the route, which refuses it)."""
    if _upper_bound(chunks) <= limit:
        return False
    try:
        value = orjson.loads(b"".join(chunks))
    except orjson.JSONDecodeError:
        return False
    return _count_up_to(value, limit) > limit


def too_many_values_message(limit: int = MAX_JSON_VALUES) -> str:
    return f"The request body holds more than {limit} JSON values; send the documents in smaller batches."
