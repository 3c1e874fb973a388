"""`powersell-pipeline redact`: one output line per input line, in order, same engine."""

import json
import os
import subprocess
import sys

from pipeline_core.avro_codec import jsonable
from pipeline_core.sample_events import sample_events


def run(args, stdin, tmp_path):
    env = {**os.environ, "POWERSELL_DATA_DIR": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "powersell.cli", "redact", *args], input=stdin,
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


# ---- bytes in, bounded lines (issue 15, finding 5) ------------------------------------------------

def run_bytes(args, stdin: bytes, tmp_path):
    # a strict UTF-8 text stdin is what made one bad byte a traceback before
    env = {**os.environ, "POWERSELL_DATA_DIR": str(tmp_path), "PYTHONIOENCODING": "utf-8:strict", "LC_ALL": "C.UTF-8"}
    return subprocess.run([sys.executable, "-m", "powersell.cli", "redact", *args], input=stdin,
                          capture_output=True, env=env, timeout=60)


def test_when_a_line_is_not_utf8_then_it_is_replaced_and_the_lines_around_it_still_come_out(tmp_path):
    stdin = "Gọi 0912 345 678 nhé\n".encode() + b"bad \xff\xfe byte\r\n" + "ส่งที่ wipa.s@gmail.com\n".encode()
    done = run_bytes([], stdin, tmp_path)
    assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr
    out = done.stdout.decode("utf-8").split("\n")
    assert out[-1] == "" and len(out[:-1]) == 3
    assert "[PHONE]" in out[0] and "0912 345 678" not in out[0]
    assert out[1] == "bad \ufffd\ufffd byte"
    assert "wipa.s@gmail.com" not in out[2] and out[2].startswith("ส่งที่ ")


def test_when_a_line_is_over_the_limit_then_it_is_refused_without_its_content_and_the_rest_continue(tmp_path):
    long_line = "0912 345 678 " * 400  # 5,200 bytes
    stdin = f"first 0912 345 678\n{long_line}\nthird line\nlast without newline".encode()
    done = run_bytes(["--max-line-bytes", "1000"], stdin, tmp_path)
    assert done.returncode == 1
    out = done.stdout.decode("utf-8").split("\n")
    assert out[:-1] == ["first [PHONE]", "", "third line", "last without newline"]
    errors = done.stderr.decode("utf-8")
    assert "line 2 refused: 5200 bytes, over the limit of 1000" in errors
    assert "0912" not in errors and "Traceback" not in errors


def test_when_records_are_over_the_limit_then_an_error_record_keeps_their_place(tmp_path):
    orders = [jsonable(r) for t, _, r in sample_events() if t == "raw.orders"]
    small = json.dumps(orders[0], ensure_ascii=False)
    stdin = "\n".join([small, json.dumps({"pad": "x" * 5000}), small]).encode() + b"\n"
    done = run_bytes(["--schema", "RawOrderEvent", "--max-line-bytes", str(len(small.encode()) + 10)], stdin, tmp_path)
    assert done.returncode == 1
    out = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert out[1] == {"error": "LineTooLong", "line": 2} and out[0]["order_id"] == out[2]["order_id"]


def test_the_help_explains_the_line_limit(tmp_path):
    done = run_bytes(["--help"], b"", tmp_path)
    text = " ".join(done.stdout.decode().split())
    assert done.returncode == 0 and "--max-line-bytes N" in text and "default 1048576" in text
    assert "invalid UTF-8 is replaced" in text
