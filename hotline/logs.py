"""Structured JSON logs: one object a line, ids welcome, personal data never at INFO."""

from __future__ import annotations

import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

import orjson

# Attributes a caller may pass with `extra=` that belong in the JSON line.
_FIELDS = ("alert_id", "case_id", "agency", "sender", "recipient", "event", "topic", "offset")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in _FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                doc[name] = value
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(doc, default=str).decode()


_QUIET = ("aiokafka", "kafka", "uvicorn.access")


def dict_config(level: str = "INFO") -> dict[str, Any]:
    """The same setup as `configure`, as a dictConfig (Faust's worker applies its own)."""
    quiet = logging.getLevelName(max(logging.WARNING, logging.getLevelName(level.upper())))
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        "loggers": {name: {"level": quiet} for name in _QUIET},
    }


def configure(level: str = "INFO") -> None:
    logging.config.dictConfig(dict_config(level))
