"""The workers' Faust tables send each change to the changelog partition of the key's subject, the
partition the catalog gives the subject's data and consent, without needing Faust's current event
(which Faust does not set inside a `take_events` batch)."""

from __future__ import annotations

import pytest

from pipeline_core.kafka_io import partition_for
from pipeline_core.settings import Settings
from pipeline_core.topics import DATA_PARTITIONS, topic
from streams.app import SubjectTable, faust_app

SHOPS = [f"{marketplace}:{n}" for marketplace in ("shopee", "lazada", "tiktok_shop") for n in range(40)]


@pytest.fixture
def app(tmp_path):
    return faust_app(Settings.from_env({"POWERSELL_DATA_DIR": str(tmp_path)}), "table-test")


def test_when_a_subject_key_changes_outside_any_event_then_it_goes_to_its_data_and_consent_partition(app):
    table = app.Table("shop_contacts", partitions=DATA_PARTITIONS)
    assert isinstance(table, SubjectTable)
    for shop in SHOPS:
        expected = partition_for(topic("raw.shops"), shop)
        assert table.partition_for_key(shop) == expected == partition_for(topic("consent.events"), f"{shop}|MARKETING_CONTACT|")
    assert len({table.partition_for_key(shop) for shop in SHOPS}) == DATA_PARTITIONS


def test_when_the_table_has_one_partition_then_every_key_goes_to_it(app):
    table = app.Table("aggregates", partitions=1)
    assert {table.partition_for_key(key) for key in ("DAILY|2026-12-01|shopee|TH|Bangkok|toys", "x", "")} == {0}


def test_when_a_multi_partition_table_does_not_match_the_consent_partitions_then_it_says_so(app):
    table = app.Table("odd", partitions=DATA_PARTITIONS + 1)
    with pytest.raises(ValueError, match="consent topic's"):
        table.partition_for_key("shopee:1")
