"""The engine's one clock: UTC wall time as ISO-8601 text with a ``Z``.

Records, the journal and the audit log stamp milliseconds (their order within a second
matters); user rows and Dev Mode expiry stamp whole seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal


def utc_iso(
    epoch: float | None = None, *, timespec: Literal["milliseconds", "seconds", "minutes"] = "milliseconds"
) -> str:
    """``epoch`` (seconds since 1970, default now) as ``2026-01-01T00:00:00.000Z``."""
    moment = datetime.now(UTC) if epoch is None else datetime.fromtimestamp(epoch, tz=UTC)
    return moment.isoformat(timespec=timespec).replace("+00:00", "Z")


def utc_now() -> str:
    """Now, with millisecond precision."""
    return utc_iso()
