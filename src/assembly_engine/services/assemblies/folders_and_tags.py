"""How the list reads categories as folders and counts tags (Docs/design.md, "Finding and
organising in the web UI")."""

from __future__ import annotations

# The tag facet names the most used tags only: a library may hold thousands.
TAG_FACETS = 100


def in_folder(category: str, folder: str) -> bool:
    """Whether ``category`` is the folder path ``folder`` or lies below it."""
    return category == folder or category.startswith(folder.rstrip("/") + "/")


def most_used_tags(tags: dict[str, int], selected: str | None) -> dict[str, int]:
    """The TAG_FACETS most used tags (and the selected one), by name."""
    top = sorted(tags.items(), key=lambda pair: (-pair[1], pair[0].casefold(), pair[0]))[:TAG_FACETS]
    kept = dict(top)
    if selected is not None:
        kept.setdefault(selected, tags.get(selected, 0))
    return dict(sorted(kept.items(), key=lambda pair: (pair[0].casefold(), pair[0])))
