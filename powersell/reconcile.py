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

Where it stops: the aggregation worker's per-event decisions are not recorded (its outputs are
cells, not events); the chaos tests check its totals instead. `redacted.shops` is compacted: once
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

from .ledger import Input, Outcome, StageLedger, reconcile

RAW_TO_REDACTED = {"raw.shops": "redacted.shops", "raw.products": "redacted.products", "raw.orders": "redacted.orders"}
OUTCOMES = "ops.outcomes"  # streams.outcome_log.TOPIC (the top layer may import streams; kept literal: no Faust import)
STAGE = "redactor"
GROUP = "powersell-redactor"
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
         timeout: float = 300.0) -> Iterator[tuple[str, int, int, bytes | None, bytes | None]]:
    """(topic, partition, offset, key, value) of every record written since `since` (all when None), up to the
    end offsets at the start. A topic that does not exist is skipped."""
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
                        yield tp.topic, tp.partition, r.offset, r.key, r.value
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


def not_yet_read(ledger: StageLedger, inputs: list[Input], committed: dict[tuple[str, int], int]) -> list[str]:
    """The missing events whose every raw copy lies at or past the group's committed offset."""
    positions: dict[str, list] = {}
    for i in inputs:
        positions.setdefault(i.ident, []).append(i.position)
    return [ident for ident in ledger.missing
            if all(offset >= committed.get((t, p), 0) for t, p, offset in positions.get(ident, ()))]


def privacy_ledger(settings: Settings, since: datetime | None) -> tuple[StageLedger, list[str]]:
    registry = default_registry()
    inputs = [raw_input(registry, t, p, o, v) for t, p, o, _, v in scan(settings, tuple(RAW_TO_REDACTED), since)]
    outputs = (*RAW_TO_REDACTED.values(), OUTCOMES, DEAD_LETTERS)
    outcomes = [o for t, _, _, _, v in scan(settings, outputs, since) if (o := outcome_of(registry, t, v)) is not None]
    ledger = reconcile(STAGE, inputs, outcomes)
    if not ledger.missing:
        return ledger, []
    from kafka import TopicPartition
    tps = sorted({TopicPartition(t, p) for (t, p, _) in (i.position for i in inputs)})
    unread = not_yet_read(ledger, inputs, committed_offsets(settings, tps))
    return ledger, unread


# ---------------------------------------------------------------- the command
def report_lines(ledger: StageLedger, unread: list[str], since: datetime | None) -> list[str]:
    def reasons(counter) -> str:
        return f"  ({', '.join(f'{r} {n}' for r, n in sorted(counter.items()))})" if counter else ""

    when = "everything the topics hold" if since is None else f"since {since.isoformat()}"
    lines = [f"ledger of the privacy worker (stage {ledger.stage}), {when}: raw.* -> redacted.*, {OUTCOMES}, "
             f"{DEAD_LETTERS}",
             f"  events read      {ledger.events:>8}  ({ledger.records} raw records)",
             f"  published        {ledger.published:>8}",
             f"  filtered         {sum(ledger.filtered.values()):>8}{reasons(ledger.filtered)}",
             f"  dead-lettered    {sum(ledger.dead_lettered.values()):>8}{reasons(ledger.dead_lettered)}",
             f"  duplicated       {ledger.duplicated:>8}  ({ledger.extra_outcomes} extra outcome records)",
             f"  missing          {len(ledger.missing):>8}" + (f"  ({len(unread)} not read by {GROUP} yet)"
                                                                  if unread else "")]
    if ledger.in_several_places:
        lines.append(f"  in two places    {ledger.in_several_places:>8}")
    waiting = set(unread)
    for ident in ledger.missing[:PRINTED_IDS]:
        lines.append(f"  missing: {ident}" + ("  (not read yet)" if ident in waiting else ""))
    if len(ledger.missing) > PRINTED_IDS:
        lines.append(f"  ... and {len(ledger.missing) - PRINTED_IDS} more (--json lists them all)")
    return lines


def cmd_reconcile(args, settings: Settings) -> int:
    since = parse_since(args.since)
    ledger, unread = privacy_ledger(settings, since)
    if args.json:
        out = {"since": None if since is None else since.isoformat(),
               "stages": {ledger.stage: {**ledger.as_dict(), "not_read_yet_ids": unread}}}
        print(json.dumps(out, sort_keys=True))
    else:
        print("\n".join(report_lines(ledger, unread, since)))
    if ledger.missing:
        print(f"reconcile: {len(ledger.missing)} event(s) have no outcome", file=sys.stderr)
    return 1 if ledger.missing else 0


def add_commands(sub) -> None:
    p = sub.add_parser("reconcile", help="the ledger by event id: every raw event published, filtered or "
                                         "dead-lettered? (exit 1 when any is missing)",
                       description="Read the raw topics and the privacy worker's outcomes (redacted.*, ops.outcomes "
                                   "for filtered decisions, ops.dead-letters) and print, by event id, how many events "
                                   "were published, filtered and dead-lettered (by reason), duplicated and missing. "
                                   "Prints ids only, never record content. Exit code 1 when an event has no outcome; "
                                   "a missing event past the worker group's committed offset is marked as not read "
                                   "yet.")
    p.add_argument("--since", default=None, metavar="T",
                   help="only raw records written since T: an ISO 8601 time (UTC unless it names a zone) or a "
                        "duration back from now such as 90s, 15m, 2h, 7d (default: all the raw topics hold)")
    p.add_argument("--json", action="store_true", help="one JSON document, every missing id included")
    p.set_defaults(func=cmd_reconcile)
