import urllib.error
import urllib.request

import pytest

from pipeline_core.metrics import LabelOutsideClosedSet, PipelineMetrics, serve_metrics


def test_when_a_counter_is_used_then_it_is_exposed_with_prefix_and_total():
    m = PipelineMetrics()
    c = m.counter("records_consumed_total", "Records read.", ["stage", "topic"])
    c.labels(stage="redactor", topic="raw.orders").inc(3)
    text = m.exposition().decode()
    assert 'powersell_records_consumed_total{stage="redactor",topic="raw.orders"} 3.0' in text


def test_when_a_label_value_is_outside_its_closed_set_then_it_is_refused_without_echoing_it():
    m = PipelineMetrics()
    c = m.counter("records_filtered_total", "Filtered.", ["reason"])
    with pytest.raises(LabelOutsideClosedSet) as err:
        c.labels(reason="lan.nguyen.shop@gmail.com")
    assert "lan.nguyen" not in str(err.value)
    assert "powersell_records_filtered_total{" not in m.exposition().decode()


@pytest.mark.parametrize("kind, name, labels, fragment", [
    ("counter", "records", (), "_total"),
    ("histogram", "duration_ms", (), "base units"),
    ("gauge", "lag_total", (), "counters"),
    ("counter", "x_total", ("shop_id",), "closed set"),
])
def test_when_a_name_or_label_breaks_the_conventions_then_declaring_fails(kind, name, labels, fragment):
    with pytest.raises(ValueError) as err:
        getattr(PipelineMetrics(), kind)(name, "doc", labels)
    assert fragment in str(err.value)


def test_when_served_then_metrics_healthz_and_readyz_answer():
    m = PipelineMetrics()
    m.build_info("1.2.3", "cli")
    m.histogram("processing_duration_seconds", "Time per record.", ["stage"]).labels(stage="redactor").observe(0.01)
    ready = {"ok": False}
    server = serve_metrics(m, 0, ready=lambda: ready["ok"])
    base = f"http://127.0.0.1:{server.port}"
    try:
        body = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()
        assert 'powersell_build_info{component="cli",version="1.2.3"} 1.0' in body
        assert "powersell_processing_duration_seconds_bucket" in body
        assert urllib.request.urlopen(base + "/healthz", timeout=5).status == 200
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(base + "/readyz", timeout=5)
        assert err.value.code == 503
        ready["ok"] = True
        assert urllib.request.urlopen(base + "/readyz", timeout=5).status == 200
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(base + "/tables", timeout=5)
    finally:
        server.stop()
