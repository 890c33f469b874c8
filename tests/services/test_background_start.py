"""What a start leaves until the engine is ready: started once, after the first health
answer (or a fallback), never beside or after a shutdown. Real threads and timers; the
engine case is the ASGI app in-process on a temp home."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assembly_engine.api.app import create_app
from assembly_engine.services.background_start import BackgroundStart
from assembly_engine.services.container import EngineServices
from tests.support import temp_settings, wait_until


class Starts:
    def __init__(self) -> None:
        self.count = 0
        self.done = threading.Event()

    def __call__(self) -> None:
        self.count += 1
        self.done.set()


def test_it_starts_once_however_often_it_is_asked() -> None:
    starts = Starts()
    background = BackgroundStart(starts)
    background.start_after_ready(fallback=3600)
    background.now()
    background.now()
    background.ready_answered()
    assert starts.count == 1 and background.started


def test_the_first_health_answer_starts_it_soon_after() -> None:
    starts = Starts()
    background = BackgroundStart(starts)
    background.start_after_ready(fallback=3600)
    assert not background.started
    background.ready_answered()
    assert starts.done.wait(30)
    assert starts.count == 1


def test_without_a_health_answer_the_fallback_starts_it() -> None:
    starts = Starts()
    BackgroundStart(starts).start_after_ready(fallback=0)
    assert starts.done.wait(30)


def test_nothing_starts_after_close() -> None:
    starts = Starts()
    background = BackgroundStart(starts)
    background.start_after_ready(fallback=3600)
    background.ready_answered()
    background.close()
    background.now()
    assert starts.count == 0 and not background.started


def test_a_failing_start_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> None:
        raise RuntimeError("no threads left")

    background = BackgroundStart(broken)
    background.now()
    assert background.started
    assert "starting the engine's background work failed" in caplog.text


def test_an_engine_starts_its_background_work_after_answering_health(tmp_path: Path) -> None:
    settings = temp_settings(tmp_path)
    with TestClient(create_app(settings, console_log=False)) as client:
        services: EngineServices = client.app.state.services  # type: ignore[attr-defined]
        health = client.get("/api/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        wait_until(lambda: services.background.started, "the background work to start")
        names = {t.name for t in threading.enumerate()}
        assert "script-check-sweep" in names  # the sweep of what was stored before the start


def test_an_engine_opened_directly_starts_its_background_work_at_once(tmp_path: Path) -> None:
    services = EngineServices.open(temp_settings(tmp_path))
    try:
        assert services.background.started
    finally:
        services.close()
