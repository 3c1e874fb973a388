import argparse
import os
import subprocess
import sys

import pytest

from pipeline_core.avro_codec import jsonable
from powersell.cli import build_parser
from pipeline_core.topics import CATALOG


def _subcommand_paths(parser, prefix=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield prefix + (name,)
                yield from _subcommand_paths(sub, prefix + (name,))


def run_cli(*args, env=None):
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "powersell.cli", *args], capture_output=True, text=True,
                          env=full_env, timeout=60)


PATHS = list(_subcommand_paths(build_parser()))


def test_every_command_is_reachable():
    assert {("run",), ("kafka", "up"), ("kafka", "down"), ("kafka", "status"),
            ("topics", "create"), ("topics", "list"), ("topics", "tail")} <= set(PATHS)


@pytest.mark.parametrize("path", [()] + PATHS, ids=lambda p: " ".join(p) or "top")
def test_help_explains_every_command(path, capsys):
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([*path, "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "usage: powersell-pipeline" in text
    assert len(text.splitlines()) >= 4  # a description, not only a usage line


def test_top_help_lists_the_configuration_variables(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    assert "POWERSELL_BOOTSTRAP_SERVERS" in capsys.readouterr().out


def test_when_a_setting_is_bad_then_the_error_is_one_line_without_traceback():
    done = run_cli("topics", "list", env={"POWERSELL_KAFKA_PORT": "not-a-port"})
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "POWERSELL_KAFKA_PORT" in done.stderr and "Traceback" not in done.stderr


def test_when_a_topic_is_unknown_then_tail_says_so_in_one_line():
    done = run_cli("topics", "tail", "raw.nope")
    assert done.returncode == 2 and "unknown topic 'raw.nope'" in done.stderr
    assert "Traceback" not in done.stderr


def test_topics_list_shows_every_topic_with_its_access_class_and_schema():
    done = run_cli("topics", "list")
    assert done.returncode == 0
    for t in CATALOG:
        line = next(l for l in done.stdout.splitlines() if l.startswith(t.name + " "))
        assert t.access.value in line and t.value_schema.rsplit(".", 1)[1] in line


def test_jsonable_renders_avro_values_as_json():
    from datetime import datetime, timezone
    from decimal import Decimal
    value = {"t": datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), "d": Decimal("1250000.00"), "b": b"\x00\x01",
             "l": [Decimal("1.5")]}
    assert jsonable(value) == {"t": "2026-01-02T03:04:05Z", "d": "1250000.00", "b": "base64:AAE=", "l": ["1.5"]}


def test_python_dash_m_powersell_is_the_same_command_line():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "powersell", "kafka", "--help"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "kafka" in done.stdout and "usage:" in done.stdout
