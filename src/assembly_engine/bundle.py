"""Where the web UI and the official library come from: the installed package or a checkout.

``make dist`` puts the built UI and the official staging library inside the wheel, under
``assembly_engine/bundled/{web,official}`` (setup.py copies them at build time). An
installed engine finds them there through importlib.resources; a source checkout (an
editable install, ``make run``) has no ``bundled`` folder and uses ``web/dist`` and
``Data/Engine/Assemblies`` as before. Only a package installed as files is supported (not a
zip), which is how pip installs wheels.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
BUNDLED = Path(str(files("assembly_engine"))) / "bundled"

PACKAGED_WEB = BUNDLED / "web"
PACKAGED_OFFICIAL = BUNDLED / "official"
CHECKOUT_WEB = REPOSITORY_ROOT / "web" / "dist"
CHECKOUT_OFFICIAL = REPOSITORY_ROOT / "Data" / "Engine" / "Assemblies"
# The public key that verifies the shipped library (Docs/official-library.md): kept beside
# the library, not in it, so a replaced staging copy cannot bring its own trusted key.
PACKAGED_SIGNING_KEY = BUNDLED / "official-signing.pub"
CHECKOUT_SIGNING_KEY = REPOSITORY_ROOT / "Data" / "Engine" / "official-signing.pub"


def web_dist() -> Path:
    """The built UI: the package's when it ships one, else the checkout's web/dist."""
    return PACKAGED_WEB if (PACKAGED_WEB / "index.html").is_file() else CHECKOUT_WEB


def default_staging_root() -> Path:
    """The official library an engine boots with when ENGINE_STAGING_ROOT is unset."""
    return PACKAGED_OFFICIAL if PACKAGED_OFFICIAL.is_dir() else CHECKOUT_OFFICIAL


def default_trusted_key() -> Path:
    """The key ENGINE_OFFICIAL_TRUSTED_KEYS trusts when unset."""
    return PACKAGED_SIGNING_KEY if PACKAGED_SIGNING_KEY.is_file() else CHECKOUT_SIGNING_KEY


def is_packaged_library(path: Path) -> bool:
    """Whether ``path`` is the library inside the installed package (read-only: never
    mirrored into; the engine works on a copy in its home, storage/official/shipped_library.py)."""
    return PACKAGED_OFFICIAL.is_dir() and path.resolve() == PACKAGED_OFFICIAL.resolve()
