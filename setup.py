"""Puts the built web UI and the official staging library into the wheel (``make dist``).

Everything else about the package is in pyproject.toml. The two folders are copied into
``assembly_engine/bundled/`` of the build, from ``web/dist`` and ``Data/Engine/Assemblies``
of the checkout or of the sdist (MANIFEST.in ships both); assembly_engine/bundle.py finds
them when the package is installed. An editable install (``make install``) copies nothing:
a checkout serves both from where they are.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SIGNING_KEY = ROOT / "Data" / "Engine" / "official-signing.pub"
BUNDLE = {"web": ROOT / "web" / "dist", "official": ROOT / "Data" / "Engine" / "Assemblies"}


class BuildWithBundle(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        if not (BUNDLE["web"] / "index.html").is_file():
            raise SystemExit("web/dist has no index.html: build the UI first (make dist does)")
        for name, source in BUNDLE.items():
            target = Path(self.build_lib) / "assembly_engine" / "bundled" / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target)
        # the key that verifies the bundled library (bundle.py: default_trusted_key)
        shutil.copy2(SIGNING_KEY, Path(self.build_lib) / "assembly_engine" / "bundled" / SIGNING_KEY.name)


setup(cmdclass={"build_py": BuildWithBundle})
