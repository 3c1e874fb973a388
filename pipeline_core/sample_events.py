"""A small, fixed set of realistic raw events for the first run and the Kafka tests.

Shops in Vietnam and Thailand with Vietnamese and Thai names, addresses and phone
numbers, VND and THB prices. The names, numbers and addresses are invented. The
marketplace simulators (connectors) replace this as the source of data; the card
number in the sample order is encrypted like a connector would, under a throwaway key.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from schemas import event_id

from .topics import shop_key

BASE_TIME = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)

SHOPS = [
    # marketplace, shop_id, shop name, country, seller, email, phone, province, city, district, street
    ("SHOPEE", "220145871", "Nhà Của Lan - Đồ Gia Dụng", "VN", "Nguyễn Thị Lan", "lan.nguyen.shop@gmail.com",
     "+84 912 345 678", "Hà Nội", "Hà Nội", "Quận Cầu Giấy", "Số 12 ngõ 84 Trần Thái Tông"),
    ("LAZADA", "100238771", "Tiệm Giày Minh Khôi", "VN", "Trần Minh Khôi", "khoi.tran@yahoo.com.vn",
     "0903 456 789", "Hồ Chí Minh", "Thành phố Hồ Chí Minh", "Quận 3", "245 Nam Kỳ Khởi Nghĩa"),
    ("TIKTOK_SHOP", "7494012345678901234", "ร้านสมใจ แฟชั่น", "TH", "สมใจ ใจดี", "somjai.shop@hotmail.com",
     "081-234-5678", "กรุงเทพมหานคร", "กรุงเทพมหานคร", "เขตจตุจักร", "99/12 ถนนพหลโยธิน"),
]

PRODUCTS = [
    ("Nồi chiên không dầu 5L", "Bảo hành 12 tháng. Liên hệ Zalo 0912345678 để được tư vấn.", "Đồ gia dụng", "VND", "1250000"),
    ("Giày thể thao nam size 42", "Hàng chính hãng, đổi trả trong 7 ngày.", "Giày nam", "VND", "890000"),
    ("เสื้อยืดคอกลม ผ้าฝ้าย 100%", "สอบถามเพิ่มเติม LINE: somjai99 หรือโทร 0812345678", "เสื้อผ้าผู้หญิง", "THB", "290.00"),
]

BUYERS = [
    ("Phạm Văn Hùng", "0987 654 321", "Hải Phòng", "Quận Lê Chân", "18 Tô Hiệu", "Giao giờ hành chính, gọi trước 0987654321"),
    ("Lê Thị Mai", "+84 935 111 222", "Đà Nẵng", "Quận Hải Châu", "56 Bạch Đằng", "Để hàng ở bảo vệ tòa nhà"),
    ("วิภาวดี ศรีสุข", "089-876-5432", "เชียงใหม่", "อำเภอเมืองเชียงใหม่", "7 ถนนนิมมานเหมินท์", "ฝากไว้ที่ป้อมยาม email: wipa.s@gmail.com"),
]


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def _address(street: str, district: str, city: str, province: str, country: str) -> dict:
    return {"full_address": f"{street}, {district}, {city}", "address_lines": [street], "ward": None,
            "district": district, "city": city, "province": province, "postal_code": None, "country": country}


def sample_events(now: datetime | None = None) -> list[tuple[str, str, dict]]:
    """(topic, key, record) for three shops with one product and one order each."""
    now = now or datetime.now(timezone.utc)
    out: list[tuple[str, str, dict]] = []
    card_key = AESGCM(AESGCM.generate_key(bit_length=256))
    for i, shop in enumerate(SHOPS):
        mp, shop_id, shop_name, country, seller, email, phone, province, city, district, street = shop
        key = shop_key(mp, shop_id)
        t = BASE_TIME + timedelta(minutes=i)
        envelope = {"marketplace": mp, "shop_id": shop_id, "event_time": t, "ingest_time": now,
                    "ingest_source": "FULL_SYNC"}
        out.append(("raw.shops", key, {
            **envelope, "event_id": event_id(mp, "shop", shop_id, _ms(t)),
            "shop_name": shop_name, "country": country, "status": "NORMAL", "authorised_until": t + timedelta(days=365),
            "seller": {"seller_name": seller, "email": email, "phone": phone, "fax": None, "website_url": None,
                       "address": _address(street, district, city, province, country)},
            "tax_code": None}))
        title, description, category, currency, price = PRODUCTS[i]
        item_id = f"{shop_id[-4:]}{i + 1:04d}"
        out.append(("raw.products", key, {
            **envelope, "event_id": event_id(mp, "product", item_id, _ms(t)),
            "item_id": item_id, "status": "NORMAL", "title": title, "description": description,
            "category_id": f"cat-{i + 1}", "category_name": category, "brand": None, "currency": currency,
            "skus": [{"sku_id": f"{item_id}-1", "seller_sku": f"SKU-{i + 1:03d}", "price": Decimal(price), "stock": 25}],
            "created_time": t - timedelta(days=30), "updated_time": t}))
        buyer_name, buyer_phone, b_province, b_district, b_street, note = BUYERS[i]
        order_id = f"2611{20 + i}{shop_id[-5:]}A"
        paid_by_card = i == 0
        card = None
        if paid_by_card:
            nonce = os.urandom(12)
            card = {"card_ciphertext": nonce + card_key.encrypt(nonce, b"4111111111111111", None),
                    "brand": "VISA", "last4": "1111"}
        out.append(("raw.orders", key, {
            **envelope, "event_id": event_id(mp, "order", order_id, _ms(t)),
            "order_id": order_id, "status": "READY_TO_SHIP", "create_time": t - timedelta(hours=2), "update_time": t,
            "currency": currency, "total_amount": Decimal(price) * 2, "shipping_fee": Decimal("0") if currency == "THB" else Decimal("30000"),
            "buyer": {"buyer_user_id": f"b{9000 + i}", "buyer_username": f"buyer_{i}", "buyer_email": None},
            "recipient": {"name": buyer_name, "phone": buyer_phone, "phone2": None,
                          "address": _address(b_street, b_district, b_province, b_province, country)},
            "billing": None, "buyer_note": note,
            "payment": {"method": "CARD" if paid_by_card else "COD", "card": card,
                        "billing_tax_code": None, "billing_company": None},
            "items": [{"item_id": item_id, "sku_id": f"{item_id}-1", "product_title": title, "quantity": 2,
                       "unit_price": Decimal(price)}],
            "buyer_ip": "113.161.45.12" if country == "VN" else "171.96.12.34", "tracking_number": None}))
    return out
