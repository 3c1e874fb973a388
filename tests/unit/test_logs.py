"""Console logging: the command's own lines only; libraries' lines in the log file unless
--verbose; no line carries binary protocol data."""

from __future__ import annotations

import json
import logging

import pytest

from pipeline_core import logs
from powersell.cli import build_parser

METADATA = bytes(range(256)) * 20   # like kafka-python's consumer-group member metadata


@pytest.fixture(autouse=True)
def restore_logging():
    root = logging.getLogger()
    handlers, level, choice = root.handlers[:], root.level, dict(logs._choice)
    yield
    for handler in root.handlers:
        handler.close()
    root.handlers[:], logs._choice = handlers, choice
    root.setLevel(level)


def _log_both() -> None:
    logging.getLogger("kafka.coordinator.consumer").warning("group metadata: %r", METADATA)
    logging.getLogger("powersell.main_job").warning("own line")


def test_when_not_verbose_then_the_console_has_only_own_lines_and_the_file_the_libraries(tmp_path, capsys):
    library_log = tmp_path / "logs" / "libraries.log"
    logs.configure("INFO", verbose=False, library_log=library_log)
    _log_both()
    captured = capsys.readouterr()
    assert "own line" in captured.err and "kafka" not in captured.err and captured.out == ""
    lines = [json.loads(line) for line in library_log.read_text(encoding="utf-8").splitlines()]
    assert [line["logger"] for line in lines] == ["kafka.coordinator.consumer"]


def test_when_verbose_then_library_lines_are_on_the_console_too(tmp_path, capsys):
    logs.configure("INFO", verbose=True, library_log=tmp_path / "libraries.log")
    _log_both()
    err = capsys.readouterr().err
    assert "own line" in err and "kafka.coordinator.consumer" in err
    assert not (tmp_path / "libraries.log").exists()


def test_when_a_library_logs_bytes_then_no_line_carries_them(tmp_path, capsys):
    logs.configure("INFO", verbose=True)
    _log_both()
    err = capsys.readouterr().err
    entry = json.loads(err.splitlines()[0])
    assert "\\x" not in entry["message"] and "b'" not in entry["message"]
    assert len(entry["message"]) < 1200 and "chars of bytes" in entry["message"]


def test_when_faust_reconfigures_the_root_logger_then_the_choice_is_kept(tmp_path, capsys):
    logs.configure("INFO", verbose=False, library_log=tmp_path / "libraries.log")
    logs.configure("INFO")   # what streams/app.py's worker does at start
    _log_both()
    assert "kafka" not in capsys.readouterr().err


def test_the_command_line_takes_verbose_before_the_command():
    assert build_parser().parse_args(["--verbose", "topics", "list"]).verbose
    assert not build_parser().parse_args(["topics", "list"]).verbose


def test_printable_cuts_long_messages():
    assert len(logs.printable("x" * 5000)) < 1100
