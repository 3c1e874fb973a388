"""Shared fixtures. Tests marked `kafka` run against the real broker that
`powersell-pipeline kafka up` starts (secured: SASL_SSL, SCRAM users, the catalog's ACLs):
CI starts it first; a developer's test run starts it here if it is not running, and stops
it again at the end. The `kafka` fixture is the operator's settings; a test that starts a
pipeline process gives it its own principal with `principal_env(kafka, NAME)`."""

from __future__ import annotations

import pytest

from pipeline_core.settings import Settings


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "prometheus: needs Debian's promtool/prometheus "
                                       "(installed by the test session if absent, when root with apt-get)")
    config.addinivalue_line("markers", "slow: minutes-long fault tests (chaos); deselect with -m 'not slow'")


def pytest_collection_modifyitems(config, items) -> None:
    """Tests marked `prometheus` need Debian's promtool/prometheus: install them once, before any
    runs, when missing and we are root with apt-get (a fresh machine); else say why in one line."""
    if any(item.get_closest_marker("prometheus") for item in items):
        from tests.prometheus_tools import ensure
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        ensure(reporter.write_line if reporter else print)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test's report ends with the tails of the pipeline processes' logs written while it ran."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.when in ("setup", "call"):
        from tests.support.workers import log_tails
        for path, tail in log_tails(call.start - 1):
            report.sections.append((f"log of {path} (last lines)", tail))


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings.from_env()


@pytest.fixture(scope="session")
def kafka(settings: Settings) -> Settings:
    from powersell.acl_commands import apply_if_secured
    from pipeline_core.kafka_broker import LocalKafka, broker_answers
    from pipeline_core.kafka_io import ensure_topics
    from pipeline_core.security import OPERATOR, as_principal, kafka_client_config

    broker = LocalKafka(settings)
    # A broker that already answers (ours from `kafka up`, or docker compose's) is used as it is.
    # (our own broker counts as running even if it is slow to answer right now)
    started_here = not broker.status().running and not broker_answers(
        settings.bootstrap_servers, timeout=5, client_config=kafka_client_config(settings))
    if started_here:
        broker.up()
    operator = as_principal(settings, OPERATOR)
    ensure_topics(operator)
    apply_if_secured(operator, print)  # a broker started before a catalog change gets today's rules
    yield operator
    if started_here:
        broker.down()
