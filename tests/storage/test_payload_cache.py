"""The bounded cache of verified payloads (storage/postgresql/payload_cache.py) and its setting,
ENGINE_PAYLOAD_CACHE_MB. The store that uses it is tested on a real PostgreSQL in
tests/storage/postgresql/test_payload_cache_store.py."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from assembly_engine.config import Settings
from assembly_engine.domain.types import PayloadType
from assembly_engine.storage.contract.models import PayloadContent
from assembly_engine.storage.contract.payload_manifest import PayloadImage, image_of
from assembly_engine.storage.postgresql.payload_cache import PayloadCache, image_size


def image(guid_byte: int, size: int) -> tuple[str, PayloadImage]:
    guid = f"{guid_byte:02x}" * 16
    return guid, image_of(PayloadContent(PayloadType.SCRIPT, "script.ps1", b"x" * size), guid)


def fill(cache: PayloadCache, guid: str, payload: PayloadImage) -> None:
    cache.put(guid, payload, since=cache.generation())


def test_the_least_recently_used_payload_goes_first_and_the_budget_holds() -> None:
    entries = [image(n, 1000) for n in range(4)]
    one = image_size(entries[0][1])
    cache = PayloadCache(3 * one)
    for guid, payload in entries[:3]:
        fill(cache, guid, payload)
    assert cache.get(entries[0][0]) is not None  # used again: now the newest
    fill(cache, *entries[3])
    assert [guid in cache for guid, _ in entries] == [True, False, True, True]
    assert cache.size_bytes == 3 * one and len(cache) == 3


def test_an_entry_keeps_the_verified_image_and_its_checksum() -> None:
    guid, payload = image(1, 10)
    cache = PayloadCache(1 << 20)
    fill(cache, guid, payload)
    cached = cache.get(guid)
    assert cached is not None and cached.image is payload and cached.checksum == payload.checksum


def test_a_payload_larger_than_the_budget_is_not_cached_and_evicts_nothing() -> None:
    small_guid, small = image(1, 10)
    big_guid, big = image(2, 5000)
    cache = PayloadCache(image_size(big) - 1)
    fill(cache, small_guid, small)
    fill(cache, big_guid, big)
    assert big_guid not in cache and small_guid in cache


def test_a_budget_of_zero_keeps_nothing() -> None:
    guid, payload = image(1, 0)
    cache = PayloadCache(0)
    fill(cache, guid, payload)
    assert cache.get(guid) is None and cache.size_bytes == 0


def test_a_negative_budget_is_refused() -> None:
    with pytest.raises(ValueError, match="0 \\(off\\) or more"):
        PayloadCache(-1)


def test_evict_forgets_the_payload_and_its_bytes() -> None:
    (a, first), (b, second) = image(1, 10), image(2, 10)
    cache = PayloadCache(1 << 20)
    fill(cache, a, first)
    fill(cache, b, second)
    cache.evict([a, "ff" * 16])  # one that is not cached is no error
    assert a not in cache and b in cache and cache.size_bytes == image_size(second)


def test_a_fill_fetched_before_an_eviction_is_dropped() -> None:
    """A read that fetched the old copy before a delete or replacement must not put it back."""
    guid, payload = image(1, 10)
    cache = PayloadCache(1 << 20)
    before = cache.generation()
    cache.evict([guid])
    cache.put(guid, payload, since=before)
    assert guid not in cache
    fill(cache, guid, payload)  # a fetch that began after the eviction is kept
    assert guid in cache


def test_threads_filling_and_evicting_at_once_keep_the_bound_and_the_count() -> None:
    entries = [image(n, 500 + n) for n in range(64)]
    cache = PayloadCache(10 * image_size(entries[0][1]))
    barrier = threading.Barrier(4)

    def work(offset: int) -> None:
        barrier.wait()
        for round_ in range(50):
            guid, payload = entries[(offset * 7 + round_) % len(entries)]
            fill(cache, guid, payload)
            cache.get(entries[round_ % len(entries)][0])
            if round_ % 9 == offset:
                cache.evict([guid])

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    held = [cached for guid, _ in entries if (cached := cache.get(guid)) is not None]
    assert cache.size_bytes == sum(c.size for c in held) <= cache.max_bytes
    assert len(cache) == len(held)


# -------------------------------------------------------------------- the setting


def test_the_setting_defaults_to_64_mib_and_zero_turns_it_off() -> None:
    assert Settings.from_env({}).payload_cache_mb == 64
    assert Settings.from_env({"ENGINE_PAYLOAD_CACHE_MB": "0"}).payload_cache_mb == 0
    assert Settings.from_env({"ENGINE_PAYLOAD_CACHE_MB": "256"}).payload_cache_mb == 256


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("-1", "expected 0 \\(off\\) or more MiB, got -1"),
        ("1.5", "invalid literal"),
        ("lots", "invalid literal"),
    ],
)
def test_a_bad_value_is_refused_naming_the_setting(value: str, reason: str) -> None:
    with pytest.raises(ValueError, match=f"^ENGINE_PAYLOAD_CACHE_MB: .*{reason}"):
        Settings.from_env({"ENGINE_PAYLOAD_CACHE_MB": value})


def test_the_cli_refuses_to_start_with_a_bad_value(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ENGINE_")}
    done = subprocess.run(
        [sys.executable, "-m", "assembly_engine.cli.main", "--home", str(tmp_path / "home"), "status"],
        env={**clean, "ENGINE_PAYLOAD_CACHE_MB": "-5"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "ENGINE_PAYLOAD_CACHE_MB: expected 0 (off) or more MiB, got -5" in done.stderr
