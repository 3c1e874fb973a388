"""What every marketplace connector is, and the data that crosses its boundary.

A marketplace package (shopee/, lazada/, tiktok_shop/: signing, answers, mapping, push, api)
subclasses `MarketplaceApi`: it signs requests, pages through the platform's lists, classifies
the platform's answers (errors are data: `Outcome`) and maps payloads to raw events with pure
functions. Everything else (retries and backoff, token refresh, windows, checkpoints, consent,
publishing, dead letters) is shared and lives in api_client.py and runner.py.

The errors (errors.py) and the answer outcomes (outcomes.py) live below this module and the
API client, so neither imports the other back; they are re-exported here for the marketplace
packages, which take everything that crosses the connector's boundary from this one module.
"""

from __future__ import annotations

import abc
import enum
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, ClassVar, Iterator, Mapping

from .api_client import ApiClient
# re-exported: the marketplace packages take what crosses the boundary from here
from .errors import ApiFailed, BadPayload, ConnectorError, MappingError, RefreshRefused, TokenExpired  # noqa: F401
from .outcomes import Action, Outcome  # noqa: F401


class Stream(str, enum.Enum):
    SHOP = "shop"
    PRODUCTS = "products"
    ORDERS = "orders"

    @property
    def topic(self) -> str:
        return {"shop": "raw.shops", "products": "raw.products", "orders": "raw.orders"}[self.value]


@dataclass(frozen=True)
class AppCredentials:
    """The partner app's identity at a marketplace. The secret never prints."""
    app_key: str                       # Shopee partner_id, Lazada/TikTok app_key
    app_secret: str = field(repr=False)


@dataclass(frozen=True)
class ShopAuth:
    """One shop's authorisation: tokens plus what the platform needs to address the shop."""
    marketplace: str                   # a name of pipeline_core/marketplaces.py: "shopee", "lazada", ...
    shop_id: str
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_expires_at: float = 0.0     # epoch seconds
    refresh_expires_at: float = 0.0
    extra: Mapping[str, str] = field(default_factory=dict)  # e.g. TikTok shop_cipher, Lazada country
    grant: str = ""                    # the authorisation owning the tokens (several shops may share one)


@dataclass(frozen=True)
class TimeWindow:
    start: datetime                    # inclusive, tz-aware UTC
    end: datetime                      # exclusive


@dataclass(frozen=True)
class RawEvent:
    """A normalised record ready for its raw topic (value matches the topic's Avro schema)."""
    stream: Stream
    key: str                           # marketplace:shop_id
    record: dict


@dataclass(frozen=True)
class DeadPayload:
    """A record or body that could not become an event, with why (reason from a closed set)."""
    stream: Stream | None
    reason: str
    message: str                       # no payload values
    body: bytes


Item = RawEvent | DeadPayload


class PushKind(str, enum.Enum):
    SHOP_AUTHORISED = "shop_authorised"
    AUTHORISATION_CANCELLED = "authorisation_cancelled"
    AUTHORISATION_EXPIRING = "authorisation_expiring"
    ORDER_STATUS = "order_status"
    OTHER = "other"


@dataclass(frozen=True)
class PushNotice:
    marketplace: str
    kind: PushKind
    shop_id: str
    notification_id: str               # stable across the platform's retries: used to drop duplicates
    timestamp: datetime
    order_id: str | None = None


class ShopSession:
    """A shop's current authorisation during a sync. refresh() trades the refresh token for a
    new pair (once per expiry) and hands it to on_refresh, which stores it atomically."""

    def __init__(self, api: "MarketplaceApi", auth: ShopAuth,
                 on_refresh: Callable[[ShopAuth], None] = lambda auth: None,
                 refresher: Callable[[ShopAuth], ShopAuth] | None = None):
        self.api, self.auth, self.on_refresh = api, auth, on_refresh
        self.refresher = refresher or api.refresh   # the token store's: one refresh per grant, under its lock

    @property
    def shop_id(self) -> str:
        return self.auth.shop_id

    def refresh(self) -> None:
        self.auth = self.refresher(self.auth)
        self.on_refresh(self.auth)


class MarketplaceApi(abc.ABC):
    """One marketplace's open API as the connector uses it.

    Request methods go through `self.client` (connectors.api_client.ApiClient), which owns retries,
    backoff, rate-limit waits, timeouts, size limits and metrics; the module supplies how to
    build and sign a request and how to read the answer (`classify`).
    """

    name: ClassVar[str]                # "shopee"
    marketplace_symbol: ClassVar[str]  # the Avro enum symbol: "SHOPEE"

    def __init__(self, base_url: str, app: AppCredentials, client: ApiClient,
                 seal_card: Callable[[str], bytes], clock: Callable[[], float] = time.time):
        self.base_url = base_url.rstrip("/")
        self.app = app
        self.client = client
        self.seal_card = seal_card  # card numbers are encrypted before an event leaves the connector (R10)
        self.clock = clock

    # ---- authorisation
    @abc.abstractmethod
    def exchange_code(self, code: str, shop_id: str | None = None) -> list[ShopAuth]:
        """Trade a single-use authorisation code for tokens (one ShopAuth per shop it covers)."""

    @abc.abstractmethod
    def refresh(self, auth: ShopAuth) -> ShopAuth:
        """Trade the refresh token for a new pair (refresh tokens are single use)."""

    # ---- data
    @abc.abstractmethod
    def fetch_shop(self, session: ShopSession, ingest_source: str) -> list[Item]:
        """The shop (seller) record."""

    @abc.abstractmethod
    def fetch_products(self, session: ShopSession, window: TimeWindow, ingest_source: str) -> Iterator[list[Item]]:
        """Pages of products updated in the window; caps are handled by moving the window."""

    @abc.abstractmethod
    def fetch_orders(self, session: ShopSession, window: TimeWindow, ingest_source: str) -> Iterator[list[Item]]:
        """Pages of orders updated in the window; caps are handled by moving the window."""

    @abc.abstractmethod
    def fetch_orders_by_id(self, session: ShopSession, order_ids: list[str], ingest_source: str) -> list[Item]:
        """Orders by id (after a push)."""

    # ---- push notifications
    @abc.abstractmethod
    def verify_push(self, callback_url: str, headers: Mapping[str, str], body: bytes) -> bool:
        """True if the push's signature over the raw body is the platform's."""

    @abc.abstractmethod
    def parse_push(self, body: bytes) -> PushNotice:
        """Read a verified push; raises BadPayload when it is malformed."""

    #: seconds: the largest time window one list request may cover (Shopee orders: 15 days)
    max_window_seconds: ClassVar[int] = 15 * 24 * 3600
