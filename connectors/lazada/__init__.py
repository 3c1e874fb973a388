"""Lazada Open Platform: signing.py, answers.py, mapping.py (pure mappings from Lazada's payloads
to our raw events), push.py (verification and parsing) and api.py (LazadaApi: token exchange,
paging, gateways).

Signing (docs "Signature algorithm", docId 108068, and "HTTP request sample", docId 108069):
every parameter except `sign` (query and form alike), sorted by name in ASCII order, written
as name+value after the API path without the `/rest` prefix, HMAC-SHA256 with the app secret,
upper-case hex. The docs' samples disagree on empty values (the Java and C# samples skip
them, the Python sample keeps the name) and on bodies (Java appends a raw body, Python does
not): this connector never sends an empty value nor a raw body, so every sample agrees on
what it sends. Data calls are GET with everything in the query; token calls are POST with
the system parameters in the query and the code or refresh token in a form body, as the
official Python SDK does (so neither lands in an access log's URL).

Gateways: one per country (`api.lazada.vn/rest`, `api.lazada.co.th/rest`) plus the auth
gateway (`auth.lazada.com/rest`); a shop's gateway comes from ShopAuth.extra["country"],
which exchange_code fills from the token reply's country_user_info. Lazada addresses the
seller by token and gateway only (one token can cover a seller in each country), so the
gateways must stay apart: `gateways=` sets them; by default a base URL on a lazada host
gives the production gateways, and any other base URL (the simulator, one server) gives
{base}/vn/rest, {base}/th/rest and {base}/rest for auth.

Choices the docs leave open ("unverified"), each the stricter reading:
- Time filters (update_after/update_before, ISO 8601, whole seconds) are treated as exclusive at
  both ends: a window [start, end) asks for ceil(start) - 1 < t < ceil(end), so consecutive
  windows neither overlap nor leave a gap (were they inclusive, the cost is duplicates only).
- Lists are sorted by updated_at ascending, so a page-cap hit continues from the last update
  time seen (orders: offset + limit <= 5,000; products: offset + limit <= 10,000).
- Every error can come with HTTP 200: the envelope's `code` decides, never the status alone.
- Order lines: /orders/items/get (GetMultipleOrderItems) with at most 50 ids a call; its rows
  are one per unit and are grouped into lines by (product, SKU, price).
- Lazada's seller record has no update time: a shop event's time is when it was read, and its
  event id is derived from a digest of the payload, so an unchanged re-read is a duplicate.
- Order times: the samples show "2024-05-01 10:20:30 +0700" while GetOrders' documentation shows
  ISO 8601 ("2018-02-09T22:44:30+08:00"): both are accepted, an offset is required.
- Tokens: refresh_expires_in = 0 means the token cannot be refreshed (not "expires now"): the
  authorisation then ends with the access token. Refresh tokens rotate ("you must save the latest
  refresh_token"); one token can cover a seller in several countries (cross-border), so all the
  shops of one token reply are one grant, refreshed once for all of them. IllegalRefreshToken on a
  refresh is RefreshRefused: the grant is gone until the seller authorises again.

Addresses (Lazada address1..address5): address1 and address2 are street lines; in VN (and the
same layout is read for TH) address3 is the province/region, address4 the district, address5
the ward or sub-district; `city` and `post_code` map as named; `country` is a name
("Vietnam", "Thailand") turned into an ISO code. Lazada gives no one-line full address.

Cards (R10): Lazada does not publish card numbers; the simulator carries one for CARD orders
in `payment_details.card_number` (with `card_brand`), so the mapping seals it with seal_card:
the raw event holds ciphertext, brand and last four, never the number.
"""

from __future__ import annotations

from ..spec import ConnectorSpec

CONNECTOR = ConnectorSpec(api="api:LazadaApi", simulator="connectors.simulators.lazada:LazadaSimulator",
                          simulator_port=8702, simulator_credentials=("120831", "sim-lazada-app-secret-0001"))
