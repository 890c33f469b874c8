"""The search baseline: a bare Starlette app that runs the raw FTS5 query, then answers.

Run as ``python bench/search_baseline_app.py --port P --index search.db --config c.json``
(embedded) or with ``--database URL`` instead of ``--index`` (cluster). For each request it
runs the same query the engine's index runs for the request's ``q`` (the same terms: FTS5
on the same ``search.db``, read-only, or PostgreSQL full text on the same
``search_bodies``) and fetches every matching payload GUID, then answers with the bytes
captured from the engine for that request. So it measures HTTP (uvicorn + Starlette, the
engine's settings) plus the raw query, nothing of the engine's own work.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import threading
from pathlib import Path
from urllib.parse import parse_qs

import psycopg
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from assembly_engine.storage.contract.search_terms import query_terms

QUERY = (
    "SELECT b.payload_guid FROM term_index JOIN bodies b ON b.id = term_index.rowid WHERE term_index MATCH ?"
)
PG_QUERY = "SELECT payload_guid FROM search_bodies WHERE terms @@ to_tsquery('simple', %s)"


def build_app(index: Path | None, database: str | None, config: dict[str, dict[str, str]]) -> Starlette:
    bodies = {target: Path(file).read_bytes() for target, file in config.items()}
    local = threading.local()

    def raw_query(q: str) -> int:
        if database is not None:
            pg = getattr(local, "pg", None)
            if pg is None:
                pg = local.pg = psycopg.connect(database, autocommit=True)
            return len(pg.execute(PG_QUERY, (query_terms(q).tsquery(),)).fetchall())
        db = getattr(local, "db", None)
        if db is None:
            db = local.db = sqlite3.connect(f"file:{index}?mode=ro", uri=True, check_same_thread=False)
        return len(db.execute(QUERY, (query_terms(q).fts5_match(),)).fetchall())

    async def answer(request: Request) -> Response:
        target = request.url.path + ("?" + request.url.query if request.url.query else "")
        body = bodies.get(target)
        if body is None:
            return Response(b"{}", media_type="application/json")  # also the readiness probe
        q = parse_qs(request.url.query).get("q", [""])[0]
        await run_in_threadpool(raw_query, q)  # the engine's list answers off the event loop too
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/{path:path}", answer)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--index", type=Path)
    source.add_argument("--database")
    parser.add_argument("--config", type=Path, required=True)
    args = parser.parse_args()
    config = json.loads(args.config.read_text(encoding="utf-8"))
    uvicorn.run(
        build_app(args.index, args.database, config),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,  # as `assemblies serve`
    )


if __name__ == "__main__":
    main()
