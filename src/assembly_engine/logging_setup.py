"""Routes the engine's loggers to ``<home>/Logs/engine.log`` (and the console).

``ENGINE_LOG_FORMAT=json`` writes one JSON object per line (time, level, logger, message,
request_id and, for an exception, its traceback) for log shippers; ``text`` (the default)
stays readable by people. The request id is the one answered in ``X-Request-ID``
(api/request_telemetry.py), so a log line leads to the request and back.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assembly_engine.config import Settings

_HANDLER_MARK = "_assembly_engine_handler"
LOG_FORMATS = ("text", "json")

# The request being answered on this task/thread (None outside requests); Starlette copies
# the context into the threads that run sync routes, so their log lines carry it too.
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)


class JsonFormatter(logging.Formatter):
    """One JSON object per record. Hand-written: the five fields need json.dumps and
    nothing a library would add."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": REQUEST_ID.get(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter()
    return logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


class QuietFileHandler(RotatingFileHandler):
    """The log file; lines the disk refuses (full) are reported once on stderr per streak,
    not as a traceback each: a read-only engine on a full disk goes on logging to the console."""

    _refusing = False  # the last line failed
    _failed = False  # the line being written failed
    _formatted: tuple[logging.LogRecord, str] | None = None  # the line being written

    def emit(self, record: logging.LogRecord) -> None:
        self._failed = False  # emit runs under the handler's lock: one line at a time
        try:
            super().emit(record)
        finally:
            self._formatted = None
        self._refusing = self._failed

    def format(self, record: logging.LogRecord) -> str:
        # The size check before a line formats it, then writing it formats it again: once
        # is enough (every audit entry is a line).
        if self._formatted is not None and self._formatted[0] is record:
            return self._formatted[1]
        line = super().format(record)
        self._formatted = (record, line)
        return line

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        if not self._refusing and not self._failed:
            print(
                f"engine.log: a line could not be written ({sys.exc_info()[1]}); lines are lost "
                "until the disk has room",
                file=sys.stderr,
            )
        self._failed = True


def configure_engine_logging(settings: Settings, *, console: bool) -> Path:
    """The engine's log as its settings ask (the server's and the CLI's in-process engine alike)."""
    return configure_logging(
        settings.logs_dir,
        settings.log_level,
        console=console,
        max_bytes=settings.log_max_bytes,
        backups=settings.log_backups,
        log_format=settings.log_format,
    )


def configure_logging(
    logs_dir: Path,
    level: str = "INFO",
    *,
    console: bool = True,
    max_bytes: int = 10 * 1024 * 1024,
    backups: int = 5,
    log_format: str = "text",
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
    formatter = _formatter(log_format)
    file_handler = QuietFileHandler(
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
