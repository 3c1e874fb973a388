"""Prometheus metrics with one prefix, base units and closed label sets.

Every component declares its metrics through `PipelineMetrics`, which enforces the
naming conventions (counters end in `_total`, histograms in `_seconds` or `_bytes`)
and accepts label values only from the closed sets below: an id or a piece of
personal data can never become a time series. `serve_metrics` exposes `/metrics`,
`/healthz` and `/readyz`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from schemas import FREE_TEXT_KINDS, PII_KINDS

from .marketplaces import MARKETPLACES
from .topics import CATALOG

PREFIX = "powersell_"

# The closed sets. Later components add their values here, in one place.
LABEL_VALUES: dict[str, frozenset[str]] = {
    "stage": frozenset({"connector", "webhook", "redactor", "consent", "aggregator", "cli", "passthrough",
                        "sharing", "audience", "erasure", "access"}),
    "topic": frozenset(t.name for t in CATALOG),
    "marketplace": frozenset(MARKETPLACES) | {"unknown"},  # unknown: a webhook request refused before routing
    "reason": frozenset({
        "not_single_object", "unknown_fingerprint", "corrupt_body", "schema_mismatch",
        "invalid_json", "invalid_utf8", "oversize", "missing_field", "wrong_type",
        "no_consent", "consent_withdrawn", "consent_expired", "duplicate", "bad_signature", "not_authorised",
        "rate_limited_too_long", "api_failed", "result_cap", "missing_record", "redaction_failed",
        "small_cell", "dominance", "complementary", "too_late", "late", "stale",
        "bad_header", "too_deep", "read_timeout", "incomplete_body",  # webhook requests refused at the edge
        "malformed_request",  # a webhook request aiohttp's parser refused (400) before routing
        "subject_erased", "cannot_decrypt", "sealing_failed",  # sealed personal data (erasure, key store)
        "sharing_withdrawn_at_send",  # a partner share dropped when sharing ended between its event and its send
        "oversize_output", "send_failed", "encode_failed", "implausible_time", "unreadable_consent",  # issue 15
    }),
    "kind": PII_KINDS | {k.lower() for k in FREE_TEXT_KINDS},
    "purpose": frozenset({
        "shop_data_connection", "marketing_contact", "service_announcements",
        "analytics", "third_party_sharing", "embedded_content",
    }),
    "outcome": frozenset({"ok", "error", "timeout", "bad_payload", "granted", "denied", "rate_limited", "retried",
                          "suppressed", "published", "skipped", "allowed"}),
    "stream": frozenset({"shop", "products", "orders"}),
    "granularity": frozenset({"hourly", "daily"}),
}

_UNIT_SUFFIXES = ("_seconds", "_bytes")


class LabelOutsideClosedSet(ValueError):
    """A label value is not in its closed set. The value itself is not repeated: it may be personal data."""


class _Closed:
    """Wraps a prometheus_client metric so that .labels() accepts only closed-set values."""

    def __init__(self, metric, label_names: tuple[str, ...]):
        self._metric = metric
        self._label_names = label_names
        self._children: dict[tuple, object] = {}  # checked once per label set: labels() is on hot paths

    def labels(self, **values: str):
        key = tuple(values.get(name) for name in self._label_names)
        child = self._children.get(key)
        if child is None:
            for name, value in zip(self._label_names, key):
                if value not in LABEL_VALUES[name]:
                    raise LabelOutsideClosedSet(
                        f"label {name!r} of {self._metric._name} got a value outside its closed set")
            child = self._children[key] = self._metric.labels(**values)
        return child

    def __getattr__(self, attr):  # inc/observe/set on unlabelled metrics
        return getattr(self._metric, attr)


def _check_labels(labels: Iterable[str]) -> tuple[str, ...]:
    labels = tuple(labels)
    unknown = [n for n in labels if n not in LABEL_VALUES]
    if unknown:
        raise ValueError(f"labels {unknown} have no closed set in pipeline_core.metrics.LABEL_VALUES")
    return labels


class PipelineMetrics:
    """The metrics of one process, in their own registry."""

    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()

    def counter(self, name: str, doc: str, labels: Iterable[str] = ()) -> _Closed:
        if not name.endswith("_total"):
            raise ValueError(f"counter {name!r} must end in _total")
        labels = _check_labels(labels)
        # prometheus_client appends _total itself.
        return _Closed(Counter(PREFIX + name[: -len("_total")], doc, labels, registry=self.registry), labels)

    def histogram(self, name: str, doc: str, labels: Iterable[str] = (), buckets=Histogram.DEFAULT_BUCKETS) -> _Closed:
        if not name.endswith(_UNIT_SUFFIXES):
            raise ValueError(f"histogram {name!r} must be in base units: end in _seconds or _bytes")
        labels = _check_labels(labels)
        return _Closed(Histogram(PREFIX + name, doc, labels, registry=self.registry, buckets=buckets), labels)

    def gauge(self, name: str, doc: str, labels: Iterable[str] = ()) -> _Closed:
        if name.endswith("_total"):
            raise ValueError(f"gauge {name!r} must not end in _total (that suffix is for counters)")
        labels = _check_labels(labels)
        return _Closed(Gauge(PREFIX + name, doc, labels, registry=self.registry), labels)

    def build_info(self, version: str, component: str) -> None:
        Info(PREFIX + "build", "Version of the running pipeline component.", registry=self.registry).info(
            {"version": version, "component": component}
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


@dataclass
class MetricsServer:
    server: ThreadingHTTPServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve_metrics(metrics: PipelineMetrics, port: int, host: str = "127.0.0.1",
                  ready: Callable[[], bool] = lambda: True) -> MetricsServer:
    """Serve /metrics, /healthz (process alive) and /readyz (ready() is true). Port 0 picks a free port."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._reply(200, metrics.exposition(), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                self._reply(200, b"ok\n", "text/plain")
            elif path == "/readyz":
                ok = ready()
                self._reply(200 if ok else 503, b"ready\n" if ok else b"not ready\n", "text/plain")
            else:
                self._reply(404, b"not found\n", "text/plain")

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # request lines stay out of the logs
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    thread = threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True)
    thread.start()
    return MetricsServer(server, thread)
