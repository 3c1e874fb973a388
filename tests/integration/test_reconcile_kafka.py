"""`reconcile` on real Kafka with the real privacy and aggregation workers: raw events of a granted shop,
of a shop that withdrew, of a shop that never granted, and poison records (bytes no schema wrote, a
tombstone) are all found in their place; so is every redacted event in the aggregation stage, a late
order and a twice-published order filtered there with their reasons; an event the privacy worker never
read (it is stopped) is reported missing, by id, with exit code 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from kafka import KafkaProducer

from pipeline_core.avro_codec import default_registry
from pipeline_core.kafka_io import AvroPublisher, end_offsets, partition_for
from pipeline_core.security import OPERATOR, kafka_client_config, principal_env
from pipeline_core.topics import topic
from powersell.reconcile import (AGGREGATION_INPUTS, RAW_TO_REDACTED, aggregation_ledger, committed_offsets,
                                 privacy_ledger, raw_input, scan)
from tests.integration.test_consent_kafka import T0, event, grant, new_shop, publish
from tests.support.groups import start_group_at_the_end
from tests.support.waiting import wait_for
from tests.support.workers import start_worker, stop_worker
from tests.unit.test_aggregation_shards import topic_of, workload

pytestmark = pytest.mark.kafka


@pytest.fixture
def worker_env(kafka, tmp_path):
    return {**os.environ, "POWERSELL_DATA_DIR": str(tmp_path), "POWERSELL_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
            "POWERSELL_METRICS_PORT": "0", "POWERSELL_LOG_LEVEL": "WARNING", **principal_env(kafka, OPERATOR)}


def caught_up(kafka, group: str, topics: tuple[str, ...]) -> bool:
    ends = end_offsets(kafka, topics)
    committed = committed_offsets(kafka, list(ends), group)
    return all(committed.get((tp.topic, tp.partition), -1) >= end for tp, end in ends.items() if end)


def redacted_order(**fields) -> dict:
    """A redacted order of its own (event and order id), as the privacy worker would publish it."""
    order = next(r for r in workload(orders=1) if topic_of(r) == "redacted.orders")
    return {**order, "event_id": uuid.uuid4().hex, "order_id": f"direct{uuid.uuid4().hex[:8]}", **fields}


def reconcile(env, since: datetime, app_id: str) -> tuple[int, dict, dict]:
    result = subprocess.run([sys.executable, "-m", "powersell.cli", "reconcile", "--since", since.isoformat(), "--json",
                             "--aggregation-app-id", app_id], env=env, capture_output=True, text=True, timeout=180)
    stages = json.loads(result.stdout)["stages"]
    return result.returncode, stages["redactor"], stages["aggregator"]


def test_reconcile_finds_every_event_in_its_place_and_reports_one_the_worker_never_read(kafka, worker_env):
    granted, withdrawn, unknown = new_shop(), new_shop("lazada"), new_shop("tiktok_shop")
    passing = [event("raw.orders", granted, s) for s in (1, 2, 3)] + [event("raw.products", granted, 4)]
    withdrawn_events = [event("raw.orders", withdrawn, s) for s in (50, 150, 200)]  # 150, 200: after the withdrawal
    denied = [event("raw.orders", unknown, s) for s in (5, 6)]
    late = event("raw.orders", granted, 9)  # an order of its own created 90 days ago: its windows closed (62 days)
    late[2].update(order_id=f"late{uuid.uuid4().hex[:8]}", create_time=T0 - timedelta(days=90),
                   update_time=T0 - timedelta(days=90))
    twice = event("raw.orders", granted, 8)  # published twice, as a retrying connector may: one event, two copies
    # Each order its own: the template gives every event of a shop one order id and one update time, so a batch the
    # privacy worker publishes again (at least once) would re-apply an older version over a newer one (neither a
    # duplicate nor stale) instead of being filtered as a duplicate, which is what the test counts.
    for _, _, record in (*passing[:3], twice):
        record["order_id"] = f"own{uuid.uuid4().hex[:8]}"
    publisher = AvroPublisher(kafka, client_id="reconcile-test")
    poison = KafkaProducer(**kafka_client_config(kafka, client_id="reconcile-poison", acks="all"))
    app_id = f"powersell-aggregator-reconcile-{uuid.uuid4().hex[:8]}"  # a fresh state: no earlier test's watermark
    start_group_at_the_end(kafka, app_id, ("redacted.orders", "redacted.products"))
    worker = start_worker({**worker_env, **principal_env(kafka, "privacy-worker")}, "worker", "redaction",
                          log_path=os.path.join(worker_env["POWERSELL_DATA_DIR"], "worker.log"))
    aggregator = start_worker({**worker_env, **principal_env(kafka, "aggregation-worker")}, "worker", "aggregation",
                              "--app-id", app_id, "--tick-seconds", "1",
                              log_path=os.path.join(worker_env["POWERSELL_DATA_DIR"], "aggregator.log"))
    try:
        # Raw records an earlier test left unread are redacted once the privacy worker is up; they are not this
        # test's, so the ledger starts once the worker has read the raw topics to their end.
        wait_for(lambda: caught_up(kafka, "powersell-redactor", tuple(RAW_TO_REDACTED)), 120,
                 what="the privacy worker through what earlier tests left")
        since = datetime.now(timezone.utc)
        publish(publisher, grant(granted), grant(withdrawn, 0), grant(withdrawn, 100, status="WITHDRAWN"),
                *passing, *withdrawn_events, *denied, late, twice, twice)
        for name, value in (("raw.orders", b"\x00 not a single-object record"), ("raw.products", None)):
            poison.send(name, key=granted.encode(), value=value,
                        partition=partition_for(topic(name), granted)).get(timeout=30)
        # Straight onto the aggregation worker's input: bytes it cannot read (dead-lettered where it is read) and an
        # order stamped days ahead (dead-lettered by the shard that owns it, under the redacted position)
        poison.send("redacted.orders", key=granted.encode(), value=b"\x00 not a redacted order").get(timeout=30)
        ahead = datetime.now(timezone.utc) + timedelta(days=3)
        publisher.send("redacted.orders", granted, redacted_order(event_time=ahead, create_time=ahead,
                                                                  update_time=ahead)).get(timeout=30)

        last, registry = {}, default_registry()

        def input_copies() -> Counter:
            """How many copies of each event the aggregation stage's inputs hold since the test began."""
            return Counter(raw_input(registry, t, p, o, v).ident
                           for t, p, o, _, v, _ in scan(kafka, AGGREGATION_INPUTS, since))

        def repeated(copies: Counter) -> int:
            """Events with more than one copy: each is filtered once as a duplicate (a late one stays late)."""
            return sum(1 for ident, n in copies.items() if n > 1 and ident != late[2]["event_id"])

        def settled(privacy_running: bool = True):
            assert not privacy_running or worker.poll() is None, f"the worker stopped: see {worker.log_path}"
            assert aggregator.poll() is None, f"the aggregation worker stopped: see {aggregator.log_path}"
            (last["privacy"], last["privacy unread"]), (last["aggregation"], last["aggregation unread"]) = (
                privacy_ledger(kafka, since), aggregation_ledger(kafka, since, app_id))
            # every extra copy the privacy worker published (at least once) must have reached its duplicate decision too
            return (not last["privacy"].missing and last["aggregation"].events == 9 and not last["aggregation"].missing
                    and last["aggregation"].filtered.get("duplicate", 0) == repeated(input_copies()))
        try:
            wait_for(settled, 240, interval=1.0, what="every event found in its place by the ledger, in both stages")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; last seen (a stage's 'unread': missing ids its group has not committed "
                                 f"past yet): {[getattr(v, 'as_dict', lambda: v)() for v in last.values()]}") from None
        # The privacy worker stopped, no copy comes after the ones counted: the aggregation worker decides the last ones
        stop_worker(worker)
        wait_for(lambda: settled(privacy_running=False), 120, interval=1.0, what="the last copies decided")
        code, ledger, aggregation = reconcile(worker_env, since, app_id)
        assert code == 0 and ledger["missing"] == 0 and ledger["missing_ids"] == []
        assert ledger["events"] == 4 + 3 + 2 + 2 + 2 and ledger["records"] == ledger["events"] + 1
        assert ledger["published"] == 4 + 1 + 2
        assert ledger["filtered"] == {"consent_withdrawn": 2, "no_consent": 2}
        assert sum(ledger["dead_lettered"].values()) == 2 and ledger["dead_lettered"]["missing_field"] == 1
        assert ledger["in_several_places"] == 0
        # The aggregation stage reads what was published: 4 + 1 + the late one + the twice-published one (2 copies),
        # and the two records written to its input directly. The privacy worker delivers at least once: a rebalance
        # before its commit publishes a batch again, and each extra copy of an event counted is a duplicate there.
        assert aggregation["missing"] == 0 and aggregation["missing_ids"] == []
        copies = input_copies()
        assert copies[twice[2]["event_id"]] >= 2 and sum(copies.values()) >= 10
        assert (aggregation["events"], aggregation["records"]) == (9, sum(copies.values()))
        assert aggregation["filtered"] == {"late": 1, "duplicate": repeated(copies)}
        assert aggregation["published"] == 7 - 1  # every event but the late one counted (the twice-published: once)
        assert sum(aggregation["dead_lettered"].values()) == 2 and aggregation["dead_lettered"]["implausible_time"] == 1
        assert aggregation["in_several_places"] == 0 and aggregation["duplicated"] == 0
    finally:
        stop_worker(aggregator)
        stop_worker(worker)
    # The worker is stopped: an event written now has no outcome, and reconcile says which one.
    unseen = event("raw.orders", granted, 7)
    publish(publisher, unseen)
    unaggregated = redacted_order()  # and one on the aggregation worker's input: not read by its group either
    publisher.send("redacted.orders", granted, unaggregated).get(timeout=30)
    publisher.close()
    poison.close()
    code, ledger, aggregation = reconcile(worker_env, since, app_id)
    assert code == 1 and ledger["missing_ids"] == [unseen[2]["event_id"]]
    assert ledger["not_read_yet_ids"] == [unseen[2]["event_id"]]  # past the worker group's committed offset
    # `unseen` was never redacted, so it is no input of the aggregation stage; `unaggregated` is, and was not read
    assert aggregation["missing_ids"] == aggregation["not_read_yet_ids"] == [unaggregated["event_id"]]
    printed = subprocess.run([sys.executable, "-m", "powersell.cli", "reconcile", "--since", since.isoformat(),
                              "--aggregation-app-id", app_id],
                             env=worker_env, capture_output=True, text=True, timeout=180)
    assert printed.returncode == 1 and f"missing: {unseen[2]['event_id']}" in printed.stdout
    assert granted.split(":")[1] not in printed.stdout + printed.stderr   # ids of events only, no shop or content
