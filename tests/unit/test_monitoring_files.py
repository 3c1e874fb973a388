"""The static monitoring files (ops/): promtool accepts the rules and scrape configs and
their unit tests pass; the dashboard uses its datasource variable; and every metric and
label that a panel or alert uses is declared in the code, found by reading the source, so
that renaming a metric fails here rather than leaving a silently empty panel.

promtool comes from Debian's `prometheus` package (.ci/install-prometheus). Without it
these tests fail: they never skip."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from pipeline_core.errors import ConfigError
from pipeline_core.metrics import LABEL_VALUES, PREFIX, PipelineMetrics
from tests.support.monitoring import (ALERT_RULES, DASHBOARD, alert_expressions, dashboard_expressions, references,
                                      signals, substitute)

pytestmark = pytest.mark.prometheus   # promtool: tests/conftest.py installs it when missing

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = ROOT / "ops" / "prometheus"
SOURCE_PACKAGES = ("connectors", "streams", "pipeline_core")
TARGET_LABELS = frozenset({"job", "instance", "pipeline"})   # added by the scrape configs
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
ALERTS = ("PowersellConsumerStalled", "PowersellConsumerLagGrowing", "PowersellFreshnessObjectiveBreached",
          "PowersellDeadLetterRatioHigh", "PowersellConnectorNotSyncing", "PowersellScrapeTargetDown",
          "PowersellRecordConservationBroken")


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is not installed: run .ci/install-prometheus (Debian package `prometheus`); "
                    "the monitoring tests need it and do not skip")
    return path


def run_promtool(promtool: str, *args: str, cwd: Path = PROMETHEUS_DIR) -> subprocess.CompletedProcess:
    return subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


# ---- the metrics the code declares, read from the source ------------------------------------

@dataclass(frozen=True)
class Declared:
    kind: str                        # counter, histogram, gauge, info
    name: str                        # as declared, without the prefix
    labels: frozenset[str] | None    # None: not a literal list, so unknown
    where: str


def _literal_labels(node: ast.AST | None) -> frozenset[str] | None:
    if node is None:
        return frozenset()
    if isinstance(node, (ast.List, ast.Tuple)) and all(isinstance(e, ast.Constant) for e in node.elts):
        return frozenset(e.value for e in node.elts)
    return None


def declarations() -> list[Declared]:
    """Calls like metrics.counter("name_total", doc, ["label", ...]) and Info(PREFIX + "build").info({...})."""
    found = []
    for package in SOURCE_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            where = str(path.relative_to(ROOT))
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                kind = node.func.attr
                if (kind in ("counter", "histogram", "gauge") and node.args
                        and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                    labels = node.args[2] if len(node.args) > 2 else next(
                        (k.value for k in node.keywords if k.arg == "labels"), None)
                    found.append(Declared(kind, node.args[0].value, _literal_labels(labels), where))
                inner = node.func.value
                if (kind == "info" and isinstance(inner, ast.Call) and getattr(inner.func, "id", "") == "Info"
                        and isinstance(inner.args[0], ast.BinOp) and isinstance(inner.args[0].right, ast.Constant)
                        and node.args and isinstance(node.args[0], ast.Dict)):
                    labels = frozenset(k.value for k in node.args[0].keys if isinstance(k, ast.Constant))
                    found.append(Declared("info", inner.args[0].right.value, labels, where))
    return found


def exposed_series(declared: list[Declared]) -> dict[str, frozenset[str] | None]:
    """Series name as Prometheus stores it -> its label names."""
    series: dict[str, frozenset[str] | None] = {}
    for d in declared:
        name = PREFIX + d.name
        if d.kind == "histogram":
            for suffix, extra in (("_bucket", {"le"}), ("_sum", set()), ("_count", set())):
                series[name + suffix] = None if d.labels is None else d.labels | extra
        elif d.kind == "info":
            series[name + "_info"] = d.labels
        else:
            series[name] = d.labels
    return series


def recorded_series() -> dict[str, frozenset[str]]:
    rules = yaml.safe_load(ALERT_RULES.read_text(encoding="utf-8"))
    return {r["record"]: references(r["expr"]).grouping
            for g in rules["groups"] for r in g["rules"] if "record" in r}


def problems(expr: str, known: dict[str, frozenset[str] | None]) -> list[str]:
    """Metric names that nothing declares, and label names that their metric does not have."""
    refs = references(expr)
    found = []
    available = set(TARGET_LABELS)
    for metric, labels in refs.metrics.items():
        if metric not in known:
            found.append(f"metric {metric} is not declared in {', '.join(SOURCE_PACKAGES)} nor recorded")
            continue
        if known[metric] is None:
            continue
        allowed = known[metric] | TARGET_LABELS
        available |= allowed
        found += [f"label {label} is not a label of {metric}" for label in sorted(labels - allowed)]
    if all(known.get(m, frozenset()) is not None for m in refs.metrics):
        found += [f"grouping label {label} belongs to none of the metrics used"
                  for label in sorted(refs.grouping - available)]
    return found


DECLARED = declarations()
KNOWN = {**exposed_series(DECLARED), **recorded_series(), "up": frozenset()}
EXPRESSIONS = dashboard_expressions() + alert_expressions()


# ---- promtool -----------------------------------------------------------------------------------

def test_when_the_rules_are_checked_then_promtool_accepts_them(promtool):
    result = run_promtool(promtool, "check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_when_the_rule_unit_tests_run_then_they_pass(promtool):
    result = run_promtool(promtool, "test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


# One change per alert that its unit tests must notice: proof that each alert's cases bite.
@pytest.mark.parametrize("alert, old, new", [
    ("PowersellConsumerStalled", "unless on (stage)", "and on (stage)"),
    ("PowersellConsumerLagGrowing", "> 1000", "> 100"),
    ("PowersellFreshnessObjectiveBreached", "> 900", "> 1800"),
    ("PowersellDeadLetterRatioHigh", "> 0.01", "> 0.1"),
    ("PowersellConnectorNotSyncing", "min by", "max by"),
    ("PowersellScrapeTargetDown", '{pipeline="powersell"}', ""),
    ("PowersellRecordConservationBroken", "> 1)", "> 0)"),
])
def test_when_an_alert_is_changed_then_its_unit_tests_fail(promtool, tmp_path, alert, old, new):
    tests = yaml.safe_load((PROMETHEUS_DIR / "alerts_test.yml").read_text(encoding="utf-8"))
    tests["tests"] = [t for t in tests["tests"] if any(c["alertname"] == alert for c in t["alert_rule_test"])]
    (tmp_path / "alerts_test.yml").write_text(yaml.safe_dump(tests, sort_keys=False), encoding="utf-8")
    rules = yaml.safe_load(ALERT_RULES.read_text(encoding="utf-8"))  # unchanged, these cases pass (test above)
    rule = next(r for g in rules["groups"] for r in g["rules"] if r.get("alert") == alert)
    assert old in rule["expr"]
    rule["expr"] = rule["expr"].replace(old, new)
    (tmp_path / "alerts.yml").write_text(yaml.safe_dump(rules, sort_keys=False), encoding="utf-8")
    assert run_promtool(promtool, "check", "rules", "alerts.yml", cwd=tmp_path).returncode == 0
    result = run_promtool(promtool, "test", "rules", "alerts_test.yml", cwd=tmp_path)
    assert result.returncode != 0 and alert in result.stdout + result.stderr


def test_when_the_dashboard_queries_are_checked_as_rules_then_promtool_parses_every_one(promtool, tmp_path):
    queries = dashboard_expressions()
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query_{n}:check", "expr": e.promql} for n, e in enumerate(queries)]}]}
    (tmp_path / "dashboard.yml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    result = run_promtool(promtool, "check", "rules", "dashboard.yml", cwd=tmp_path)
    assert result.returncode == 0 and f"{len(queries)} rules found" in result.stdout, result.stdout + result.stderr


def test_when_a_dashboard_query_is_broken_then_promtool_rejects_it(promtool, tmp_path):
    broken = {"record": "dashboard:broken:check", "expr": "sum by (stage (x)"}
    rules = {"groups": [{"name": "dashboard", "rules": [broken]}]}
    (tmp_path / "dashboard.yml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    assert run_promtool(promtool, "check", "rules", "dashboard.yml", cwd=tmp_path).returncode != 0


@pytest.mark.parametrize("config", ["prometheus.yml", "prometheus.compose.yml"])
def test_when_a_scrape_config_is_checked_then_promtool_accepts_it(promtool, config):
    result = run_promtool(promtool, "check", "config", config)
    assert result.returncode == 0, result.stdout + result.stderr


def test_when_every_declared_metric_is_exposed_then_promtool_check_metrics_accepts_it(promtool):
    metrics = PipelineMetrics()
    for d in {d.name: d for d in DECLARED if d.kind != "info"}.values():
        metric = getattr(metrics, d.kind)(d.name, "doc", sorted(d.labels or ()))
        sample = metric.labels(**{n: sorted(LABEL_VALUES[n])[0] for n in d.labels}) if d.labels else metric
        getattr(sample, {"histogram": "observe", "counter": "inc", "gauge": "set"}[d.kind])(1)
    metrics.build_info("0.1.0", "connector")
    result = subprocess.run([promtool, "check", "metrics"], input=metrics.exposition().decode(),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_when_promtool_is_installed_then_the_install_script_does_nothing(promtool):
    result = subprocess.run([str(ROOT / ".ci" / "install-prometheus")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "already installed" in result.stdout


# ---- the alert rules ----------------------------------------------------------------------------

def _rule_tests() -> list[dict]:
    tests = yaml.safe_load((PROMETHEUS_DIR / "alerts_test.yml").read_text(encoding="utf-8"))["tests"]
    return [case for test in tests for case in test.get("alert_rule_test", [])]


def _alerts() -> dict[str, dict]:
    rules = yaml.safe_load(ALERT_RULES.read_text(encoding="utf-8"))
    return {r["alert"]: r for g in rules["groups"] for r in g["rules"] if "alert" in r}


def test_the_rules_hold_exactly_the_alerts_of_issue_7():
    assert sorted(_alerts()) == sorted(ALERTS)


@pytest.mark.parametrize("alert", ALERTS)
def test_every_alert_has_a_case_where_it_fires_and_one_where_it_stays_silent(alert):
    cases = [c for c in _rule_tests() if c["alertname"] == alert]
    assert any(c.get("exp_alerts") for c in cases), f"{alert} never fires in alerts_test.yml"
    assert any(not c.get("exp_alerts") for c in cases), f"{alert} is never expected to stay silent"


@pytest.mark.parametrize("alert", ALERTS)
def test_every_alert_has_a_severity_a_summary_a_description_and_a_runbook(alert):
    rule = _alerts()[alert]
    assert rule["labels"]["severity"] in ("critical", "warning")
    assert {"summary", "description", "runbook"} <= set(rule["annotations"])
    assert rule.get("for"), "an alert without `for` pages on one bad scrape"


# ---- the scrape configs -------------------------------------------------------------------------

def _jobs(config: str) -> dict[str, list[str]]:
    scrape = yaml.safe_load((PROMETHEUS_DIR / config).read_text(encoding="utf-8"))["scrape_configs"]
    return {job["job_name"]: [t for s in job["static_configs"] for t in s["targets"]] for job in scrape}


def test_the_loopback_config_scrapes_every_process_on_loopback_with_the_pipeline_label():
    scrape = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text(encoding="utf-8"))["scrape_configs"]
    assert {job["job_name"] for job in scrape} == {"connectors", "redactor", "aggregator"}
    for job in scrape:
        for static in job["static_configs"]:
            assert static["labels"] == {"pipeline": "powersell"}
            assert all(t.startswith("127.0.0.1:") for t in static["targets"])


def test_the_compose_config_has_the_same_jobs_and_ports_with_service_names():
    loopback, compose = _jobs("prometheus.yml"), _jobs("prometheus.compose.yml")
    assert loopback.keys() == compose.keys()
    for job in loopback:
        assert [t.split(":")[1] for t in loopback[job]] == [t.split(":")[1] for t in compose[job]]
        assert all(t.split(":")[0] == job for t in compose[job])


# ---- the dashboard ------------------------------------------------------------------------------

def _dashboard() -> dict:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def _panels() -> list[dict]:
    return [p for p in _dashboard()["panels"] if p["type"] != "row"]


def test_the_dashboard_is_the_classic_model_with_the_prometheus_datasource_as_a_variable():
    dashboard = _dashboard()
    assert 36 <= dashboard["schemaVersion"] <= 39 and "rows" not in dashboard and dashboard["uid"]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("variable", ["stage", "marketplace"])
def test_the_dashboard_filters_offer_only_values_of_the_closed_label_sets(variable):
    var = next(v for v in _dashboard()["templating"]["list"] if v["name"] == variable)
    values = [o["value"] for o in var["options"] if o["value"] != "$__all"]
    assert values and set(values) <= LABEL_VALUES[variable] and var["query"].split(",") == values


@pytest.mark.parametrize("panel", _panels(), ids=lambda p: p["title"])
def test_every_panel_has_targets_on_the_datasource_variable(panel):
    assert panel["datasource"] == DATASOURCE
    assert panel["targets"], "a panel without a query shows nothing"
    for target in panel["targets"]:
        assert target["expr"].strip() and target["datasource"] == DATASOURCE
    assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24


def test_the_dashboard_shows_every_metric_issue_7_asks_for():
    used = {m for e in dashboard_expressions() for m in references(e.promql).metrics}
    wanted = {PREFIX + n for n in (
        "records_consumed_total", "records_produced_total", "records_filtered_total", "records_dead_lettered_total",
        "processing_duration_seconds_bucket", "event_age_seconds_bucket", "last_processed_timestamp_seconds",
        "consumer_lag_records", "consumer_lag_seconds", "redactions_total", "consent_decisions_total",
        "aggregates_published_total", "aggregates_suppressed_total", "connector_requests_total",
        "connector_request_duration_seconds_bucket", "connector_rate_limit_waits_total",
        "connector_last_successful_sync_timestamp_seconds", "connector_token_refreshes_total",
        "webhook_pushes_received_total", "webhook_pushes_rejected_total", "webhook_pushes_duplicated_total",
        "build_info")}
    assert sorted(wanted - used) == []


# ---- every name used exists in the code -----------------------------------------------------------

@pytest.mark.parametrize("expression", EXPRESSIONS, ids=lambda e: e.source)
def test_every_metric_and_label_an_expression_uses_is_declared_in_the_code(expression):
    assert problems(expression.promql, KNOWN) == []


def test_metrics_are_declared_with_one_label_set_each():
    by_name: dict[str, set] = {}
    for d in DECLARED:
        by_name.setdefault(d.name, set()).add(d.labels)
    assert {n: s for n, s in by_name.items() if len(s) > 1} == {}


@pytest.mark.parametrize("renamed, expr, expected", [
    ("powersell_records_consumed_total", "sum(rate(powersell_records_consumed_total[5m]))",
     "metric powersell_records_consumed_total is not declared"),
    ("powersell_connector_requests_total", 'powersell_connector_requests_total{outcome="ok"}',
     "metric powersell_connector_requests_total is not declared"),
])
def test_when_a_metric_is_renamed_in_the_code_then_the_check_reports_it(renamed, expr, expected):
    known = {n: labels for n, labels in KNOWN.items() if n != renamed}
    assert problems(expr, KNOWN) == []
    assert any(expected in p for p in problems(expr, known))


@pytest.mark.parametrize("expr, expected", [
    ('powersell_connector_requests_total{shop="x"}', "label shop is not a label of powersell_connector_requests_total"),
    ("sum by (kind) (powersell_records_consumed_total)", "grouping label kind belongs to none of the metrics used"),
])
def test_when_a_label_is_not_on_the_metric_then_the_check_reports_it(expr, expected):
    assert expected in problems(expr, KNOWN)


# ---- tests.support.monitoring ---------------------------------------------------------------------

@pytest.mark.parametrize("expr, expected", [
    ("up == 0", ["up"]),
    ("(sum by (stage) (lag) > 0) unless on (stage) (sum by (stage) (rate(c[5m])) > 0)",
     ["sum by (stage) (lag)", "sum by (stage) (rate(c[5m]))"]),
    ("(a - b > 1) or (a offset 1m - b > 0) or (b - a > 0)", ["a - b", "a offset 1m - b", "b - a"]),
    ('x{reason=~"a|b>c"} >= bool 2', ['x{reason=~"a|b>c"}']),
    ("histogram_quantile(0.95, sum by (le) (rate(h_bucket[5m]))) > 900",
     ["histogram_quantile(0.95, sum by (le) (rate(h_bucket[5m])))"]),
    ("(x or 0 * y) / y > 0.01", ["(x or 0 * y) / y"]),
    ("sum(rate(x[5m]))", ["sum(rate(x[5m]))"]),
])
def test_when_an_alert_expression_is_split_then_its_signals_are_the_non_numeric_operands(expr, expected):
    assert signals(expr) == expected


@pytest.mark.parametrize("expr, expected", [
    ("rate(x[$__rate_interval])", "rate(x[2m])"),
    ("increase(x[${__range}])", "increase(x[1h])"),
    ('x{stage=~"$stage"}', 'x{stage=~".*"}'),
    ('x{stage=~"${stage:regex}"}', 'x{stage=~".*"}'),
])
def test_when_grafana_variables_are_substituted_then_plain_promql_remains(expr, expected):
    values = {"__rate_interval": "2m", "__range": "1h", "stage": ".*"}
    assert substitute(expr, values) == expected


def test_when_an_expression_uses_an_unknown_variable_then_it_is_an_error():
    with pytest.raises(ConfigError):
        substitute("rate(x[$window])", {"__rate_interval": "1m"})


def test_dashboard_expressions_are_plain_promql_for_every_target():
    found = dashboard_expressions(rate_interval="30s")
    assert len(found) == sum(len(p["targets"]) for p in _panels())
    assert all("$" not in e.promql and "[[" not in e.promql for e in found)
    assert any("[30s]" in e.promql for e in found)


def test_alert_expressions_hold_every_rule_and_a_signal_for_every_alert():
    found = alert_expressions()
    alerts = {e.source.split()[1] for e in found if e.source.startswith("alert") and not e.must_return_data}
    with_signals = {e.source.split()[1] for e in found if " signal " in e.source}
    assert alerts == with_signals == set(ALERTS)
    assert all(e.must_return_data for e in found if e.source.startswith("record"))
