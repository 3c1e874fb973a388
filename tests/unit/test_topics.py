import pytest

from pipeline_core.avro_codec import default_registry
from pipeline_core.errors import TopicError
from pipeline_core.kafka_io import partition_for
from pipeline_core.topics import CATALOG, DATA_PARTITIONS, AccessClass, consent_key, shop_key, topic


def test_every_topic_has_a_known_schema_and_a_unique_name():
    names = default_registry().names()
    assert len({t.name for t in CATALOG}) == len(CATALOG)
    for t in CATALOG:
        assert t.value_schema in names, t.name


@pytest.mark.parametrize("t", CATALOG, ids=lambda t: t.name)
def test_access_class_follows_the_data(t):
    if t.name.startswith("raw.") or "dead-letter" in t.name:
        assert t.access is AccessClass.RESTRICTED
    if t.name.startswith(("redacted.", "analytics.")):
        assert t.access is AccessClass.DOWNSTREAM
    if t.name.startswith("consent."):
        assert t.access is AccessClass.INTERNAL and t.cleanup == "compact"


def test_downstream_topics_carry_only_redacted_or_aggregate_schemas():
    for t in CATALOG:
        if t.access is AccessClass.DOWNSTREAM:
            assert ".redacted." in t.value_schema or ".analytics." in t.value_schema, t.name


def test_consent_lands_in_the_same_partition_as_its_shops_data():
    consent = topic("consent.events")
    orders = topic("raw.orders")
    assert consent.partitions == orders.partitions == DATA_PARTITIONS
    partitions_seen = set()
    for n in range(200):
        shop = shop_key("SHOPEE", str(1000 + n))
        p = partition_for(orders, shop)
        partitions_seen.add(p)
        for purpose in ("SHOP_DATA_CONNECTION", "MARKETING_CONTACT"):
            assert partition_for(consent, consent_key(shop, purpose, "shopee")) == p
    assert partitions_seen == set(range(DATA_PARTITIONS))  # keys do spread


# Partition numbers the Java client's default partitioner gives these keys over 1,000 partitions.
@pytest.mark.parametrize("key, partition", [
    (b"", 681), (b"a", 524), (b"ab", 434), (b"abc", 107), (b"123456789", 566), (b"\x00 ", 742)])
def test_partitioning_matches_kafkas_java_default_partitioner(key, partition):
    from kafka.partitioner.default import murmur2
    assert (murmur2(key) & 0x7FFFFFFF) % 1000 == partition


def test_when_a_topic_is_unknown_then_the_error_lists_the_known_ones():
    with pytest.raises(TopicError) as err:
        topic("raw.typo")
    assert "raw.orders" in str(err.value)
