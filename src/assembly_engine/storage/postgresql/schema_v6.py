"""Schema version 6: the search index of payload bodies (``search_bodies``).

One row per indexed payload, shared by every node: a body one node indexed is found by
all. ``terms`` holds the terms of storage/contract/search_terms.py as a ``tsvector`` of the
``simple`` configuration (no stemming, no stop words: code is not prose), without
positions, with a GIN index; ``body`` is kept for the matching line.
"""

from __future__ import annotations

NAME = "search index"
STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE search_bodies (
        payload_guid TEXT PRIMARY KEY,
        body         TEXT NOT NULL,
        terms        TSVECTOR NOT NULL
    )""",
    "CREATE INDEX search_bodies_terms ON search_bodies USING GIN (terms)",
)
