"""Point-in-time assembly: hourly label, targets, and the windows that bound incremental work."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spotcast_features import synthetic
from spotcast_features.inputs import affected_dates, assemble, hourly_prices
from spotcast_features.transform import Settings

UTC = "UTC"


def test_hourly_prices_weights_periods_and_is_known_when_its_last_period_is():
    t = pd.Timestamp("2025-10-01T10:00Z")
    known = pd.Timestamp("2025-09-30T11:00Z")
    raw = pd.DataFrame({
        "zone": ["SE3"] * 6,
        "ts": [t - pd.Timedelta(hours=1)] + [t + pd.Timedelta(minutes=15 * i) for i in range(4)] + [t + pd.Timedelta(hours=1)],
        "price_eur_mwh": [50.0, 40.0, 44.0, 48.0, 52.0, 60.0],
        "resolution_minutes": [60, 15, 15, 15, 15, 60],
        "known_at": [known, known, known, known + pd.Timedelta(hours=2), known, known],
    })
    h = hourly_prices(raw)
    assert h["ts"].tolist() == [t - pd.Timedelta(hours=1), t, t + pd.Timedelta(hours=1)]
    assert h["price_eur_mwh"].tolist() == [50.0, 46.0, 60.0]
    assert h["n_periods"].tolist() == [1, 4, 1]
    assert h["known_at"].iloc[1] == known + pd.Timedelta(hours=2)


def test_hourly_prices_of_quarter_hour_data_matches_the_mean_of_its_periods():
    raw = synthetic.prices(["SE3"], "2025-09-29", 4, quarter_hourly_from="2025-09-30T22:00Z")
    h = hourly_prices(raw)
    q = raw[raw["resolution_minutes"] == 15]
    expect = q.groupby(q["ts"].dt.floor("h"))["price_eur_mwh"].mean()
    got = h.set_index("ts")["price_eur_mwh"].reindex(expect.index)
    np.testing.assert_allclose(got.to_numpy(), expect.to_numpy())
    assert set(h["n_periods"]) == {1, 4}
    assert h["ts"].is_unique and (h["ts"].diff().dropna() == pd.Timedelta(hours=1)).all()


def test_default_targets_run_from_next_local_midnight_for_seven_local_days(hourly_frame):
    hourly = hourly_frame("SE3", "2024-05-01", 20)
    batch = assemble("SE3", pd.DatetimeIndex(["2024-05-10"]), Settings(), hourly)
    t = batch.targets
    assert (t["origin"] == pd.Timestamp("2024-05-10T08:00Z")).all()  # 10:00 CEST
    assert len(t) == 168
    assert t["ts"].iloc[0] == pd.Timestamp("2024-05-10T22:00Z")  # 2024-05-11 00:00 CEST
    assert t["ts"].iloc[-1] == pd.Timestamp("2024-05-17T21:00Z")  # 2024-05-17 23:00 CEST
    assert t["ts"].is_unique and (t["ts"].diff().dropna() == pd.Timedelta(hours=1)).all()
    # only prices published by the origin are inputs: day D yes (13:00 D-1), D+1 no (13:00 D)
    assert batch.prices["ts"].max() == pd.Timestamp("2024-05-10T21:00Z")


def test_first_target_follows_the_prices_known_at_a_later_origin_hour(hourly_frame):
    hourly = hourly_frame("SE3", "2024-05-01", 20)
    batch = assemble("SE3", pd.DatetimeIndex(["2024-05-10"]), Settings(origin_hour=14), hourly)
    t = batch.targets
    assert t["origin"].iloc[0] == pd.Timestamp("2024-05-10T12:00Z")
    assert t["ts"].iloc[0] == pd.Timestamp("2024-05-11T22:00Z")  # D+1 was published at 13:00: D+2 first
    assert len(t) == 168


def test_origins_that_know_no_price_are_left_out(hourly_frame):
    hourly = hourly_frame("SE3", "2024-05-01", 5)
    assert assemble("SE3", pd.DatetimeIndex(["2024-04-01"]), Settings(), hourly) is None
    batch = assemble("SE3", pd.DatetimeIndex(["2024-04-01", "2024-05-03"]), Settings(), hourly)
    assert batch.targets["origin"].unique().tolist() == [pd.Timestamp("2024-05-03T08:00Z")]


def test_unknown_zone_is_a_clear_error(hourly_frame):
    from spotcast_storage.errors import ValidationError

    with pytest.raises(ValidationError, match=r"unknown zone 'XX9'; known zones: .*BE"):
        assemble("XX9", pd.DatetimeIndex(["2024-05-01"]), Settings(), hourly_frame("SE3", "2024-05-01", 3))


@pytest.mark.parametrize("bad", [{"origin_hour": 24}, {"origin_hour": -1}, {"horizon_days": 0}, {"origin_hour": 9.5}])
def test_bad_settings_are_rejected(bad):
    from spotcast_storage.errors import ValidationError

    with pytest.raises(ValidationError):
        Settings(**bad)


# -- the incremental bound: an input change reaches only the origins affected_dates names ----------
def _rows_by_origin(dates, hourly, weather=None, exogenous=None):
    from spotcast_features.transform import collect_transformations, compute_rows, output_contract

    trs = collect_transformations()
    batch = assemble("SE3", dates, Settings(), hourly, weather, exogenous)
    rows = compute_rows(batch, trs, output_contract(trs))
    return {o: g.reset_index(drop=True) for o, g in rows.groupby("origin")}


def _changed_dates(before, after):
    out = set()
    for o in set(before) | set(after):
        a, b = before.get(o), after.get(o)
        if a is None or b is None or not a.equals(b):
            out.add(o.tz_convert("Europe/Stockholm").tz_localize(None).normalize())
    return out


@pytest.mark.parametrize("source", ["prices", "forecast", "observed"])
def test_a_changed_input_affects_only_the_origins_affected_dates_names(source):
    start, days = "2024-03-01", 70
    dates = pd.date_range("2024-03-26", "2024-05-09", freq="D")
    hourly = hourly_prices(synthetic.prices(["SE3"], start, days))
    # observations only stand in where no forecast exists: start the archive late for that case
    weather = synthetic.weather(["SE3"], start, days,
                                forecasts_from="2024-04-25" if source == "observed" else None)
    t = pd.Timestamp("2024-04-05T09:00Z")
    before = _rows_by_origin(dates, hourly, weather)
    if source == "prices":
        hourly.loc[hourly["ts"] == t, "price_eur_mwh"] += 500.0
    else:
        sel = (weather["ts"] == t) & (weather["kind"] == source)
        assert sel.any()
        weather.loc[sel, "temperature_2m"] += 500.0
    after = _rows_by_origin(dates, hourly, weather)
    changed = _changed_dates(before, after)
    assert changed, "the change should reach some origin"
    lo, hi = affected_dates("prices" if source == "prices" else "weather", t, t, "Europe/Stockholm", 7)
    assert all(lo <= d <= hi for d in changed), (sorted(changed), lo, hi)
