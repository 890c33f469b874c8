#!/usr/bin/env python3
"""Build ``assembly-engine_<version>_<arch>.deb`` from the wheel ``make dist`` made (``make deb``).

The package holds the engine in a virtualenv of its own under ``/opt/assembly-engine``
(on Debian's ``/usr/bin/python3``, whose minor version the compiled dependencies need),
``/usr/bin/assemblies``, the systemd unit, the settings file (a conffile) and the
maintainer scripts of ``packaging/debian/``. The virtualenv is made in a staging folder
and then moved in place by dpkg, so the staging path written into scripts by pip is
replaced by the installed one. Only ``dpkg-deb`` is needed, no debhelper.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
PACKAGING = REPOSITORY / "packaging" / "debian"
PACKAGE = "assembly-engine"
PREFIX = "/opt/assembly-engine"
SYSTEM_PYTHON = "/usr/bin/python3"
DOCS = ("README.md", "Docs/deploying.md", "Docs/assemblies.md")


def project_version() -> str:
    with (REPOSITORY / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def run(*args: str | Path, **kwargs: object) -> None:
    subprocess.run([str(a) for a in args], check=True, **kwargs)  # type: ignore[call-overload]


def python_minor(python: str) -> tuple[int, int]:
    out = subprocess.run(
        [python, "-c", "import sys; print(*sys.version_info[:2])"], check=True, capture_output=True, text=True
    ).stdout.split()
    return int(out[0]), int(out[1])


def build_virtualenv(root: Path, wheel: Path) -> None:
    venv = root / PREFIX.lstrip("/")
    # No pip inside: the installed engine never installs anything; the build's pip fills it.
    run(SYSTEM_PYTHON, "-m", "venv", "--without-pip", venv)
    run(
        sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install",
        "--quiet", "--no-compile", "--disable-pip-version-check", wheel,
    )  # fmt: skip
    staged = str(venv).encode()
    for path in venv.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if staged in data:  # script shebangs, pyvenv.cfg, activate scripts
                path.write_bytes(data.replace(staged, PREFIX.encode()))
    # Bytecode now, naming the installed paths: the engine's user cannot write /opt.
    run(SYSTEM_PYTHON, "-m", "compileall", "-q", "-s", root, "-p", "/", venv / "lib")


def install_file(source: Path, target: Path, mode: int) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    target.chmod(mode)


def control(version: str, arch: str, minor: tuple[int, int], installed_kib: int) -> str:
    major, low = minor
    return (
        f"Package: {PACKAGE}\n"
        f"Version: {version}\n"
        f"Architecture: {arch}\n"
        "Maintainer: Assembly Engine maintainers <maintainers@assembly-engine.invalid>\n"
        f"Depends: python3 (>= {major}.{low}), python3 (<< {major}.{low + 1}), passwd\n"
        "Section: net\n"
        "Priority: optional\n"
        f"Installed-Size: {installed_kib}\n"
        "Description: library service for IT-automation assemblies\n"
        " Assembly Engine keeps scripts, playbooks and workflows with their history,\n"
        " serves them over a REST API and a web UI, and runs as a hardened systemd\n"
        " service (assembly-engine.service) with its data in /var/lib/assembly-engine.\n"
    )


def build(wheel: Path, out: Path, version: str, work: Path) -> Path:
    os.umask(0o022)  # everything in the package readable by the service's user
    arch = subprocess.run(
        ["dpkg", "--print-architecture"], check=True, capture_output=True, text=True
    ).stdout.strip()
    root = work / "root"
    shutil.rmtree(work, ignore_errors=True)
    root.mkdir(parents=True)
    build_virtualenv(root, wheel)
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / "assemblies").symlink_to(f"{PREFIX}/bin/assemblies")
    install_file(
        PACKAGING / "assembly-engine.service", root / "usr/lib/systemd/system/assembly-engine.service", 0o644
    )
    install_file(PACKAGING / "engine.env", root / "etc/assembly-engine/engine.env", 0o640)
    docs = root / "usr/share/doc" / PACKAGE
    for name in DOCS:
        install_file(REPOSITORY / name, docs / Path(name).name, 0o644)
    (docs / "copyright").write_text("Assembly Engine\nSee the project's repository for its licence.\n")
    debian = root / "DEBIAN"
    debian.mkdir()
    installed_kib = (
        sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink()) // 1024
    )
    (debian / "control").write_text(control(version, arch, python_minor(SYSTEM_PYTHON), installed_kib))
    (debian / "conffiles").write_text("/etc/assembly-engine/engine.env\n")
    for script in ("postinst", "prerm", "postrm"):
        install_file(PACKAGING / script, debian / script, 0o755)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{PACKAGE}_{version}_{arch}.deb"
    run("dpkg-deb", "--root-owner-group", "-Zgzip", "-z6", "--build", root, target, stdout=subprocess.DEVNULL)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="the wheel to package (default: dist/'s for this version)")
    parser.add_argument("--out", type=Path, default=REPOSITORY / "dist", help="folder of the .deb")
    parser.add_argument("--version", default=None, help="package version (default: pyproject's)")
    parser.add_argument("--work", type=Path, default=REPOSITORY / "build" / "deb", help="staging folder")
    args = parser.parse_args()
    version = args.version or project_version()
    if not re.fullmatch(r"[0-9][A-Za-z0-9.+~-]*", version):
        parser.error(f"not a Debian version: {version!r}")
    wheel = args.wheel or REPOSITORY / "dist" / f"assembly_engine-{project_version()}-py3-none-any.whl"
    if not wheel.is_file():
        parser.error(f"{wheel} is missing: run make dist first")
    print(build(wheel.resolve(), args.out.resolve(), version, args.work.resolve()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
