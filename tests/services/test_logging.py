"""engine.log is rotated by size (issue 11, item 8)."""

from __future__ import annotations

import logging
from pathlib import Path

from assembly_engine.logging_setup import configure_logging


def test_engine_log_rotates_by_size_and_keeps_a_bounded_number(tmp_path: Path) -> None:
    path = configure_logging(tmp_path, "INFO", console=False, max_bytes=4096, backups=2)
    logger = logging.getLogger("assembly_engine.test-rotation")
    try:
        for n in range(500):
            logger.info("refusal number %d from a flood that must not fill the disk", n)
        files = sorted(p.name for p in tmp_path.iterdir())
        assert files == ["engine.log", "engine.log.1", "engine.log.2"], files
        for name in files:
            assert (tmp_path / name).stat().st_size <= 4096 + 200
        assert "refusal number 499" in path.read_text()
    finally:
        root = logging.getLogger("assembly_engine")
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
