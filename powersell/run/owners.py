"""The shop owners who act during `run`, so that each privacy promise is seen at work.

They act the way real owners' actions reach the pipeline: consent changes are built by the
`consent` command's own builder (`change_record`: the same checks, proof reference and key)
and written to consent.events; the erasure request goes to privacy.erasure-requests as the
app would send it, and the privacy worker carries it out and publishes the receipt.

    at the start      the marketing shop opts in to marketing; the sharing shop authorises a partner
    at 15 %           the withdrawing shop withdraws its connection
    then              it connects again once the marketplace shows 3 changes of it made meanwhile
                      (at the latest at 65 %), so the connector reads them and the privacy worker
                      must filter them: they are stamped while the connection was withdrawn
    once it is in     the marketing shop opts out (at the latest at 80 %)
    the audience
    at 50 %           the erasing shop asks for erasure; its sealed records are opened just before

Steps are taken when their condition holds, checked about once a second; `wait_for_receipt()` waits for
the erasure receipt after the connectors stop."""

from __future__ import annotations

import argparse
import json
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from pipeline_core.errors import ConfigError

PARTNER = "swiftship"  # its allow-list keeps shop_id and marketplace, so its topic can be checked shop by shop


@dataclass(frozen=True)
class OwnerPlan:
    withdraw: str   # marketplace:shop_id of each acting shop
    marketing: str
    erase: str
    share: str
    partner: str = PARTNER


def choose_shops(shops: dict[str, list[str]]) -> OwnerPlan:
    """Four different shops. The marketing and erasing shops are Lazada's: its seller API is the one
    that gives the seller's contact details, without which a shop is in no audience."""
    lazada, others = shops.get("lazada", []), [m for m in shops if m != "lazada" and shops[m]]
    if len(lazada) < 2 or len(others) < 2:
        raise ConfigError("run needs at least 2 simulated shops per marketplace (--shops 2)")
    return OwnerPlan(withdraw=f"{others[0]}:{shops[others[0]][0]}", marketing=f"lazada:{lazada[0]}",
                     erase=f"lazada:{lazada[1]}", share=f"{others[1]}:{shops[others[1]][0]}")


def consent_args(action: str, subject: str, purpose: str, proof: str, scope: str | None = None,
                 at: datetime | None = None) -> argparse.Namespace:
    """What `consent grant|withdraw` would have parsed, for change_record."""
    return argparse.Namespace(action=action, subject=subject, purpose=purpose, scope=scope, subject_type=None,
                              source="app", proof=proof, legal_basis="consent",
                              at=at.isoformat() if at else None)


@dataclass
class Timeline:
    """What the owners did and when (UTC); what the summary's proofs need."""

    run_id: str
    plan: OwnerPlan
    marketing_in: datetime | None = None
    marketing_out: datetime | None = None
    shared: datetime | None = None
    withdrawn: datetime | None = None
    reconnected: datetime | None = None
    changes_while_withdrawn: int = 0
    erasure_request: str | None = None
    erasure_requested: datetime | None = None
    erasure_receipt: bool = False
    sealed_records: int = 0
    opened_before: int = 0
    polls_skipped: int = 0
    notes: list[str] = field(default_factory=list)


class ShopOwners:
    """Runs the plan in a thread beside the connectors. `read_since(topics)` reads this run's records
    of some topics; `opened(subject)` -> (sealed raw records of the shop, how many open now)."""

    def __init__(self, settings, plan: OwnerPlan, sim_urls: dict[str, str], publisher,
                 read_keys: Callable[[str], list[tuple[str | None, dict | None]]],
                 opened: Callable[[str], tuple[int, int]], note: Callable[[str], None]):
        self.settings, self.sim_urls, self.publisher = settings, sim_urls, publisher
        self.read_keys, self.opened, self.note = read_keys, opened, note
        self.timeline = Timeline(uuid.uuid4().hex[:8], plan)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.error: str | None = None

    # ---------------------------------------------------------------- the owners' actions
    def _consent(self, action: str, subject: str, purpose: str, scope: str | None = None) -> datetime:
        from powersell.consent_commands import change_record
        proof = f"app-consent-{self.timeline.run_id}-{purpose}-{action}"
        key, record = change_record(consent_args(action, subject, purpose, proof, scope))
        self.publisher.send("consent.events", key, record).get(timeout=30)
        return record["effective_time"]

    def _ask_erasure(self, subject: str) -> None:
        from streams.erasure import REQUESTS_TOPIC
        t = self.timeline
        t.sealed_records, t.opened_before = self.opened(subject)
        t.erasure_request = uuid.uuid4().hex
        t.erasure_requested = datetime.now(timezone.utc)
        request = {"request_id": t.erasure_request, "subject_type": "SHOP", "subject_id": subject,
                   "requested_by": "shop owner (PowerSell app)", "reference": f"app-erasure-{t.run_id}",
                   "requested_time": t.erasure_requested}
        self.publisher.send(REQUESTS_TOPIC, subject, request).get(timeout=30)

    def _changes_since(self, subject: str, since: datetime) -> int:
        """Changes of the shop stamped at or after `since`, from the simulated marketplace's ground truth."""
        marketplace, shop_id = subject.split(":", 1)
        with urllib.request.urlopen(f"{self.sim_urls[marketplace]}/_sim/ground_truth", timeout=10) as reply:
            truth = json.load(reply)
        start = since.timestamp()
        return sum(1 for kind in ("orders", "products") for key, at in truth[kind].items()
                   if key.startswith(f"{shop_id}:") and at >= start)

    def _in_marketing(self, subject: str) -> bool:
        return any(k == subject and v is not None for k, v in self.read_keys("audience.marketing"))

    def _receipt_seen(self) -> bool:
        return any(v is not None and v.get("request_id") == self.timeline.erasure_request
                   for _, v in self.read_keys("privacy.erasure-receipts"))

    # ---------------------------------------------------------------- the schedule
    def start(self, duration: float) -> None:
        self._thread = threading.Thread(target=self._run, args=(duration,), name="shop-owners", daemon=True)
        self._thread.start()

    def _run(self, duration: float) -> None:
        t, plan, began = self.timeline, self.timeline.plan, time.monotonic()

        def at(fraction: float) -> bool:
            return time.monotonic() - began >= fraction * duration

        def withdraw():
            t.withdrawn = self._consent("withdraw", plan.withdraw, "connection")
            self.note(f"{plan.withdraw} withdraws its connection in the PowerSell app")

        def reconnect():
            t.changes_while_withdrawn = self._changes_since(plan.withdraw, t.withdrawn)
            t.reconnected = self._consent("grant", plan.withdraw, "connection")
            self.note(f"{plan.withdraw} connects again ({t.changes_while_withdrawn} changes made meanwhile)")

        def opt_out():
            t.marketing_out = self._consent("withdraw", plan.marketing, "marketing")
            self.note(f"{plan.marketing} opts out of marketing")

        def erase():
            self._ask_erasure(plan.erase)
            self.note(f"{plan.erase} asks for erasure")

        steps: list[tuple[Callable[[], bool], Callable[[], None]]] = [
            (lambda: at(0.15), withdraw),
            (lambda: t.withdrawn is not None and (at(0.65) or (
                at(0.15 + 10 / duration) and self._changes_since(plan.withdraw, t.withdrawn) >= 3)), reconnect),
            (lambda: at(0.8) or (at(0.25) and self._in_marketing(plan.marketing)), opt_out),
            (lambda: at(0.5), erase),
        ]
        try:
            t.marketing_in = self._consent("grant", plan.marketing, "marketing")
            t.shared = self._consent("grant", plan.share, "sharing", plan.partner)
            self.note(f"{plan.marketing} opts in to marketing; {plan.share} authorises partner {plan.partner}")
            while steps and not self._stop.is_set():
                for step in [s for s in steps if s[0]()]:
                    step[1]()
                    steps.remove(step)
                self._stop.wait(1.0)
        except Exception as exc:  # the run goes on and its summary shows the promise as not acted on
            self.error = f"{type(exc).__name__}: {exc}"
            self.note(f"a shop owner's action failed: {self.error}")

    def stop(self) -> None:
        """The connectors stopped. Every step falls due by 80 % of the duration, so this only ends the loop."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def wait_for_receipt(self, timeout: float, stopped: Callable[[], bool] = lambda: False) -> bool:
        deadline = time.monotonic() + timeout
        while self.timeline.erasure_request and time.monotonic() < deadline and not stopped():
            if self._receipt_seen():
                self.timeline.erasure_receipt = True
                return True
            time.sleep(1.0)
        return False
