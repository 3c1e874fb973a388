"""The main command, `powersell-pipeline run`, end to end on the real broker: its default world
publishes analytics at k = 10, each shop owner's action shows its promise kept, and stdout holds
the summary only (progress and every log line go to stderr)."""

import json
import os
import subprocess
import sys

import pytest

from pipeline_core.security import OPERATOR, principal_env

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


@pytest.fixture(scope="module")
def run(kafka, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("run")
    summary_file = data_dir / "summary.json"
    done = subprocess.run([sys.executable, "-m", "powersell.cli", "run", "--keep-kafka", "--json", str(summary_file)],
                          capture_output=True, text=True, timeout=1200,
                          env={**os.environ, "POWERSELL_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
                               "POWERSELL_DATA_DIR": str(data_dir), **principal_env(kafka, OPERATOR)})
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-5000:]
    return done, json.loads(summary_file.read_text(encoding="utf-8"))


def test_the_withdrawn_shops_events_are_filtered_and_none_reaches_downstream(run):
    _, doc = run
    withdrawal = doc["promises"]["withdrawal"]
    assert withdrawal["raw_events_stamped_while_withdrawn"] >= 1  # read once the shop connected again
    assert withdrawal["filtered_by_privacy_worker"].get("consent_withdrawn", 0) >= 1
    assert withdrawal["downstream_events_stamped_while_withdrawn"] == 0
    assert withdrawal["kept"] and withdrawal["shown"]


def test_the_erasure_has_its_receipt_and_the_shops_ciphertexts_no_longer_open(run):
    _, doc = run
    erasure = doc["promises"]["erasure"]
    assert erasure["receipt"] is not None and erasure["receipt"]["data_key_destroyed"] is True
    assert erasure["receipt"]["subject_pseudonym"].startswith("ps_")
    assert erasure["opened_before_erasure"] >= 1 and erasure["opened_after_erasure"] == 0


def test_the_opt_out_leaves_the_marketing_audience_and_the_partner_gets_only_its_allow_list(run):
    _, doc = run
    assert doc["promises"]["marketing_opt_out"]["marketing_audience"] == "joined, then left"
    assert doc["promises"]["marketing_opt_out"]["service_audience"] == "member"
    sharing = doc["promises"]["sharing"]
    assert sharing["partner_records"] >= 1 and sharing["records_of_other_shops"] == 0
    assert sharing["fields_outside_allow_list"] == []


def test_the_default_world_publishes_analytics_cells_with_numbers_at_k_10(run):
    done, doc = run
    analytics = doc["analytics"]
    assert analytics["k"] == 10
    published = analytics["published"]
    # the topic's current state is shown: on the suite's shared broker other tests' cells may be among them
    first = next(c for c in published if c["shops"] >= 10 and c["buyers"] >= 10)
    assert first["orders"] > 0 and float(first["gmv"]) > 0
    assert f"{first['orders']:>7}" in done.stdout and str(first["gmv"]) in done.stdout
    assert done.stdout.index("Analytics (R7)") < done.stdout.index("suppressed:")


def test_stdout_is_the_summary_only_and_finds_no_leak(run):
    done, doc = run
    out = done.stdout
    assert doc["ok"] is True and out.rstrip().endswith("OK")
    assert not [line for line in out.splitlines() if '"logger"' in line or line.startswith('{"time"')]
    assert "[1/5]" in done.stderr and "[1/5]" not in out  # progress on stderr
    for section in ("Connection withdrawn (R1)", "Marketing opt-out (R6)", "Erasure (R12)",
                    "Sharing with a partner (R4, R11)", "leak scan"):
        assert section in out
    assert doc["leak_scan"]["in_downstream"] == 0 and doc["leak_scan"]["readable_without_keys"] == 0
    assert "RESTRICTED" in out and ("[PHONE]" in out or "[EMAIL]" in out or "ps_" in out)
    assert "raw" not in (doc["example_order"] or {})  # the JSON document keeps no personal data
