"""The pure interval maths (spotcast_storage.intervals): conformal quantiles, point-in-time online
bands, and coverage that holds across a change of regime."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spotcast_storage.errors import ValidationError
from spotcast_storage.intervals import (
    OnlineSettings,
    conformal_quantile,
    offsets,
    offsets_at,
    online_bands,
    scaled_residuals,
)

T0 = pd.Timestamp("2024-01-01 09:00", tz="UTC")


def test_conformal_quantile_uses_the_finite_sample_level():
    r = np.arange(1.0, 10.0)  # 9 residuals: 1..9
    assert conformal_quantile(r, 0.9) == 9.0  # level 0.9 * 10 / 9 = 1.0
    assert conformal_quantile(r, 0.1) == 1.0  # level (1 - 1) / 9 = 0
    big = np.random.default_rng(0).normal(size=100_000)
    assert conformal_quantile(big, 0.9) == pytest.approx(np.quantile(big, 0.9), abs=0.01)
    assert np.isnan(conformal_quantile(np.array([np.nan]), 0.9))
    assert offsets(r, [0.1, 0.5, 0.9]) == {0.1: 1.0, 0.5: 0.0, 0.9: 9.0}
    np.testing.assert_array_equal(scaled_residuals([3.0, 3.0], [1.0, 1.0], [2.0, 0.0]), [1.0, np.nan])


def stream(days: int = 300, change: int = 150, scale_after: float = 3.0, unit_follows: bool = True,
           seed: int = 0) -> pd.DataFrame:
    """Daily origins, 24 hours x 2 horizon days each; errors' spread jumps by ``scale_after`` at
    day ``change``. The unit (a recent-volatility measure known at the origin) follows the jump
    with ``unit_follows``, else it stays put (a regime the unit does not see)."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(days):
        o = T0 + pd.Timedelta(days=d)
        sigma = scale_after if d >= change else 1.0
        unit = sigma if unit_follows else 1.0
        for hd in (1, 2):
            ts = o + pd.Timedelta(days=hd) + pd.to_timedelta(np.arange(24), unit="h")
            p50 = 50 + 10 * np.sin(np.arange(24) / 4)
            rows.append(pd.DataFrame({
                "origin": o, "ts": ts, "horizon_day": hd, "p50": p50, "unit": unit * 10,
                "actual": p50 + rng.normal(0, 10 * sigma * (1 + 0.3 * (hd - 1)), 24),
                "known_at": ts.floor("D") + pd.Timedelta(hours=12),
            }))
    return pd.concat(rows, ignore_index=True)


def coverage(f: pd.DataFrame, b: pd.DataFrame, mask) -> float:
    m = mask & b["lo"].notna().to_numpy()
    y = f["actual"].to_numpy()[m]
    return float(np.mean((y >= b["lo"].to_numpy()[m]) & (y <= b["hi"].to_numpy()[m])))


def test_bands_use_only_errors_known_at_their_origin():
    f = stream(days=120)
    o = T0 + pd.Timedelta(days=80)
    before = online_bands(f)
    later = f.copy()
    later.loc[later["known_at"] > o, "actual"] += 1000.0  # every actual published after the origin
    after = online_bands(later)
    at = (f["origin"] <= o).to_numpy()
    pd.testing.assert_frame_equal(before[at], after[at])
    # an actual known at the origin does move the origin's band (the test can fail)
    known = f.copy()
    known.loc[(known["known_at"] <= o) & (known["origin"] > o - pd.Timedelta(days=10)), "actual"] += 1000.0
    assert not online_bands(known)[(f["origin"] == o).to_numpy()].equals(before[(f["origin"] == o).to_numpy()])


def test_coverage_per_horizon_day_holds_across_a_jump_in_volatility():
    f = stream()
    b = online_bands(f)
    hd = f["horizon_day"].to_numpy()
    late = (f["origin"] >= T0 + pd.Timedelta(days=200)).to_numpy()
    calm = ((f["origin"] >= T0 + pd.Timedelta(days=60)) & (f["origin"] < T0 + pd.Timedelta(days=150))).to_numpy()
    for day in (1, 2):
        for part in (calm, late):
            assert 0.75 <= coverage(f, b, part & (hd == day)) <= 0.85
    # a band of one width, measured once on the calm weeks, would not hold after the jump
    once = f.assign(unit=10.0, measured=T0 + pd.Timedelta(days=140))
    fixed = online_bands(once, OnlineSettings(window_days=10_000, gamma=0.0), as_of="measured")
    assert coverage(f, fixed, late) < 0.5


def test_adaptive_updates_recover_coverage_when_the_unit_misses_the_change():
    """The unit does not see the new regime; plain rolling conformal recovers once the window
    has filled with new errors, adaptive conformal sooner."""
    f = stream(unit_follows=False)
    soon = ((f["origin"] >= T0 + pd.Timedelta(days=158)) & (f["origin"] < T0 + pd.Timedelta(days=185))).to_numpy()
    plain = coverage(f, online_bands(f, OnlineSettings(gamma=0.0)), soon)
    adaptive = coverage(f, online_bands(f, OnlineSettings(gamma=0.05)), soon)
    assert adaptive > plain + 0.03, (plain, adaptive)
    assert abs(adaptive - 0.8) < abs(plain - 0.8)


def test_frozen_bands_use_what_was_known_when_the_model_was_fitted():
    f = stream(days=120)
    f["fitted_at"] = T0 + pd.to_timedelta(((f["origin"] - T0).dt.days // 7) * 7, unit="D")
    b = online_bands(f, OnlineSettings(gamma=0.0), as_of="fitted_at")
    week = f["fitted_at"] == T0 + pd.Timedelta(days=84)
    # one band per horizon day for the whole week: the offsets do not move between refits
    q = ((b["hi"] - f["p50"]) / f["unit"])[week & (f["horizon_day"] == 1)]
    assert q.round(9).nunique() == 1


def test_bad_stream_or_levels_are_refused():
    with pytest.raises(ValidationError, match=r"lacks column\(s\) \['unit'\]"):
        online_bands(stream(days=3).drop(columns="unit"))
    with pytest.raises(ValidationError, match=r"0 < lower < 0\.5 < upper < 1"):
        online_bands(stream(days=3), OnlineSettings(lower=0.6))


def test_offsets_at_are_the_online_band_at_that_time():
    f = stream(days=120)
    at = T0 + pd.Timedelta(days=100)
    got = offsets_at(f, at)
    b = online_bands(f)
    row = f.index[(f["origin"] == at) & (f["horizon_day"] == 2)][0]
    lo, hi = got["2"]
    assert lo == pytest.approx((b.loc[row, "lo"] - f.loc[row, "p50"]) / f.loc[row, "unit"])
    assert hi == pytest.approx((b.loc[row, "hi"] - f.loc[row, "p50"]) / f.loc[row, "unit"])
    assert offsets_at(f, T0) == {}


