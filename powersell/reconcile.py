"""`powersell-pipeline reconcile [--since T] [--json]`: the ledger by event id, read from the topics.

For the privacy worker (stage `redactor`) it reads every raw record since T (by the records'
broker time; default: everything the topics still hold) and every outcome: the redacted topics
(published), `ops.outcomes` (filtered, written by the worker for each filtered record) and
`ops.dead-letters` (the redactor's dead letters, by the raw position they came from). Then
`powersell.ledger` says how many events were published, filtered and dead-lettered (by reason),
duplicated, and missing. Exit code 1 when any event is missing.

It prints ids only (event ids, or `topic/partition@offset` for a record that could not be read),
never a record's content. A missing event still past the worker group's committed offset is
marked as not read yet (lag, not loss); run again once the worker caught up.

For the aggregation worker (stage `aggregator`) the inputs are the redacted orders and products
since T. Its filtered decisions (late, duplicate, stale; the owning shard's only) are on
`ops.outcomes` and its dead letters name the redacted position they came from. A counted record
writes nothing (its outputs are cells, not events; one record per event would double the
worker's output): it is known as counted when its forwarded copy on the worker's shard topic
(`<app id>-shards`, which names the redacted position in a header) lies behind the group's
committed offset on that shard partition and has no outcome of its own (`ledger.implied_outcomes`).
A redacted event with no copy and no outcome is missing; one the group has not committed past,
or whose copy it has not, is marked as not read yet. What this cannot see: a counted record whose
table write was lost after the commit (the changelog is written before the commit, so only a
broken store); the chaos tests check the totals for that. `redacted.shops` is compacted: once
the broker compacts a segment, older versions of a shop leave the topic and their events would
show as missing; run it with a --since inside the topics' active segments (hours or days, not
weeks)."""

from __future__ import annotations

import json
import re
import sys
import time
from datetime import datetime, timedelta, timezone
from typing import Iterator

from pipeline_core.avro_codec import default_registry
from pipeline_core.dead_letters import TOPIC as DEAD_LETTERS
from pipeline_core.errors import BrokerError, ConfigError, DecodeError
from pipeline_core.settings import Settings
from pipeline_core.topics import FAUST_APP_IDS, Service
from streams import outcome_log  # no Faust in it

from .ledger import Handover, Input, Outcome, StageLedger, implied_outcomes, reconcile

RAW_TO_REDACTED = {"raw.shops": "redacted.shops", "raw.products": "redacted.products", "raw.orders": "redacted.orders"}
OUTCOMES = outcome_log.TOPIC
STAGE = "redactor"
GROUP = FAUST_APP_IDS[Service.PRIVACY_WORKER]
AGGREGATION_INPUTS = ("redacted.orders", "redacted.products")
AGGREGATION_STAGE = "aggregator"   # streams.aggregation_app.STAGE (that module imports Faust)
AGGREGATION_GROUP = FAUST_APP_IDS[Service.AGGREGATION_WORKER]
PRINTED_IDS = 50
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")


def parse_since(text: str | None, now: datetime | None = None) -> datetime | None:
    """An ISO 8601 time (UTC when no zone is given) or a duration back from now: 90s, 15m, 2h, 7d."""
    if text is None:
        return None
    now = now or datetime.now(timezone.utc)
    match = _DURATION.match(text.strip())
    if match:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
        return now - timedelta(**{unit: float(match.group(1))})
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--since {text!r} is neither an ISO 8601 time nor a duration such as 2h") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


# ---------------------------------------------------------------- reading (Kafka)
def scan(settings: Settings, topics: tuple[str, ...], since: datetime | None,
         timeout: float = 300.0) -> Iterator[tuple[str, int, int, bytes | None, bytes | None, list]]:
    """(topic, partition, offset, key, value, headers) of every record written since `since` (all when None), up
    to the end offsets at the start. A topic that does not exist is skipped."""
    from kafka import KafkaConsumer, TopicPartition

    from pipeline_core.security import kafka_client_config

    consumer = KafkaConsumer(**kafka_client_config(settings, group_id=None, enable_auto_commit=False,
                                                   client_id="powersell-reconcile"))
    try:
        tps = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
        if not tps:
            return
        consumer.assign(tps)
        ends = consumer.end_offsets(tps)
        starts = consumer.beginning_offsets(tps)
        if since is not None:
            found = consumer.offsets_for_times({tp: int(since.timestamp() * 1000) for tp in tps})
            starts = {tp: ends[tp] if found[tp] is None else found[tp].offset for tp in tps}
        for tp in tps:
            consumer.seek(tp, starts[tp])
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise BrokerError(f"timed out reading {', '.join(topics)} to their ends")
            for tp, records in consumer.poll(timeout_ms=500).items():
                for r in records:
                    if r.offset < ends[tp]:
                        yield tp.topic, tp.partition, r.offset, r.key, r.value, r.headers or []
    finally:
        consumer.close()


def committed_offsets(settings: Settings, tps: list, group: str = GROUP) -> dict[tuple[str, int], int]:
    """Where the worker group has committed, per raw partition (-1 or absent: nothing yet)."""
    from pipeline_core import lag
    from pipeline_core.kafka_io import admin_client
    admin = admin_client(settings)
    try:
        offsets = lag.committed_offsets(admin, group, tps)
    finally:
        admin.close()
    return {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items()}


# ---------------------------------------------------------------- records -> ledger entries (pure)
def raw_input(registry, topic: str, partition: int, offset: int, value: bytes | None) -> Input:
    """A raw record as the ledger knows it: its event id, or None when it cannot be read."""
    event_id = None
    if value is not None:
        try:
            event_id = registry.decode(value)[1].get("event_id")
        except DecodeError:
            pass
    return Input((topic, partition, offset), event_id)


def outcome_of(registry, topic: str, value: bytes | None) -> Outcome | None:
    """The redactor's outcome that a record on an output topic stands for, or None (another stage's, a tombstone,
    a record that cannot be read)."""
    if value is None:
        return None
    try:
        record = registry.decode(value)[1]
    except DecodeError:
        return None
    if topic in RAW_TO_REDACTED.values():
        return Outcome("published", event_id=record.get("event_id"))
    if record.get("stage") != STAGE:
        return None
    if topic == OUTCOMES:
        return Outcome("filtered", reason=record["reason"], event_id=record["event_id"],
                       position=(record["source_topic"], record["source_partition"], record["source_offset"]))
    if topic == DEAD_LETTERS and record.get("source_topic") in RAW_TO_REDACTED and record.get("source_offset") is not None:
        return Outcome("dead_lettered", reason=record["reason_code"],
                       position=(record["source_topic"], record["source_partition"], record["source_offset"]))
    return None


def aggregation_outcome_of(registry, topic: str, value: bytes | None) -> Outcome | None:
    """The aggregation worker's filtered decision or dead letter that a record stands for, or None."""
    if value is None:
        return None
    try:
        record = registry.decode(value)[1]
    except DecodeError:
        return None
    if record.get("stage") != AGGREGATION_STAGE:
        return None
    if topic == OUTCOMES:
        return Outcome("filtered", reason=record["reason"], event_id=record["event_id"],
                       position=(record["source_topic"], record["source_partition"], record["source_offset"]))
    if topic != DEAD_LETTERS or record.get("source_topic") not in AGGREGATION_INPUTS:
        return None  # e.g. a cell that could not be encoded: no event's outcome
    if record.get("source_offset") is not None:
        return Outcome("dead_lettered", reason=record["reason_code"],
                       position=(record["source_topic"], record["source_partition"], record["source_offset"]))
    event_id = None  # a copy forwarded before copies named their source: known by the original's event id
    if record.get("original_value"):
        try:
            event_id = registry.decode(record["original_value"])[1].get("event_id")
        except DecodeError:
            pass
    return Outcome("dead_lettered", reason=record["reason_code"], event_id=event_id) if event_id else None


def handover_of(registry, partition: int, offset: int, key: bytes | None, value: bytes | None, headers,
                committed: int) -> Handover | None:
    """A record of the aggregation worker's shard topic as the ledger knows it: the owner's copy of a redacted
    record (lookup copies and ticks are none), consumed when the group's committed offset on its shard partition
    is past it."""
    if key is None or key.decode("utf-8", "replace") not in AGGREGATION_INPUTS:
        return None
    read_at = outcome_log.source_of(headers)
    source = (key.decode("utf-8"), *read_at) if read_at is not None else None
    event_id = None
    if source is None and value is not None:
        try:
            event_id = registry.decode(value)[1].get("event_id")
        except DecodeError:
            pass
    return Handover(event_id, source, offset < committed)


def not_yet_read(ledger: StageLedger, inputs: list[Input], committed: dict[tuple[str, int], int],
                 pending: list[Handover] = ()) -> list[str]:
    """The missing events whose every input copy lies at or past the group's committed offset, or that have a
    copy handed on inside the stage that its next step has not committed past yet."""
    positions: dict[str, list] = {}
    by_position: dict[tuple, str] = {}
    for i in inputs:
        positions.setdefault(i.ident, []).append(i.position)
        by_position[i.position] = i.ident
    waiting = {by_position.get(h.source) if h.source is not None else h.event_id for h in pending if not h.consumed}
    return [ident for ident in ledger.missing
            if ident in waiting
            or all(offset >= committed.get((t, p), 0) for t, p, offset in positions.get(ident, ()))]


def privacy_ledger(settings: Settings, since: datetime | None) -> tuple[StageLedger, list[str]]:
    registry = default_registry()
    inputs = [raw_input(registry, t, p, o, v) for t, p, o, _, v, _ in scan(settings, tuple(RAW_TO_REDACTED), since)]
    outputs = (*RAW_TO_REDACTED.values(), OUTCOMES, DEAD_LETTERS)
    outcomes = [o for t, _, _, _, v, _ in scan(settings, outputs, since)
                if (o := outcome_of(registry, t, v)) is not None]
    ledger = reconcile(STAGE, inputs, outcomes)
    if not ledger.missing:
        return ledger, []
    from kafka import TopicPartition
    tps = sorted({TopicPartition(t, p) for (t, p, _) in (i.position for i in inputs)})
    unread = not_yet_read(ledger, inputs, committed_offsets(settings, tps))
    return ledger, unread


def aggregation_ledger(settings: Settings, since: datetime | None,
                       app_id: str = AGGREGATION_GROUP) -> tuple[StageLedger, list[str]]:
    """The aggregation worker's ledger: redacted events filtered, dead-lettered, or counted (implied by the group's
    committed offsets on its shard topic); see the module's docstring."""
    from kafka import TopicPartition
    registry = default_registry()
    inputs = [raw_input(registry, t, p, o, v) for t, p, o, _, v, _ in scan(settings, AGGREGATION_INPUTS, since)]
    explicit = [o for t, _, _, _, v, _ in scan(settings, (OUTCOMES, DEAD_LETTERS), since)
                if (o := aggregation_outcome_of(registry, t, v)) is not None]
    shards_topic = f"{app_id}-shards"
    copies = list(scan(settings, (shards_topic,), since))
    shard_tps = sorted({TopicPartition(shards_topic, p) for _, p, _, _, _, _ in copies})
    committed = committed_offsets(settings, shard_tps, app_id) if shard_tps else {}
    handovers = [h for _, p, o, k, v, hs in copies
                 if (h := handover_of(registry, p, o, k, v, hs, committed.get((shards_topic, p), -1))) is not None]
    ledger = reconcile(AGGREGATION_STAGE, inputs, explicit + implied_outcomes(handovers, explicit))
    if not ledger.missing:
        return ledger, []
    tps = sorted({TopicPartition(t, p) for (t, p, _) in (i.position for i in inputs)})
    return ledger, not_yet_read(ledger, inputs, committed_offsets(settings, tps, app_id), handovers)


# ---------------------------------------------------------------- the command
def report_lines(ledger: StageLedger, unread: list[str], since: datetime | None, title: str | None = None,
                 counted_as: str = "published", group: str = GROUP) -> list[str]:
    def reasons(counter) -> str:
        return f"  ({', '.join(f'{r} {n}' for r, n in sorted(counter.items()))})" if counter else ""

    when = "everything the topics hold" if since is None else f"since {since.isoformat()}"
    title = title or f"ledger of the privacy worker (stage {ledger.stage}), {{when}}: raw.* -> redacted.*, {OUTCOMES}, " \
                     f"{DEAD_LETTERS}"
    lines = [title.format(when=when),
             f"  events read      {ledger.events:>8}  ({ledger.records} input records)",
             f"  {counted_as:<16} {ledger.published:>8}",
             f"  filtered         {sum(ledger.filtered.values()):>8}{reasons(ledger.filtered)}",
             f"  dead-lettered    {sum(ledger.dead_lettered.values()):>8}{reasons(ledger.dead_lettered)}",
             f"  duplicated       {ledger.duplicated:>8}  ({ledger.extra_outcomes} extra outcome records)",
             f"  missing          {len(ledger.missing):>8}" + (f"  ({len(unread)} not read by {group} yet)"
                                                                  if unread else "")]
    if ledger.in_several_places:
        lines.append(f"  in two places    {ledger.in_several_places:>8}")
    waiting = set(unread)
    for ident in ledger.missing[:PRINTED_IDS]:
        lines.append(f"  missing: {ident}" + ("  (not read yet)" if ident in waiting else ""))
    if len(ledger.missing) > PRINTED_IDS:
        lines.append(f"  ... and {len(ledger.missing) - PRINTED_IDS} more (--json lists them all)")
    return lines


AGGREGATION_TITLE = (f"ledger of the aggregation worker (stage {AGGREGATION_STAGE}), {{when}}: redacted.orders, "
                     f"redacted.products -> cells (counted: behind the group's committed offset), {OUTCOMES}, "
                     f"{DEAD_LETTERS}")


def cmd_reconcile(args, settings: Settings) -> int:
    since = parse_since(args.since)
    app_id = getattr(args, "aggregation_app_id", None) or AGGREGATION_GROUP
    stages = [(*privacy_ledger(settings, since), {}),
              (*aggregation_ledger(settings, since, app_id),
               {"title": AGGREGATION_TITLE, "counted_as": "aggregated", "group": app_id})]
    if args.json:
        out = {"since": None if since is None else since.isoformat(),
               "stages": {ledger.stage: {**ledger.as_dict(), "not_read_yet_ids": unread}
                          for ledger, unread, _ in stages}}
        print(json.dumps(out, sort_keys=True))
    else:
        print("\n".join(line for ledger, unread, how in stages for line in report_lines(ledger, unread, since, **how)))
    missing = 0
    for ledger, _, _ in stages:
        if ledger.missing:
            missing += len(ledger.missing)
            print(f"reconcile: {len(ledger.missing)} event(s) have no outcome in stage {ledger.stage}",
                  file=sys.stderr)
    return 1 if missing else 0


def add_commands(sub) -> None:
    p = sub.add_parser("reconcile", help="the ledger by event id: every raw event published, filtered or "
                                         "dead-lettered? (exit 1 when any is missing)",
                       description="Read the raw topics and the privacy worker's outcomes (redacted.*, ops.outcomes "
                                   "for filtered decisions, ops.dead-letters), then the redacted orders and products "
                                   "and the aggregation worker's, and print per stage, by event id, how many events "
                                   "were published (aggregated), filtered and dead-lettered (by reason), duplicated "
                                   "and missing. "
                                   "Prints ids only, never record content. Exit code 1 when an event has no outcome; "
                                   "a missing event past the worker group's committed offset is marked as not read "
                                   "yet.")
    p.add_argument("--since", default=None, metavar="T",
                   help="only raw records written since T: an ISO 8601 time (UTC unless it names a zone) or a "
                        "duration back from now such as 90s, 15m, 2h, 7d (default: all the raw topics hold)")
    p.add_argument("--json", action="store_true", help="one JSON document, every missing id included")
    p.add_argument("--aggregation-app-id", default=None, metavar="ID",
                   help=f"the aggregation worker's app id (its group and shard topic; default {AGGREGATION_GROUP})")
    p.set_defaults(func=cmd_reconcile)
