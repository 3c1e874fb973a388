"""The foundation that connectors/ and streams/ stand on; it imports only schemas/.

Configuration: settings, security (how every Kafka client connects), errors, logs.
The broker: kafka_broker (the local one), topics (the catalog), acl and acl_admin (who may
read and write what), compose_secrets (the same credentials for docker compose).
Data on the wire: avro_codec, kafka_io (clients), lag, dead_letters, consent_records,
sample_events.
Personal data at rest: keystore (per-subject keys), sealing (field encryption), pseudonyms.
Serving: metrics, aiohttp_thread.
"""
