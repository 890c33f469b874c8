"""Named moments at which a test can have the engine kill itself (SIGKILL).

Crash tests need to stop a real engine process at one exact moment (inside a commit,
between the journal and the audit log) that an outside ``kill -9`` would hit only by
luck. ``ENGINE_FAILPOINT=NAME`` (or ``NAME:PATH`` to pick one database file) arms one
moment; unset, which is how the engine always runs outside tests, every check is a
comparison with None.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

_ARMED = os.environ.get("ENGINE_FAILPOINT") or None


def reached(name: str, path: Path | None = None) -> None:
    """Kill this process at once if ``name`` (for ``path``, when one is given) is armed."""
    if _ARMED is None:
        return
    wanted, _, wanted_path = _ARMED.partition(":")
    if wanted != name:
        return
    if wanted_path and (path is None or Path(wanted_path).resolve() != path.resolve()):
        return
    os.kill(os.getpid(), signal.SIGKILL)
