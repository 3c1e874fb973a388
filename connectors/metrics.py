"""The connectors' metrics, declared once through the shared helper (closed label sets)."""

from __future__ import annotations

from pipeline_core.metrics import PipelineMetrics

REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class ConnectorMetrics:
    def __init__(self, metrics: PipelineMetrics | None = None):
        self.registry = metrics or PipelineMetrics()
        m = self.registry
        self.requests = m.counter("connector_requests_total", "HTTP requests to a marketplace, by outcome.",
                                  ["marketplace", "outcome"])
        self.request_seconds = m.histogram("connector_request_duration_seconds", "Duration of marketplace requests.",
                                           ["marketplace"], buckets=REQUEST_BUCKETS)
        self.rate_limit_waits = m.counter("connector_rate_limit_waits_total", "Waits after a rate-limit answer.",
                                          ["marketplace"])
        self.rate_limit_wait_seconds = m.counter("connector_rate_limit_wait_seconds_total",
                                                 "Seconds spent waiting out rate limits.", ["marketplace"])
        self.token_refreshes = m.counter("connector_token_refreshes_total", "Access-token refreshes.",
                                         ["marketplace", "outcome"])
        self.records = m.counter("connector_records_published_total", "Raw events published.",
                                 ["marketplace", "topic"])
        self.dead_letters = m.counter("records_dead_lettered_total", "Records sent to the dead-letter topic, by reason.",
                                      ["stage", "reason"])
        self.last_sync = m.gauge("connector_last_successful_sync_timestamp_seconds",
                                 "Unix time of the last complete sync of a stream.", ["marketplace", "stream"])
        self.shops_skipped = m.counter("connector_shops_skipped_total", "Shop polls skipped, by reason.",
                                       ["marketplace", "reason"])
        self.pushes = m.counter("webhook_pushes_received_total", "Push notifications received.", ["marketplace"])
        self.pushes_rejected = m.counter("webhook_pushes_rejected_total", "Pushes rejected, by reason.",
                                         ["marketplace", "reason"])
        self.pushes_duplicated = m.counter("webhook_pushes_duplicated_total", "Duplicate pushes dropped.",
                                           ["marketplace"])

    # the ApiClient's hooks
    def request(self, marketplace: str, outcome: str, seconds: float | None) -> None:
        self.requests.labels(marketplace=marketplace, outcome=outcome).inc()
        if seconds is not None:
            self.request_seconds.labels(marketplace=marketplace).observe(seconds)

    def rate_limit_wait(self, marketplace: str, seconds: float) -> None:
        self.rate_limit_waits.labels(marketplace=marketplace).inc()
        self.rate_limit_wait_seconds.labels(marketplace=marketplace).inc(seconds)
