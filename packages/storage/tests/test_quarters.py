"""Quarter-hour forecasts from the published hourly vintage (issue 15): a mean-preserving ramp."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spotcast_storage import quarters
from spotcast_storage.errors import ValidationError


def _hourly(start: str, hours: int, zone: str = "SE4") -> pd.DataFrame:
    ts = pd.date_range(pd.Timestamp(start, tz="UTC"), periods=hours, freq="h")
    p50 = 80 + 30 * np.sin(np.arange(hours) / 24 * 2 * np.pi)
    return pd.DataFrame({"zone": zone, "origin": pd.Timestamp(start, tz="UTC") - pd.Timedelta(hours=12),
                         "made_at": pd.Timestamp(start, tz="UTC") - pd.Timedelta(hours=11), "ts": ts,
                         "p10": p50 - 15, "p50": p50, "p90": p50 + 20, "model": "m", "model_version": 1,
                         "fallback_reason": None})


def test_four_quarters_per_hour_whose_mean_is_the_hour() -> None:
    h = _hourly("2025-10-06T22:00Z", 48)
    q = quarters.to_quarters(h, pd.Timestamp("2025-10-01T00:00Z"))
    assert len(q) == 4 * 48 and (q["resolution_minutes"] == 15).all()
    assert (q["ts"].diff().dropna() == pd.Timedelta(minutes=15)).all()
    means = q.groupby(q["ts"].dt.floor("h"))[["p10", "p50", "p90"]].mean()
    np.testing.assert_allclose(means.to_numpy(), h.set_index("ts")[["p10", "p50", "p90"]].to_numpy(), atol=1e-9)
    assert (q["p10"] <= q["p50"]).all() and (q["p50"] <= q["p90"]).all()
    rising = q[q["ts"].dt.floor("h") == pd.Timestamp("2025-10-07T02:00Z")]["p50"].to_numpy()
    assert (np.diff(rising) > 0).all()  # not a flat repeat: the quarters follow the ramp
    slope = quarters.DAMPING * (h["p50"].iloc[5] - h["p50"].iloc[3]) / 2
    np.testing.assert_allclose(rising, h["p50"].iloc[4] + slope * np.array(quarters.OFFSETS))


@pytest.mark.parametrize("day, hours, n", [("2026-03-29", 23, 92), ("2025-10-26", 25, 100), ("2025-10-27", 24, 96)])
def test_dst_days_have_92_and_100_quarters(day, hours, n) -> None:
    start = pd.Timestamp(day, tz="Europe/Stockholm").tz_convert("UTC")
    h = _hourly(start.isoformat(), hours)
    q = quarters.to_quarters(h, pd.Timestamp("2025-10-01T00:00Z"))
    local_days = q["ts"].dt.tz_convert("Europe/Stockholm").dt.date.astype(str)
    assert (local_days == day).all() and len(q) == n


def test_nothing_before_the_first_quarter_hour_price_or_for_an_hourly_zone() -> None:
    h = _hourly("2025-09-30T12:00Z", 24)
    q = quarters.to_quarters(h, pd.Timestamp("2025-09-30T22:00Z"))
    assert q["ts"].min() == pd.Timestamp("2025-09-30T22:00Z") and len(q) == 4 * 14
    assert quarters.to_quarters(h, None).empty


def test_a_gap_in_the_hours_bends_no_ramp_across_it() -> None:
    h = _hourly("2025-10-06T22:00Z", 6).drop(index=3)  # an hour missing: 01:00Z
    q = quarters.to_quarters(h, pd.Timestamp("2025-10-01T00:00Z"))
    before = q[q["ts"].dt.floor("h") == pd.Timestamp("2025-10-07T00:00Z")]["p50"].to_numpy()
    slope = quarters.DAMPING * (h["p50"].iloc[2] - h["p50"].iloc[1])  # one-sided: the next hour is absent
    np.testing.assert_allclose(before, h["p50"].iloc[2] + slope * np.array(quarters.OFFSETS))


def test_parse_resolution() -> None:
    assert quarters.parse_resolution("15min") == 15 and quarters.parse_resolution(None) == 60
    assert quarters.parse_resolution("60MIN") == 60 and quarters.parse_resolution("15") == 15
    with pytest.raises(ValidationError, match="use one of 60min, 15min"):
        quarters.parse_resolution("30min")
