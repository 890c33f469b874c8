"""``assemblies migrate-storage``: an embedded library to PostgreSQL and back, checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.cluster.nodes import NodeFactory, new_script
from tests.engine_process import ADMIN_PASSWORD, EngineProcess
from tests.postgresql_server import PostgresServer


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assembly_engine.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def home_env(home: Path, staging: Path, url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGINE_")}
    env.update(ENGINE_HOME=str(home), ENGINE_STAGING_ROOT=str(staging), ENGINE_ADMIN_PASSWORD=ADMIN_PASSWORD)
    if url is not None:
        env["ENGINE_DATABASE_URL"] = url
    return env


def library_of(engine: EngineProcess, headers: dict[str, str]) -> dict[str, Any]:
    """What a user sees: every assembly with its revision, content and history length."""
    seen: dict[str, Any] = {}
    for domain in ("official", "community", "user"):
        listed = httpx.get(
            f"{engine.url}/api/assemblies?domain={domain}&limit=1000", headers=headers, timeout=30
        )
        for item in listed.json()["items"]:
            guid = item["assembly_guid"]
            detail = httpx.get(f"{engine.url}/api/assemblies/{guid}", headers=headers, timeout=30).json()
            history = httpx.get(f"{engine.url}/api/assemblies/{guid}/revisions", headers=headers, timeout=30)
            seen[guid] = (domain, detail["revision"], detail["payload"], history.json()["total"])
    deleted = httpx.get(f"{engine.url}/api/assemblies/deleted", headers=headers, timeout=30)
    seen["deleted"] = sorted(item["assembly_guid"] for item in deleted.json()["items"])
    return seen


def build_embedded_library(home: Path, staging: Path) -> tuple[dict[str, Any], int]:
    engine = EngineProcess(home, staging, flush_interval=0.2).start()
    try:
        headers = engine.login()
        made = [
            httpx.post(
                f"{engine.url}/api/assemblies", json=new_script(f"m{i}"), headers=headers, timeout=30
            ).json()
            for i in range(6)
        ]
        first, second = made[0]["assembly_guid"], made[1]["assembly_guid"]
        starred = httpx.put(
            f"{engine.url}/api/me/favourites/{made[2]['assembly_guid']}", headers=headers, timeout=30
        )
        assert starred.status_code == 200, starred.text  # a favourite moves with its user
        for revision in (1, 2):
            answer = httpx.put(
                f"{engine.url}/api/assemblies/{first}",
                json={"summary": f"edited {revision}", "expected_revision": revision},
                headers=headers,
                timeout=30,
            )
            assert answer.status_code == 200, answer.text
        assert (
            httpx.delete(f"{engine.url}/api/assemblies/{second}", headers=headers, timeout=30).status_code
            == 202
        )
        created = httpx.post(
            f"{engine.url}/api/users",
            headers=headers,
            json={
                "username": "olga",
                "password": "operator-password-olga",
                "role": "operator",
                "current_password": ADMIN_PASSWORD,
            },
            timeout=30,
        )
        assert created.status_code == 201, created.text
        library = library_of(engine, headers)
        audit = cli(engine.env, "audit", "verify", "--json")
        entries = json.loads(audit.stdout)["entries"]
    finally:
        engine.stop()
    return library, entries


def test_an_embedded_library_moves_to_postgresql_and_back(
    postgresql_server: PostgresServer, tmp_path: Path
) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    home = tmp_path / "embedded"
    library, entries = build_embedded_library(home, staging)
    _, url = postgresql_server.create_database()

    moved = cli(home_env(home, staging), "migrate-storage", "--to", url, "--json")
    assert moved.returncode == 0, moved.stderr + moved.stdout
    report = json.loads(moved.stdout)
    assert report["ok"] and not report["problems"]
    assert report["counts"]["user"] == {"source": 5, "target": 5}
    assert report["counts"]["users"] == {"source": 2, "target": 2}
    assert report["counts"]["favourites"] == {"source": 1, "target": 1}
    assert report["counts"]["deleted"] == {"source": 1, "target": 1}

    node = EngineProcess(tmp_path / "node", staging, extra_env={"ENGINE_DATABASE_URL": url}).start(timeout=60)
    try:
        assert library_of(node, node.login()) == library
        node.login("olga", "operator-password-olga")  # passwords moved with their users
        stars = httpx.get(f"{node.url}/api/me/favourites", headers=node.login(), timeout=30).json()
        assert stars["total"] == 1
        audit = json.loads(cli(node.env, "audit", "verify", "--json").stdout)
        assert audit["ok"] and audit["entries"] >= entries + 1  # the copy, then the migration entry
    finally:
        node.stop()

    back = tmp_path / "embedded-again"
    returned = cli(home_env(tmp_path / "node", staging, url), "migrate-storage", "--to", str(back))
    assert returned.returncode == 0, returned.stderr + returned.stdout
    assert "copy verified" in returned.stdout
    again = EngineProcess(back, staging).start()
    try:
        assert library_of(again, again.login()) == library
        verified = cli(again.env, "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
    finally:
        again.stop()


def test_a_target_that_holds_a_library_is_refused_and_left_alone(
    postgresql_server: PostgresServer, tmp_path: Path
) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    home = tmp_path / "embedded"
    EngineProcess(home, staging).start().stop()
    _, url = postgresql_server.create_database()
    assert cli(home_env(home, staging), "migrate-storage", "--to", url).returncode == 0
    again = cli(home_env(home, staging), "migrate-storage", "--to", url)
    assert again.returncode == 2
    assert "already holds a library" in again.stderr and "nothing was copied" in again.stderr
    password = url.split(":")[2].split("@")[0]
    assert password not in again.stdout + again.stderr


def test_a_running_engine_or_a_malformed_url_is_refused(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    engine = EngineProcess(tmp_path / "embedded", staging).start()
    try:
        busy = cli(engine.env, "migrate-storage", "--to", str(tmp_path / "elsewhere"))
        assert busy.returncode == 2 and "already running" in busy.stderr, busy.stderr
    finally:
        engine.stop()
    malformed = cli(engine.env, "migrate-storage", "--to", "postgresql://u:pw@host:99999/db")
    assert malformed.returncode == 2 and "--to" in malformed.stderr and "pw" not in malformed.stderr


def test_a_backup_of_a_cluster_boots_as_an_embedded_home(node: NodeFactory, tmp_path: Path) -> None:
    a = node("a")
    headers = a.login()
    guids = [
        httpx.post(
            f"{a.url}/api/assemblies", json=new_script(f"kept {i}"), headers=headers, timeout=30
        ).json()["assembly_guid"]
        for i in range(3)
    ]
    destination = tmp_path / "backup"
    done = cli(a.env, "backup", str(destination), "--json")
    assert done.returncode == 0, done.stderr
    restored = EngineProcess(destination, a.staging_root).start()
    try:
        on_restored = restored.login()
        for guid in guids:
            served = httpx.get(f"{restored.url}/api/assemblies/{guid}", headers=on_restored, timeout=30)
            assert served.status_code == 200, served.text
        assert cli(restored.env, "audit", "verify").returncode == 0
    finally:
        restored.stop()
