"""Property: `redact`'s line processing turns any bytes into exactly one UTF-8 output line per
input line, with the pipeline's real engine and any line limit, and never raises; refused
lines are reported without their content."""

from __future__ import annotations

import io

from hypothesis import given, settings, strategies as st

from streams.detectors import redact_text
from streams.redact_lines import LineTooLong, read_lines, redact_stream

SETTINGS = settings(max_examples=150, deadline=None, database=None)
# bytes biased toward what breaks readers: line ends, CR, invalid UTF-8, Thai/Vietnamese, digits
PIECES = st.sampled_from([b"\n", b"\r\n", b"\r", b"\xff", b"\xc3", b"\xe0\xb8", b"\xed\xa0\x80", b"0912 345 678",
                          "ส่งที่ ".encode(), "Nguyễn ".encode(), b"a@b.co ", b"4111 1111 1111 1111", b" "])
STDIN = st.lists(PIECES | st.binary(max_size=12), max_size=40).map(b"".join)


def input_lines(data: bytes) -> int:
    return data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)


@SETTINGS
@given(STDIN, st.integers(1, 64))
def test_any_bytes_give_one_output_line_per_input_line(data, max_bytes):
    out, errors = io.BytesIO(), io.StringIO()
    refused = redact_stream(io.BytesIO(data), out, errors, lambda n, text: redact_text(text)[0], max_bytes)
    text = out.getvalue().decode("utf-8")          # always valid UTF-8
    assert text.count("\n") == input_lines(data) and (not text or text.endswith("\n"))
    assert errors.getvalue().count("refused") == refused
    assert "0912" not in errors.getvalue()


@SETTINGS
@given(STDIN, st.integers(1, 64))
def test_lines_are_read_in_order_and_only_longer_ones_refused(data, max_bytes):
    lines = list(read_lines(io.BytesIO(data), max_bytes))
    raw = data.split(b"\n")
    raw = raw[:-1] if data.endswith(b"\n") or not data else raw
    assert len(lines) == len(raw)
    for number, (got, want) in enumerate(zip(lines, raw), 1):
        ended = number < len(raw) or data.endswith(b"\n")
        if isinstance(got, LineTooLong):
            assert got.size == len(want) > max_bytes and got.number == number
        else:
            assert len(want) <= max_bytes + 1
            want = want[:-1] if ended and want.endswith(b"\r") else want
            assert got == want.decode("utf-8", "replace")


def test_when_the_redactor_fails_on_a_line_then_that_line_is_refused_and_the_rest_continue():
    def fragile(number, text):
        if number == 2:
            raise ValueError("boom")
        return text.upper()
    out, errors = io.BytesIO(), io.StringIO()
    assert redact_stream(io.BytesIO(b"a\nsecret 0912\nc\n"), out, errors, fragile) == 1
    assert out.getvalue() == b"A\n\nC\n"
    assert "line 2 refused: ValueError" in errors.getvalue() and "0912" not in errors.getvalue()
