"""The awaited sign-in (services/auth/sign_in.py) and busy refusals in the throttle, on real
engine services over real SQLite files (issue 23, 3)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from assembly_engine.config import Settings
from assembly_engine.services.auth import users as users_module
from assembly_engine.services.auth.sign_in import SignInLanes, sign_in
from assembly_engine.services.auth.throttle import PasswordGate, PasswordThrottle, TooManyAttempts
from assembly_engine.services.auth.users import Role, UserService
from assembly_engine.services.container import EngineServices
from assembly_engine.services.errors import Unauthorized
from tests.support import ADMIN_PASSWORD, PASSWORD, in_own_thread


@pytest.fixture
def engine(settings: Settings) -> Iterator[EngineServices]:
    services = EngineServices.open(settings, start_worker=False, announce_admin=False)
    services.users.create("olga", PASSWORD, Role.OPERATOR)
    try:
        yield services
    finally:
        services.close()


def test_busy_refusals_count_as_failures_of_the_address_only(
    users: UserService, monkeypatch: pytest.MonkeyPatch
) -> None:
    users.create("alice", PASSWORD, Role.ADMIN)
    monkeypatch.setattr(users_module, "HASH_WAIT_SECONDS", 0.01)
    gate = PasswordGate(users, PasswordThrottle())
    held = [users._hash_slots.acquire() for _ in range(users_module.MAX_CONCURRENT_HASHES)]
    try:
        for attempt in range(20):  # the address limit
            with pytest.raises(TooManyAttempts) as busy:
                gate.authenticate(f"name{attempt}", "wrong guess", "10.0.0.1")
            assert busy.value.retry_after == 1
    finally:
        for _ in held:
            users._hash_slots.release()
    with pytest.raises(TooManyAttempts) as locked:
        gate.authenticate("alice", PASSWORD, "10.0.0.1")
    assert locked.value.retry_after == 30  # the flooding address locked itself out
    # The accounts it named are not: the real user signs in from another client.
    assert gate.authenticate("alice", PASSWORD, "10.0.0.2").username == "alice"


def test_an_admins_right_sign_in_takes_the_reserved_lane(engine: EngineServices) -> None:
    async def scenario() -> None:
        lanes = SignInLanes(common=1, wait_seconds=0.2)
        common = lanes.lane(False)
        await common.acquire()  # the flood holds every common place
        # An operator with the right password waits for the common lane: busy (429).
        with pytest.raises(TooManyAttempts):
            await sign_in(engine.accounts, lanes, "olga", PASSWORD, "10.0.0.5")
        # An admin from a client that never failed gets in through the reserved lane.
        signed_in = await sign_in(engine.accounts, lanes, "admin", ADMIN_PASSWORD, "10.0.0.6")
        assert signed_in.user.username == "admin"
        # A client that has failed once does not get the reserved lane.
        common.release()
        with pytest.raises(Unauthorized):
            await sign_in(engine.accounts, lanes, "admin", "wrong guess", "10.0.0.7")
        await common.acquire()
        with pytest.raises(TooManyAttempts):
            await sign_in(engine.accounts, lanes, "admin", ADMIN_PASSWORD, "10.0.0.7")
        common.release()

    in_own_thread(lambda: asyncio.run(scenario()))


def test_the_reserved_lane_hashes_in_a_slot_of_its_own(
    engine: EngineServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the flood's hashes hold every common hashing slot, an admin's clean sign-in
    is still hashed at once (it used to wait for one of them, then got 429)."""
    monkeypatch.setattr(users_module, "HASH_WAIT_SECONDS", 0.01)
    slots = engine.users._hash_slots
    held = [slots.acquire() for _ in range(users_module.MAX_CONCURRENT_HASHES)]

    async def scenario() -> None:
        lanes = SignInLanes(common=1, wait_seconds=0.2)
        signed_in = await sign_in(engine.accounts, lanes, "admin", ADMIN_PASSWORD, "10.0.0.8")
        assert signed_in.user.username == "admin"
        # The common lane's sign-in needs a common slot: none frees up, so it is busy.
        with pytest.raises(TooManyAttempts):
            await sign_in(engine.accounts, lanes, "olga", PASSWORD, "10.0.0.9")

    try:
        in_own_thread(lambda: asyncio.run(scenario()))
    finally:
        for _ in held:
            slots.release()


def test_waiting_sign_ins_hold_no_worker_thread(engine: EngineServices) -> None:
    """Fifty sign-ins wait for one busy lane; a thread-pool job still runs at once."""

    async def scenario() -> None:
        from starlette.concurrency import run_in_threadpool

        lanes = SignInLanes(common=1, wait_seconds=1.0)
        await lanes.lane(False).acquire()
        waiting = [
            asyncio.create_task(sign_in(engine.accounts, lanes, f"name{i}", "wrong guess", f"10.1.0.{i}"))
            for i in range(50)
        ]
        await asyncio.sleep(0.3)
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await run_in_threadpool(lambda: 42) == 42
        assert loop.time() - started < 0.2
        results = await asyncio.gather(*waiting, return_exceptions=True)
        assert all(isinstance(r, TooManyAttempts) for r in results)

    in_own_thread(lambda: asyncio.run(scenario()))
