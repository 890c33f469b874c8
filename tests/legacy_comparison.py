"""The normalisations a legacy document may undergo on a round trip, for comparing one.

The list itself is the contract of the legacy format (``assembly_engine.services.assemblies.legacy``
docstring, Docs/assemblies.md §10.3); this applies it to both sides of a comparison.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

from assembly_engine.services.assemblies.legacy import ENGINE_KEY
from assembly_engine.services.assemblies.legacy.checks import decode_base64, utf8


def normalise_for_comparison(doc: dict[str, Any]) -> dict[str, Any]:
    """Apply the documented normalisations to a legacy document (the input is not changed)."""
    result = copy.deepcopy(doc)
    result.pop(ENGINE_KEY, None)
    inner = result.get("payload")
    if isinstance(inner, dict) and ("script" in inner or "script_lines" in inner):
        result["payload"] = normalise_for_comparison(inner)  # an item's legacy document
    if "script" not in result and "script_lines" not in result:
        return result
    script = result.get("script")
    if isinstance(script, str):
        if result.get("script_encoding") == "base64":
            raw = decode_base64(script, "document.script", lenient=True)
        else:
            raw = utf8(script, "document.script")
    else:
        lines = result.get("script_lines")
        if not isinstance(lines, list):
            return result
        raw = utf8("\n".join(str(line) for line in lines), "document.script_lines")
    result.pop("script_lines", None)
    result["script"] = base64.b64encode(raw.replace(b"\r\n", b"\n")).decode("ascii")
    result["script_encoding"] = "base64"
    return result
