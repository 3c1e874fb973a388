"""The README is what a new user trusts: its commands and its topic table must be true."""

import re
from pathlib import Path

from pipeline_core.topics import CATALOG

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _code_lines():
    return [line.strip() for block in re.findall(r"```\n(.*?)```", README, re.S) for line in block.splitlines()]


def test_ci_runs_exactly_the_readme_test_command():
    test_commands = [line for line in _code_lines() if "pytest" in line]
    assert len(test_commands) == 1
    ci_lines = [line.strip() for line in (ROOT / ".ci/run").read_text(encoding="utf-8").splitlines()]
    assert test_commands[0] in ci_lines


def test_the_main_command_runs_the_pipeline():
    assert any(line.endswith("powersell-pipeline run") and "pip install" in line for line in _code_lines())


def test_the_topic_table_matches_the_catalog():
    rows = {cells[0]: cells for cells in
            ([c.strip() for c in line.strip("|").split("|")] for line in README.splitlines()
             if line.startswith("| ") and "." in line.split("|")[1])}
    assert set(rows) == {t.name for t in CATALOG}
    for t in CATALOG:
        name, access, schema, partitions, cleanup = rows[t.name][:5]
        assert (access, schema, int(partitions), cleanup) == (
            t.access.value, t.value_schema.rsplit(".", 1)[1], t.partitions, t.cleanup), t.name
