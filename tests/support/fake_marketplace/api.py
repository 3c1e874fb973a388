"""FakeMart's MarketplaceApi: it has no shops, no data and accepts no push."""

from __future__ import annotations

from typing import Iterator, Mapping

from connectors.base import BadPayload, Item, MarketplaceApi, PushNotice, ShopAuth, ShopSession, TimeWindow


class FakeMartApi(MarketplaceApi):
    name = "fakemart"
    marketplace_symbol = "FAKEMART"

    def exchange_code(self, code: str, shop_id: str | None = None) -> list[ShopAuth]:
        return []

    def refresh(self, auth: ShopAuth) -> ShopAuth:
        return auth

    def fetch_shop(self, session: ShopSession, ingest_source: str) -> list[Item]:
        return []

    def fetch_products(self, session: ShopSession, window: TimeWindow, ingest_source: str) -> Iterator[list[Item]]:
        return iter(())

    def fetch_orders(self, session: ShopSession, window: TimeWindow, ingest_source: str) -> Iterator[list[Item]]:
        return iter(())

    def fetch_orders_by_id(self, session: ShopSession, order_ids: list[str], ingest_source: str) -> list[Item]:
        return []

    def verify_push(self, callback_url: str, headers: Mapping[str, str], body: bytes) -> bool:
        return False

    def parse_push(self, body: bytes) -> PushNotice:
        raise BadPayload("wrong_type", "fakemart sends no pushes", body)
