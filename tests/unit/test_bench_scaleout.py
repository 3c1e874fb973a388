"""The pure parts of the side-by-side benches: the aggregation scale-out's backlog, and the bodies
of the privacy-share and scale-out sections (verdicts, noisy marks)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

from pipeline_core.avro_codec import default_registry
from powersell.benchmarks.aggregation_scaleout import GROUPS, ONE, TWO, redacted_backlog, scaleout_body
from powersell.benchmarks.interleave import Phase, Run
from powersell.benchmarks.privacy_share import FAUST, PRIVACY, privacy_share_body
from streams.aggregation.shards import order_group, shard_of

START = datetime(2026, 11, 20, tzinfo=timezone.utc)


def test_the_backlog_is_valid_redacted_records_products_first_and_spread_over_groups():
    backlog = redacted_backlog(600, "r1", START)
    registry = default_registry()
    topics = [t for t, _, _ in backlog]
    assert topics == sorted(topics, key=lambda t: t != "redacted.products")  # every product before any order
    for t, _, record in backlog:
        registry.encode("com.powersell.pipeline.redacted." + ("RedactedProductEvent" if t == "redacted.products"
                                                              else "RedactedOrderEvent"), record)
    groups = Counter(order_group(r) for t, _, r in backlog if t == "redacted.orders")
    assert len(groups) == len(GROUPS)
    assert len({shard_of(mp, c, 4) for mp, c in groups}) == 4  # two workers of four shards both get work


def test_each_group_has_one_currency_so_no_cell_mixes_them():
    currencies = {}
    for t, _, r in redacted_backlog(400, "r2", START):
        if t == "redacted.orders":
            currencies.setdefault(order_group(r), set()).add(r["currency"])
    assert all(len(c) == 1 for c in currencies.values())


def test_run_ids_keep_runs_apart():
    a = {r["event_id"] for _, _, r in redacted_backlog(50, "a", START)}
    b = {r["event_id"] for _, _, r in redacted_backlog(50, "b", START)}
    assert not a & b


def phase(name, values, load=1.0):
    return Phase(name, [Run(v, load, load) for v in values])


def test_privacy_share_verdict_and_noisy_mark():
    quiet = {FAUST: phase(FAUST, [1000, 1010, 990]), PRIVACY: phase(PRIVACY, [720, 700, 710])}
    assert "0.71 of the passthrough: met." in privacy_share_body(quiet, {}, 1000, 3, 2)
    loaded = {FAUST: phase(FAUST, [1000, 1010, 990], 5.0), PRIVACY: phase(PRIVACY, [300, 310, 305], 5.0)}
    body = privacy_share_body(loaded, {}, 1000, 3, 2)
    assert "not met (noisy)" in body and "**noisy**: load 5.0 > 2 cores" in body


def test_scaleout_verdict():
    result = {ONE: phase(ONE, [100, 101, 99]), TWO: phase(TWO, [180, 175, 178])}
    assert "1.78x one: met." in scaleout_body(result, {}, 1000, 3, 2)


def test_scaleout_says_where_the_cpu_went_with_medians_per_phase():
    result = {ONE: phase(ONE, [100, 101, 99]), TWO: phase(TWO, [130, 128, 131])}
    one = [{"workers": w, "broker": 0.3, "bench": 0.1, "machine": m} for w, m in ((0.9, 1.4), (1.0, 1.5), (0.8, 1.3))]
    two = [{"workers": 1.3, "broker": 0.35, "bench": 0.1, "machine": 1.95}] * 3
    body = scaleout_body(result, {}, 1000, 3, 2, {"1": one, "2": two})
    assert ("1 worker: workers 0.90, broker 0.30, bench producer 0.10, machine 1.40 of 2 busy; "
            "2 workers: workers 1.30, broker 0.35, bench producer 0.10, machine 1.95 of 2 busy.") in body
