"""A seller connects a shop: the marketplace redirects to PowerSell with a single-use
code; trading it for tokens is the seller's consent to connect (R1), recorded as a
consent event with a reference to its proof (a hash of the code, never the code). The shops
one code covers share one grant (token pair) in the token store."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

from pipeline_core.consent_records import CONNECTION, consent_record
from pipeline_core.kafka_io import AvroPublisher
from pipeline_core.topics import shop_key

from .base import MarketplaceApi, ShopAuth
from .token_store import TokenStore


def connection_consent(api: MarketplaceApi, shop_id: str, status: str, source: str, proof_ref: str,
                       effective_time: datetime) -> tuple[str, dict]:
    # Whole seconds: the platforms' pushes carry second timestamps, and a grant and a withdrawal
    # in the same second must compare as simultaneous (the withdrawal then wins).
    return consent_record(subject_type="SHOP", subject_id=shop_key(api.marketplace_symbol, shop_id),
                          purpose=CONNECTION, scope=api.name, status=status, source=source,
                          proof_ref=proof_ref, effective_time=effective_time.replace(microsecond=0))


def authorise(api: MarketplaceApi, tokens: TokenStore, publisher: AvroPublisher, code: str,
              shop_id: str | None = None) -> list[ShopAuth]:
    auths = api.exchange_code(code, shop_id)
    proof = "authorisation-code-sha256:" + hashlib.sha256(code.encode("utf-8")).hexdigest()[:24]
    now = datetime.now(timezone.utc)
    futures = []
    tokens.put_grant(auths)   # one grant may cover several shops: stored together, in one write
    for auth in auths:
        key, record = connection_consent(api, auth.shop_id, "GRANTED", "POWERSELL_APP", proof, now)
        futures.append(publisher.send("consent.events", key, record))
    publisher.flush()
    for f in futures:
        f.get(timeout=30)
    return auths
