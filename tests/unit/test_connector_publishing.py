"""The connectors' publish path without a broker: every event leaves sealed, a re-read of the
lookback window republishes only what changed, and a version is remembered only once the
broker acknowledged it (at-least-once)."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest

from connectors.base import DeadPayload, RawEvent, ShopSession, ShopAuth, Stream
from connectors.checkpoints import Checkpoint
from connectors.metrics import ConnectorMetrics
from connectors.runner import ShopSyncer
from pipeline_core.avro_codec import default_registry
from pipeline_core.keystore import LocalKeyStore, SecretKey
from pipeline_core.sample_events import sample_events
from pipeline_core.sealing import RecordSealer

T0 = datetime(2026, 11, 21, 12, tzinfo=timezone.utc)
SHOP_ID = "220145871"


class Future:
    def __init__(self, ok: bool = True):
        self.ok = ok

    def get(self, timeout=None):
        if not self.ok:
            raise RuntimeError("not acknowledged")


class Publisher:
    def __init__(self):
        self.sent: list[tuple[str, str, dict]] = []
        self.fail = False

    def send(self, topic, key, record):
        self.sent.append((topic, key, record))
        return Future(not self.fail)

    def flush(self, timeout=None):
        pass


class Checkpoints:
    def __init__(self):
        self.state: dict[tuple[str, str], Checkpoint] = {}

    def get(self, marketplace, shop_id, stream):
        return self.state.get((shop_id, stream))

    def save(self, marketplace, shop_id, stream, synced_until, records, published=None):
        self.state[(shop_id, stream)] = Checkpoint(synced_until, records, dict(published or {}))


class Consent:
    def refresh(self):
        pass

    def is_active(self, marketplace, shop_id, now):
        return True


class Api:
    """Orders whose event time falls in the requested window; the shop record each time."""
    name, marketplace_symbol, max_window_seconds = "shopee", "SHOPEE", 15 * 24 * 3600

    def __init__(self, orders: list[dict], shop: dict):
        self.orders, self.shop = orders, shop

    def fetch_orders(self, session, window, source):
        yield [RawEvent(Stream.ORDERS, f"shopee:{SHOP_ID}", o) for o in self.orders
               if window.start <= o["event_time"] < window.end]

    def fetch_products(self, session, window, source):
        yield []

    def refresh(self, auth):
        return auth

    def fetch_shop(self, session, source):
        return [RawEvent(Stream.SHOP, f"shopee:{SHOP_ID}", dict(self.shop, event_id=f"read-{len(source)}"))]


def order(n: int, at: datetime) -> dict:
    template = next(r for t, _, r in sample_events() if t == "raw.orders")
    return {**copy.deepcopy(template), "shop_id": SHOP_ID, "order_id": f"o{n}", "event_id": f"o{n}@{at.isoformat()}",
            "event_time": at, "update_time": at}


@pytest.fixture
def rig(tmp_path):
    clock = [T0.timestamp()]
    shop = {**next(r for t, _, r in sample_events() if t == "raw.shops"), "shop_id": SHOP_ID}
    api = Api([order(i, T0 - timedelta(minutes=i)) for i in range(1, 6)], shop)
    publisher, checkpoints = Publisher(), Checkpoints()
    store = LocalKeyStore.in_dir(tmp_path / "keys")
    syncer = ShopSyncer(api, None, checkpoints, Consent(), publisher, ConnectorMetrics(),
                        sealer=RecordSealer(store, SecretKey(b"p" * 32), default_registry()),
                        lookback=timedelta(minutes=10), full_sync_days=1, clock=lambda: clock[0])
    session = ShopSession(api, ShopAuth("shopee", SHOP_ID, "a", "r"))
    return syncer, api, publisher, checkpoints, session, clock


def orders_sent(publisher):
    return [r for t, _, r in publisher.sent if t == "raw.orders"]


def test_every_event_leaves_the_connector_sealed(rig):
    syncer, api, publisher, _, session, _ = rig
    from connectors.runner import SyncReport
    syncer_report = SyncReport(SHOP_ID)
    syncer.sync_stream(session, Stream.ORDERS, syncer_report)
    sent = orders_sent(publisher)
    assert len(sent) == 5 and syncer_report.published == {"orders": 5}
    for record in sent:
        assert isinstance(record["recipient"]["name"], bytes) and isinstance(record["buyer_note"], bytes)
        default_registry().encode("com.powersell.pipeline.raw.RawOrderEvent", record)
    assert isinstance(api.orders[0]["recipient"]["name"], str)  # the mapping's record itself is untouched


def test_when_the_lookback_is_re_read_then_only_changed_records_are_published_again(rig):
    from connectors.runner import SyncReport
    syncer, api, publisher, _, session, clock = rig
    syncer.sync_stream(session, Stream.ORDERS, SyncReport(SHOP_ID))
    clock[0] += 60  # the next poll, one minute later: its lookback covers every order again
    changed = order(2, T0 + timedelta(seconds=30))  # order 2 changed (a new version, a new event id)
    api.orders = [o for o in api.orders if o["order_id"] != "o2"] + [changed]
    report = SyncReport(SHOP_ID)
    syncer.sync_stream(session, Stream.ORDERS, report)
    assert [r["event_id"] for r in orders_sent(publisher)[5:]] == [changed["event_id"]]
    assert report.published == {"orders": 1} and report.unchanged == {"orders": 4}


def test_when_the_broker_did_not_acknowledge_then_nothing_is_remembered_and_the_next_poll_sends_again(rig):
    from connectors.runner import SyncReport
    syncer, _, publisher, checkpoints, session, clock = rig
    publisher.fail = True
    with pytest.raises(RuntimeError):
        syncer.sync_stream(session, Stream.ORDERS, SyncReport(SHOP_ID))
    assert checkpoints.state == {}
    publisher.fail = False
    clock[0] += 60
    syncer.sync_stream(session, Stream.ORDERS, SyncReport(SHOP_ID))
    assert len(orders_sent(publisher)) == 10  # all five again: duplicates, recognisable by event id
    assert len({r["event_id"] for r in orders_sent(publisher)}) == 5


def test_versions_older_than_the_lookback_are_forgotten(rig):
    from connectors.runner import SyncReport
    syncer, _, _, checkpoints, session, clock = rig
    syncer.sync_stream(session, Stream.ORDERS, SyncReport(SHOP_ID))
    assert len(checkpoints.state[(SHOP_ID, "orders")].published) == 5
    clock[0] += 3600
    syncer.sync_stream(session, Stream.ORDERS, SyncReport(SHOP_ID))
    assert checkpoints.state[(SHOP_ID, "orders")].published == {}


def test_an_unchanged_shop_is_not_republished_even_though_its_event_id_changes_per_read(rig):
    from connectors.runner import SyncReport
    syncer, api, publisher, _, session, clock = rig
    for _ in range(3):
        syncer.sync_stream(session, Stream.SHOP, SyncReport(SHOP_ID))
        clock[0] += 60
    assert len([1 for t, _, _ in publisher.sent if t == "raw.shops"]) == 1
    api.shop = {**api.shop, "status": "FROZEN"}
    syncer.sync_stream(session, Stream.SHOP, SyncReport(SHOP_ID))
    assert len([1 for t, _, _ in publisher.sent if t == "raw.shops"]) == 2


def test_a_dead_letter_body_is_sealed_under_the_shops_key(rig):
    from connectors.runner import SyncReport
    syncer, _, publisher, _, _, _ = rig
    body = b'{"recipient": "Nguyen Van A", "phone": "0912345678"}'
    syncer.dead_letter(DeadPayload(Stream.ORDERS, "missing_field", "no order_sn", body), SyncReport(SHOP_ID))
    [(topic, _, record)] = publisher.sent
    assert topic == "ops.dead-letters" and b"0912345678" not in record["original_value"]
    assert syncer.sealer.keystore.open(f"shopee:{SHOP_ID}", record["original_value"]) == body
    syncer.dead_letter(DeadPayload(None, "invalid_json", "not JSON", body), None)  # no shop to attribute it to
    assert publisher.sent[-1][2]["original_value"] is None


def test_kafka_python_writes_and_checks_batch_crcs_with_the_c_extension():
    # without the crc32c package kafka-python falls back to pure Python: 9 ms of CPU per 64 KiB batch
    from kafka.record import util
    assert util.crc32c_c is not None and util.calc_crc32c.__defaults__ == (util.crc32c_c,)
