"""Wiring one marketplace's connector from settings: HTTP client, retry policy, card
vault, record sealer (the key store and the pseudonym key), token store, checkpoints,
consent gate, publisher and metrics."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from pipeline_core.avro_codec import default_registry
from pipeline_core.kafka_io import AvroPublisher
from pipeline_core.keystore import open_keystore
from pipeline_core.pseudonyms import pipeline_pseudonym_key
from pipeline_core.sealing import RecordSealer
from pipeline_core.settings import Settings

from .registry import api_class
from .api_client import ApiClient
from .card_vault import CardVault
from .checkpoints import CheckpointStore
from .config import MarketplaceConfig, SyncConfig
from .consent_gate import ConnectionConsent
from .metrics import ConnectorMetrics
from .runner import ShopSyncer
from .token_store import TokenStore, load_or_create_key


@dataclass
class Connector:
    syncer: ShopSyncer
    http: httpx.Client

    def close(self) -> None:
        self.http.close()
        self.syncer.consent.close()


def build_connector(settings: Settings, market: MarketplaceConfig, sync: SyncConfig,
                    publisher: AvroPublisher, metrics: ConnectorMetrics) -> Connector:
    keys = settings.data_dir / "keys"
    tokens = TokenStore(settings.data_dir / "connectors", load_or_create_key(keys / "tokens.key"))
    vault = CardVault.from_file(keys / "card.key")
    http = httpx.Client(timeout=httpx.Timeout(sync.request_timeout), follow_redirects=False)
    holder: dict = {}
    client = ApiClient(market.name, http, metrics=metrics,
                       on_bad_payload=lambda bad: holder["syncer"].dead_letter(bad, None))
    api = api_class(market.name)(market.base_url, market.credentials, client, seal_card=vault.seal,
                                 **market.api_options)
    sealer = RecordSealer(open_keystore(settings), pipeline_pseudonym_key(settings.data_dir), default_registry())
    syncer = ShopSyncer(api, tokens, CheckpointStore(settings, publisher), ConnectionConsent(settings), publisher,
                        metrics, sealer=sealer, lookback=sync.lookback, full_sync_days=sync.full_sync_days)
    holder["syncer"] = syncer
    return Connector(syncer, http)
