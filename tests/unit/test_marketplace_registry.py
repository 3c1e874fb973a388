"""One marketplace list (pipeline_core/marketplaces.py) that the rest derives from: adding a
marketplace is one connector package plus one entry (issue 16). Shown with FakeMart
(tests/support/fake_marketplace), registered in a fresh interpreter before anything else loads,
as an entry in the list would be."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from connectors import MARKETPLACES, api_class
from connectors.errors import ConnectorError
from pipeline_core.errors import ConfigError, PipelineError
from pipeline_core.marketplaces import MARKETPLACES as ENTRIES
from pipeline_core.marketplaces import Marketplace, register

REPO = Path(__file__).resolve().parents[2]

# What each part of the pipeline makes of the marketplace list, printed as JSON.
PROBE = r'''
import json, sys
from pipeline_core.marketplaces import Marketplace, register
if sys.argv[1] == "with-fakemart":
    register(Marketplace("fakemart", "FakeMart", "tests.support.fake_marketplace"))   # the one entry

from connectors import MARKETPLACES, api_class
from connectors.commands import simulator_for, simulator_ports
from connectors.config import marketplace_config
from pipeline_core.errors import PipelineError
from pipeline_core.metrics import PipelineMetrics
from powersell.cli import build_parser
from powersell.consent_commands import change_record
from streams.consent import ConsentBook
from streams.erasure import SUBJECT_FORMS

seen = {"registry": sorted(MARKETPLACES)}
try:
    seen["api_class"] = api_class("fakemart").__name__
    market = marketplace_config("fakemart", {})
    seen["config"] = [market.base_url, market.app_key]
    seen["real_host_refused"] = ""
    try:
        marketplace_config("fakemart", {"POWERSELL_FAKEMART_BASE_URL": "https://api.fakemart.example"})
    except PipelineError as exc:
        seen["real_host_refused"] = str(exc)
    seen["simulator"] = [type(simulator_for("fakemart", shops=1)).__name__, simulator_ports(["fakemart"], {})["fakemart"]]
except KeyError:
    pass

counter = PipelineMetrics().counter("probe_requests_total", "probe", ["marketplace"])
try:
    counter.labels(marketplace="fakemart").inc()
    seen["metric_label"] = True
except ValueError:
    seen["metric_label"] = False

parser = build_parser()
seen["cli"] = {}
for argv in (["connect", "fakemart", "--once"], ["simulate", "fakemart"],
             ["consent", "grant", "fakemart:7001", "--purpose", "connection", "--proof", "ticket-1"]):
    try:
        args = parser.parse_args(argv)
    except SystemExit:
        seen["cli"][argv[0]] = None
        continue
    seen["cli"][argv[0]] = getattr(args, "marketplace", None) or None
    if argv[0] == "consent":
        try:
            key, record = change_record(args)
            seen["cli"]["consent"] = [key, record["purpose_scope"], record["subject_type"]]
        except PipelineError:
            seen["cli"]["consent"] = None

book = ConsentBook()
for key, record in ([change_record(parser.parse_args(["consent", "grant", "fakemart:7001", "--purpose", "connection",
                                                       "--scope", "fakemart", "--proof", "t"]))]
                    if seen["cli"]["consent"] else []):
    book.apply(key, record)
seen["active_customer"] = book.is_active_customer("fakemart:7001")
seen["erasable_shop"] = bool(SUBJECT_FORMS["SHOP"][0].fullmatch("fakemart:7001"))
print(json.dumps(seen))
'''


def probe(which: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, which], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={"PATH": "", "PYTHONPATH": str(REPO), "POWERSELL_DATA_DIR": str(REPO / ".probe-unused")})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_when_a_fourth_marketplace_is_one_package_plus_one_entry_then_every_list_has_it():
    seen = probe("with-fakemart")
    assert seen["registry"] == sorted(["shopee", "lazada", "tiktok_shop", "fakemart"])
    assert seen["api_class"] == "FakeMartApi"
    assert seen["config"] == ["http://127.0.0.1:8799", "fake-app-1"]             # the simulator and its test app
    assert "POWERSELL_FAKEMART_APP_KEY" in seen["real_host_refused"]              # a real host needs real credentials
    assert "sim-fakemart-secret-0001" not in seen["real_host_refused"]
    assert seen["simulator"] == ["FakeMartSimulator", [8799, None]]
    assert seen["metric_label"] is True
    assert seen["cli"]["connect"] == seen["cli"]["simulate"] == "fakemart"
    assert seen["cli"]["consent"] == ["fakemart:7001|SHOP_DATA_CONNECTION|fakemart", "fakemart", "SHOP"]
    assert seen["active_customer"] is True and seen["erasable_shop"] is True


def test_without_the_entry_nothing_knows_fakemart():
    """The control: the same probe without the entry, so the test above cannot pass on hard-coded lists."""
    seen = probe("without")
    assert seen["registry"] == sorted(["shopee", "lazada", "tiktok_shop"]) and "api_class" not in seen
    assert seen["metric_label"] is False
    assert seen["cli"]["connect"] is None and seen["cli"]["simulate"] is None
    assert seen["cli"]["consent"] is None             # not marketplace:shop_id: refused as an unknown kind of subject
    assert seen["active_customer"] is False and seen["erasable_shop"] is False


@pytest.mark.parametrize("name", list(ENTRIES))
def test_each_entry_has_its_package_spec_and_api_class(name):
    spec = MARKETPLACES[name]
    assert (spec.name, spec.package) == (name, ENTRIES[name].connector)
    assert api_class(name).name == name and spec.simulator_class().name == name
    assert spec.app_secret_env == f"POWERSELL_{name.upper()}_APP_SECRET"


@pytest.mark.parametrize("bad", ["Shopee", "shop ee", "shop:ee", "", "shopee"])
def test_when_a_name_is_unusable_or_taken_then_registering_it_is_refused(bad):
    with pytest.raises(ConfigError):
        register(Marketplace(bad, "X", "connectors.x"))
    assert bad not in ENTRIES or bad == "shopee"


def test_connector_errors_are_pipeline_errors():
    assert issubclass(ConnectorError, PipelineError)
