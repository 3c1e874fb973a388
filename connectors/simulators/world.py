"""A deterministic, seeded world of shops, products and orders, shared by every
marketplace simulator (no HTTP here: the platform modules present it in their own shapes).

Determinism: the RNG is seeded from (seed, marketplace), and no random draw depends on
the clock, so the same seed, marketplace and sequence of `tick()` calls give the same
records; only timestamps come from `clock()` (and, as on Shopee, an order_sn starts with
its creation date, yymmdd). History is stamped between `history_days` days and 5 minutes
before construction; `tick()` then moves the world on at `clock()`.

Statuses are marketplace-neutral: UNPAID -> READY_TO_SHIP -> SHIPPED -> COMPLETED, with
CANCELLED from the first two (COD orders start at READY_TO_SHIP, as they need no payment).
"""

from __future__ import annotations

import ipaddress
import random
import string
import time
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable

from . import vocab

OPEN_STATUSES = ("UNPAID", "READY_TO_SHIP", "SHIPPED")
CHANGE_KINDS = (("new_order", 30), ("order_status", 30), ("price_update", 15), ("late_update", 15), ("new_product", 10))
DAY = 86_400
HISTORY_GAP = 300     # history ends this many seconds before construction, so late updates stay ordered


@dataclass
class SimAddress:
    full_address: str
    lines: list[str]
    ward: str | None
    district: str
    city: str
    province: str
    postal_code: str | None
    country: str                     # "VN" | "TH"


@dataclass
class SimShop:
    shop_id: str
    name: str
    country: str
    status: str
    seller_name: str
    email: str
    phone: str
    address: SimAddress
    tax_code: str | None
    create_time: int
    update_time: int


@dataclass
class SimSku:
    sku_id: str
    seller_sku: str
    price: Decimal
    stock: int


@dataclass
class SimProduct:
    shop_id: str
    item_id: str
    title: str
    description: str
    category_id: str
    category_name: str
    brand: str | None
    currency: str                    # "VND" | "THB"
    skus: list[SimSku]
    status: str                      # "NORMAL" | "UNLIST"
    create_time: int
    update_time: int


@dataclass
class SimOrderItem:
    item_id: str
    sku_id: str
    title: str
    quantity: int
    unit_price: Decimal


@dataclass
class SimOrder:
    shop_id: str
    order_id: str
    status: str
    create_time: int
    update_time: int
    currency: str
    total: Decimal
    shipping_fee: Decimal
    buyer_user_id: str
    buyer_username: str
    buyer_email: str | None
    recipient_name: str
    recipient_phone: str
    recipient_address: SimAddress
    buyer_note: str | None
    payment_method: str              # "COD" | "CARD" | "WALLET" | "BANK_TRANSFER"
    card_number: str | None          # a Luhn-valid TEST number, CARD orders only
    card_brand: str | None
    items: list[SimOrderItem] = field(default_factory=list)
    buyer_ip: str | None = None
    tracking_number: str | None = None


@dataclass
class Change:
    kind: str                        # new_order | order_status | price_update | late_update | new_product
    shop_id: str
    entity: str                      # order | product
    entity_id: str
    update_time: int


def ascii_fold(text: str) -> str:
    """'Nguyễn Thị Lan' -> 'Nguyen Thi Lan' (for usernames and e-mail addresses)."""
    text = text.replace("Đ", "D").replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


class World:
    def __init__(self, marketplace: str, *, seed: int = 7, shops: int = 4, products_per_shop: int = 30,
                 orders_per_shop: int = 60, history_days: int = 45, clock: Callable[[], float] = time.time):
        self.marketplace, self.clock = marketplace, clock
        self.rng = random.Random(f"{seed}:{marketplace}")
        self.shops: dict[str, SimShop] = {}
        self.products: dict[tuple[str, str], SimProduct] = {}
        self.orders: dict[tuple[str, str], SimOrder] = {}
        self._ids: set[str] = set()
        self._touched: set[tuple[str, str, str]] = set()   # (entity, shop_id, id) changed by tick()
        self.built_at = int(clock())
        span = max(history_days * DAY, 2 * HISTORY_GAP)
        for i in range(shops):
            shop = self._new_shop("VN" if i % 2 == 0 else "TH", span)
            self.shops[shop.shop_id] = shop
            for _ in range(products_per_shop):
                create = self.rng.randint(HISTORY_GAP, span)
                self._add_product(shop, self.built_at - create, self.built_at - self.rng.randint(HISTORY_GAP, create))
            for _ in range(orders_per_shop):
                self._add_history_order(shop, span)

    # ------------------------------------------------------------------ ids
    def _unique(self, make: Callable[[], str]) -> str:
        while (value := make()) in self._ids:
            pass
        self._ids.add(value)
        return value

    def _digits(self, n: int, first: str = "123456789") -> str:
        return self.rng.choice(first) + "".join(self.rng.choice(string.digits) for _ in range(n - 1))

    def _id(self, kind: str) -> str:
        style = {"shopee": {"shop": (9, "1234"), "item": (11, "12345"), "sku": (11, "12345")},
                 "lazada": {"shop": (10, "1"), "item": (10, "12"), "sku": (11, "1234"), "order": (15, "4")},
                 }.get(self.marketplace, {})
        length, first = style.get(kind, (19, "7"))      # TikTok Shop (and the default): 19-digit ids
        return self._unique(lambda: self._digits(length, first))

    def _order_id(self, create_time: int) -> str:
        if self.marketplace == "shopee":
            day = time.strftime("%y%m%d", time.gmtime(create_time))
            alnum = string.digits + string.ascii_uppercase
            return self._unique(lambda: day + "".join(self.rng.choice(alnum) for _ in range(7)))
        return self._id("order")

    # ------------------------------------------------------------------ people and places
    def _person(self, country: str) -> tuple[str, str, str]:
        """(display name, ascii handle stem, given name)"""
        rng, female = self.rng, self.rng.random() < 0.55
        if country == "VN":
            family = rng.choice(vocab.VN_FAMILY)
            middle = rng.choice(vocab.VN_MIDDLE_F if female else vocab.VN_MIDDLE_M)
            given = rng.choice(vocab.VN_GIVEN_F if female else vocab.VN_GIVEN_M)
            return f"{family} {middle} {given}", ascii_fold(f"{given}.{family}").lower(), given
        given, g_latin = rng.choice(vocab.TH_GIVEN_F if female else vocab.TH_GIVEN_M)
        family, f_latin = rng.choice(vocab.TH_FAMILY)
        title = rng.choice(vocab.TH_TITLES_F if female else vocab.TH_TITLES_M)
        return f"{title}{given} {family}", f"{g_latin}.{f_latin[:rng.randint(1, len(f_latin))]}", given

    def _email(self, country: str, handle: str) -> str:
        number = self.rng.randint(1, 99) if self.rng.random() < 0.7 else ""
        return f"{handle}{number}@{self.rng.choice(vocab.COUNTRIES[country].email_domains)}"

    def _phone(self, country: str, landline_rate: float = 0.1) -> str:
        rng, words = self.rng, vocab.COUNTRIES[country]
        if rng.random() < landline_rate:
            area, n1, n2 = rng.choice(words.landline_areas)
            sub = self._digits(n1 + n2, words.landline_first_digits)
            return rng.choice(words.landline_formats).format(area=area, s1=sub[:n1], s2=sub[n1:])
        number = rng.choice(words.mobile_prefixes) + self._digits(7, string.digits)
        a, b, _ = words.mobile_split
        return rng.choice(words.mobile_formats).format(a=number[:a], b=number[a:a + b], c=number[a + b:])

    def _address(self, country: str) -> SimAddress:
        rng, words = self.rng, vocab.COUNTRIES[country]
        place = rng.choice(words.places)
        ward = rng.choice(place.wards)
        line = rng.choice(words.houses).format(n=rng.randint(1, 299), m=rng.randint(1, 99), k=rng.randint(1, 12),
                                               street=rng.choice(place.streets))
        if country == "VN":
            postal = place.postal_code if rng.random() < 0.7 else None
            city = [place.city] if place.city != place.province and place.city not in place.district else []
            full = ", ".join([line, ward, place.district, *city, place.province])
        else:
            postal = place.postal_code
            province = place.province if place.province == "กรุงเทพมหานคร" else f"จังหวัด{place.province}"
            full = " ".join([line, ward, place.district, province, postal])
        return SimAddress(full, [line], ward, place.district, place.city, place.province, postal, country)

    def _tax_code(self, country: str) -> str:
        if country == "VN":   # MST: 10 digits, mod-11 check digit (python-stdnum vn.mst)
            while True:
                body = self.rng.choice(("01", "03", "04", "31", "37", "48")) + self._digits(7, string.digits)
                rest = sum(w * int(d) for w, d in zip((31, 29, 23, 19, 17, 13, 7, 5, 3), body)) % 11
                if rest != 0 and body[2:] != "0000000":
                    return body + str(10 - rest)
        body = "0" + self.rng.choice(("105", "107", "505", "835")) + self._digits(8, string.digits)  # company TIN
        return body + str((11 - sum((13 - i) * int(d) for i, d in enumerate(body)) % 11) % 10)

    # ------------------------------------------------------------------ records
    def _new_shop(self, country: str, span: int) -> SimShop:
        rng = self.rng
        seller, handle, given = self._person(country)
        name = rng.choice(vocab.COUNTRIES[country].shop_names).format(given=given, latin=handle.split(".")[0].capitalize())
        created = self.built_at - rng.randint(span + 30 * DAY, span + 900 * DAY)
        return SimShop(self._id("shop"), name, country, "NORMAL", seller, self._email(country, handle),
                       self._phone(country, 0.3), self._address(country),
                       self._tax_code(country) if rng.random() < 0.6 else None,
                       created, self.built_at - rng.randint(HISTORY_GAP, span))

    def _price(self, country: str, low: int, high: int) -> Decimal:
        if country == "VN":
            return Decimal(self.rng.randint(low // 1000, high // 1000) * 1000)
        return Decimal(f"{self.rng.randint(low, high)}.{self.rng.choice(vocab.TH_CENTS)}")

    def _add_product(self, shop: SimShop, create_time: int, update_time: int) -> SimProduct:
        rng, words = self.rng, vocab.COUNTRIES[shop.country]
        category = rng.choice(words.categories)
        stem, sku_stem = rng.choice(category.items)
        brand = rng.choice(category.brands)
        title = rng.choice(words.title_prefixes) + stem + (f" {brand}" if brand else "") + rng.choice(words.title_suffixes)
        description = rng.choice(words.descriptions).format(title=title, brand=brand or rng.choice(("No brand", "OEM")))
        if rng.random() < 0.2:     # about 1 in 5 descriptions carries contact details
            _, handle, _ = self._person(shop.country)
            description += rng.choice(words.contacts).format(
                phone=self._phone(shop.country, 0.2), email=self._email(shop.country, handle),
                handle=handle.replace(".", ""))
        base = self._price(shop.country, *category.price)
        variants = rng.sample(category.variants, rng.randint(1, len(category.variants)))
        skus = [SimSku(self._id("sku"), f"{sku_stem}-{code}", base if j == 0 else self._reprice(base, shop.country),
                       rng.choice((0, rng.randint(1, 20), rng.randint(20, 500)))) for j, (_, code) in enumerate(variants)]
        product = SimProduct(shop.shop_id, self._id("item"), title, description, category.category_id, category.name,
                             brand, words.currency, skus, "UNLIST" if rng.random() < 0.1 else "NORMAL",
                             create_time, update_time)
        self.products[(shop.shop_id, product.item_id)] = product
        return product

    def _reprice(self, price: Decimal, country: str) -> Decimal:
        factor = Decimal(self.rng.choice(("0.80", "0.85", "0.90", "0.95", "1.05", "1.10", "1.15", "1.20")))
        if country == "VN":
            return max(Decimal(1000), (price * factor / 1000).quantize(Decimal(1)) * 1000)
        return max(Decimal(1), (price * factor * 2).quantize(Decimal(1)) / 2).quantize(Decimal("0.01"))  # half-baht steps

    def _add_order(self, shop: SimShop, create_time: int) -> SimOrder:
        rng, country, words = self.rng, shop.country, vocab.COUNTRIES[shop.country]
        buyer, handle, _ = self._person(country)
        recipient = buyer if rng.random() < 0.75 else self._person(country)[0]
        address = self._address(country)
        method = rng.choices(*zip(*words.payment_weights))[0]
        card, brand = rng.choice(vocab.TEST_CARDS) if method == "CARD" else (None, None)
        shop_products = [p for p in self.products.values() if p.shop_id == shop.shop_id]
        existing = [p for p in shop_products if p.create_time <= create_time] or shop_products[:1]
        items = []
        for product in rng.sample(existing, min(len(existing), rng.choice((1, 1, 1, 2, 3)))):
            sku = rng.choice(product.skus)
            items.append(SimOrderItem(product.item_id, sku.sku_id, product.title, rng.choice((1, 1, 1, 2, 3)), sku.price))
        fee = Decimal(rng.choice(words.shipping_fees))
        total = sum((i.unit_price * i.quantity for i in items), Decimal(0)) + fee
        note = None
        if rng.random() < 0.3:
            note = rng.choice(words.buyer_notes).format(
                phone=self._phone(country), address=self._address(country).full_address)
        network = ipaddress.ip_network(rng.choice(words.ip_ranges))
        ip = str(network[rng.randint(1, network.num_addresses - 2)]) if rng.random() < 0.8 else None
        username = f"{handle.replace('.', rng.choice(('', '.', '_')))}{rng.randint(1, 999)}"
        order = SimOrder(shop.shop_id, self._order_id(create_time), "READY_TO_SHIP" if method == "COD" else "UNPAID",
                         create_time, create_time, words.currency, total, fee, self._digits(rng.choice((8, 9, 10))),
                         username, self._email(country, handle) if rng.random() < 0.5 else None, recipient,
                         self._phone(country), address, note, method, card, brand, items, ip)
        self.orders[(shop.shop_id, order.order_id)] = order
        return order

    def _add_history_order(self, shop: SimShop, span: int) -> None:
        offset = self.rng.randint(2 * HISTORY_GAP, span)
        order = self._add_order(shop, self.built_at - offset)
        steps = 4 if offset > 10 * DAY else self.rng.randint(0, 3)   # old orders have run their course
        for _ in range(steps):
            if order.status in OPEN_STATUSES:
                self._advance(order, 0)
        lag = self.rng.randint(HISTORY_GAP, offset) if steps else offset
        order.update_time = self.built_at - lag

    def _advance(self, order: SimOrder, stamp: int) -> None:
        roll = self.rng.random()
        if order.status == "UNPAID":
            order.status = "CANCELLED" if roll < 0.15 else "READY_TO_SHIP"
        elif order.status == "READY_TO_SHIP":
            order.status = "CANCELLED" if roll < 0.06 else "SHIPPED"
            if order.status == "SHIPPED":
                country = self.shops[order.shop_id].country
                template = vocab.TRACKING_FORMATS.get(self.marketplace, vocab.TRACKING_FORMATS["shopee"])[country]
                order.tracking_number = "".join(self.rng.choice(string.digits) if c == "#" else c for c in template)
        elif order.status == "SHIPPED":
            order.status = "COMPLETED"
        order.update_time = stamp

    # ------------------------------------------------------------------ time moves on
    def tick(self, changes: int = 5) -> list[Change]:
        """One step of changes stamped at clock() (late updates: clock() minus 30..240 s)."""
        now = int(self.clock())
        kinds, weights = zip(*CHANGE_KINDS)
        return [self._change(self.rng.choices(kinds, weights)[0], now) for _ in range(changes)]

    def _change(self, kind: str, now: int) -> Change:
        rng, stamp = self.rng, now
        if kind == "late_update":
            stamp = now - rng.randint(30, 240)
            # only records no tick has touched: their update_time is before construction - 300 s
            candidates = [("product", p) for k, p in self.products.items() if ("product", *k) not in self._touched]
            candidates += [("order", o) for k, o in self.orders.items()
                           if o.status in OPEN_STATUSES and ("order", *k) not in self._touched]
            if not candidates:
                kind, stamp = "price_update", now
        if kind == "order_status" and not any(o.status in OPEN_STATUSES for o in self.orders.values()):
            kind = "new_order"
        if kind == "new_order":
            shop = self.shops[rng.choice(list(self.shops))]
            if not any(p.shop_id == shop.shop_id for p in self.products.values()):
                self._add_product(shop, now, now)
            record: SimOrder | SimProduct = self._add_order(shop, now)
        elif kind == "new_product":
            record = self._add_product(self.shops[rng.choice(list(self.shops))], now, now)
        elif kind == "order_status":
            record = rng.choice([o for o in self.orders.values() if o.status in OPEN_STATUSES])
            self._advance(record, now)
        elif kind == "late_update":
            entity, record = rng.choice(candidates)
            if entity == "order":
                self._advance(record, stamp)
            else:
                self._reprice_product(record, stamp)
        else:
            record = rng.choice(list(self.products.values()))
            self._reprice_product(record, now)
        entity, entity_id = ("order", record.order_id) if isinstance(record, SimOrder) else ("product", record.item_id)
        self._touched.add((entity, record.shop_id, entity_id))
        return Change(kind, record.shop_id, entity, entity_id, record.update_time)

    def _reprice_product(self, product: SimProduct, stamp: int) -> None:
        sku = self.rng.choice(product.skus)
        sku.price = self._reprice(sku.price, self.shops[product.shop_id].country)
        product.update_time = stamp

    # ------------------------------------------------------------------ queries
    def products_updated(self, shop_id: str, start: int, end: int, field: str = "update_time") -> list[SimProduct]:
        """Products with start <= field < end, sorted by (field, item_id); field: update_time | create_time."""
        return _window(self.products.values(), shop_id, start, end, field, "item_id")

    def orders_in(self, shop_id: str, start: int, end: int, field: str = "update_time") -> list[SimOrder]:
        """Orders with start <= field < end, sorted by (field, order_id); field: update_time | create_time."""
        return _window(self.orders.values(), shop_id, start, end, field, "order_id")

    def ground_truth(self) -> dict:
        return {"marketplace": self.marketplace,
                "shops": {s.shop_id: s.update_time for s in self.shops.values()},
                "products": {f"{s}:{i}": p.update_time for (s, i), p in self.products.items()},
                "orders": {f"{s}:{o}": order.update_time for (s, o), order in self.orders.items()}}


def _window(records, shop_id: str, start: int, end: int, field: str, id_field: str) -> list:
    if field not in ("update_time", "create_time"):
        raise ValueError(f"unknown time field {field!r}")
    found = [r for r in records if r.shop_id == shop_id and start <= getattr(r, field) < end]
    return sorted(found, key=lambda r: (getattr(r, field), getattr(r, id_field)))
