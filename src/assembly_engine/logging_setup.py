"""Routes the engine's loggers to ``<home>/Logs/engine.log`` (and the console)."""

from __future__ import annotations

import logging
from pathlib import Path

_HANDLER_MARK = "_assembly_engine_handler"


def configure_logging(logs_dir: Path, level: str = "INFO", *, console: bool = True) -> Path:
    logs_dir.mkdir(parents=True, exist_ok=True)
    path = logs_dir / "engine.log"
    logger = logging.getLogger("assembly_engine")
    for handler in list(logger.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            logger.removeHandler(handler)
            handler.close()
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    file_handler = logging.FileHandler(path, encoding="utf-8")
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
