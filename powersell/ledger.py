"""The ledger by event id: for every record a stage read, where it ended. Pure counting, no Kafka
(`powersell.reconcile` reads the topics and feeds this).

A stage's inputs are raw records, each known by its event id (or, when it could not be read at
all, by its position `topic/partition@offset`). Its outcomes are of three kinds, each found on a
topic of its own: published (the redacted record, by event id), filtered (an EventOutcome on
`ops.outcomes`, by event id and position) and dead-lettered (a DeadLetter, by the position it
was read from). An event with no outcome is missing: a hole the metrics cannot show, since
they count records, not which ones.

Counts are per event, not per record: a connector that published the same event twice (same
id) gives one event with two raw copies; an event whose outcome was written twice (a worker
killed after sending, before committing, reads it again) is counted once in its place and once
as duplicated. An event found in two different places (say published and dead-lettered) is
counted in both and as `in_several_places`, which should never happen; the one expected pair is a
later copy of an event filtered as a `duplicate` of a copy that was counted (the aggregation
worker's deduplication), which is counted in both places but not as in several.

A stage that writes only its exceptions (the aggregation worker: filtered decisions and dead
letters; a counted record writes nothing) has its "published" outcomes implied
(`implied_outcomes`): every copy it handed from its first step to its second (forward ->
aggregate) that the second step's consumer group has committed past, and that has no outcome of
its own, was counted."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Literal

Position = tuple[str, int, int]  # topic, partition, offset
Place = Literal["published", "filtered", "dead_lettered"]
PLACES: tuple[Place, ...] = ("published", "filtered", "dead_lettered")


def position_id(position: Position) -> str:
    """The ledger's name for a record that has no event id: where it was read."""
    topic, partition, offset = position
    return f"{topic}/{partition}@{offset}"


@dataclass(frozen=True)
class Input:
    """One record a stage read."""
    position: Position
    event_id: str | None  # None: the record could not be read (it is known by its position)

    @property
    def ident(self) -> str:
        return self.event_id or position_id(self.position)


@dataclass(frozen=True)
class Outcome:
    """One place a record ended in, as found on an output topic."""
    place: Place
    reason: str | None = None          # filtered and dead-lettered only
    event_id: str | None = None        # published and filtered records carry it
    position: Position | None = None   # filtered and dead-lettered records carry where the input was read


@dataclass(frozen=True)
class Handover:
    """A copy of an input record handed from one step of a stage to the next (the aggregation worker's shard
    copy), and whether the next step's consumer group has committed past it."""
    event_id: str | None
    source: Position | None   # the input record it copies, when the copy says
    consumed: bool


def implied_outcomes(handovers: Iterable[Handover], explicit: Iterable[Outcome],
                     place: Place = "published") -> list[Outcome]:
    """An outcome `place` for every consumed handover whose record has no explicit outcome. A copy that names its
    source is matched by position (so a duplicate's filtered copy does not hide the copy that was counted), one
    that does not by event id."""
    positions, ids = set(), set()
    for outcome in explicit:
        if outcome.position is not None:
            positions.add(outcome.position)
        if outcome.event_id is not None:
            ids.add(outcome.event_id)
    implied = []
    for h in handovers:
        if not h.consumed:
            continue
        decided = h.source in positions if h.source is not None else h.event_id in ids
        if not decided:
            implied.append(Outcome(place, event_id=h.event_id, position=h.source))
    return implied


@dataclass
class StageLedger:
    """What one stage did with the events it read."""
    stage: str
    records: int = 0                                   # input records read
    events: int = 0                                    # distinct events among them
    published: int = 0
    filtered: Counter = field(default_factory=Counter)        # reason -> events
    dead_lettered: Counter = field(default_factory=Counter)   # reason -> events
    duplicated: int = 0                                # events with more outcome records than raw copies
    extra_outcomes: int = 0                            # outcome records beyond one per raw copy
    in_several_places: int = 0
    missing: list[str] = field(default_factory=list)   # idents, sorted
    unmatched_outcomes: int = 0                        # outcomes of records outside the inputs (e.g. before --since)

    @property
    def ok(self) -> bool:
        return not self.missing

    def as_dict(self, max_ids: int | None = None) -> dict:
        ids = self.missing if max_ids is None else self.missing[:max_ids]
        return {"stage": self.stage, "records": self.records, "events": self.events, "published": self.published,
                "filtered": dict(sorted(self.filtered.items())),
                "dead_lettered": dict(sorted(self.dead_lettered.items())),
                "duplicated": self.duplicated, "extra_outcomes": self.extra_outcomes,
                "in_several_places": self.in_several_places, "missing": len(self.missing), "missing_ids": ids,
                "unmatched_outcomes": self.unmatched_outcomes}


def reconcile(stage: str, inputs: Iterable[Input], outcomes: Iterable[Outcome]) -> StageLedger:
    """Match every outcome to the input it belongs to (by position when it has one, else by event id) and
    say where each input event ended."""
    ledger = StageLedger(stage)
    copies: Counter = Counter()
    by_position: dict[Position, str] = {}
    for record in inputs:
        ledger.records += 1
        copies[record.ident] += 1
        by_position[record.position] = record.ident
    ledger.events = len(copies)

    found: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        ident = by_position.get(outcome.position) if outcome.position is not None else None
        if ident is None and outcome.event_id is not None and outcome.event_id in copies:
            ident = outcome.event_id
        if ident is None:
            ledger.unmatched_outcomes += 1
        else:
            found[ident].append(outcome)

    for ident, raw_copies in copies.items():
        ended = found.get(ident, [])
        if not ended:
            ledger.missing.append(ident)
            continue
        places = {o.place for o in ended}
        if "published" in places:
            ledger.published += 1
        for place, counter in (("filtered", ledger.filtered), ("dead_lettered", ledger.dead_lettered)):
            reasons = {o.reason or "unknown" for o in ended if o.place == place}
            for reason in sorted(reasons)[:1]:  # one event, one reason: the first in name order if it varied
                counter[reason] += 1
        expected_pair = places == {"published", "filtered"} and all(
            o.reason == "duplicate" for o in ended if o.place == "filtered")
        if len(places) > 1 and not expected_pair:
            ledger.in_several_places += 1
        if len(ended) > raw_copies:
            ledger.duplicated += 1
            ledger.extra_outcomes += len(ended) - raw_copies
    ledger.missing.sort()
    return ledger
