"""The synthetic market: deterministic, window-independent, published as of `now`, plausible."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from spotcast_ingest import simulate, timeutil

LATE = pd.Timestamp("2030-01-01", tz="UTC")
D = dt.date


@pytest.fixture(scope="module")
def two_years():
    return {z: simulate.generate(z, D(2023, 10, 1), D(2025, 9, 30), LATE) for z in ("SE1", "SE3", "SE4")}


def test_same_inputs_same_rows_and_windows_agree(two_years):
    again = simulate.generate("SE3", D(2023, 10, 1), D(2025, 9, 30), LATE)
    for name, df in two_years["SE3"].items():
        pd.testing.assert_frame_equal(df, again[name])
    # a window inside gives exactly the rows of the long run (so overlapping backfills agree)
    part = simulate.generate("SE3", D(2024, 3, 30), D(2024, 4, 2), LATE)
    for name, df in part.items():
        key = ["zone", "ts"] + [c for c in ("kind", "issued_at", "series") if c in df.columns]
        merged = df.merge(two_years["SE3"][name], on=key, suffixes=("", "_long"))
        assert len(merged) == len(df)
        value = "price_eur_mwh" if name == "prices" else ("temperature_2m" if name == "weather" else "value")
        np.testing.assert_array_equal(merged[value], merged[value + "_long"])


def test_seed_changes_the_market():
    a = simulate.generate("SE3", D(2024, 1, 1), D(2024, 1, 7), LATE, seed=0)["prices"]
    b = simulate.generate("SE3", D(2024, 1, 1), D(2024, 1, 7), LATE, seed=1)["prices"]
    assert not np.allclose(a["price_eur_mwh"], b["price_eur_mwh"])


def test_native_resolution_and_dst_days():
    p = simulate.generate("SE3", D(2025, 9, 30), D(2025, 10, 26), LATE)["prices"]
    local_day = p["ts"].dt.tz_convert("Europe/Stockholm").dt.date
    counts = p.groupby(local_day).size()
    assert counts[D(2025, 9, 30)] == 24 and counts[D(2025, 10, 1)] == 96 and counts[D(2025, 10, 26)] == 100
    assert set(p.loc[local_day == D(2025, 9, 30), "resolution_minutes"]) == {60}
    assert set(p.loc[local_day == D(2025, 10, 1), "resolution_minutes"]) == {15}
    spring = simulate.generate("SE3", D(2024, 3, 31), D(2024, 3, 31), LATE)["prices"]
    assert len(spring) == 23


def test_publishes_only_what_is_known_at_now():
    tz = "Europe/Stockholm"
    before = pd.Timestamp("2025-01-14 11:30", tz="UTC")  # 12:30 CET: tomorrow not out yet
    got = simulate.generate("SE3", D(2025, 1, 13), D(2025, 1, 15), before)
    days = set(got["prices"]["ts"].dt.tz_convert(tz).dt.date)
    assert days == {D(2025, 1, 13), D(2025, 1, 14)}
    assert (got["prices"]["known_at"] <= before).all()
    w = got["weather"]
    assert (w.loc[w.kind == "observed", "ts"] + pd.Timedelta(hours=1) <= before).all()
    assert (w["issued_at"] <= before).all()
    assert (got["exogenous"]["issued_at"] <= before).all()
    # tomorrow's load/wind/solar forecasts are out at 10:00 CET, before the auction
    assert D(2025, 1, 15) in set(got["exogenous"]["ts"].dt.tz_convert(tz).dt.date)
    after = simulate.generate("SE3", D(2025, 1, 15), D(2025, 1, 15), before + pd.Timedelta(minutes=31))
    assert len(after["prices"]) == 24
    assert (after["prices"]["known_at"] == timeutil.publication_time(D(2025, 1, 15))).all()


def test_prices_are_plausible(two_years):
    p = {z: f["prices"].set_index("ts")["price_eur_mwh"] for z, f in two_years.items()}
    se3 = p["SE3"]
    month = se3.index.tz_convert("Europe/Stockholm").month
    winter, summer = se3[np.isin(month, [12, 1, 2])].mean(), se3[np.isin(month, [6, 7, 8])].mean()
    assert winter > 1.3 * summer
    hour = se3.index.tz_convert("Europe/Stockholm").hour
    assert se3[(hour >= 7) & (hour <= 9)].mean() > se3[(hour >= 2) & (hour <= 4)].mean()
    weekday = se3.index.tz_convert("Europe/Stockholm").day_of_week
    assert se3[weekday < 5].mean() > se3[weekday == 6].mean()
    assert 0.0005 < (se3 < 0).mean() < 0.05  # rare negative hours
    assert se3.max() > 4 * se3.median()  # rare spikes
    assert p["SE1"].mean() < se3.mean() < p["SE4"].mean() * 1.1  # north cheaper
    assert np.corrcoef(se3, p["SE4"])[0, 1] > 0.5  # zones move together
    w = two_years["SE3"]["weather"]
    obs = w[w.kind == "observed"].set_index("ts")
    both = pd.concat([se3, obs["wind_speed_100m"], obs["temperature_2m"]], axis=1, join="inner")
    assert both.corr().loc["price_eur_mwh", "wind_speed_100m"] < -0.1  # wind pushes prices down
    assert both.corr().loc["price_eur_mwh", "temperature_2m"] < -0.3  # cold is dear
    f = two_years["SE3"]["prices"]
    big = f["price_eur_mwh"].abs() > 5
    rate = f.loc[big, "price_sek_kwh"] / (f.loc[big, "price_eur_mwh"] / 1000)  # SEK per EUR
    assert rate.between(10, 13).all()


def test_forecast_errors_grow_with_lead_time(two_years):
    w = two_years["SE3"]["weather"]
    obs = w[w.kind == "observed"][["ts", "temperature_2m"]]
    fc = w[w.kind == "forecast"].merge(obs, on="ts", suffixes=("", "_obs"))
    lead = (fc["ts"] - fc["issued_at"]) / pd.Timedelta(hours=1)
    err = (fc["temperature_2m"] - fc["temperature_2m_obs"]).abs()
    assert lead.min() == 0 and lead.max() == simulate.FORECAST_HORIZON_HOURS - 1
    assert err[lead < 12].mean() < err[(lead >= 24) & (lead < 48)].mean() < err[lead >= 60].mean()
    x = two_years["SE3"]["exogenous"]
    assert set(x["series"]) == {"load_forecast", "wind_forecast", "solar_forecast"}
    assert (x["unit"] == "MW").all() and (x["value"] >= 0).all()


# Stockholm's monthly mean temperatures, °C (1991-2020 normals, rounded)
STOCKHOLM = {1: -3, 2: -3, 3: 0, 4: 5, 5: 11, 6: 15, 7: 17, 8: 16, 9: 12, 10: 7, 11: 2, 12: -1}


def test_a_year_of_weather_observed_and_forecast_is_physical_and_seasonal():
    """Issue 17 item 9: what `--source synthetic` stores. Months differ from the normals by
    the year's own anomalies (cold spells, mild spells), as real months do (December 2010 was
    5.6 °C below the normal in Stockholm), hence the 6 °C band; the climate itself is checked
    below over many years."""
    w = simulate.generate("SE3", D(2024, 1, 1), D(2024, 12, 31), LATE)["weather"]
    assert set(w["kind"]) == {"observed", "forecast"}
    for col in ("precipitation", "shortwave_radiation", "wind_speed_10m", "wind_speed_100m"):
        assert (w[col] >= 0).all(), f"negative {col}: {w[col].min()}"
    assert w["cloud_cover"].between(0, 100).all()
    for kind, rows in w.groupby("kind"):
        month = rows["ts"].dt.tz_convert("Europe/Stockholm").dt.month
        means = rows.groupby(month)["temperature_2m"].mean()
        off = {m: round(means[m] - STOCKHOLM[m], 1) for m in STOCKHOLM if abs(means[m] - STOCKHOLM[m]) > 6}
        assert not off, f"{kind}: months off Stockholm's normals: {off}"
        assert means[7] - means[1] > 10  # a summer, a winter


def test_the_climate_over_ten_years_is_stockholm_like():
    h0 = simulate.hour_index(pd.Timestamp("2015-01-01", tz="UTC"))
    h1 = simulate.hour_index(pd.Timestamp("2025-01-01", tz="UTC")) - 1
    t = simulate.truth("SE3", h0, h1)
    means = t.groupby(t["ts"].dt.tz_convert("Europe/Stockholm").dt.month)["temperature_2m"].mean()
    off = {m: round(means[m] - STOCKHOLM[m], 1) for m in STOCKHOLM if abs(means[m] - STOCKHOLM[m]) > 3}
    assert not off, f"ten-year monthly means off Stockholm's normals by more than 3 °C: {off}"
