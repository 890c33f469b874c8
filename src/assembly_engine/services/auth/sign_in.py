"""Sign-in as the route awaits it: no worker thread is held while a check waits.

A sign-in waits twice: the throttle's pressure delay, and a turn at one of the few
hashing slots (Argon2 is the costly part). Waiting inside the thread pool let wrong
sign-ins from 60 addresses hold all 40 worker threads, so every other request queued
behind them (issue 23, 3). Here both waits are awaited on the event loop; threads do
only the quick throttle and database steps and the hash itself.

Two lanes lead to the hashing slots: the common one, with as many places as there are
slots, and a reserved one with a single place, open only to a sign-in of an existing
admin account from a client whose address and (address, username) pair have neither a
failure nor a check in flight. A flood of wrong sign-ins fills the common lane (each
refusal for lack of a slot counts as a failure of its address, so its senders lock
themselves out), while the admin's correct sign-in takes the reserved lane, which hashes
in a slot of its own (UserService): it never waits behind the flood's hashes, at the cost
of one more Argon2 hash (64 MiB) at a time.
"""

from __future__ import annotations

import asyncio

from starlette.concurrency import run_in_threadpool

from assembly_engine.domain.types import Role
from assembly_engine.services.auth.accounts import AccountService, SignedIn
from assembly_engine.services.auth.throttle import Attempt, TooManyAttempts
from assembly_engine.services.auth.users import HASH_WAIT_SECONDS, MAX_CONCURRENT_HASHES, InvalidCredentials

BUSY_MESSAGE = "The engine is checking too many passwords at once; try again in a moment."


class SignInLanes:
    def __init__(self, common: int = MAX_CONCURRENT_HASHES, wait_seconds: float = HASH_WAIT_SECONDS) -> None:
        self._common = asyncio.Semaphore(common)
        self._reserved = asyncio.Semaphore(1)
        self._wait = wait_seconds

    def lane(self, reserved: bool) -> asyncio.Semaphore:
        return self._reserved if reserved else self._common

    async def enter(self, lane: asyncio.Semaphore) -> bool:
        """Wait for a place in ``lane``; False when none came free in time."""
        try:
            await asyncio.wait_for(lane.acquire(), self._wait)
        except TimeoutError:
            return False
        return True


def _start(accounts: AccountService, username: str, address: str | None) -> tuple[Attempt, bool]:
    attempt = accounts.passwords.start(username, address)
    if not attempt.clean:
        return attempt, False
    try:
        user = accounts.users.get(username)
    except BaseException:
        accounts.passwords.throttle.withdraw(attempt)
        raise
    return attempt, user is not None and user.role is Role.ADMIN and not user.disabled


async def sign_in(
    accounts: AccountService, lanes: SignInLanes, username: str, password: str, address: str | None
) -> SignedIn:
    """The awaited form of :meth:`AccountService.login` (same outcomes, same audit)."""
    gate = accounts.passwords
    if accounts.password_only_for is not None:
        await run_in_threadpool(accounts.check_password_sign_in_open, username, address)
    try:
        attempt, reserved = await run_in_threadpool(_start, accounts, username, address)
        try:
            if attempt.delay > 0:
                await asyncio.sleep(attempt.delay)
            lane = lanes.lane(reserved)
            entered = await lanes.enter(lane)
        except BaseException:
            gate.throttle.withdraw(attempt)
            raise
        if not entered:
            await run_in_threadpool(gate.refuse_busy, attempt, BUSY_MESSAGE, 1)
        try:
            user = await run_in_threadpool(gate.check, attempt, username, password, reserved=reserved)
        finally:
            lane.release()
    except TooManyAttempts as exc:
        await run_in_threadpool(accounts.sign_in_refused, username, address, exc)
        raise
    except InvalidCredentials as exc:
        await run_in_threadpool(accounts.sign_in_failed, username, address, exc)
    return await run_in_threadpool(accounts.open_session, user)
