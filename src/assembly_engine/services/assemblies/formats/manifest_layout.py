"""How a Tactical RMM ``community_scripts.json`` is laid out (indent, ASCII escapes, final
newline), so ``sync write`` gives back the bytes a library came with.

The layout is found by writing the parsed entries in each candidate layout and keeping the
one that reproduces the file exactly; a hand-edited file no candidate reproduces gets the
upstream layout. The engine keeps it in each synced record's ``metadata.sync.manifest``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ManifestLayout:
    indent: int = 2  # 0: one line
    ensure_ascii: bool = True
    final_newline: bool = False

    def dump(self, entries: Iterable[Mapping[str, Any]]) -> bytes:
        text = json.dumps(list(entries), indent=self.indent or None, ensure_ascii=self.ensure_ascii)
        return (text + ("\n" if self.final_newline else "")).encode("utf-8")

    def view(self) -> dict[str, Any]:
        return {"indent": self.indent, "ensure_ascii": self.ensure_ascii, "final_newline": self.final_newline}

    @classmethod
    def from_view(cls, value: object) -> ManifestLayout:
        """A layout kept in metadata or sent by a client; anything odd is the upstream one."""
        if not isinstance(value, dict):
            return UPSTREAM
        indent, ascii_, newline = value.get("indent"), value.get("ensure_ascii"), value.get("final_newline")
        if (
            not isinstance(indent, int)
            or isinstance(indent, bool)
            or not 0 <= indent <= 8
            or not isinstance(ascii_, bool)
            or not isinstance(newline, bool)
        ):
            return UPSTREAM
        return cls(indent, ascii_, newline)


UPSTREAM = ManifestLayout()  # Tactical RMM's community-scripts repository


def detect(raw: bytes, entries: list[Any]) -> ManifestLayout:
    """The layout that writes ``entries`` back as exactly ``raw`` (else the upstream one)."""
    for indent in (2, 4, 0, 1, 3, 8):
        for ensure_ascii in (True, False):
            for final_newline in (False, True):
                layout = ManifestLayout(indent, ensure_ascii, final_newline)
                if layout.dump(entries) == raw:
                    return layout
    return UPSTREAM
