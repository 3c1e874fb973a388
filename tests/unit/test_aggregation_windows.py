"""Event-time tumbling windows and when late data stops being accepted."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from streams.aggregation.windows import DEFAULT_LATENESS, Granularity, Window, WindowPolicy, to_ms, window_of

UTC = timezone.utc
H = Granularity.HOURLY
D = Granularity.DAILY


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC) if "+" not in text else datetime.fromisoformat(text)


@pytest.mark.parametrize("ts, granularity, start, end", [
    ("2026-11-20T09:00:00", H, "2026-11-20T09:00:00", "2026-11-20T10:00:00"),
    ("2026-11-20T09:59:59.999", H, "2026-11-20T09:00:00", "2026-11-20T10:00:00"),
    ("2026-11-20T10:00:00", H, "2026-11-20T10:00:00", "2026-11-20T11:00:00"),
    ("2026-11-20T23:30:00", D, "2026-11-20T00:00:00", "2026-11-21T00:00:00"),
    ("2026-11-21T00:00:00", D, "2026-11-21T00:00:00", "2026-11-22T00:00:00"),
    # 06:30 in Bangkok (UTC+7) is still the previous UTC day
    ("2026-11-21T06:30:00+07:00", D, "2026-11-20T00:00:00", "2026-11-21T00:00:00"),
    ("1969-12-31T23:30:00", H, "1969-12-31T23:00:00", "1970-01-01T00:00:00"),
])
def test_when_a_timestamp_is_given_then_its_utc_window_is_start_inclusive_end_exclusive(ts, granularity, start, end):
    window = window_of(t(ts), granularity)
    assert (window.start, window.end) == (t(start), t(end))
    assert window_of(to_ms(t(ts)), granularity) == window


def test_when_a_timestamp_is_naive_then_it_is_refused():
    with pytest.raises(ValueError):
        window_of(datetime(2026, 11, 20, 9), H)


@pytest.mark.parametrize("granularity, watermark, ready, closed", [
    (H, "2026-11-20T09:59:59", False, False),
    (H, "2026-11-20T10:00:00", True, False),
    (H, "2026-11-20T11:00:00", True, False),      # exactly at end + 1 h: still on time
    (H, "2026-11-20T11:00:00.001", True, True),
    (D, "2026-11-21T05:59:59", True, False),
    (D, "2026-11-21T06:00:00.001", True, True),
])
def test_when_the_watermark_moves_then_a_window_becomes_ready_at_its_end_and_closes_after_the_lateness(
        granularity, watermark, ready, closed):
    policy = WindowPolicy()
    window = window_of(t("2026-11-20T09:30:00"), granularity)
    assert policy.is_ready(window, to_ms(t(watermark))) is ready
    assert policy.is_closed(window, to_ms(t(watermark))) is closed


def test_when_lateness_is_configured_then_it_replaces_the_default_and_picks_the_granularities():
    policy = WindowPolicy({D: timedelta(days=60)})
    window = Window(D, to_ms(t("2026-09-01T00:00:00")))
    assert policy.granularities == (D,)
    assert not policy.is_closed(window, to_ms(t("2026-10-30T00:00:00")))
    assert DEFAULT_LATENESS == {H: timedelta(hours=1), D: timedelta(hours=6)}
    with pytest.raises(ValueError):
        WindowPolicy({H: timedelta(minutes=-1)})
