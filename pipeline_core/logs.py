"""Structured logs: one JSON object per line on stderr, level from POWERSELL_LOG_LEVEL.
Messages are written to carry names, codes and counts only; HTTP client loggers are
kept at WARNING because their request lines can hold tokens and codes in URLs."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

QUIET_LOGGERS = ("httpx", "httpcore", "kafka", "aiokafka", "aiohttp.access")


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        if record.exc_info:  # the type only: exception texts of third-party code may quote payloads
            entry["error"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
