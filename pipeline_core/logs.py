"""Structured logs: one JSON object per line, level from POWERSELL_LOG_LEVEL.
Messages are written to carry names, codes and counts only; HTTP client loggers are
kept at WARNING because their request lines can hold tokens and codes in URLs.

The console (stderr) carries the pipeline's own loggers only; libraries' loggers (kafka,
aiokafka, faust, mode, urllib3, ...) go to a log file, unless `--verbose`, so a command's
output is its own lines. No line carries binary protocol data: bytes reprs are replaced by
their length and over-long messages are cut (kafka-python logs consumer-group metadata)."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

QUIET_LOGGERS = ("httpx", "httpcore", "kafka", "aiokafka", "aiohttp.access")
OWN_LOGGERS = ("pipeline_core", "connectors", "streams", "powersell", "__main__")
MAX_MESSAGE = 1000
_BYTES_REPR = re.compile(r"""b'(?:[^'\\]|\\.)*'|b"(?:[^"\\]|\\.)*"|bytearray\(b'(?:[^'\\]|\\.)*'\)""")

# Kept between calls: Faust reconfigures the root logger when its worker starts.
_choice: dict = {"verbose": False, "library_log": None}


def is_own(name: str) -> bool:
    return any(name == own or name.startswith(own + ".") for own in OWN_LOGGERS)


def printable(message: str) -> str:
    """The message without binary data: bytes literals become their length, the rest is capped."""
    message = _BYTES_REPR.sub(lambda m: f"<{len(m.group(0))} chars of bytes>", message)
    message = "".join(c if c.isprintable() or c in "\n\t" else "?" for c in message)
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE] + f"... ({len(message) - MAX_MESSAGE} more chars cut)"
    return message


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname.lower(), "logger": record.name, "message": printable(record.getMessage())}
        if record.exc_info:  # the type only: exception texts of third-party code may quote payloads
            entry["error"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False)


class _Own(logging.Filter):
    def __init__(self, own: bool):
        super().__init__()
        self.own = own

    def filter(self, record: logging.LogRecord) -> bool:
        return is_own(record.name) == self.own


def configure(level: str, verbose: bool | None = None, library_log: Path | None = None) -> None:
    """Own loggers to stderr; library loggers to `library_log`, or to stderr too when verbose
    or no log file is given. Arguments left out keep the previous call's choice."""
    if verbose is not None:
        _choice["verbose"] = verbose
    if library_log is not None:
        _choice["library_log"] = library_log
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(JsonLines())
    handlers: list[logging.Handler] = [console]
    if not _choice["verbose"] and _choice["library_log"] is not None:
        try:
            _choice["library_log"].parent.mkdir(parents=True, exist_ok=True)
            to_file = logging.FileHandler(_choice["library_log"], encoding="utf-8", delay=True)
        except OSError:  # an unwritable data dir: libraries stay on the console rather than be lost
            to_file = None
        if to_file is not None:
            to_file.setFormatter(JsonLines())
            to_file.addFilter(_Own(False))
            console.addFilter(_Own(True))
            handlers.append(to_file)
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
