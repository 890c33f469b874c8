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


def test_each_line_is_formatted_once_and_written_as_formatted(tmp_path: Path) -> None:
    formatted: list[str] = []

    class Counting(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            formatted.append(record.getMessage())
            return super().format(record)

    path = configure_logging(tmp_path, "INFO", console=False, max_bytes=1 << 20, backups=1)
    root = logging.getLogger("assembly_engine")
    (handler,) = root.handlers
    handler.setFormatter(Counting("%(levelname)s %(message)s"))
    try:
        for n in range(3):
            logging.getLogger("assembly_engine.test-format").info("line %d", n)
        assert formatted == ["line 0", "line 1", "line 2"]  # the size check's formatting is reused
        assert path.read_text(encoding="utf-8").splitlines() == ["INFO line 0", "INFO line 1", "INFO line 2"]
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
