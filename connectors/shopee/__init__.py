"""Shopee Open Platform v2: signing.py, answers.py, mapping.py (pure mappings from Shopee's
payloads to our raw events), push.py and api.py (the shop/product/order/push endpoints).

Signing (developer guide "API calls"): lowercase hex HMAC-SHA256 keyed with the partner
key over a plain concatenation, host and body not signed:
  public API  partner_id + path + timestamp
  shop API    partner_id + path + timestamp + access_token + shop_id
  merchant    partner_id + path + timestamp + access_token + merchant_id
Common parameters always travel in the query; GET business parameters too, POST ones in
a JSON body. Pushes carry Authorization = hex(HMAC-SHA256(partner_key, url + "|" + body)).

Choices where Shopee's documentation is silent (the stricter reading, see the report):
- time_from/time_to and update_time_from/to are read as inclusive on both ends; windows are
  sent as [floor(start), ceil(end)], so a boundary second may be read twice (idempotent).
- get_item_list's visible results are capped (number unpublished; `item_list_cap`); a window
  whose total_count exceeds it, or whose pages end before total_count, is split in two,
  recursively, so nothing depends on the order Shopee lists items in.
- get_shop_info has no update time: a shop's event_time is the time it was read.
- order windows: time_from must be earlier than time_to (order.order_list_invalid_time, "start
  time must be earlier than end time"), so 15-day chunks overlap by their boundary second
  instead of starting at chunk_end + 1, which could leave a last chunk with time_from == time_to.
- error codes: error_too_frequent is the rate-limit answer whatever its message or HTTP status
  (limits are unpublished: waited out with backoff, never a failure); error_auth with an
  access-token message ("Invalid access_token.") and invalid_acceess_token (Shopee's spelling)
  mean the access token is no longer good: refresh once. error_auth on a refresh is the refresh
  token refused (spent, revoked or the authorisation lapsed): RefreshRefused.
- lifetimes: access 4 h (expire_in; both a duration and an absolute time are accepted), refresh
  30 days from each refresh, but never past the authorisation's own expire_time (get_shop_info,
  read at authorisation: at most 365 days). Past it the authorisation has lapsed (EXPIRED consent).
  Each shop is its own grant: a main account's first pair is refreshed once per shop (Shopee
  returns a pair per shop_id).
- a product without models (has_model false) gets sku_id = item_id; an order line with
  model_id 0 likewise, so products and order lines join.
- get_order_detail returns no tracking number, buyer e-mail or IP: those stay None.
"""

from __future__ import annotations

from ..spec import ConnectorSpec

CONNECTOR = ConnectorSpec(api="api:ShopeeApi", simulator="connectors.simulators.shopee:ShopeeSimulator",
                          simulator_port=8701, simulator_credentials=("2001887", "sim-shopee-partner-key-0001"))
