"""The wheel and the Debian package (``make dist``, ``make deb``, Docs/deploying.md).

Built once per module from the checkout (the built UI in web/dist is required, as for the
browser tests). The wheel is installed into a new virtualenv outside the checkout and
served with no Node on PATH, then driven by Debian's chromium. The .deb is inspected with
dpkg-deb, then installed on this machine with dpkg (CI runs as root on a disposable
machine); systemd is not PID 1 here, so the engine is run the way the unit would run it
(its ExecStart, EnvironmentFile, WorkingDirectory and User, through setpriv). What only a
running systemd enforces (ProtectSystem=…, restart on failure) is checked as unit text
and by ``systemd-analyze verify``, not in effect. Every install is purged, even on failure.
"""

from __future__ import annotations

import grp
import io
import json
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.engine_process import free_port
from tests.support import in_own_thread

REPO = Path(__file__).resolve().parents[2]
VERSION = re.search(r'^version = "(.+)"', (REPO / "pyproject.toml").read_text(), re.M).group(1)  # type: ignore[union-attr]
CHROMIUM = os.environ.get("AE_E2E_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "deploy-test-admin-password"
UNIT = "/usr/lib/systemd/system/assembly-engine.service"
HOME = Path("/var/lib/assembly-engine")
ENV_FILE = Path("/etc/assembly-engine/engine.env")
UPGRADE_VERSION = f"{VERSION}+upgrade1"

# Builds, two package installs and a browser: minutes on a busy 2-core machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (REPO / "web" / "dist" / "index.html").is_file():
        pytest.fail("web/dist is not built: run make web (make test does)")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--outdir", out, REPO], check=True, capture_output=True)
    return out


def wait_healthy(url: str, process: subprocess.Popen[str], timeout: float = 60.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = process.stderr.read() if process.stderr else ""
            raise AssertionError(f"the engine exited with {process.returncode}: {err}")
        try:
            answer = httpx.get(f"{url}/api/health", timeout=2)
            if answer.status_code == 200:
                return dict(answer.json())
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("the engine did not answer /api/health in time")


def stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    """SIGTERM, as systemd stops the unit: the engine flushes and exits 0."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        _, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return process.returncode, err


# -- the wheel ---------------------------------------------------------------------------


def test_wheel_and_sdist_carry_the_ui_and_the_official_library(built: Path) -> None:
    wheel = built / f"assembly_engine-{VERSION}-py3-none-any.whl"
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "assembly_engine/bundled/web/index.html" in names
    assert any(n.startswith("assembly_engine/bundled/web/assets/") for n in names)
    assert "assembly_engine/bundled/official/official.db" in names
    assert "assembly_engine/bundled/official-signing.pub" in names  # trusted by default
    shipped = {
        p.relative_to(REPO / "Data/Engine/Assemblies").as_posix()
        for p in (REPO / "Data/Engine/Assemblies").rglob("*")
        if p.is_file()
    }
    assert shipped <= {n.removeprefix("assembly_engine/bundled/official/") for n in names}
    with tarfile.open(built / f"assembly_engine-{VERSION}.tar.gz") as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name}
    assert {"setup.py", "web/dist/index.html", "Data/Engine/Assemblies/official.db"} <= members
    assert {"Data/Engine/Assemblies/manifest.sig", "Data/Engine/official-signing.pub"} <= members


def test_installed_wheel_serves_ui_and_library_without_node(built: Path, tmp_path: Path) -> None:
    wheel = built / f"assembly_engine-{VERSION}-py3-none-any.whl"
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run(
        [venv / "bin" / "pip", "install", "--quiet", "--disable-pip-version-check", wheel], check=True
    )
    env = {"PATH": str(venv / "bin"), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    assert shutil.which("node", path=env["PATH"]) is None and shutil.which("npm", path=env["PATH"]) is None
    where = subprocess.run(
        ["python", "-c", "import assembly_engine.bundle as b; print(b.__file__); print(b.web_dist())"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert all(str(venv) in line and str(REPO) not in line for line in where), where
    package = Path(where[0]).parent
    shipped_db = package / "bundled" / "official" / "official.db"
    shipped_bytes = shipped_db.read_bytes()

    port = free_port()
    home = tmp_path / "home"
    engine = subprocess.Popen(
        ["assemblies", "serve"],
        cwd=tmp_path,
        env={**env, "ENGINE_HOME": str(home), "ENGINE_PORT": str(port), "ENGINE_ADMIN_PASSWORD": PASSWORD},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        health = wait_healthy(url, engine)
        official = health["assemblies"]["official"]  # type: ignore[index]
        assert official > 0  # booted with the packaged library
        assert (home / "Staging" / "official.db").is_file()  # worked on a copy in the home
        signatures = health["official_signatures"]  # the bundled key verifies the bundled library
        assert signatures["state"] == "ok" and signatures["signed_by"] == "official-signing.pub"  # type: ignore[index]
        assert signatures["counts"]["verified"] == official  # type: ignore[index]
        token = httpx.post(f"{url}/api/auth/login", json={"username": "admin", "password": PASSWORD}).json()[
            "token"
        ]
        listed = httpx.get(
            f"{url}/api/assemblies",
            params={"domain": "official", "limit": 5},
            headers={"Authorization": f"Bearer {token}"},
        )
        names = [item["display_name"] for item in listed.json()["items"]]
        assert names

        if not Path(CHROMIUM).exists():
            pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make browser)")

        def sign_in_in_chromium() -> None:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
                )
                try:
                    page = browser.new_page(base_url=url)
                    page.goto("/")
                    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=20_000)
                    page.get_by_label("Username").fill("admin")
                    page.get_by_label("Password").fill(PASSWORD)
                    page.get_by_role("button", name="Sign in").click()
                    expect(page.get_by_test_id("user-name")).to_have_text("admin", timeout=20_000)
                    first = page.get_by_test_id("assembly-grid").get_by_test_id("assembly-name").first
                    expect(first).to_be_visible(timeout=20_000)
                finally:
                    browser.close()

        in_own_thread(sign_in_in_chromium)  # the browser tests may hold this thread's loop
    finally:
        code, err = stop(engine)
    assert code == 0, err
    assert shipped_db.read_bytes() == shipped_bytes  # the package's library is never written


# -- the Debian package ------------------------------------------------------------------


@dataclass(frozen=True)
class Debs:
    first: Path
    upgrade: Path


@pytest.fixture(scope="module")
def debs(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Debs:
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb is missing: not a Debian machine")
    wheel = built / f"assembly_engine-{VERSION}-py3-none-any.whl"
    out = tmp_path_factory.mktemp("debs")
    result = subprocess.run(
        [sys.executable, REPO / "tools" / "build_deb.py", "--wheel", wheel, "--out", out,
         "--work", tmp_path_factory.mktemp("debroot")],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    first = Path(result.stdout.strip().splitlines()[-1])
    # The upgrade: the same package rebuilt under a newer version (cheaper than a second
    # virtualenv; the maintainer scripts see a real upgrade either way).
    unpacked = tmp_path_factory.mktemp("upgrade") / "root"
    subprocess.run(["dpkg-deb", "-R", first, unpacked], check=True)
    control = unpacked / "DEBIAN" / "control"
    control.write_text(control.read_text().replace(f"Version: {VERSION}\n", f"Version: {UPGRADE_VERSION}\n"))
    upgrade = out / first.name.replace(f"_{VERSION}_", f"_{UPGRADE_VERSION}_")
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zgzip", "-z1", "--build", unpacked, upgrade],
        check=True,
        capture_output=True,
    )
    return Debs(first, upgrade)


def deb_members(deb: Path) -> dict[str, tarfile.TarInfo]:
    data = subprocess.run(["dpkg-deb", "--fsys-tarfile", deb], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        return {m.name.removeprefix("."): m for m in archive.getmembers()}


def deb_control(deb: Path, name: str) -> str:
    return subprocess.run(["dpkg-deb", "-I", deb, name], check=True, capture_output=True, text=True).stdout


def test_deb_contents_and_maintainer_scripts(debs: Debs) -> None:
    arch = subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert debs.first.name == f"assembly-engine_{VERSION}_{arch}.deb"
    members = deb_members(debs.first)
    for path in (
        "/opt/assembly-engine/bin/assemblies",
        "/opt/assembly-engine/pyvenv.cfg",
        UNIT,
        str(ENV_FILE),
    ):
        assert path in members, path
        assert members[path].uname == "root" and members[path].gname == "root"
    assert (
        members["/usr/bin/assemblies"].issym()
        and members["/usr/bin/assemblies"].linkname == "/opt/assembly-engine/bin/assemblies"
    )
    assert stat.S_IMODE(members[str(ENV_FILE)].mode) == 0o640
    assert stat.S_IMODE(members["/opt/assembly-engine/bin/assemblies"].mode) == 0o755
    assert any(p.endswith("assembly_engine/bundled/web/index.html") for p in members)
    assert any(p.endswith("assembly_engine/bundled/official/official.db") for p in members)
    assert not any(p.startswith("/var/lib") for p in members)  # the home is made by postinst
    data = subprocess.run(["dpkg-deb", "--fsys-tarfile", debs.first], check=True, capture_output=True).stdout
    assert b"/debroot" not in data and b"build/deb" not in data  # no staging path left in scripts

    control = deb_control(debs.first, "control")
    assert "Package: assembly-engine" in control and f"Version: {VERSION}" in control
    assert "Depends: python3 (>= 3.11)" in control
    assert deb_control(debs.first, "conffiles").split() == [str(ENV_FILE)]
    postinst = deb_control(debs.first, "postinst")
    assert "useradd --system" in postinst and "-m 0700" in postinst and "systemctl restart" in postinst
    assert "systemctl enable --now" in postinst
    assert "systemctl stop" in deb_control(debs.first, "prerm")
    postrm = deb_control(debs.first, "postrm")
    assert 'if [ "$1" = "purge" ]' in postrm and "rm -rf /var/lib/assembly-engine" in postrm
    info = subprocess.run(["dpkg-deb", "-I", debs.first], check=True, capture_output=True, text=True).stdout
    for script in ("postinst", "prerm", "postrm"):
        assert re.search(rf"\*\s+{script}\s", info), f"{script} is not executable"

    unit = members[UNIT]
    text = subprocess.run(["dpkg-deb", "--fsys-tarfile", debs.first], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(text)) as archive:
        body = archive.extractfile(unit.name).read().decode()  # type: ignore[union-attr]
    for line in (
        "User=assembly-engine", "EnvironmentFile=/etc/assembly-engine/engine.env",
        "ExecStart=/opt/assembly-engine/bin/assemblies serve", "NoNewPrivileges=yes", "ProtectSystem=strict",
        "ProtectHome=yes", "PrivateTmp=yes", "ReadWritePaths=/var/lib/assembly-engine", "Restart=on-failure",
        "KillSignal=SIGTERM", "LimitNOFILE=",
    ):  # fmt: skip
        assert line in body, line


def unit_settings() -> dict[str, str]:
    settings: dict[str, str] = {}
    for line in Path(UNIT).read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            settings[key.strip()] = value.strip()
    return settings


def run_as_unit(extra_env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start the installed engine as systemd would: the unit's user, environment file,
    working directory and ExecStart (setpriv stands in for systemd, which is not PID 1)."""
    unit = unit_settings()
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    for line in Path(unit["EnvironmentFile"]).read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            env[key.strip()] = value.strip()
    env.update(extra_env or {})
    user = unit["User"]
    command = ["setpriv", f"--reuid={user}", f"--regid={unit['Group']}", "--init-groups", "--no-new-privs",
               "--", *unit["ExecStart"].split()]  # fmt: skip
    return subprocess.Popen(
        command, cwd=unit["WorkingDirectory"], env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=lambda: os.umask(0o077),  # the unit's UMask
    )  # fmt: skip


def dpkg(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["dpkg", *map(str, args)], capture_output=True, text=True, timeout=300)


def installed_version() -> str | None:
    shown = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status} ${Version}", "assembly-engine"], capture_output=True, text=True
    )
    if shown.returncode != 0 or "installed" not in shown.stdout:
        return None
    return shown.stdout.split()[-1]


@pytest.fixture
def machine() -> Iterator[None]:
    if os.geteuid() != 0 or shutil.which("dpkg") is None or shutil.which("setpriv") is None:
        pytest.skip("installing the package needs root, dpkg and setpriv (CI's disposable machine)")
    if subprocess.run(["dpkg-query", "-W", "assembly-engine"], capture_output=True).returncode == 0:
        pytest.fail("assembly-engine is already installed here: this test installs and purges it")
    try:
        yield
    finally:
        dpkg("--purge", "assembly-engine")


def mode_owner(path: Path) -> tuple[int, str, str]:
    info = path.stat()
    return stat.S_IMODE(info.st_mode), pwd.getpwuid(info.st_uid).pw_name, grp.getgrgid(info.st_gid).gr_name


def sign_in(url: str, password: str) -> dict[str, str]:
    answer = httpx.post(f"{url}/api/auth/login", json={"username": "admin", "password": password}, timeout=10)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def test_deb_installs_runs_as_its_user_upgrades_removes_and_purges(debs: Debs, machine: None) -> None:
    installed = dpkg("-i", debs.first)
    assert installed.returncode == 0, installed.stderr
    assert installed_version() == VERSION
    user = pwd.getpwnam("assembly-engine")
    assert user.pw_dir == str(HOME) and user.pw_shell == "/usr/sbin/nologin" and user.pw_uid < 1000
    assert grp.getgrgid(user.pw_gid).gr_name == "assembly-engine"
    assert mode_owner(HOME) == (0o700, "assembly-engine", "assembly-engine")
    assert mode_owner(ENV_FILE) == (0o640, "root", "assembly-engine")
    assert os.path.realpath("/usr/bin/assemblies") == "/opt/assembly-engine/bin/assemblies"
    if shutil.which("systemd-analyze"):
        verified = subprocess.run(["systemd-analyze", "verify", UNIT], capture_output=True, text=True)
        assert verified.returncode == 0, verified.stderr
    # An admin's edit of the settings: the upgrade must keep it.
    port = free_port()
    ENV_FILE.write_text(ENV_FILE.read_text() + f"ENGINE_PORT={port}\nENGINE_LOG_FORMAT=json\n")
    url = f"http://127.0.0.1:{port}"

    engine = run_as_unit()
    try:
        health = wait_healthy(url, engine)
        assert health["assemblies"]["official"] > 0  # type: ignore[index]
        ps = subprocess.run(["ps", "-o", "user=", "-p", str(engine.pid)], capture_output=True, text=True)
        assert ps.stdout.strip() == "assembly-engine"
    finally:
        code, err = stop(engine)
    assert code == 0, err
    found = re.search(r"password: (\S+)", err)  # printed once, to stderr: the journal under systemd
    assert found, err
    password = found.group(1)
    engine = run_as_unit()
    try:
        wait_healthy(url, engine)
        headers = sign_in(url, password)
        created = httpx.post(
            f"{url}/api/assemblies", headers=headers, timeout=10,
            json={"domain": "user", "display_name": "Kept across upgrades", "assembly_kind": "script",
                  "assembly_type": "powershell", "payload": {"script": "Write-Host 'kept'\n"}},
        )  # fmt: skip
        assert created.status_code == 201, created.text
        guid = created.json()["assembly_guid"]
        # The CLI on PATH, as the service's user, talks to the running engine (Docs/deploying.md).
        status = subprocess.run(
            ["setpriv", "--reuid=assembly-engine", "--regid=assembly-engine", "--init-groups",
             "assemblies", "--home", str(HOME), "status", "--json"],
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert status.returncode == 0, status.stderr
        reported = json.loads(status.stdout)
        assert reported["engine"] == "running engine" and reported["assemblies"]["user"] == 1
    finally:
        code, err = stop(engine)
    assert code == 0, err
    assert "password:" not in err  # not shown again
    for path in [HOME, *HOME.rglob("*")]:
        owner = mode_owner(path)
        assert owner[1:] == ("assembly-engine", "assembly-engine"), (path, owner)
        assert owner[0] & 0o077 == 0, (path, oct(owner[0]))  # nothing readable by others
    log_lines = (HOME / "Logs" / "engine.log").read_text().splitlines()
    assert log_lines and all(line.startswith("{") for line in log_lines)  # ENGINE_LOG_FORMAT=json applied

    upgraded = dpkg("-i", debs.upgrade)
    assert upgraded.returncode == 0, upgraded.stderr
    assert installed_version() == UPGRADE_VERSION
    assert f"ENGINE_PORT={port}" in ENV_FILE.read_text()  # the settings survived
    assert mode_owner(ENV_FILE) == (0o640, "root", "assembly-engine")
    engine = run_as_unit()
    try:
        wait_healthy(url, engine)
        headers = sign_in(url, password)  # the same users
        kept = httpx.get(f"{url}/api/assemblies/{guid}", headers=headers, timeout=10)
        assert kept.status_code == 200 and kept.json()["display_name"] == "Kept across upgrades"
    finally:
        code, err = stop(engine)
    assert code == 0, err

    removed = dpkg("-r", "assembly-engine")
    assert removed.returncode == 0, removed.stderr
    assert not Path("/opt/assembly-engine/bin/assemblies").exists() and not os.path.lexists(
        "/usr/bin/assemblies"
    )
    assert not Path(UNIT).exists()
    assert (HOME / "engine.db").is_file() and ENV_FILE.is_file()  # remove keeps data and settings
    pwd.getpwnam("assembly-engine")

    purged = dpkg("--purge", "assembly-engine")
    assert purged.returncode == 0, purged.stderr
    assert not HOME.exists() and not ENV_FILE.parent.exists()
    with pytest.raises(KeyError):
        pwd.getpwnam("assembly-engine")
    with pytest.raises(KeyError):
        grp.getgrnam("assembly-engine")
