"""The built UI's files: hashed assets precompressed and cached for a year, index.html
revalidated on every load (a build in a temporary folder, served by a test app)."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assembly_engine.api.web import IMMUTABLE, accepted_encodings, install_web_ui

SCRIPT = b"export const hello = 'world';\n" * 100


@pytest.fixture
def http(tmp_path: Path) -> Iterator[TestClient]:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text('<!doctype html><div id="root"></div>')
    (dist / "assets" / "index-abc123.js").write_bytes(SCRIPT)
    (dist / "assets" / "index-abc123.js.gz").write_bytes(gzip.compress(SCRIPT))
    (dist / "assets" / "index-abc123.js.br").write_bytes(b"pretend brotli")
    (dist / "assets" / "plain-def456.css").write_bytes(b"body{margin:0}")
    (tmp_path / "secret.txt").write_text("outside the build")
    app = FastAPI()
    install_web_ui(app, dist)
    with TestClient(app) as client:
        yield client


def test_hashed_assets_are_sent_precompressed_and_immutable(http: TestClient) -> None:
    brotli = http.get("/assets/index-abc123.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert brotli.status_code == 200
    assert brotli.headers["content-encoding"] == "br"
    assert brotli.headers["cache-control"] == IMMUTABLE
    assert brotli.headers["vary"] == "Accept-Encoding"
    assert brotli.headers["content-type"].startswith("text/javascript")
    assert brotli.headers["content-length"] == str(len(b"pretend brotli"))

    gzipped = http.get("/assets/index-abc123.js", headers={"Accept-Encoding": "gzip"})
    assert gzipped.headers["content-encoding"] == "gzip"
    assert gzipped.content == SCRIPT  # the client decoded the precompressed bytes

    refused = http.get("/assets/index-abc123.js", headers={"Accept-Encoding": "br;q=0, gzip;q=0"})
    assert "content-encoding" not in refused.headers
    assert refused.content == SCRIPT and refused.headers["cache-control"] == IMMUTABLE

    css = http.get("/assets/plain-def456.css", headers={"Accept-Encoding": "br, gzip"})
    assert "content-encoding" not in css.headers  # nothing precompressed: sent as it is
    assert css.headers["content-type"].startswith("text/css")


def test_index_is_revalidated_and_paths_outside_the_build_are_not_served(http: TestClient) -> None:
    index = http.get("/")
    assert index.headers["cache-control"] == "no-cache" and '<div id="root">' in index.text
    assert http.get("/assemblies/123").headers["cache-control"] == "no-cache"
    assert http.get("/assets/missing-000.js").status_code == 404
    assert http.get("/assets/index-abc123.js.br").status_code == 404  # only through encoding
    for sneaky in ("/assets/..%2Fsecret.txt", "/assets/%2E%2E/secret.txt", "/assets/../secret.txt"):
        assert "outside the build" not in http.get(sneaky).text, sneaky


@pytest.mark.parametrize(
    "header, expected",
    [
        ("gzip, deflate, br", {"gzip", "deflate", "br"}),
        ("br;q=1.0, gzip;q=0.5", {"br", "gzip"}),
        ("br;q=0, gzip", {"gzip"}),
        ("", set()),
        (None, set()),
        ("*", {"*"}),
    ],
)
def test_accept_encoding_parsing(header: str | None, expected: set[str]) -> None:
    assert accepted_encodings(header) == expected
