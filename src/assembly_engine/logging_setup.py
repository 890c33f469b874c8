"""Routes the engine's loggers to ``<home>/Logs/engine.log`` (and the console)."""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path

_HANDLER_MARK = "_assembly_engine_handler"


def configure_logging(
    logs_dir: Path,
    level: str = "INFO",
    *,
    console: bool = True,
    max_bytes: int = 10 * 1024 * 1024,
    backups: int = 5,
) -> Path:
    """engine.log is rotated by size (engine.log.1 … .N; the oldest is dropped), so a flood
    of refusals cannot fill the disk through the log."""
    logs_dir.mkdir(parents=True, exist_ok=True)
    path = logs_dir / "engine.log"
    logger = logging.getLogger("assembly_engine")
    for handler in list(logger.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            logger.removeHandler(handler)
            handler.close()
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    file_handler = RotatingFileHandler(
        path, maxBytes=max(0, max_bytes), backupCount=max(0, backups), encoding="utf-8"
    )
    file_handler.setFormatter(formatter)
    setattr(file_handler, _HANDLER_MARK, True)
    logger.addHandler(file_handler)
    if console:
        stream = logging.StreamHandler()
        stream.setFormatter(formatter)
        setattr(stream, _HANDLER_MARK, True)
        logger.addHandler(stream)
    logger.setLevel(level.upper())
    logger.propagate = True
    return path
