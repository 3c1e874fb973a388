"""POWERSELL_PARTITIONS (pipeline_core/partitions.py): read and checked, followed by the co-partitioned
topics, and a cluster with another count refused with a message that names topics and counts only."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pipeline_core.errors import ConfigError
from pipeline_core.partitions import DEFAULT, PartitionCountChanged, data_partitions, refuse_repartitioning
from pipeline_core.settings import SETTINGS_DOC


@pytest.mark.parametrize("env, expected", [({}, DEFAULT), ({"POWERSELL_PARTITIONS": "12"}, 12),
                                           ({"POWERSELL_PARTITIONS": " 1 "}, 1)])
def test_the_setting_is_read(env, expected):
    assert data_partitions(env) == expected


@pytest.mark.parametrize("raw", ["0", "-4", "four", "", "1025", "4.5"])
def test_a_bad_value_is_a_config_error(raw):
    with pytest.raises(ConfigError, match="POWERSELL_PARTITIONS"):
        data_partitions({"POWERSELL_PARTITIONS": raw})


def test_the_setting_is_documented_with_its_default():
    assert SETTINGS_DOC["POWERSELL_PARTITIONS"][0] == str(DEFAULT)


def test_when_the_counts_match_then_nothing_is_refused():
    refuse_repartitioning({"raw.orders": 8, "consent.events": 8}, 8)


def test_when_a_topic_has_another_count_then_it_is_refused_naming_topic_and_counts():
    with pytest.raises(PartitionCountChanged) as caught:
        refuse_repartitioning({"raw.orders": 4, "consent.events": 4, "redacted.orders": 8}, 8)
    text = str(caught.value)
    assert "POWERSELL_PARTITIONS=8" in text and "raw.orders has 4" in text and "consent.events has 4" in text
    assert "redacted.orders" not in text


def test_the_catalog_follows_the_setting_in_a_fresh_process():
    code = ("from pipeline_core.topics import CATALOG; "
            "print(sorted({t.partitions for t in CATALOG if t.name.startswith(('raw.', 'consent.', 'redacted.'))}))")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "POWERSELL_PARTITIONS": "6"},
                         capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "[6]", out.stderr[-500:]
