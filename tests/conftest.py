"""Shared fixtures. Tests marked `kafka` run against the real broker that
`powersell-pipeline kafka up` starts: CI starts it first; a developer's test run
starts it here if it is not running, and stops it again at the end."""

from __future__ import annotations

import pytest

from pipeline_core.settings import Settings


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings.from_env()


@pytest.fixture(scope="session")
def kafka(settings: Settings) -> Settings:
    from pipeline_core.kafka_broker import LocalKafka, broker_answers
    from pipeline_core.kafka_io import ensure_topics

    broker = LocalKafka(settings)
    # A broker that already answers (ours from `kafka up`, or docker compose's) is used as it is.
    # (our own broker counts as running even if it is slow to answer right now)
    started_here = not broker.status().running and not broker_answers(settings.bootstrap_servers, timeout=5)
    if started_here:
        broker.up()
    ensure_topics(settings)
    yield settings
    if started_here:
        broker.down()
