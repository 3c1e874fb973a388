"""Pushes go through the same acknowledged-version memory as the poll's lookback re-read: a push
of an order version already published is not published again, a changed order is, and the
poll that follows does not republish what the push published.

An order version is (order, update_time in whole seconds) throughout the pipeline (schemas.event_id):
when the second tick lands in the same second as the first, an order both ticks changed keeps the
version already published, so only the orders the second tick moved to a new update_time are
expected from the push and the poll."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from connectors.base import PushKind, PushNotice
from connectors.webhook import WebhookReceiver
from tests.integration.connector_rig import end_offsets, post, read_since

pytestmark = pytest.mark.kafka


def order_changes(rig, changes: int) -> list[dict]:
    return [c for c in post(f"{rig.server.url}/_sim/tick", {"changes": changes}) if c["entity"] == "order"]


def push(receiver, syncer, change: dict, n: int) -> None:
    notice = PushNotice("shopee", PushKind.ORDER_STATUS, change["shop_id"], f"dedupe-test-{n}",
                        datetime.now(timezone.utc), change["entity_id"])
    receiver.handle(syncer, notice)  # what the receiver's worker thread does with a verified push


def new_versions(before: dict[str, int], changes: list[dict]) -> list[dict]:
    """The order changes whose update_time differs from the order's before the tick (the last change
    of an order is its final version): a change within the same second is no new version."""
    final = {(c["shop_id"], c["entity_id"]): c for c in changes}
    return [c for c in changes if final[(c["shop_id"], c["entity_id"])] is c
            and before.get(f"{c['shop_id']}:{c['entity_id']}") != c["update_time"]]


def copies(kafka, since, change: dict) -> list[dict]:
    return [rec for _, _, rec in read_since(kafka, since, ("raw.orders",))
            if rec["shop_id"] == change["shop_id"] and rec["order_id"] == change["entity_id"]]


def test_when_a_pushed_order_is_unchanged_then_it_is_not_republished_and_a_changed_one_is(rig_factory, kafka):
    rig = rig_factory("shopee")
    assert rig.authorise() == 3
    syncer = rig.connector.syncer
    receiver = WebhookReceiver({"shopee": syncer}, "http://127.0.0.1:1")  # handled directly, not served
    rig.service.run_once()                            # full sync
    polled = order_changes(rig, 20)
    assert polled, "the simulator's tick changed no order"
    rig.service.run_once()                            # incremental: the changed versions published and remembered

    since = end_offsets(kafka, ("raw.orders",))
    unchanged = polled[-1]
    push(receiver, syncer, unchanged, 1)
    assert copies(kafka, since, unchanged) == [], "an order version the poll published was published again"

    before = rig.truth()["orders"]
    changed = new_versions(before, order_changes(rig, 20))
    assert len(changed) > 1, "the simulator's tick gave too few orders a new version"
    latest = changed[-1]
    push(receiver, syncer, latest, 2)
    pushed = copies(kafka, since, latest)
    assert len(pushed) == 1 and pushed[0]["ingest_source"] == "WEBHOOK"
    assert int(pushed[0]["event_time"].timestamp()) == max(c["update_time"] for c in changed
                                                            if c["entity_id"] == latest["entity_id"])

    push(receiver, syncer, latest, 3)                 # the same version pushed again (a new notification id)
    after_poll = end_offsets(kafka, ("raw.orders",))
    rig.service.run_once()                            # the poll re-reads its lookback window
    assert len(copies(kafka, since, latest)) == 1, "the push's version was republished by a push or the poll"
    others = {(c["shop_id"], c["entity_id"]) for c in changed} - {(latest["shop_id"], latest["entity_id"])}
    polled_now = {(r["shop_id"], r["order_id"]) for _, _, r in read_since(kafka, after_poll, ("raw.orders",))}
    assert others <= polled_now, "the poll still publishes the changes no push announced"
