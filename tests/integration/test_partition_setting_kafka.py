"""A live cluster whose co-partitioned topics have another partition count than POWERSELL_PARTITIONS
is refused with a clear error: `topics create` (the same check every worker and connector runs
through ensure_topics) stops and changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pipeline_core.kafka_io import admin_client, ensure_topics
from pipeline_core.topics import DATA_PARTITIONS

pytestmark = pytest.mark.kafka


def test_a_cluster_with_another_partition_count_is_refused(kafka):
    ensure_topics(kafka)  # the cluster as the session's setting made it
    other = DATA_PARTITIONS * 2
    done = subprocess.run([sys.executable, "-m", "powersell.cli", "topics", "create"],
                          env={**os.environ, "POWERSELL_PARTITIONS": str(other)}, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"POWERSELL_PARTITIONS={other}" in done.stderr and f"raw.orders has {DATA_PARTITIONS}" in done.stderr
    admin = admin_client(kafka)
    try:
        counts = {d["name"]: len(d["partitions"]) for d in admin.describe_topics(["raw.orders", "consent.events"])}
    finally:
        admin.close()
    assert counts == {"raw.orders": DATA_PARTITIONS, "consent.events": DATA_PARTITIONS}  # nothing changed
