"""`powersell-pipeline redact`: one output line per input line, in order, same engine."""

import json
import os
import subprocess
import sys

from pipeline_core.cli import jsonable
from pipeline_core.sample_events import sample_events


def run(args, stdin, tmp_path):
    env = {**os.environ, "POWERSELL_DATA_DIR": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "pipeline_core.cli", "redact", *args], input=stdin,
                          capture_output=True, text=True, env=env, timeout=60)


def test_when_text_lines_come_in_then_each_comes_out_redacted_in_order(tmp_path):
    lines = ["Liên hệ Zalo 0912 345 678 để đặt hàng", "", "Giá 1.250.000₫, mã đơn 2611205ABCDEF",
             "ส่งที่ wipa.s@gmail.com โทร 081-234-5678"]
    done = run([], "\n".join(lines) + "\n", tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout.split("\n")[:-1]
    assert len(out) == len(lines)
    assert "0912 345 678" not in out[0] and "[PHONE]" in out[0]
    assert out[1] == "" and out[2] == lines[2]
    assert "wipa.s@gmail.com" not in out[3] and "081-234-5678" not in out[3]


def test_when_json_records_come_in_with_a_schema_then_fields_are_redacted_and_bad_lines_reported(tmp_path):
    orders = [jsonable(r) for t, _, r in sample_events() if t == "raw.orders"]
    stdin = "\n".join([json.dumps(orders[0], ensure_ascii=False), "{not json", json.dumps(orders[1], ensure_ascii=False)])
    done = run(["--schema", "RawOrderEvent"], stdin + "\n", tmp_path)
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(out) == 3
    assert out[1] == {"error": "JSONDecodeError", "line": 2}
    assert out[0]["order_id"] == orders[0]["order_id"] and "recipient" in out[0]
    text = done.stdout
    for secret in (orders[0]["recipient"]["name"], orders[0]["recipient"]["phone"], orders[1]["buyer"]["buyer_user_id"]):
        assert secret not in text
