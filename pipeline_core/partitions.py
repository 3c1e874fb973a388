"""How many partitions the shop-keyed topics have: a deployment setting, chosen once per cluster.

raw.*, consent.events and redacted.* are co-partitioned: a shop's data and its consent are in
the partition of the same number, so the worker holding one holds the other (the consent gate
and barrier read local state). The workers' own topics that follow them (table changelogs, the
aggregation's shards) have the same count. POWERSELL_PARTITIONS sets it (default 4) before the
cluster's topics are created; more partitions allow more workers of each kind.

Changing it on a live cluster would move keys to other partitions, away from their consent and
their state, so it is refused: a process that finds one of those topics with another count
stops with PartitionCountChanged, naming the topics and both counts (never data). Moving to
another count is a migration (new topics, data re-published by key), not a setting change.
"""

from __future__ import annotations

import os
from typing import Mapping

from .errors import ConfigError

VARIABLE = "POWERSELL_PARTITIONS"
DEFAULT = 4
MAX = 1024


class PartitionCountChanged(ConfigError):
    """Co-partitioned topics on the cluster have another partition count than the setting."""


def data_partitions(env: Mapping[str, str] | None = None) -> int:
    """POWERSELL_PARTITIONS, checked: a whole number from 1 to 1024."""
    raw = (os.environ if env is None else env).get(VARIABLE, str(DEFAULT)).strip()
    if not raw.isdigit() or not 1 <= int(raw) <= MAX:
        raise ConfigError(f"{VARIABLE} must be a whole number from 1 to {MAX}, got {raw!r}")
    return int(raw)


def refuse_repartitioning(found: Mapping[str, int], expected: int) -> None:
    """found: co-partitioned topic -> the partition count it has on the cluster. Raises PartitionCountChanged
    when any differs from `expected`."""
    wrong = {name: n for name, n in sorted(found.items()) if n != expected}
    if wrong:
        listed = ", ".join(f"{name} has {n}" for name, n in wrong.items())
        raise PartitionCountChanged(
            f"{VARIABLE}={expected}, but on this cluster {listed}: the partition count is chosen once per cluster "
            f"(a shop's data, its consent and the workers' state are joined by partition). Set {VARIABLE} to the "
            f"cluster's count, or migrate to new topics")
