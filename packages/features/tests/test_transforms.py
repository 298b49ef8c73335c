"""The built-in transformations, checked against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spotcast_features.builtins.calendar import calendar_features
from spotcast_features.builtins.exogenous import exogenous_features
from spotcast_features.builtins.price_history import price_history_features
from spotcast_features.builtins.weather import weather_features
from spotcast_features.inputs import assemble
from spotcast_features.transform import Settings

TZ = "Europe/Stockholm"
DAY0 = pd.Timestamp("2024-04-01")


def coded(t: pd.Timestamp) -> float:
    """A price that encodes its own local day and hour: day index * 100 + hour."""
    return (t.tz_localize(None).normalize() - DAY0).days * 100 + t.hour


def _local_day(ts: pd.Series) -> np.ndarray:
    return ((ts.dt.tz_convert(TZ).dt.tz_localize(None).dt.normalize() - DAY0).dt.days).to_numpy()


def test_same_hour_lags_use_the_known_day_or_the_newest_known_one(hourly_frame):
    hourly = hourly_frame("SE3", "2024-04-01", 40, price=coded)
    batch = assemble("SE3", pd.DatetimeIndex(["2024-04-20"]), Settings(), hourly)  # D = day 19
    f = price_history_features(batch)
    t = batch.targets
    day, hour = _local_day(t["ts"]), t["local_hour"].to_numpy()
    origin_day = 19
    for d in (1, 2, 3, 7):
        src = day - d
        expect = np.where(src <= origin_day, src, origin_day) * 100 + hour
        np.testing.assert_array_equal(f[f"price_lag_{d}d"].to_numpy(), expect, err_msg=f"lag {d}")
    # lag 1 is the naive daily forecast (D's same hour), lag 7 the naive weekly one
    assert (f["price_lag_1d"].to_numpy() == origin_day * 100 + hour).all()


def test_a_missing_source_day_falls_back_to_the_newest_earlier_known_day(hourly_frame):
    hourly = hourly_frame("SE3", "2024-04-01", 40, price=coded)
    gap = _local_day(hourly["ts"]) == 14  # lag 7 of target day 21 reads day 14
    batch = assemble("SE3", pd.DatetimeIndex(["2024-04-20"]), Settings(), hourly[~gap])
    f = price_history_features(batch)
    day = _local_day(batch.targets["ts"])
    hour = batch.targets["local_hour"].to_numpy()
    np.testing.assert_array_equal(f["price_lag_7d"].to_numpy()[day == 21], 13 * 100 + hour[day == 21])


def test_day_statistics_cover_the_newest_known_day_and_the_days_before_it(hourly_frame):
    hourly = hourly_frame("SE3", "2024-04-01", 40, price=coded)
    batch = assemble("SE3", pd.DatetimeIndex(["2024-04-30"]), Settings(), hourly)  # D = day 29
    f = price_history_features(batch).iloc[0]
    hours = np.arange(24)
    assert f["last_day_mean"] == 2900 + hours.mean()
    assert (f["last_day_min"], f["last_day_max"]) == (2900, 2923)
    for n in (7, 28):
        vals = np.concatenate([d * 100 + hours for d in range(29 - n + 1, 30)])
        assert f[f"roll{n}_mean"] == pytest.approx(vals.mean())
        assert f[f"roll{n}_std"] == pytest.approx(vals.std(ddof=1))


def test_day_statistics_never_include_the_day_being_predicted(hourly_frame):
    """The bug of the system this replaces: stats of the target day itself."""
    hourly = hourly_frame("SE3", "2024-04-01", 40, price=coded)
    batch = assemble("SE3", pd.DatetimeIndex(["2024-04-20"]), Settings(), hourly)
    f = price_history_features(batch)
    assert f["last_day_max"].max() == 19 * 100 + 23  # day 20 (D+1) is not known at the origin


def test_calendar_in_local_time_with_swedish_holidays_and_bridge_days(hourly_frame):
    hourly = hourly_frame("SE3", "2024-05-01", 60)
    batch = assemble("SE3", pd.DatetimeIndex(["2024-05-06", "2024-06-17"]), Settings(), hourly)
    c = calendar_features(batch)
    t = batch.targets
    c["date"] = t["local_date"].dt.strftime("%Y-%m-%d")
    per_day = c.groupby("date")[["is_holiday", "is_bridge_day", "weekday"]].first()
    assert per_day.loc["2024-05-09", "is_holiday"] == 1  # Ascension Day
    assert per_day.loc["2024-05-10", "is_bridge_day"] == 1  # the Friday after it
    assert per_day.loc["2024-05-08", ["is_holiday", "is_bridge_day"]].tolist() == [0, 0]
    assert per_day.loc["2024-05-11", "is_bridge_day"] == 0  # a Saturday is not a bridge day
    assert per_day.loc["2024-06-21", "is_holiday"] == 1  # Midsummer Eve (de facto)
    assert per_day.loc["2024-06-22", "is_holiday"] == 1  # Midsummer Day
    assert per_day.loc["2024-05-13", "weekday"] == 0
    first = c.iloc[0]
    assert (first["hour"], first["month"], first["day_of_year"]) == (0, 5, 128)  # 2024-05-07 00:00 local
    assert first["horizon_hours"] == 14 and first["horizon_day"] == 1
    assert c["horizon_day"].max() == 7
    assert (c["is_dst_day"] == 0).all()


def _weather_rows(rows):
    base = {"zone": "SE3", "source": "test", "wind_speed_10m": 1.0, "wind_speed_100m": 1.0,
            "shortwave_radiation": 1.0, "cloud_cover": 1.0, "precipitation": 0.0}
    return pd.DataFrame([{**base, **r} for r in rows])


def test_weather_takes_the_newest_forecast_issued_by_the_origin(hourly_frame):
    hourly = hourly_frame("SE3", "2024-05-01", 12)
    o = pd.Timestamp("2024-05-10T08:00Z")
    x = pd.Timestamp("2024-05-11T12:00Z")
    w = _weather_rows([
        {"ts": x, "kind": "forecast", "issued_at": o - pd.Timedelta(hours=30), "temperature_2m": 1.0},
        {"ts": x, "kind": "forecast", "issued_at": o, "temperature_2m": 2.0},
        {"ts": x, "kind": "forecast", "issued_at": o + pd.Timedelta(hours=1), "temperature_2m": 99.0},
        {"ts": x, "kind": "observed", "issued_at": x, "temperature_2m": 77.0},
    ])
    batch = assemble("SE3", pd.DatetimeIndex(["2024-05-10"]), Settings(), hourly, w)
    f = weather_features(batch)
    row = f[batch.targets["ts"] == x].iloc[0]
    assert row["wx_temperature_2m"] == 2.0
    assert row["wx_is_observed"] == 0


def test_without_a_forecast_the_newest_same_hour_observation_before_the_origin_stands_in(hourly_frame):
    hourly = hourly_frame("SE3", "2024-05-01", 12)
    o = pd.Timestamp("2024-05-10T08:00Z")  # 10:00 local
    x = pd.Timestamp("2024-05-11T08:00Z")  # 10:00 local, no forecast for it
    w = _weather_rows([
        {"ts": o - pd.Timedelta(days=2), "kind": "observed", "issued_at": o - pd.Timedelta(days=2), "temperature_2m": 4.0},
        {"ts": o - pd.Timedelta(days=1), "kind": "observed", "issued_at": o - pd.Timedelta(days=1), "temperature_2m": 5.0},
        {"ts": o, "kind": "observed", "issued_at": o, "temperature_2m": 6.0},  # at the origin: not yet known
        {"ts": x, "kind": "observed", "issued_at": x, "temperature_2m": 77.0},  # the target itself: future
    ])
    batch = assemble("SE3", pd.DatetimeIndex(["2024-05-10"]), Settings(), hourly, w)
    f = weather_features(batch)
    row = f[batch.targets["ts"] == x].iloc[0]
    assert row["wx_temperature_2m"] == 5.0
    assert row["wx_is_observed"] == 1
    other = f[batch.targets["local_hour"] == 3]  # no observation of that hour at all
    assert other["wx_temperature_2m"].isna().all() and (other["wx_is_observed"] == 0).all()


def test_exogenous_series_use_the_newest_issue_by_the_origin_and_are_null_when_absent(hourly_frame):
    hourly = hourly_frame("SE3", "2024-05-01", 12)
    o = pd.Timestamp("2024-05-10T08:00Z")
    x = pd.Timestamp("2024-05-11T12:00Z")
    e = pd.DataFrame([
        {"ts": x, "series": "load_forecast", "issued_at": o - pd.Timedelta(hours=5), "value": 100.0},
        {"ts": x, "series": "load_forecast", "issued_at": o - pd.Timedelta(hours=1), "value": 110.0},
        {"ts": x, "series": "load_forecast", "issued_at": o + pd.Timedelta(minutes=1), "value": 999.0},
        {"ts": x, "series": "my_own_series", "issued_at": o - pd.Timedelta(hours=1), "value": 5.0},
    ]).assign(zone="SE3", unit="MW", source="test")
    batch = assemble("SE3", pd.DatetimeIndex(["2024-05-10"]), Settings(), hourly, None, e)
    f = exogenous_features(batch)
    at_x = f[batch.targets["ts"] == x].iloc[0]
    assert at_x["exo_load_forecast"] == 110.0
    assert np.isnan(at_x["exo_wind_forecast"]) and np.isnan(at_x["exo_solar_forecast"])
    assert f["exo_load_forecast"].notna().sum() == 1
    assert list(f.columns) == ["exo_load_forecast", "exo_wind_forecast", "exo_solar_forecast"]
