"""TikTok Shop Partner API, version 202309: signing.py, answers.py, mapping.py (pure mappings),
push.py and api.py (requests).

Signing (partner.tiktokshop.com, "Sign your API request"): the query parameters except
`sign` and `access_token`, sorted by key, concatenated as key+value after the request
path; the raw body is appended unless the request is a GET or multipart; the string is
wrapped in the app secret and HMAC-SHA256'd with the app secret (lowercase hex). Common
query parameters: app_key, timestamp (epoch seconds), sign, shop_cipher (shop-scoped
calls). The access token travels in the `x-tts-access-token` header, never the query.

Tokens come from a separate host (auth.tiktok-shops.com, `auth_base_url`; the token paths do
not exist on the open-API host): one grant covers every shop the seller authorised, so every
shop of one exchange shares one grant (keyed by the seller's open_id) and a refresh renews it
once for all of them; expiries are absolute epoch seconds. Shops and their ciphers come from
Get Authorized Shops.

Our assumptions where the documentation is silent (the stricter reading, see the report):
- Product search results come in no guaranteed order, so the 10,000-result cap is met by
  splitting the update-time window (using total_count up front, and again if the cap
  error 12052180 arrives mid-way); orders are searched sorted by update_time ascending.
- Orders have no documented maximum window; we still query at most `max_window_seconds`.
- Refresh-token rotation is not documented: the tolerant reading stores whatever refresh token
  each refresh returns (a new one or the same) and never reuses one a refresh has replaced; a
  refresh refused with 36004004 (bad or spent refresh token) is RefreshRefused.
- TikTok gives no shop update time: a shop event's time is when it was read, its id a content digest.
- A card number, where a payment carries one, is at `payment.card_number` (the simulator's
  choice); it is sealed before it leaves this module, also inside dead-lettered bodies (R10).
- Push types: 1 order status change (documented); 6 authorisation cancelled and 7
  authorisation expiring (public SDKs); 10001 shop authorised (ours: TikTok has no such push).
"""

from __future__ import annotations

from ..spec import ConnectorSpec

CONNECTOR = ConnectorSpec(api="api:TikTokShopApi", simulator="connectors.simulators.tiktok_shop:TikTokShopSimulator",
                          simulator_port=8703, simulator_credentials=("6abc1def2ghi3", "sim-tiktok-app-secret-0001"),
                          auth_simulator_port=8704,   # its authorisation host, simulated on its own port
                          production_auth_url="https://auth.tiktok-shops.com")
