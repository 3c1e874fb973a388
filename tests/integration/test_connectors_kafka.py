"""Connectors end to end: simulator -> connector -> real Kafka."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from connectors import MARKETPLACES
from connectors.commands import simulator_env
from pipeline_core.security import principal_env
from pipeline_core.topics import shop_key
from tests.integration.connector_rig import (RAW, Rig, end_offsets, post, published_pairs, read_since, syncer_now,
                                             truth_pairs, wait_for)

pytestmark = pytest.mark.kafka


@pytest.mark.parametrize("marketplace", list(MARKETPLACES))
def test_when_a_shop_is_synced_then_kafka_holds_exactly_the_simulators_records(rig_factory, kafka, marketplace):
    rig = rig_factory(marketplace)
    assert rig.authorise() == 3
    since = end_offsets(kafka)
    reports = rig.service.run_once()
    assert [r.skipped for r in reports] == [None, None, None] and not any(r.failed for r in reports)
    records = rig.mine(read_since(kafka, since, RAW))
    truth = rig.truth()
    assert published_pairs(records) == truth_pairs(truth, marketplace)
    # one event per record version: no duplicates in a clean full sync
    assert len(records) == len(truth_pairs(truth, marketplace))
    for topic, key, rec in records:
        assert key == shop_key(marketplace.upper(), rec["shop_id"])

    # incremental: the world changes (new orders, status and price changes, late updates)
    changes = []
    for _ in range(20):  # tick until the changes include a late update (15% of changes are)
        changes += post(f"{rig.server.url}/_sim/tick", {"changes": 10})
        if any(c["kind"] == "late_update" for c in changes):
            break
    assert any(c["kind"] == "late_update" for c in changes)
    since = end_offsets(kafka)
    rig.service.run_once()
    later = rig.mine(read_since(kafka, since, RAW))
    truth = rig.truth()
    assert truth_pairs(truth, marketplace) <= published_pairs(records + later)
    latest = {}  # an entity changed twice in one tick is visible only in its last version
    for c in changes:
        latest[(c["entity"], c["entity_id"])] = max(c["update_time"], latest.get((c["entity"], c["entity_id"]), 0))
    changed = {(entity, eid, t) for (entity, eid), t in latest.items()}
    got = {(e.rstrip("s") if e != "shop" else e, eid, t) for e, _, eid, t in published_pairs(later)}
    assert changed <= got, "every change, late ones included, is picked up by the next incremental sync"


def test_when_consent_is_withdrawn_then_the_shop_is_no_longer_polled_nor_its_pushes_used(rig_factory, kafka):
    rig = rig_factory("shopee", webhook=True)
    rig.authorise()
    rig.service.run_once()
    shops = sorted(rig.truth()["shops"])
    gone = shops[0]
    post(f"{rig.server.url}/_sim/shops/{gone}/cancel")
    deadline = time.monotonic() + 30
    syncer = rig.connector.syncer
    while time.monotonic() < deadline:
        syncer.consent.refresh()
        if not syncer.consent.is_active("shopee", gone, syncer_now()):
            break
        time.sleep(0.1)
    else:
        pytest.fail("the cancellation push did not withdraw consent")
    since = end_offsets(kafka)
    post(f"{rig.server.url}/_sim/tick", {"changes": 30})
    wait_for(lambda: rig.receiver.work.empty(), 30)
    reports = {r.shop_id: r for r in rig.service.run_once()}
    # its tokens were dropped with the withdrawal; had they not been, the consent gate skips it
    assert gone not in reports or reports[gone].skipped == "no_consent"
    assert all(r.skipped is None for sid, r in reports.items() if sid != gone)
    later = rig.mine(read_since(kafka, since, RAW))
    assert all(rec["shop_id"] != gone for _, _, rec in later)
    assert any(rec["shop_id"] != gone for _, _, rec in later)


@pytest.mark.parametrize("fault", ["malformed_json", "invalid_utf8", "missing_field", "wrong_type", "http_500",
                                   "oversize"])
def test_when_faults_are_injected_then_they_end_in_retries_or_dead_letters_and_nothing_is_lost(rig_factory, kafka, fault):
    rig = rig_factory("lazada")
    rig.authorise()
    post(f"{rig.server.url}/_sim/faults", {"kind": fault, "count": 2})
    since = end_offsets(kafka)
    reports = rig.service.run_once()
    records = rig.mine(read_since(kafka, since, RAW + ("ops.dead-letters",)))
    data = [r for r in records if r[0] != "ops.dead-letters"]
    dead = [r[2] for r in records if r[0] == "ops.dead-letters"]
    truth = truth_pairs(rig.truth(), "lazada")
    published = published_pairs(data)
    dead_reasons = {d["reason_code"] for d in dead}
    if fault in ("missing_field", "wrong_type"):
        # the broken records are dead-lettered with the reason; every other record arrived
        assert dead_reasons == {fault}
        assert len(truth - published) <= 2
    else:
        assert published == truth and not any(r.failed for r in reports)
        if fault != "http_500":
            assert fault.replace("malformed_json", "invalid_json") in dead_reasons
    for d in dead:
        assert d["original_value"] is not None and d["stage"] == "connector.lazada"


def test_when_the_connector_is_killed_mid_sync_then_a_restart_loses_nothing(kafka, tmp_path):
    rig = Rig(kafka, tmp_path, "tiktok_shop")
    try:
        rig.authorise()
        post(f"{rig.server.url}/_sim/faults", {"kind": "slow", "count": 1000, "delay": 0.05})
        since = end_offsets(kafka)
        env = {**os.environ, "POWERSELL_DATA_DIR": str(tmp_path / "data"), **principal_env(kafka, "connectors"),
               "POWERSELL_BOOTSTRAP_SERVERS": kafka.bootstrap_servers, **simulator_env("tiktok_shop", rig.server),
               "POWERSELL_METRICS_PORT": "0"}
        cmd = [sys.executable, "-m", "powersell.cli", "connect", "tiktok_shop", "--once", "--webhook-port", "0"]
        first = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for(lambda: len(rig.mine(read_since(kafka, since, ("raw.orders",)))) >= 20 or first.poll() is not None, 120)
        assert first.poll() is None, "the sync finished before it could be killed: make it slower"
        first.send_signal(signal.SIGKILL)
        first.wait(30)
        second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        assert second.returncode == 0, second.stderr[-2000:]
        published = published_pairs(rig.mine(read_since(kafka, since, RAW)))
        assert truth_pairs(rig.truth(), "tiktok_shop") <= published
    finally:
        rig.close()
