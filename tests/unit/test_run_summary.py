"""`run`'s summary, built from decoded records without a broker: the proofs of each promise, the
analytics section, the text and the JSON document, and the progress lines off a terminal."""

import io
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from pipeline_core.errors import ConfigError
from powersell.run import proofs, report
from powersell.run.owners import choose_shops, consent_args
from powersell.run.progress import PlainProgress
from streams.sharing import Partner

T0 = datetime(2026, 12, 6, 3, 0, tzinfo=timezone.utc)
SHOP = "shopee:143330422"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def event(shop=SHOP, seconds=0.0, **more):
    marketplace, shop_id = shop.split(":")
    return {"marketplace": marketplace.upper(), "shop_id": shop_id, "event_time": at(seconds), **more}


def partner_record(shop, seconds=0.0, **fields):
    marketplace, shop_id = shop.split(":")
    values = {"marketplace": marketplace.upper(), "shop_id": shop_id, **fields}
    return {"event_id": "e", "partner": "swiftship", "record_type": "ORDER", "event_time": at(seconds),
            "policy_version": "p", "fields": {k: json.dumps(v) for k, v in values.items()}}


# ---------------------------------------------------------------- withdrawal
def withdrawal(decoded, filtered=None):
    return proofs.withdrawal_proof(SHOP, at(10), at(30), decoded, filtered or {"consent_withdrawn": 2},
                                   polls_skipped=1, changes_while_withdrawn=2)


def test_when_events_stamped_while_withdrawn_stay_raw_then_the_withdrawal_is_kept_and_shown():
    decoded = [("raw.orders", SHOP, event(seconds=15)), ("raw.orders", SHOP, event(seconds=20)),
               ("raw.orders", SHOP, event(seconds=5)), ("redacted.orders", SHOP, event(seconds=5)),
               ("redacted.orders", SHOP, event(seconds=31))]
    proof = withdrawal(decoded)
    assert proof["raw_events_stamped_while_withdrawn"] == 2
    assert proof["downstream_events_stamped_while_withdrawn"] == 0
    assert proof["downstream_events_after_reconnection"] == 1
    assert proof["kept"] and proof["shown"]


@pytest.mark.parametrize("topic, record", [
    ("redacted.orders", event(seconds=10)),               # at the withdrawal's instant: it applies
    ("redacted.products", event(seconds=29.999)),
    ("partner.swiftship", partner_record(SHOP, seconds=12)),
])
def test_when_an_event_stamped_while_withdrawn_is_downstream_then_the_withdrawal_is_broken(topic, record):
    proof = withdrawal([(topic, SHOP, record)])
    assert proof["downstream_events_stamped_while_withdrawn"] == 1 and not proof["kept"]


def test_when_other_shops_have_events_in_the_interval_then_they_do_not_count():
    proof = withdrawal([("redacted.orders", "x", event("shopee:1", seconds=15)),
                        ("redacted.orders", "x", event("lazada:143330422", seconds=15))])
    assert proof["kept"] and proof["downstream_events_stamped_while_withdrawn"] == 0


def test_when_nothing_was_filtered_then_the_withdrawal_is_kept_but_not_shown():
    proof = withdrawal([], filtered={"no_consent": 3})
    assert proof["kept"] and not proof["shown"]
    assert proof["filtered_by_privacy_worker"] == {"no_consent": 3}


# ---------------------------------------------------------------- marketing
def test_when_the_shop_joins_then_leaves_marketing_and_stays_in_service_then_the_opt_out_is_shown():
    shop = "lazada:1"
    decoded = [("audience.marketing", shop, {"x": 1}), ("audience.service", shop, {"x": 1}),
               ("audience.marketing", "lazada:2", {"x": 1}), ("audience.marketing", shop, None)]
    proof = proofs.marketing_proof(shop, at(0), at(20), decoded)
    assert proof["marketing_audience"] == "joined, then left" and proof["service_audience"] == "member"
    assert proof["kept"] and proof["shown"]


def test_when_the_shop_is_still_a_marketing_member_after_opting_out_then_the_promise_is_broken():
    shop = "lazada:1"
    decoded = [("audience.marketing", shop, {"x": 1}), ("audience.marketing", shop, None),
               ("audience.marketing", shop, {"x": 1})]
    assert not proofs.marketing_proof(shop, at(0), at(20), decoded)["kept"]


# ---------------------------------------------------------------- erasure
def receipt(request_id="r1", destroyed=True):
    return {"receipt_id": "c1", "request_id": request_id, "subject_pseudonym": "ps_" + "a" * 32,
            "subject_type": "SHOP", "data_key_destroyed": destroyed, "completed_time": at(40),
            "tombstones": [{"topic": "consent.events", "count": 2}, {"topic": "audience.service", "count": 0}]}


def test_when_the_receipt_is_there_and_nothing_opens_then_the_erasure_is_shown():
    proof = proofs.erasure_proof("lazada:2", "r1", at(30), [("privacy.erasure-receipts", "ps", receipt())],
                                 sealed_records=5, opened_before=5, opened_after=0)
    assert proof["receipt"]["tombstones"] == {"consent.events": 2}
    assert proof["kept"] and proof["shown"]


@pytest.mark.parametrize("decoded, opened_after", [
    ([], 0),                                                     # no receipt
    ([("privacy.erasure-receipts", "ps", receipt("other"))], 0),  # another request's receipt
    ([("privacy.erasure-receipts", "ps", receipt(destroyed=False))], 0),
    ([("privacy.erasure-receipts", "ps", receipt())], 1),          # a sealed record still opens
])
def test_when_the_erasure_is_not_proven_then_it_is_broken(decoded, opened_after):
    proof = proofs.erasure_proof("lazada:2", "r1", at(30), decoded, 5, 5, opened_after)
    assert not proof["kept"]


# ---------------------------------------------------------------- sharing
SWIFTSHIP = Partner("swiftship", {"redacted.orders": ("event_id", "marketplace", "shop_id", "status",
                                                      "recipient.address.province", "items.quantity")})


def sharing(decoded):
    return proofs.sharing_proof("tiktok_shop:7", SWIFTSHIP, at(0), decoded, ["swiftship", "marketlens"])


def test_when_the_partner_gets_allowed_fields_of_the_consenting_shop_only_then_sharing_is_shown():
    record = partner_record("tiktok_shop:7", status="SHIPPED", recipient={"address": {"province": "Bangkok"}},
                            items=[{"quantity": 1}, {"quantity": 2}])
    no_recipient = partner_record("tiktok_shop:7", recipient=None)
    proof = sharing([("partner.swiftship", "e", record), ("partner.swiftship", "e", no_recipient)])
    assert proof["partner_records"] == 2 and proof["fields_outside_allow_list"] == []
    assert proof["kept"] and proof["shown"]


@pytest.mark.parametrize("topic, record, broken", [
    ("partner.swiftship", partner_record("tiktok_shop:8"), "records_of_other_shops"),
    ("partner.swiftship", partner_record("tiktok_shop:7", recipient={"name": "[NAME]"}), "fields_outside_allow_list"),
    ("partner.swiftship", partner_record("tiktok_shop:7", recipient="Somchai"), "fields_outside_allow_list"),
    ("partner.marketlens", {"fields": {}}, "records_on_other_partner_topics"),
])
def test_when_the_partner_topic_holds_more_than_allowed_then_sharing_is_broken(topic, record, broken):
    proof = sharing([(topic, "e", record)])
    assert not proof["kept"] and proof[broken]


# ---------------------------------------------------------------- analytics
def cell(suppressed=False, reason=None, province=None, granularity="DAILY", orders=30, hour=0):
    return {"window_start": T0.replace(hour=hour), "granularity": granularity, "marketplace": "SHOPEE", "country": "VN",
            "province": province, "category": None, "suppressed": suppressed, "suppression_reason": reason,
            "orders": None if suppressed else orders, "items_sold": None if suppressed else 40,
            "gmv": None if suppressed else Decimal("1234500.00"), "currency": "VND",
            "distinct_shops": None if suppressed else 12, "distinct_buyers": None if suppressed else 29}


def test_published_cells_come_first_country_totals_before_provinces_then_suppressions_by_reason():
    cells = [cell(province="Hà Nội"), cell(granularity="HOURLY", hour=2), cell(), cell(True, "SMALL_CELL"),
             cell(True, "SMALL_CELL"), cell(True, "COMPLEMENTARY"), cell(orders=0)]
    section = report.analytics_section(cells, k=10)
    assert [(r["province"], r["granularity"]) for r in section["published"]] == [
        (None, "daily"), (None, "hourly"), ("Hà Nội", "daily")]
    assert section["published"][0] | {"gmv": Decimal("1234500.00"), "shops": 12, "buyers": 29, "orders": 30} \
        == section["published"][0]
    assert section["suppressed"] == 3 and section["suppressed_by_reason"] == {"complementary": 1, "small_cell": 2}
    text = "\n".join(report._analytics(section))
    assert text.index("1234500.00") < text.index("suppressed: 3 of 7 cells")


# ---------------------------------------------------------------- the document
def summary(promises=None, leak=None, example=None):
    kept = {"withdrawal": withdrawal([("raw.orders", SHOP, event(seconds=15))])}
    return report.build_summary(
        duration_s=100.0, bootstrap="127.0.0.1:9092",
        per_topic=[{"topic": "redacted.orders", "access": "downstream", "events": 10}],
        filtered={"consent_withdrawn": 2}, dead_letters={("redactor", "invalid_json"): 1},
        promises=kept if promises is None else promises,
        analytics=report.analytics_section([cell()], 10),
        leak=leak or {"personal_values": 50, "in_downstream": 0, "readable_without_keys": 0},
        endpoints={"connectors": "http://127.0.0.1:1/metrics"}, workers_alive=True, example=example)


def test_the_summary_is_ok_only_when_every_promise_held_and_nothing_leaked():
    assert summary()["ok"]
    assert not summary(leak={"personal_values": 50, "in_downstream": 1, "readable_without_keys": 0})["ok"]
    broken = withdrawal([("redacted.orders", SHOP, event(seconds=15))])
    assert not summary(promises={"withdrawal": broken})["ok"]


def test_the_json_document_parses_and_leaves_the_raw_example_out():
    doc = json.loads(report.to_json(summary(example={"raw": {"buyer": {"name": "Nguyễn Văn An"}},
                                                     "redacted": {"buyer": {"name": "[NAME]"}}})))
    assert doc["ok"] is True and doc["example_order"] == {"redacted": {"buyer": {"name": "[NAME]"}}}
    assert doc["promises"]["withdrawal"]["withdrawn_at"] == "2026-12-06T03:00:10Z"
    assert doc["analytics"]["published"][0]["gmv"] == "1234500.00"
    assert "Nguyễn" not in report.to_json(summary(example={"raw": {"n": "Nguyễn"}, "redacted": {"n": "[NAME]"}}))


def test_the_text_shows_each_promise_with_its_proof_then_the_analytics():
    text = report.render_text(summary())
    assert text.index("Connection withdrawn (R1)") < text.index("Analytics (R7)") < text.index("leak scan")
    assert "privacy worker filtered by reason: consent_withdrawn 2" in text
    assert text.rstrip().endswith("OK")


# ---------------------------------------------------------------- the owners and the progress
def test_four_different_shops_act_and_the_audience_ones_are_lazadas():
    plan = choose_shops({"shopee": ["1", "2"], "lazada": ["3", "4"], "tiktok_shop": ["5", "6"]})
    assert plan.marketing.startswith("lazada:") and plan.erase.startswith("lazada:")
    assert len({plan.withdraw, plan.marketing, plan.erase, plan.share}) == 4
    with pytest.raises(ConfigError):
        choose_shops({"shopee": ["1"], "lazada": ["3"], "tiktok_shop": ["5"]})


def test_the_owners_consent_changes_pass_the_consent_commands_checks():
    from powersell.consent_commands import change_record
    key, record = change_record(consent_args("withdraw", SHOP, "connection", "app-consent-1"))
    assert key == f"{SHOP}|SHOP_DATA_CONNECTION|shopee" and record["status"] == "WITHDRAWN"
    key, record = change_record(consent_args("grant", "tiktok_shop:7", "sharing", "p", scope="swiftship"))
    assert record["purpose"] == "THIRD_PARTY_SHARING" and record["purpose_scope"] == "swiftship"


def test_off_a_terminal_progress_is_plain_lines_throttled_with_elapsed_time():
    now = [0.0]
    out = io.StringIO()
    progress = PlainProgress(out, plain_every=10, clock=lambda: now[0])
    progress.start("[3/5] syncing")
    for second in range(1, 25):
        now[0] = second
        progress.update(f"{second * 10} raw events")
    progress.note("shopee:1 withdraws its connection")
    progress.finish("240 raw events")
    lines = out.getvalue().splitlines()
    assert lines == ["[3/5] syncing", "  100 raw events (10 s)", "  200 raw events (20 s)",
                     "  shopee:1 withdraws its connection", "  done in 24 s: 240 raw events"]
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()


# ---------------------------------------------------------------- the leak scan
@pytest.mark.parametrize("values, texts, found", [
    (["0912345678"], ["call 0912345678 now"], ["0912345678"]),
    (["0912345678"], ["item 7509123456789912"], []),                     # inside a longer number: an id
    (["Nguyễn Văn An"], ["giao cho Nguyễn Văn An, 12 Lê Lợi"], ["Nguyễn Văn An"]),
    (["Nguyễn Văn An"], ["Nguyễn Văn Anh"], []),
    (["an.nguyen@example.vn"], ['{"note": "mail an.nguyen@example.vn"}'], ["an.nguyen@example.vn"]),
    (["+66 81 234 5678"], ["tel:+66 81 234 5678"], ["+66 81 234 5678"]),
    (["สมชาย ใจดี"], ["ผู้รับ สมชาย ใจดี"], ["สมชาย ใจดี"]),
    (["Nguyễn Văn An"], ["Nguyễn", "Văn An"], []),                      # words in two different texts
])
def test_a_personal_value_is_found_only_where_it_stands_as_a_whole(values, texts, found):
    from powersell.run.evidence import found_in
    assert found_in(values, texts) == found


def test_json_dash_prints_the_document_instead_of_the_text_and_a_path_gets_it_beside_the_text(tmp_path, capsys):
    from powersell.main_job import _print
    _print(summary(), "-")
    assert json.loads(capsys.readouterr().out)["ok"] is True
    _print(summary(), str(tmp_path / "s.json"))
    assert capsys.readouterr().out.rstrip().endswith("OK")
    assert json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))["promises"]["withdrawal"]["kept"]
