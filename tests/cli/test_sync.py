"""``assemblies sync`` against a real engine process (tests/engine_process.py): library
folders in temp dirs, the corpus's Tactical RMM library, real HTTP, SIGKILL of the engine."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.cli.support import LIBRARY_ITEMS, Cli, by_path, make_library, user_assemblies
from tests.engine_process import EngineProcess
from tests.support import CORPUS, wait_until

TRMM = CORPUS / "tactical-rmm"


def detail(engine: EngineProcess, headers: dict[str, str], guid: str) -> dict[str, Any]:
    answer = engine.http.get(f"/api/assemblies/{guid}", headers=headers)
    assert answer.status_code == 200, answer.text
    record: dict[str, Any] = answer.json()
    return record


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_plain_folder_apply_reapply_write_round_trip(
    cli: Cli, running: EngineProcess, tmp_path: Path
) -> None:
    library = make_library(tmp_path / "library")
    plan = cli.json("sync", "plan", library, "--domain", "user")
    items = by_path(plan)
    assert {p for p, i in items.items() if i["action"] == "create"} == LIBRARY_ITEMS
    assert all(items[p]["assembly_guid"] is None for p in LIBRARY_ITEMS)
    reasons = {p: i["reason"] for p, i in items.items() if i["action"] == "skip"}
    assert "Ansible playbook" in reasons["Taskfile.yaml"]
    assert "Ansible playbook" in reasons["docker-compose.yml"]
    assert "hidden" in reasons[".github/"]
    assert "unknown extension" in reasons["README.md"]
    assert ".assemblyignore" in reasons["notes/ignored.ps1"]
    assert plan["source"] == {"path": str(library.resolve()), "commit": None}
    assert cli.json("status")["assemblies"]["user"] == 0  # a plan changes nothing

    applied = cli.json("sync", "apply", library, "--domain", "user")
    assert applied["done"] == len(LIBRARY_ITEMS) and applied["failed"] == 0
    headers = running.login()
    records = {r["display_name"]: r for r in user_assemblies(running, headers)}
    assert set(records) == {"clear-temp", "run-backup", "report", "site", "tool"}
    assert records["clear-temp"]["category"] == "Windows/Maintenance"
    assert records["clear-temp"]["summary"] == "Empties TEMP" and records["clear-temp"]["tags"] == ["windows"]
    note = detail(running, headers, records["report"]["assembly_guid"])["metadata"]["sync"]
    assert note["source"] == str(library.resolve()) and note["path"] == "Linux/report.py"
    assert note["commit"] is None and len(note["base_checksum"]) == 64

    again = cli.json("sync", "plan", library, "--domain", "user")
    assert again["counts"]["create"] == 0 and again["counts"]["unchanged"] == len(LIBRARY_ITEMS)
    reapplied = cli.json("sync", "apply", library, "--domain", "user")
    assert reapplied["done"] == 0
    assert len(user_assemblies(running, headers)) == len(LIBRARY_ITEMS)  # never duplicated

    out = tmp_path / "out"
    cli.json("sync", "write", out, "--domain", "user")
    written, original = tree(out), tree(library)
    for rel in LIBRARY_ITEMS | {"Linux/report.py.files/data.csv"}:
        assert written[rel] == original[rel], rel  # byte-identical under the same path
    sidecar = json.loads(written["Windows/Maintenance/clear-temp.ps1.assembly.json"])
    assert (
        sidecar["summary"] == "Empties TEMP"
        and sidecar["assembly_guid"] == records["clear-temp"]["assembly_guid"]
    )
    assert written["Linux/report.py.assembly.json"].endswith(b"}\n")
    rewritten = cli.json("sync", "write", out, "--domain", "user")
    assert rewritten["written"] == 0  # unchanged files are not rewritten
    from_out = cli.json("sync", "plan", out, "--domain", "user")
    assert set(from_out["counts"].items()) >= {("unchanged", len(LIBRARY_ITEMS)), ("create", 0)}


def test_tactical_rmm_library_round_trip(cli: Cli, running: EngineProcess, tmp_path: Path) -> None:
    entries = json.loads((TRMM / "community_scripts.json").read_bytes())
    applied = cli.json("sync", "apply", TRMM, "--domain", "user")
    assert applied["done"] == len(entries) and applied["failed"] == 0
    again = cli.json("sync", "plan", TRMM, "--domain", "user")
    assert again["counts"]["unchanged"] == len(entries) and again["counts"]["create"] == 0
    assert cli.json("sync", "apply", TRMM, "--domain", "user")["done"] == 0
    assert cli.json("status")["assemblies"]["user"] == len(entries)

    out = tmp_path / "trmm"
    cli.json("sync", "write", out, "--domain", "user", "--format", "tactical-rmm")
    written = json.loads((out / "community_scripts.json").read_bytes())
    assert {e["filename"]: e for e in written} == {e["filename"]: e for e in entries}  # entry for entry
    # Byte for byte: the entries' order, their keys' order and the file's layout are kept.
    assert (out / "community_scripts.json").read_bytes() == (TRMM / "community_scripts.json").read_bytes()
    for entry in entries:
        name = entry["filename"]
        assert (out / "scripts" / name).read_bytes() == (TRMM / "scripts" / name).read_bytes(), name
    assert cli.json("sync", "plan", out, "--domain", "user", "--source-name", str(TRMM.resolve()))["counts"][
        "unchanged"
    ] == len(entries)


def test_corpus_workflows_and_playbooks_come_back_byte_identical(
    cli: Cli, running: EngineProcess, tmp_path: Path
) -> None:
    """The corpus's workflows (as the upstream files, and hand-formatted with a 4-space
    indent and CRLF) and playbooks: apply, write -> the very bytes, until the content
    changes in the engine; an edit of anything else keeps them."""
    library = tmp_path / "library"
    originals: dict[str, bytes] = {}
    for path in sorted((CORPUS / "workflows").glob("*.json")):
        raw = path.read_bytes()
        originals[f"Flows/{path.stem}.workflow.json"] = raw
        hand = json.dumps(json.loads(raw), indent=4).replace("\n", "\r\n").encode("utf-8")
        originals[f"Flows/Hand/{path.stem}.workflow.json"] = hand
    for path in sorted((CORPUS / "ansible_playbooks").glob("*.yml")):
        originals[f"Ansible/{path.name}"] = path.read_bytes()
    for rel, data in originals.items():
        (library / rel).parent.mkdir(parents=True, exist_ok=True)
        (library / rel).write_bytes(data)
    applied = cli.json("sync", "apply", library, "--domain", "user")
    assert applied["done"] == len(originals) and applied["failed"] == 0

    out = tmp_path / "out"
    cli.json("sync", "write", out, "--domain", "user")
    written = tree(out)
    for rel, data in originals.items():
        assert written[rel] == data, rel
    assert cli.json("sync", "plan", out, "--domain", "user", "--source-name", str(library.resolve()))[
        "counts"
    ]["unchanged"] == len(originals)

    headers = running.login()
    flows = [r for r in user_assemblies(running, headers) if r["assembly_kind"] == "workflow"]
    name = sorted((CORPUS / "workflows").glob("*.json"))[0].stem
    tagged = [r for r in flows if r["display_name"] == name and r["category"] == "Flows"][0]
    answer = running.http.put(
        f"/api/assemblies/{tagged['assembly_guid']}", json={"tags": ["kept"]}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    hand = [r for r in flows if r["display_name"] == name and r["category"] == "Flows/Hand"][0]
    record = detail(running, headers, hand["assembly_guid"])
    canvas = record["payload"]["workflow"]
    canvas["tab_name"] = "Renamed in the engine"
    answer = running.http.put(
        f"/api/assemblies/{hand['assembly_guid']}", json={"payload": {"workflow": canvas}}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    cli.json("sync", "write", out, "--domain", "user")
    again = tree(out)
    assert again[f"Flows/{name}.workflow.json"] == originals[f"Flows/{name}.workflow.json"]  # tags only
    changed = again[f"Flows/Hand/{name}.workflow.json"]
    assert changed != originals[f"Flows/Hand/{name}.workflow.json"]  # the engine's content, as stored
    assert json.loads(changed)["tab_name"] == "Renamed in the engine"


def test_conflict_only_when_both_sides_changed(cli: Cli, running: EngineProcess, tmp_path: Path) -> None:
    library = make_library(tmp_path / "library")
    cli.json("sync", "apply", library, "--domain", "user")
    headers = running.login()
    records = {r["display_name"]: r for r in user_assemblies(running, headers)}

    def edit_in_engine(name: str, script: str) -> None:
        guid = records[name]["assembly_guid"]
        answer = running.http.put(
            f"/api/assemblies/{guid}", json={"payload": {"script": script}}, headers=headers
        )
        assert answer.status_code == 200, answer.text

    edit_in_engine("tool", "@echo engine\r\n")  # engine only
    (library / "Linux/report.py").write_bytes(b"print('file edit')\n")  # file only
    edit_in_engine("site", "- hosts: web\n  tasks: []\n")  # both
    (library / "Ansible/site.yml").write_bytes(b"- hosts: db\n  tasks: []\n")

    plan = by_path(cli.json("sync", "plan", library, "--domain", "user", code=1))
    assert (
        plan["Windows/tool.cmd"]["action"] == "unchanged" and "engine" in plan["Windows/tool.cmd"]["reason"]
    )
    assert plan["Linux/report.py"]["action"] == "update"
    conflict = plan["Ansible/site.yml"]
    assert conflict["action"] == "conflict"
    assert set(conflict["checksums"]) == {"base", "engine", "source"}
    assert len(set(conflict["checksums"].values())) == 3

    diff = cli.json("sync", "diff", library, "Ansible/site.yml", "--domain", "user", code=1)
    assert "+- hosts: web" in diff["diff"]["engine"] and "+- hosts: db" in diff["diff"]["source"]
    assert "-- hosts: all" in diff["diff"]["source"]  # the base is the synced revision

    applied = cli.json("sync", "apply", library, "--domain", "user", code=1)  # a conflict is left
    assert applied["done"] == 1
    site = running.http.get(f"/api/assemblies/{records['site']['assembly_guid']}", headers=headers).json()
    assert site["payload"]["script"] == "- hosts: web\n  tasks: []\n"  # never overwritten
    report = running.http.get(f"/api/assemblies/{records['report']['assembly_guid']}", headers=headers).json()
    assert report["payload"]["script"] == "print('file edit')\n"
    tool = running.http.get(f"/api/assemblies/{records['tool']['assembly_guid']}", headers=headers).json()
    assert tool["payload"]["script"] == "@echo engine\r\n"  # the engine's side kept


def test_archive_then_prune_and_others_untouched(cli: Cli, running: EngineProcess, tmp_path: Path) -> None:
    library = make_library(tmp_path / "library")
    elsewhere = tmp_path / "elsewhere.ps1"
    elsewhere.write_bytes(b"Write-Host elsewhere\n")
    other = cli.json("import", elsewhere)["files"][0]["assembly_guid"]
    cli.json("sync", "apply", library, "--domain", "user")
    headers = running.login()
    guid = {r["display_name"]: r["assembly_guid"] for r in user_assemblies(running, headers)}["run-backup"]
    (library / "Linux/run-backup").unlink()

    plan = by_path(cli.json("sync", "plan", library, "--domain", "user"))
    assert (
        plan["Linux/run-backup"]["action"] == "archive" and plan["Linux/run-backup"]["assembly_guid"] == guid
    )
    partial = cli.json("sync", "plan", library, "--domain", "user", "--include", "Windows/**")
    assert "Linux/run-backup" not in by_path(partial)  # outside the selection: never archived
    cli.json("sync", "apply", library, "--domain", "user")
    assert running.http.get(f"/api/assemblies/{guid}", headers=headers).status_code == 200  # kept

    pruned = cli.json("sync", "apply", library, "--domain", "user", "--prune")
    assert pruned["done"] == 1
    assert running.http.get(f"/api/assemblies/{guid}", headers=headers).status_code == 404
    deleted = running.http.get("/api/assemblies/deleted", headers=headers).json()
    assert guid in {d["assembly_guid"] for d in deleted["items"]}
    assert running.http.post(f"/api/assemblies/{guid}/undelete", headers=headers).status_code == 200
    assert running.http.get(f"/api/assemblies/{other}", headers=headers).status_code == 200  # not from here


def test_plan_id_refusal_changes_nothing(cli: Cli, running: EngineProcess, tmp_path: Path) -> None:
    library = make_library(tmp_path / "library")
    plan = cli.json("sync", "plan", library, "--domain", "user")
    (library / "Linux/report.py").write_bytes(b"print('moved on')\n")
    refused = cli.run("sync", "apply", library, "--domain", "user", "--plan-id", plan["plan_id"])
    assert refused.returncode == 2, refused.stderr
    assert "changed since that plan" in refused.stderr
    assert cli.json("status")["assemblies"]["user"] == 0
    fresh = cli.json("sync", "plan", library, "--domain", "user")
    applied = cli.json("sync", "apply", library, "--domain", "user", "--plan-id", fresh["plan_id"])
    assert applied["done"] == len(LIBRARY_ITEMS)


def test_policy_refusal_for_community_without_dev_mode(
    cli: Cli, running: EngineProcess, tmp_path: Path
) -> None:
    cli.ok("users", "add", "olga", "--role", "operator", "--password-stdin", input="olga-password-1\n")
    body = {
        "source": "ci",
        "domain": "community",
        "items": [{"path": "a.ps1", "content": "V3JpdGUtSG9zdCBh"}],
    }
    for headers, code in (
        (running.login(), "dev_mode_required"),
        (running.login("olga", "olga-password-1"), "forbidden"),
    ):
        answer = running.http.post("/api/sync/apply", json=body, headers=headers)
        assert answer.status_code == 403 and answer.json()["error"] == code, answer.text
    listed = running.http.get("/api/assemblies", params={"domain": "community"}, headers=running.login())
    assert all(r["display_name"] != "a" for r in listed.json()["items"])
    anonymous = httpx.post(f"{running.url}/api/sync/plan", json=body, timeout=30)
    assert anonymous.status_code == 401


def test_apply_killed_midway_resumes_without_duplicates(cli: Cli, tmp_path: Path) -> None:
    library = tmp_path / "many"
    count = 1500
    for index in range(count):
        path = library / f"Group{index % 10}" / f"script-{index:04}.ps1"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"Write-Host {index}\r\n".encode())
    engine = EngineProcess(cli.home, cli.staging).start()
    try:
        argv = [sys.executable, "-m", "assembly_engine.cli.main", "--home", str(cli.home)]
        argv += ["--staging-root", str(cli.staging), "sync", "apply", str(library), "--domain", "user"]
        apply = subprocess.Popen(argv, env=cli.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        headers = engine.login()

        def some_written() -> bool:
            answer = engine.http.get(
                "/api/assemblies", params={"domain": "user", "limit": 1}, headers=headers
            )
            return answer.json()["total"] > 0

        wait_until(some_written, "the apply to write its first items", timeout=60)
        engine.proc.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
        engine.wait()
        apply.communicate(timeout=60)
        assert apply.returncode != 0
    finally:
        engine.stop()
    engine = EngineProcess(cli.home, cli.staging).start()
    try:
        headers = engine.login()
        done = engine.http.get(
            "/api/assemblies", params={"domain": "user", "limit": 1}, headers=headers
        ).json()
        plan = cli.json("sync", "plan", library, "--domain", "user")
        assert plan["counts"]["unchanged"] == done["total"]  # every acknowledged item kept
        assert plan["counts"]["create"] == count - done["total"] > 0  # only what is left
        assert cli.json("sync", "apply", library, "--domain", "user")["done"] == count - done["total"]
        names = [r["display_name"] for r in user_assemblies(engine, headers)]
        assert len(names) == len(set(names)) == count  # nothing duplicated
    finally:
        engine.stop()


def test_symlinks_are_refused(cli: Cli, tmp_path: Path) -> None:
    library = make_library(tmp_path / "library")
    secret = tmp_path / "secret.ps1"
    secret.write_bytes(b"Write-Host secret\n")
    (library / "link.ps1").symlink_to(secret)
    (library / "linked").symlink_to(tmp_path)
    plan = by_path(cli.json("sync", "plan", library, "--domain", "user"))
    assert plan["link.ps1"]["action"] == "skip" and "symlink" in plan["link.ps1"]["reason"]
    assert plan["linked"]["action"] == "skip"
    shutil.rmtree(library)


def test_import_dry_run_creates_nothing_and_points_to_sync(
    cli: Cli, running: EngineProcess, tmp_path: Path
) -> None:
    library = make_library(tmp_path / "library")
    checked = cli.json("import", "--dry-run", library / "Linux")
    assert checked["dry_run"] is True and checked["imported"] == 2 and checked["imported_before"] == 0
    assert cli.json("status")["assemblies"]["user"] == 0
    cli.json("import", library / "Linux")
    again = cli.run("import", "--dry-run", library / "Linux")
    assert again.returncode == 0 and "would be imported (dry run" in again.stdout
    assert cli.json("status")["assemblies"]["user"] == 2

    # A Tactical RMM library synced before is recognised by its entries' guid, whatever the
    # names: the import still creates new assemblies, and says which ones it duplicates.
    entries = json.loads((TRMM / "community_scripts.json").read_bytes())
    cli.json("sync", "apply", TRMM, "--domain", "community")
    assert cli.json("import", "--dry-run", TRMM, "--domain", "community")["imported_before"] == len(entries)
    assert cli.json("import", "--dry-run", TRMM, "--domain", "user")["imported_before"] == 0  # other domain
    imported = cli.run("import", TRMM, "--domain", "community")
    assert imported.returncode == 0, imported.stderr
    assert f"note: {len(entries)} of these files were imported into community before" in imported.stderr
    assert "Tactical RMM guid" in imported.stderr and "assemblies sync apply" in imported.stderr
    assert cli.json("status")["assemblies"]["community"] == 2 * len(entries)


def git(*args: str | Path, cwd: Path | None = None) -> str:
    identity = ["-c", "user.name=tester", "-c", "user.email=tester@example.invalid"]
    done = subprocess.run(
        ["git", *identity, *map(str, args)], cwd=cwd, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_git_round_trip_through_a_bare_remote(cli: Cli, running: EngineProcess, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git("init", "--quiet", "--bare", "--initial-branch=main", remote)
    work = tmp_path / "work"
    git("clone", "--quiet", remote.as_uri(), work)
    make_library(work)
    git("checkout", "--quiet", "-b", "main", cwd=work)
    git("add", "-A", cwd=work)
    git("commit", "--quiet", "-m", "library", cwd=work)
    git("push", "--quiet", "origin", "main", cwd=work)
    url = remote.as_uri()

    plan = cli.json("sync", "plan", url, "--ref", "main", "--domain", "user")
    first = git("rev-parse", "HEAD", cwd=work)
    assert plan["source"] == {"path": url, "commit": first}
    assert by_path(plan)[".git/"]["action"] == "skip"  # the clone's own .git is hidden
    cli.json("sync", "apply", url, "--ref", "main", "--domain", "user")

    (work / "Linux/report.py").write_bytes(b"print('v2')\n")
    git("commit", "--quiet", "-am", "report v2", cwd=work)
    git("push", "--quiet", "origin", "main", cwd=work)
    second = git("rev-parse", "HEAD", cwd=work)
    plan = cli.json("sync", "plan", url, "--ref", "main", "--domain", "user")
    assert plan["source"]["commit"] == second != first
    assert by_path(plan)["Linux/report.py"]["action"] == "update"
    cli.json("sync", "apply", url, "--ref", "main", "--domain", "user")
    headers = running.login()
    records = {r["display_name"]: r for r in user_assemblies(running, headers)}
    assert (
        detail(running, headers, records["report"]["assembly_guid"])["metadata"]["sync"]["commit"] == second
    )

    guid = records["tool"]["assembly_guid"]
    edited = running.http.put(
        f"/api/assemblies/{guid}", json={"payload": {"script": "@echo v3\r\n"}}, headers=headers
    )
    assert edited.status_code == 200, edited.text
    written = cli.json(
        "sync", "write", url, "--ref", "main", "--domain", "user", "--commit", "engine edit", "--push"
    )
    assert written["commit"] is not None
    fresh = tmp_path / "fresh"
    git("clone", "--quiet", "--branch", "main", url, fresh)
    assert (fresh / "Windows/tool.cmd").read_bytes() == b"@echo v3\r\n"
    assert (fresh / "Linux/report.py").read_bytes() == b"print('v2')\n"
    assert git("log", "-1", "--format=%an %s", cwd=fresh) == "cli engine edit"
    after = cli.json("sync", "plan", url, "--ref", "main", "--domain", "user")
    assert after["counts"]["create"] == after["counts"]["update"] == after["counts"]["conflict"] == 0


def test_ctrl_c_of_the_cli_mid_apply_then_apply_again(
    cli: Cli, running: EngineProcess, tmp_path: Path
) -> None:
    library = tmp_path / "many"
    count = 1500
    for index in range(count):
        path = library / f"Group{index % 10}" / f"script-{index:04}.ps1"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"Write-Host {index}\r\n".encode())
    argv = [sys.executable, "-m", "assembly_engine.cli.main", "--home", str(cli.home)]
    argv += ["--staging-root", str(cli.staging), "sync", "apply", str(library), "--domain", "user"]
    apply = subprocess.Popen(argv, env=cli.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    headers = running.login()

    def written() -> int:
        answer = running.http.get("/api/assemblies", params={"domain": "user", "limit": 1}, headers=headers)
        total: int = answer.json()["total"]
        return total

    wait_until(lambda: written() > 0, "the apply to write its first items", timeout=60)
    apply.send_signal(signal.SIGINT)
    apply.communicate(timeout=60)
    assert apply.returncode != 0  # interrupted (the engine may go on with the request)
    # Applying again (the engine may still be finishing the first apply) completes the
    # library and duplicates nothing.
    cli.json("sync", "apply", library, "--domain", "user")
    names = [r["display_name"] for r in user_assemblies(running, headers)]
    assert len(names) == len(set(names)) == count
    assert cli.json("sync", "plan", library, "--domain", "user")["counts"]["unchanged"] == count


def test_bad_items_are_refused_with_reasons_and_change_nothing(running: EngineProcess) -> None:
    headers = running.login()
    script = "V3JpdGUtSG9zdCBh"  # "Write-Host a"
    bad = {
        "source": "api-test",
        "domain": "user",
        "items": [
            {"path": "../outside.ps1", "content": script},
            {"path": "long.ps1", "content": script, "sidecar": {"display_name": "x" * 500}},
            {"path": "odd.ps1", "content": script, "sidecar": {"colour": "red"}},
            {"path": "flow.workflow.json", "content": "bm90IGpzb24="},  # "not json"
        ],
    }
    plan = running.http.post("/api/sync/plan", json=bad, headers=headers)
    assert plan.status_code == 200, plan.text
    items = by_path(plan.json())
    assert {i["action"] for i in items.values()} == {"conflict"}
    assert "relative path" in items["../outside.ps1"]["reason"]
    assert "200" in items["long.ps1"]["reason"] and "colour" in items["odd.ps1"]["reason"]
    applied = running.http.post("/api/sync/apply", json=bad, headers=headers)
    assert applied.status_code == 200 and applied.json()["done"] == 0
    for body, status in (
        ({**bad, "items": [{"path": "a.ps1", "content": "%%%"}]}, 422),
        ({**bad, "items": [{"path": "a.ps1", "content": script}] * 2}, 422),
        ({**bad, "domain": "nowhere"}, 422),
        ({**bad, "items": "none"}, 422),
        ({**bad, "items": [{"path": "scripts/a.ps1", "content": script, "position": "1"}]}, 422),
        ({**bad, "items": [{"path": "scripts/a.ps1", "content": script, "position": -1}]}, 422),
        ({**bad, "manifest": {"indent": 40}}, 422),
        ({**bad, "manifest": {"indent": 2, "ensure_ascii": "yes"}}, 422),
    ):
        answer = running.http.post("/api/sync/apply", json=body, headers=headers)
        assert answer.status_code == status, answer.text
        assert set(answer.json()) == {"error", "message"}
    assert user_assemblies(running, headers) == []
    paths = running.http.get("/openapi.json").json()["paths"]
    assert {"/api/sync/plan", "/api/sync/apply", "/api/sync/render"} <= set(paths)  # for CI jobs


def test_a_library_larger_than_one_request_is_applied_in_parts(
    cli: Cli, running: EngineProcess, tmp_path: Path
) -> None:
    library = make_library(tmp_path / "library")
    for index in range(60):
        (library / "Bulk" / f"bulk-{index:02}.sh").parent.mkdir(exist_ok=True)
        (library / "Bulk" / f"bulk-{index:02}.sh").write_bytes(f"#!/bin/bash\necho {index}\n".encode() * 40)
    env = {"ASSEMBLIES_SYNC_CHUNK_BYTES": "8000"}
    plan = cli_json(cli, env, "sync", "plan", library, "--domain", "user")
    assert plan["counts"]["create"] == 60 + len(LIBRARY_ITEMS)
    applied = cli_json(cli, env, "sync", "apply", library, "--domain", "user", "--plan-id", plan["plan_id"])
    assert applied["requests"] > 5 and applied["done"] == 60 + len(LIBRARY_ITEMS) and applied["failed"] == 0
    again = cli_json(cli, env, "sync", "plan", library, "--domain", "user")
    assert again["counts"]["unchanged"] == 60 + len(LIBRARY_ITEMS) and again["counts"]["create"] == 0
    (library / "Bulk" / "bulk-00.sh").write_bytes(b"#!/bin/bash\necho changed\n")
    refused = subprocess.run(
        cli_argv(cli, "sync", "apply", library, "--domain", "user", "--plan-id", again["plan_id"]),
        env={**cli.env(), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2, refused.stderr
    assert cli.json("status")["assemblies"]["user"] == 60 + len(LIBRARY_ITEMS)


def cli_argv(cli: Cli, *args: str | Path) -> list[str]:
    base = [
        sys.executable,
        "-m",
        "assembly_engine.cli.main",
        "--home",
        str(cli.home),
        "--staging-root",
        str(cli.staging),
    ]
    return base + [str(a) for a in args]


def cli_json(cli: Cli, env: dict[str, str], *args: str | Path) -> Any:
    done = subprocess.run(
        cli_argv(cli, *args, "--json"), env={**cli.env(), **env}, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_ctrl_c_of_import_reports_what_was_done(cli: Cli, running: EngineProcess, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for index in range(6000):  # many batches, so Ctrl-C lands mid-way
        (folder / f"s-{index:04}.ps1").write_bytes(f"Write-Host {index}\r\n".encode())
    importing = subprocess.Popen(
        cli_argv(cli, "import", folder),
        env=cli.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    headers = running.login()

    def written() -> int:
        answer = running.http.get("/api/assemblies", params={"domain": "user", "limit": 1}, headers=headers)
        total: int = answer.json()["total"]
        return total

    # Batches go one after another: once more than one batch is in, the first was answered.
    wait_until(lambda: written() > 250, "the import to land its first batch", timeout=60)
    importing.send_signal(signal.SIGINT)
    _, err = importing.communicate(timeout=60)
    assert importing.returncode == 130, err
    assert "interrupted: " in err and "assemblies sync apply" in err
    reported = int(err.split("interrupted: ", 1)[1].split(" imported", 1)[0])
    assert 250 <= reported <= written()
