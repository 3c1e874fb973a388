"""The simulators' seeded world: deterministic, spread over history, moving on with tick(),
queried by time window, and made of realistic Vietnamese and Thai content."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import re
import time
from collections import Counter
from decimal import Decimal

import pytest

from connectors.simulators import vocab
from connectors.simulators.world import OPEN_STATUSES, World

NOW = 1_763_000_000          # 2025-11-13 02:13:20 UTC
DAY = 86_400
MARKETPLACES = ("shopee", "lazada", "tiktok_shop")
TRANSITIONS = {("UNPAID", "READY_TO_SHIP"), ("UNPAID", "CANCELLED"), ("READY_TO_SHIP", "SHIPPED"),
               ("READY_TO_SHIP", "CANCELLED"), ("SHIPPED", "COMPLETED")}


class FakeClock:
    def __init__(self, now: float = NOW):
        self.now = float(now)

    def __call__(self) -> float:
        return self.now


def make_world(marketplace: str = "shopee", seed: int = 7, now: float = NOW, **kwargs) -> World:
    return World(marketplace, seed=seed, clock=FakeClock(now), **kwargs)


def records(world: World) -> dict:
    return {"shops": [dataclasses.asdict(s) for s in world.shops.values()],
            "products": [dataclasses.asdict(p) for p in world.products.values()],
            "orders": [dataclasses.asdict(o) for o in world.orders.values()]}


def without_times(record: dict, marketplace: str) -> dict:
    """A record with its timestamps (and Shopee's date-stamped order_sn prefix) removed."""
    out = {k: v for k, v in record.items() if k not in ("create_time", "update_time")}
    if marketplace == "shopee" and "order_id" in out:
        out["order_id"] = out["order_id"][6:]
    return out


def luhn_valid(number: str) -> bool:
    total = 0
    for i, digit in enumerate(int(d) for d in reversed(number)):
        if i % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


@pytest.fixture(scope="module", params=MARKETPLACES)
def world(request) -> World:
    return make_world(request.param)


# ---------------------------------------------------------------------------- determinism
@pytest.mark.parametrize("marketplace", MARKETPLACES)
def test_when_same_seed_and_ticks_then_same_records(marketplace):
    one, two = make_world(marketplace), make_world(marketplace)
    assert records(one) == records(two)
    for _ in range(5):
        assert one.tick(7) == two.tick(7)
    assert records(one) == records(two)
    assert one.ground_truth() == two.ground_truth()


@pytest.mark.parametrize("marketplace", MARKETPLACES)
def test_when_clock_differs_then_only_timestamps_differ(marketplace):
    early, late = make_world(marketplace, now=NOW), make_world(marketplace, now=NOW + 3 * DAY + 17)
    for a, b in zip(records(early)["orders"], records(late)["orders"]):
        assert without_times(a, marketplace) == without_times(b, marketplace)
        assert b["update_time"] - a["update_time"] == 3 * DAY + 17
    for kind in ("shops", "products"):
        assert [without_times(r, marketplace) for r in records(early)[kind]] == \
               [without_times(r, marketplace) for r in records(late)[kind]]
    changes_early, changes_late = early.tick(20), late.tick(20)
    assert [(c.kind, c.entity) for c in changes_early] == [(c.kind, c.entity) for c in changes_late]


def test_when_marketplace_or_seed_differs_then_world_differs():
    shops = {m: set(make_world(m).shops) for m in MARKETPLACES}
    assert not shops["shopee"] & shops["lazada"] and not shops["lazada"] & shops["tiktok_shop"]
    assert set(make_world("shopee", seed=8).shops) != shops["shopee"]
    # the marketplace seeds the RNG (not just the id style): same id style, different worlds
    sellers = {m: [s.seller_name for s in make_world(m).shops.values()] for m in ("market-a", "market-b")}
    assert sellers["market-a"] != sellers["market-b"]


def test_when_ticked_in_one_step_or_many_then_same_changes():
    one, many = make_world("lazada"), make_world("lazada")
    assert one.tick(6) == [c for _ in range(6) for c in many.tick(1)]   # SimulatorBase ticks one at a time
    assert records(one) == records(many)


@pytest.mark.parametrize("marketplace, shop, item, order", [
    ("shopee", r"\d{9}", r"\d{11}", r"\d{6}[0-9A-Z]{7}"),
    ("lazada", r"\d{10}", r"\d{10}", r"\d{15}"),
    ("tiktok_shop", r"\d{19}", r"\d{19}", r"\d{19}"),
])
def test_when_marketplace_given_then_ids_have_its_style(marketplace, shop, item, order):
    world = make_world(marketplace)
    world.tick(20)
    assert all(re.fullmatch(shop, s) for s in world.shops)
    assert all(re.fullmatch(item, p.item_id) and p.item_id[0] != "0" for p in world.products.values())
    assert all(re.fullmatch(order, o.order_id) for o in world.orders.values())
    ids = [p.item_id for p in world.products.values()] + [s.sku_id for p in world.products.values() for s in p.skus]
    assert len(ids) == len(set(ids))
    if marketplace == "shopee":   # order_sn starts with its creation date
        assert all(o.order_id[:6] == time.strftime("%y%m%d", time.gmtime(o.create_time)) for o in world.orders.values())


# ---------------------------------------------------------------------------- history
def test_when_built_then_history_spreads_over_the_days_before(world):
    start, end = NOW - 45 * DAY, NOW - 300
    for record in [*world.products.values(), *world.orders.values()]:
        assert start <= record.create_time <= record.update_time <= end
    for shop in world.shops.values():
        assert shop.create_time < start <= shop.update_time <= end
    created = [o.create_time for o in world.orders.values()]
    assert min(created) < NOW - 30 * DAY and max(created) > NOW - 10 * DAY   # more than two 15-day windows
    assert len(world.shops) == 4 and len(world.products) == 4 * 30 and len(world.orders) == 4 * 60
    assert {s.country for s in world.shops.values()} == {"VN", "TH"}
    statuses = Counter(o.status for o in world.orders.values())
    assert statuses["COMPLETED"] and statuses["CANCELLED"] and sum(statuses[s] for s in OPEN_STATUSES)


# ---------------------------------------------------------------------------- ticks
@pytest.mark.parametrize("marketplace", MARKETPLACES)
def test_when_ticked_then_changes_are_stamped_and_recorded(marketplace):
    clock = FakeClock()
    world = World(marketplace, clock=clock)
    assert len(world.tick(5)) == 5 and world.tick(0) == []
    orders_before, seen = len(world.orders), Counter()
    for step in range(200):
        clock.now += 20
        statuses = {k: o.status for k, o in world.orders.items()}
        updated = {("order", *k): o.update_time for k, o in world.orders.items()}
        updated |= {("product", *k): p.update_time for k, p in world.products.items()}
        [change] = world.tick(1)
        seen[change.kind] += 1
        key = (change.shop_id, change.entity_id)
        record = world.orders[key] if change.entity == "order" else world.products[key]
        assert record.update_time == change.update_time
        if change.kind == "late_update":
            assert clock.now - 240 <= change.update_time <= clock.now - 30
            assert updated[(change.entity, *key)] < change.update_time   # never moves back in time
        else:
            assert change.update_time == clock.now
        if change.kind in ("new_order", "new_product"):
            assert record.create_time == clock.now and (change.entity, *key) not in updated
            assert record.status in (("NORMAL", "UNLIST") if change.entity == "product" else
                                     ("READY_TO_SHIP",) if record.payment_method == "COD" else ("UNPAID",))
        if change.kind == "order_status" or (change.kind == "late_update" and change.entity == "order"):
            assert (statuses[key], record.status) in TRANSITIONS
    assert set(seen) == {"new_order", "order_status", "price_update", "late_update", "new_product"}
    assert len(world.orders) == orders_before + seen["new_order"]


def test_when_price_updated_then_currency_precision_is_kept():
    world = make_world("lazada")
    changed = [c for _ in range(30) for c in world.tick(5) if c.kind in ("price_update", "late_update")]
    products = [world.products[(c.shop_id, c.entity_id)] for c in changed if c.entity == "product"]
    assert {p.currency for p in products} == {"VND", "THB"}
    for product in products:
        for price in (s.price for s in product.skus):
            assert price > 0
            assert price == price.to_integral_value() if product.currency == "VND" else price.as_tuple().exponent == -2


def test_when_late_update_then_a_lookback_window_catches_it():
    clock = FakeClock()
    world = World("tiktok_shop", clock=clock)
    cursor = int(clock.now)                 # a connector synced everything before this
    clock.now += 300
    late = [c for _ in range(10) for c in world.tick(5) if c.kind == "late_update"]
    assert late
    found = world.products_updated
    for change in late:
        lookup = found if change.entity == "product" else world.orders_in
        ids = [getattr(r, "item_id", None) or r.order_id for r in lookup(change.shop_id, cursor, int(clock.now) + 1)]
        assert change.entity_id in ids
        window_after_tick = lookup(change.shop_id, int(clock.now) - 29, int(clock.now) + 1)
        assert change.entity_id not in [getattr(r, "item_id", None) or r.order_id for r in window_after_tick]


# ---------------------------------------------------------------------------- queries
def test_when_window_queried_then_exactly_the_window_sorted(world):
    shop_id = next(iter(world.shops))
    orders = sorted(o.update_time for o in world.orders.values() if o.shop_id == shop_id)
    start, end = orders[5], orders[-5]             # bounds on existing timestamps: start in, end out
    got = world.orders_in(shop_id, start, end)
    expected = {o.order_id for o in world.orders.values() if o.shop_id == shop_id and start <= o.update_time < end}
    assert {o.order_id for o in got} == expected and len(got) == len(expected)
    assert got == sorted(got, key=lambda o: (o.update_time, o.order_id))
    assert got[0].update_time == start and all(o.update_time != end for o in got)
    by_create = world.orders_in(shop_id, start, end, field="create_time")
    assert by_create == sorted(by_create, key=lambda o: (o.create_time, o.order_id))
    assert all(start <= o.create_time < end and o.shop_id == shop_id for o in by_create)
    products = world.products_updated(shop_id, NOW - 20 * DAY, NOW)
    assert {p.item_id for p in products} == {p.item_id for p in world.products.values()
                                             if p.shop_id == shop_id and NOW - 20 * DAY <= p.update_time < NOW}
    assert products == sorted(products, key=lambda p: (p.update_time, p.item_id))
    assert world.orders_in("no-such-shop", 0, NOW * 2) == []
    with pytest.raises(ValueError):
        world.orders_in(shop_id, 0, NOW, field="pay_time")


def test_when_ground_truth_asked_then_it_matches_the_records():
    world = make_world("shopee")
    world.tick(10)
    truth = json.loads(json.dumps(world.ground_truth()))
    assert truth["marketplace"] == "shopee"
    assert truth["shops"] == {s.shop_id: s.update_time for s in world.shops.values()}
    assert truth["products"] == {f"{p.shop_id}:{p.item_id}": p.update_time for p in world.products.values()}
    assert truth["orders"] == {f"{o.shop_id}:{o.order_id}": o.update_time for o in world.orders.values()}


# ---------------------------------------------------------------------------- realistic content
PHONE = re.compile(r"""
    (?:\+?84|0) [\s.\-()]* \d{2,3} [\s.\-)]* \d{3,4} [\s.\-]* \d{3,4}     # VN: 0912 345 678, 84-28-3823-4567
  | (?:\+?66|0) [\s\-()]*  \d{1,2} [\s\-)]*  \d{3}   [\s\-]*  \d{3,4}     # TH: 081-234-5678, 02-123-4567
""", re.X)
VN_LETTERS = re.compile(r"[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]",
                        re.I)
THAI = re.compile(r"[\u0e00-\u0e7f]")


def test_when_described_then_about_one_in_five_carries_contact_details(world):
    descriptions = [p.description for p in world.products.values()]
    with_phone = [d for d in descriptions if PHONE.search(d)]
    contact = [d for d in descriptions if re.search(r"Zalo|LINE|Line|facebook\.com|@|Hotline|โทร", d) or PHONE.search(d)]
    assert with_phone, "some descriptions must carry a phone number"
    assert 0.08 <= len(contact) / len(descriptions) <= 0.4


def test_when_priced_then_vnd_is_integral_and_thb_has_two_decimals(world):
    for product in world.products.values():
        country = world.shops[product.shop_id].country
        assert product.currency == {"VN": "VND", "TH": "THB"}[country]
        for sku in product.skus:
            if country == "VN":
                assert sku.price == sku.price.to_integral_value() and sku.price >= 1000 and sku.price % 1000 == 0
            else:
                assert sku.price.as_tuple().exponent == -2
            assert re.fullmatch(r"[A-Z0-9]+(?:-[A-Z0-9]+)+", sku.seller_sku) and sku.stock >= 0
    for order in world.orders.values():
        assert order.total == sum((i.unit_price * i.quantity for i in order.items), Decimal(0)) + order.shipping_fee
        if order.currency == "VND":
            assert order.total == order.total.to_integral_value()
        else:
            assert order.total.as_tuple().exponent == -2


def test_when_paid_by_card_then_a_luhn_valid_test_card_and_only_then(world):
    methods = Counter(o.payment_method for o in world.orders.values())
    assert set(methods) == {"COD", "CARD", "WALLET", "BANK_TRANSFER"}
    test_cards = dict(vocab.TEST_CARDS)
    for order in world.orders.values():
        if order.payment_method == "CARD":
            assert luhn_valid(order.card_number) and test_cards[order.card_number] == order.card_brand
        else:
            assert order.card_number is None and order.card_brand is None


def test_when_people_and_places_then_they_look_vietnamese_or_thai(world):
    for shop in world.shops.values():
        script = VN_LETTERS if shop.country == "VN" else THAI
        assert script.search(shop.seller_name) and "@" in shop.email
        assert script.search(shop.address.full_address)
    for order in world.orders.values():
        country = world.shops[order.shop_id].country
        address = order.recipient_address
        assert address.country == country and address.district in address.full_address
        if country == "VN":
            assert address.postal_code is None or re.fullmatch(r"\d{6}", address.postal_code)
            assert address.ward.startswith(("Phường", "Xã", "Thị trấn"))
            assert address.district.startswith(("Quận", "Huyện", "Thành phố"))
            assert re.fullmatch(r"(?:\+?84|0)\d{9,10}", re.sub(r"[\s.\-()]", "", order.recipient_phone))
        else:
            assert re.fullmatch(r"\d{5}", address.postal_code) and address.postal_code in address.full_address
            assert address.ward.startswith(("แขวง", "ตำบล")) and address.district.startswith(("เขต", "อำเภอ"))
            assert re.fullmatch(r"(?:\+?66|0)\d{8,9}", re.sub(r"[\s\-()]", "", order.recipient_phone))
        if order.buyer_ip is not None:
            ip = ipaddress.ip_address(order.buyer_ip)
            assert ip.is_global and any(ip in ipaddress.ip_network(n) for n in vocab.IP_RANGES[country])
        if order.status in ("SHIPPED", "COMPLETED"):
            assert order.tracking_number
        if order.status == "UNPAID":
            assert order.tracking_number is None
        products = {p.item_id: p for p in world.products.values() if p.shop_id == order.shop_id}
        for item in order.items:
            assert item.sku_id in {s.sku_id for s in products[item.item_id].skus}
    phone_shapes = {re.sub(r"\d", "9", o.recipient_phone) for o in world.orders.values()}
    assert len(phone_shapes) >= 4, "phone numbers come in many real forms"


def test_when_tax_codes_given_then_their_check_digits_hold():
    codes = [(s.country, s.tax_code) for m in MARKETPLACES for seed in range(4)
             for s in make_world(m, seed=seed, products_per_shop=1, orders_per_shop=1).shops.values() if s.tax_code]
    assert {c for c, _ in codes} == {"VN", "TH"}
    for country, code in codes:
        if country == "VN":    # MST, as python-stdnum's vn.mst checks it
            rest = sum(w * int(d) for w, d in zip((31, 29, 23, 19, 17, 13, 7, 5, 3), code)) % 11
            assert len(code) == 10 and code[9] == str(10 - rest)
        else:                  # company TIN (th.moa)
            total = sum((13 - i) * int(d) for i, d in enumerate(code[:12]))
            assert len(code) == 13 and code[0] == "0" and code[12] == str((11 - total % 11) % 10)


def test_when_buyer_notes_written_then_some_carry_a_phone_or_address():
    notes = [o.buyer_note for m in MARKETPLACES for o in make_world(m).orders.values() if o.buyer_note]
    assert any(PHONE.search(n) for n in notes)
    assert any(VN_LETTERS.search(n) for n in notes) and any(THAI.search(n) for n in notes)
    assert len(notes) < 0.5 * 3 * 4 * 60
