"""The password throttle's counts and rules as every throttle store takes and returns them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

# The most failures a counter remembers. Decisions compare a count with a limit, so keeping
# more than the highest limit changes nothing; it bounds a counter under a spread attack.
MAX_REMEMBERED_FAILURES = 1000


@dataclass(frozen=True)
class ThrottleCount:
    """One counter as a check sees it: failures within the window, checks begun and not
    ended, lockouts since it was last quiet, and the seconds it stays locked."""

    failures: int
    in_flight: int
    lockouts: int
    locked_for: float


# A begin's refusal: seconds to refuse for, 0 admits (and counts the check in flight).
Refusal = Callable[[Mapping[str, ThrottleCount]], float]


# A failure's lockout for one counter (its count includes this failure): seconds, 0 none.
Lockout = Callable[[str, ThrottleCount], float]


@dataclass(frozen=True)
class Begun:
    """What a store's begin saw; ``attempt`` names the check in flight (None: refused)."""

    attempt: str | None
    refused_for: float
    counts: Mapping[str, ThrottleCount]
