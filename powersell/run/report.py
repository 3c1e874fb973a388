"""`run`'s summary: one dict (the `--json` document) built from what the run read back, and its
text form. Pure: no Kafka, no clock.

The text puts first what a newcomer came to see: each privacy promise with what happened and
the proof, then the analytics cells that were published with their numbers, then how many
were suppressed and why. The raw side of the example order is personal data: it is printed on
the console (marked RESTRICTED) but never written to the JSON document, which may be kept."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timezone
from typing import Any

from pipeline_core.avro_codec import jsonable

SUPPRESSION_WHY = {
    "small_cell": "fewer than k distinct shops, or fewer than k distinct buyers",
    "dominance": "one shop has more than half of the cell's GMV",
    "complementary": "would give a suppressed cell away by subtraction from its total",
}
FILTER_WHY = {
    "consent_withdrawn": "the shop had withdrawn its connection at the event's time",
    "no_consent": "no connection consent on record (never given, or erased)",
    "consent_expired": "the marketplace authorisation had expired",
    "subject_erased": "the shop's data key was destroyed (erased)",
}


# ---------------------------------------------------------------- analytics
def window_label(cell: dict) -> str:
    start = cell["window_start"]
    if cell["granularity"] == "DAILY":
        return f"day {start:%Y-%m-%d}"
    return f"hour {start:%m-%d %H:00}"


def _published_order(cell: dict) -> tuple:
    """Country totals first, then by province and category; days before hours; the latest window first."""
    detail = (cell["province"] is not None) + (cell["category"] is not None)
    return (detail, cell["granularity"] != "DAILY", -cell["window_start"].timestamp(), cell["marketplace"],
            cell["country"], cell["province"] or "", cell["category"] or "")


def analytics_section(cells: list[dict], k: int, shown: int = 12) -> dict[str, Any]:
    """cells: the latest version of each cell this run wrote to analytics.aggregates."""
    published = sorted((c for c in cells if not c["suppressed"] and (c["orders"] or 0) > 0), key=_published_order)
    reasons = Counter(str(c["suppression_reason"]).lower() for c in cells if c["suppressed"])
    rows = [{"marketplace": c["marketplace"].lower(), "country": c["country"], "province": c["province"],
             "category": c["category"], "granularity": c["granularity"].lower(), "window": window_label(c),
             "window_start": c["window_start"], "orders": c["orders"], "items_sold": c["items_sold"],
             "gmv": c["gmv"], "currency": c["currency"], "shops": c["distinct_shops"], "buyers": c["distinct_buyers"]}
            for c in published]
    return {"k": k, "cells": len(cells), "published_with_orders": len(published),
            "country_totals_published": sum(1 for r in rows if r["province"] is None and r["category"] is None),
            "published": rows[:shown], "suppressed": sum(reasons.values()),
            "suppressed_by_reason": dict(sorted(reasons.items()))}


# ---------------------------------------------------------------- the document
def build_summary(*, duration_s: float, bootstrap: str, per_topic: list[dict], filtered: dict[str, int],
                  dead_letters: dict[tuple[str, str], int], promises: dict[str, dict], analytics: dict,
                  leak: dict, endpoints: dict[str, str], workers_alive: bool, example: dict | None) -> dict[str, Any]:
    redacted_orders = next((t["events"] for t in per_topic if t["topic"] == "redacted.orders"), 0)
    ok = (workers_alive and redacted_orders > 0 and not leak["in_downstream"] and not leak["readable_without_keys"]
          and all(p["kept"] for p in promises.values()))
    return {"ok": ok, "duration_s": round(duration_s, 1), "kafka": bootstrap, "workers_alive": workers_alive,
            "topics": per_topic, "promises": promises,
            "filtered_by_consent_gate": dict(sorted(filtered.items())),
            "dead_letters": [{"stage": s, "reason": r, "count": n} for (s, r), n in sorted(dead_letters.items())],
            "analytics": analytics, "leak_scan": leak, "metrics_endpoints": endpoints,
            "example_order": example}


def to_json(summary: dict) -> str:
    """The summary as one JSON document, without the raw (personal) side of the example order."""
    doc = dict(summary)
    if doc.get("example_order"):
        doc["example_order"] = {"redacted": doc["example_order"]["redacted"]}
    return json.dumps(jsonable(doc), ensure_ascii=False, indent=2)


# ---------------------------------------------------------------- text
def _at(value: datetime | None) -> str:
    return "-" if value is None else value.astimezone(timezone.utc).strftime("%H:%M:%S UTC")


def _mark(promise: dict) -> str:
    if not promise["kept"]:
        return "BROKEN"
    return "kept" if promise["shown"] else "kept (nothing to show in this run)"


def _withdrawal(p: dict) -> list[str]:
    filtered = ", ".join(f"{r} {n}" for r, n in p["filtered_by_privacy_worker"].items()) or "none"
    back = f"connected again at {_at(p['reconnected_at'])}" if p["reconnected_at"] else "did not connect again"
    return [
        f"Connection withdrawn (R1): {p['shop']} withdrew at {_at(p['withdrawn_at'])} in the PowerSell app, {back}. "
        f"[{_mark(p)}]",
        f"  meanwhile at the marketplace: {p['changes_at_marketplace_while_withdrawn']} changes of the shop; "
        f"connector polls of it skipped: {p['connector_polls_skipped']}",
        f"  raw events stamped while withdrawn (read after it connected again): "
        f"{p['raw_events_stamped_while_withdrawn']}; privacy worker filtered by reason: {filtered}",
        f"  downstream events of the shop stamped while withdrawn: {p['downstream_events_stamped_while_withdrawn']} "
        f"(scanned redacted.* and partner.*); after it connected again: {p['downstream_events_after_reconnection']}",
    ]


def _marketing(p: dict) -> list[str]:
    return [
        f"Marketing opt-out (R6): {p['shop']} opted in at {_at(p['opted_in_at'])}, out at {_at(p['opted_out_at'])}. "
        f"[{_mark(p)}]",
        f"  audience.marketing: {p['marketing_audience']}; audience.service: {p['service_audience']} "
        "(service announcements cannot be opted out of)",
    ]


def _erasure(p: dict) -> list[str]:
    lines = [f"Erasure (R12): {p['shop']} asked for erasure at {_at(p['requested_at'])}. [{_mark(p)}]"]
    r = p["receipt"]
    if r is None:
        lines.append("  no erasure receipt was published")
    else:
        tombs = ", ".join(f"{t} {n}" for t, n in r["tombstones"].items()) or "none live"
        lines.append(f"  receipt {r['receipt_id']} at {_at(r['completed_time'])} names the shop only as "
                     f"{r['subject_pseudonym'][:16]}...: data key destroyed: {'yes' if r['data_key_destroyed'] else 'no'}; "
                     f"keys tombstoned: {tombs}")
    lines.append(f"  the shop's {p['sealed_records']} raw records with sealed fields: {p['opened_before_erasure']} "
                 f"opened before the erasure, {p['opened_after_erasure']} open now")
    return lines


def _sharing(p: dict) -> list[str]:
    others = ", ".join(f"{t} {n}" for t, n in p["records_on_other_partner_topics"].items())
    outside = ", ".join(p["fields_outside_allow_list"]) or "none"
    return [
        f"Sharing with a partner (R4, R11): {p['shop']} authorised {p['partner']} at {_at(p['granted_at'])}. "
        f"[{_mark(p)}]",
        f"  partner.{p['partner']}: {p['partner_records']} records, {p['records_of_other_shops']} of other shops; "
        f"fields outside the allow-list: {outside}",
        f"  allow-list: {', '.join(p['allow_list'])}",
        f"  other partners (no shop authorised them): {others or 'none'}",
    ]


def _analytics(a: dict) -> list[str]:
    lines = [f"Analytics (R7): {a['published_with_orders']} cells published with orders "
             f"({a['country_totals_published']} country totals), k = {a['k']} distinct shops and buyers per cell"]
    if a["published"]:
        lines.append(f"  {'marketplace':<12}{'country':<8}{'window':<18}{'province / category':<24}"
                     f"{'orders':>7}{'GMV':>18} {'cur':<4}{'shops':>6}{'buyers':>7}")
        for r in a["published"]:
            detail = " / ".join(x for x in (r["province"], r["category"]) if x) or "(country total)"
            lines.append(f"  {r['marketplace']:<12}{r['country']:<8}{r['window']:<18}{detail[:23]:<24}"
                         f"{r['orders']:>7}{str(r['gmv']):>18} {r['currency'] or '':<4}{r['shops']:>6}{r['buyers']:>7}")
    why = "; ".join(f"{reason} {n} ({SUPPRESSION_WHY.get(reason, reason)})"
                    for reason, n in a["suppressed_by_reason"].items())
    lines.append(f"  suppressed: {a['suppressed']} of {a['cells']} cells" + (f": {why}" if why else ""))
    return lines


def render_text(summary: dict) -> str:
    s = summary
    out = [f"PowerSell pipeline run: {s['duration_s']:.0f} s, Kafka at {s['kafka']}", "",
           "Privacy promises, each acted on by a simulated shop owner during the run:"]
    for render, name in ((_withdrawal, "withdrawal"), (_marketing, "marketing_opt_out"), (_erasure, "erasure"),
                         (_sharing, "sharing")):
        if name in s["promises"]:
            out += render(s["promises"][name])
    out += [""] + _analytics(s["analytics"])
    out += ["", f"{'topic':<28}{'access':<12}{'events':>8}"]
    out += [f"{t['topic']:<28}{t['access']:<12}{t['events']:>8}" for t in s["topics"]]
    gate = ", ".join(f"{r} {n} ({FILTER_WHY.get(r, r)})" for r, n in s["filtered_by_consent_gate"].items())
    out += ["", "filtered by the consent gate: " + (gate or "none")]
    dead = ", ".join(f"{d['stage']} {d['reason']}: {d['count']}" for d in s["dead_letters"])
    out.append("dead letters by reason: " + (dead or "none"))
    if s.get("example_order"):
        out += ["", "One order, raw (RESTRICTED: personal data, pipeline services only):",
                json.dumps(jsonable(s["example_order"]["raw"]), ensure_ascii=False, indent=2),
                "...and as downstream teams see it on redacted.orders:",
                json.dumps(jsonable(s["example_order"]["redacted"]), ensure_ascii=False, indent=2)]
    leak = s["leak_scan"]
    out += ["", f"leak scan: {leak['personal_values']} personal values seen in this run's raw events (opened with the "
                f"key store); {leak['in_downstream']} found in downstream topics"
                + (" -- LEAK" if leak["in_downstream"] else " (none)")
                + f"; {leak['readable_without_keys']} readable without keys in the raw and dead-letter topics"
                + (" -- LEAK" if leak["readable_without_keys"] else " (none: sealed at the connector)")]
    out += ["", "metrics endpoints (served while the run lasted):"]
    out += [f"  {label:<19} {url}" for label, url in s["metrics_endpoints"].items()]
    if not s["workers_alive"]:
        out.append("a stream worker stopped during the run: see its log in the data dir")
    out += ["", "OK" if s["ok"] else "FAILED: see above"]
    return "\n".join(out)
