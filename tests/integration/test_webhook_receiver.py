"""The webhook receiver on real Kafka: forged pushes refused, duplicates dropped, pushes
missed while it was down recovered on start (Shopee keeps them three days)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from pipeline_core.topics import shop_key
from tests.integration.connector_rig import end_offsets, post, read_since, wait_for

pytestmark = pytest.mark.kafka


def sample(metrics, name, **labels):
    value = metrics.registry.registry.get_sample_value(name, labels)
    return value or 0.0


def consent_records(kafka, since, subject):
    return [rec for _, key, rec in read_since(kafka, since, ("consent.events",)) if rec["subject_id"] == subject]


def test_when_a_push_is_forged_then_it_is_refused_and_counted(rig_factory):
    rig = rig_factory("lazada", webhook=True)
    body = json.dumps({"seller_id": "1", "message_type": 0, "data": {}, "timestamp": int(time.time())}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{rig.webhook_port}/webhooks/lazada", data=body,
                                     headers={"Authorization": "0" * 64}, method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401
    assert sample(rig.metrics, "powersell_webhook_pushes_rejected_total", marketplace="lazada",
                  reason="bad_signature") == 1
    assert rig.receiver.work.empty() and rig.receiver.handled == 0


def test_when_pushes_are_duplicated_then_each_is_used_once(rig_factory, kafka):
    rig = rig_factory("tiktok_shop", webhook=True, push_duplicate_rate=1.0, push_reorder=False)
    since = end_offsets(kafka, ("consent.events",))
    shop = sorted(rig.truth()["shops"])[0]
    post(f"{rig.server.url}/_sim/authorize", {"shop_ids": [shop]})  # the platform pushes "authorised", twice
    metrics = rig.metrics
    wait_for(lambda: sample(metrics, "powersell_webhook_pushes_duplicated_total", marketplace="tiktok_shop") >= 1, 30)
    wait_for(lambda: rig.receiver.work.empty() and rig.receiver.handled >= 1, 30)
    grants = [r for r in consent_records(kafka, since, shop_key("TIKTOK_SHOP", shop)) if r["source"] == "MARKETPLACE_PUSH"]
    assert len(grants) == 1 and grants[0]["status"] == "GRANTED"
    assert sample(metrics, "powersell_webhook_pushes_received_total", marketplace="tiktok_shop") >= 2


def test_when_the_receiver_was_down_then_missed_shopee_pushes_are_recovered_on_start(rig_factory, kafka):
    rig = rig_factory("shopee", webhook=True, start_receiver=False, push_retry_delays=(0.05, 0.05),
                      push_duplicate_rate=0.0)
    rig.authorise()
    shop = sorted(rig.truth()["shops"])[0]
    since = end_offsets(kafka, ("consent.events",))
    post(f"{rig.server.url}/_sim/shops/{shop}/cancel")  # pushed to a receiver that is not there
    wait_for(lambda: any(p.get("code") == 2 for p in _unacknowledged(rig)), 30)
    rig.start_receiver()  # recovers lost pushes first thing
    wait_for(lambda: any(r["status"] == "WITHDRAWN"
                         for r in consent_records(kafka, since, shop_key("SHOPEE", shop))), 30)
    syncer = rig.connector.syncer
    syncer.consent.refresh()
    from datetime import datetime, timezone
    assert not syncer.consent.is_active("shopee", shop, datetime.now(timezone.utc))


def _unacknowledged(rig):
    return [m.body for m in rig.server.call(rig.sim.pushes.unacknowledged)] if hasattr(rig.server, "call") else []
