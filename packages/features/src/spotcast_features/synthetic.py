"""Synthetic inputs in the shapes of ``prices``, ``weather`` and ``exogenous`` v1.

For tests, the benchmark and trying the stage without network: the features stage cannot
import the ingest stage, and its tests must run offline. Values are smooth daily/weekly
patterns plus seeded noise; publication times follow the real rules (day-ahead prices known at
13:00 local the day before delivery, forecasts known when issued, observations at their hour).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from spotcast_features.timeutil import (
    DAY,
    HOUR,
    at_local_time,
    local_date,
    local_midnight,
)
from spotcast_storage.contracts.features import WEATHER_VARIABLES
from spotcast_storage.contracts.market import EXOGENOUS, PRICES, WEATHER
from spotcast_storage.zones import parse_zone


def _hours(zone: str, start: str | pd.Timestamp, days: int) -> pd.DatetimeIndex:
    tz = parse_zone(zone).tz
    d0 = pd.DatetimeIndex([pd.Timestamp(start)]).normalize()
    lo = local_midnight(d0, tz)[0]
    hi = local_midnight(d0 + days * DAY, tz)[0]
    return pd.date_range(lo, hi, freq="h", inclusive="left", unit="us")


def prices(zones: Sequence[str], start: str | pd.Timestamp, days: int, seed: int = 0,
           quarter_hourly_from: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """Day-ahead prices of local days ``[start, start + days)``; 15-min periods from
    ``quarter_hourly_from`` (a UTC time) on."""
    rng = np.random.default_rng(seed)
    parts = []
    for i, zone in enumerate(zones):
        tz = parse_zone(zone).tz
        ts = _hours(zone, start, days)
        loc = ts.tz_convert(tz)
        base = 40 + 10 * i + 25 * np.sin((loc.hour - 7) / 24 * 2 * np.pi) + 8 * (loc.day_of_week < 5)
        price = base + 15 * np.sin(np.arange(len(ts)) / (24 * 30) * 2 * np.pi) + rng.normal(0, 6, len(ts))
        df = pd.DataFrame({"ts": ts, "price_eur_mwh": price.round(2), "resolution_minutes": 60})
        if quarter_hourly_from is not None:
            cut = pd.Timestamp(quarter_hourly_from, tz="UTC") if pd.Timestamp(quarter_hourly_from).tzinfo is None \
                else pd.Timestamp(quarter_hourly_from)
            late = df[df["ts"] >= cut]
            q = late.loc[late.index.repeat(4)].copy()
            q["ts"] = q["ts"] + pd.to_timedelta(np.tile(np.arange(4) * 15, len(late)), unit="min")
            q["price_eur_mwh"] = (q["price_eur_mwh"] + rng.normal(0, 3, len(q))).round(2)
            q["resolution_minutes"] = 15
            df = pd.concat([df[df["ts"] < cut], q], ignore_index=True)
        day = local_date(df["ts"], tz)
        df["known_at"] = at_local_time(pd.DatetimeIndex(day) - DAY, tz, 13)
        df["zone"] = zone
        df["price_sek_kwh"] = (df["price_eur_mwh"] * 11.5 / 1000).round(4)
        df["source"] = "synthetic"
        parts.append(df)
    return PRICES.conform(pd.concat(parts, ignore_index=True))


T_MEAN, T_AMPLITUDE = 7.0, 10.0
"""Stockholm-like climate, °C: about -3 in mid-January and 17 in mid-July."""

BOUNDS: dict[str, tuple[float, float | None]] = {
    "precipitation": (0.0, None), "shortwave_radiation": (0.0, None),
    "wind_speed_10m": (0.0, None), "wind_speed_100m": (0.0, None), "cloud_cover": (0.0, 100.0),
}
"""The physical range of weather variables: forecast noise must not make rain, sunshine or
wind negative, nor cloud cover leave 0..100 %."""


def seasonal_temperature(ts: pd.DatetimeIndex) -> np.ndarray:
    """Hourly temperature from the calendar (coldest mid-January, warmest mid-July, warmest
    hour 15:00 UTC), so any start date gets its season, not a cycle anchored at the start."""
    doy = ts.day_of_year.to_numpy() + ts.hour.to_numpy() / 24
    return (T_MEAN - T_AMPLITUDE * np.cos(2 * np.pi * (doy - 15) / 365.25)
            + 4 * np.sin((ts.hour.to_numpy() - 9) / 24 * 2 * np.pi))


def physical(variable: str, truth: np.ndarray, noisy: np.ndarray) -> np.ndarray:
    """``noisy`` (a forecast of ``truth``) within ``variable``'s physical range; radiation stays
    0 where the truth is 0 (the sun is down: no forecast sees it)."""
    lo, hi = BOUNDS.get(variable, (None, None))
    out = np.clip(noisy, lo, hi) if lo is not None or hi is not None else noisy
    if variable == "shortwave_radiation":
        out = np.where(np.asarray(truth) == 0, 0.0, out)
    return out


def _physical_frame(cols: Sequence[str], truth: np.ndarray, noisy: np.ndarray) -> np.ndarray:
    return np.column_stack([physical(c, truth[:, j], noisy[:, j]) for j, c in enumerate(cols)]).round(2)


def weather(zones: Sequence[str], start: str | pd.Timestamp, days: int, seed: int = 1,
            forecast_days: int = 9, issue_hour_utc: int = 6,
            forecasts_from: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """Hourly observations plus daily forecasts issued at ``issue_hour_utc`` covering the next
    ``forecast_days`` days (from ``forecasts_from`` on, when given: an archive that starts late)."""
    rng = np.random.default_rng(seed)
    parts = []
    for zone in zones:
        ts = _hours(zone, start, days)
        n = len(ts)
        k = np.arange(n)
        truth = {
            "temperature_2m": seasonal_temperature(ts),
            "wind_speed_10m": np.abs(15 + 8 * np.sin(k / 53) + rng.normal(0, 2, n)),
            "wind_speed_100m": np.abs(25 + 10 * np.sin(k / 53) + rng.normal(0, 3, n)),
            "shortwave_radiation": np.clip(600 * np.sin((ts.hour - 6) / 12 * np.pi), 0, None),
            "cloud_cover": np.clip(50 + 40 * np.sin(k / 71), 0, 100),
            "precipitation": np.clip(rng.normal(0, 0.5, n), 0, None),
        }
        obs = pd.DataFrame({"ts": ts, "kind": "observed", "issued_at": ts, **{c: np.round(truth[c], 2) for c in WEATHER_VARIABLES}})
        parts.append(obs.assign(zone=zone))
        issues = pd.date_range(ts[0].floor("D") + issue_hour_utc * HOUR, ts[-1], freq="D", unit="us")
        if forecasts_from is not None:
            issues = issues[issues >= pd.Timestamp(forecasts_from, tz="UTC")]
        horizon = forecast_days * 24
        pos = np.searchsorted(ts.asi8, issues.asi8, side="right")
        idx = (pos[:, None] + np.arange(horizon)[None, :]).ravel()
        issued = issues[np.repeat(np.arange(len(issues)), horizon)]
        ok = idx < n
        idx, issued = idx[ok], issued[ok]
        fc = pd.DataFrame({"ts": ts[idx], "kind": "forecast", "issued_at": issued})
        for c in WEATHER_VARIABLES:
            fc[c] = np.round(physical(c, truth[c][idx], truth[c][idx] + rng.normal(0, 1, len(idx))), 2)
        parts.append(fc.assign(zone=zone))
    out = pd.concat(parts, ignore_index=True)
    out["source"] = "synthetic"
    return WEATHER.conform(out)


def archived_weather(zones: Sequence[str], start: str | pd.Timestamp, days: int, seed: int = 1,
                     lead_days: Sequence[int] = tuple(range(1, 8)), live_issued_at: str | pd.Timestamp | None = None,
                     live_days: int = 9) -> pd.DataFrame:
    """Weather as the open-meteo source stores it: observations, archived forecasts in the
    Previous Runs API's shape (for each hour ``ts`` and lead day N one forecast issued at
    ``ts - N days``, its error growing with N) and, with ``live_issued_at``, one live forecast
    issued then for the next ``live_days`` days (what ``update`` fetches for serving)."""
    base = weather(zones, start, days, seed=seed, forecast_days=1)
    obs = base[base["kind"] == "observed"]
    rng = np.random.default_rng(seed + 100)
    parts = [obs]
    cols = list(WEATHER_VARIABLES)
    for n in lead_days:
        fc = obs.copy()
        fc["kind"] = "forecast"
        fc["issued_at"] = fc["ts"] - n * DAY
        noisy = fc[cols].to_numpy() + rng.normal(0, 0.5 * n, (len(fc), len(cols)))
        fc[cols] = _physical_frame(cols, fc[cols].to_numpy(), noisy)
        if live_issued_at is not None:
            fc = fc[fc["issued_at"] < pd.Timestamp(live_issued_at)]
        parts.append(fc)
    if live_issued_at is not None:
        issued = pd.Timestamp(live_issued_at)
        live = obs[(obs["ts"] >= issued) & (obs["ts"] < issued + live_days * DAY)].copy()
        live["kind"] = "forecast"
        live["issued_at"] = issued
        noisy = live[cols].to_numpy() + rng.normal(0, 1, (len(live), len(cols)))
        live[cols] = _physical_frame(cols, live[cols].to_numpy(), noisy)
        parts.append(live)
    out = pd.concat(parts, ignore_index=True)
    out["issued_at"] = pd.DatetimeIndex(out["issued_at"]).as_unit("us")
    return WEATHER.conform(out)


def exogenous(zones: Sequence[str], start: str | pd.Timestamp, days: int, seed: int = 2,
              series: Sequence[str] = ("load_forecast", "wind_forecast"), issue_hour_utc: int = 8,
              ahead_days: int = 2) -> pd.DataFrame:
    """Daily issued forecasts of ``series`` covering the next ``ahead_days`` days, in MW."""
    rng = np.random.default_rng(seed)
    parts = []
    for zone in zones:
        ts = _hours(zone, start, days)
        issues = pd.date_range(ts[0].floor("D") + issue_hour_utc * HOUR, ts[-1], freq="D", unit="us")
        horizon = ahead_days * 24
        pos = np.searchsorted(ts.asi8, issues.asi8, side="right")
        idx = (pos[:, None] + np.arange(horizon)[None, :]).ravel()
        issued = issues[np.repeat(np.arange(len(issues)), horizon)]
        ok = idx < len(ts)
        idx, issued = idx[ok], issued[ok]
        for j, s in enumerate(series):
            parts.append(pd.DataFrame({
                "zone": zone, "ts": ts[idx], "series": s,
                "issued_at": issued,
                "value": np.round(3000 + 1000 * j + 500 * np.sin(ts.hour[idx] / 24 * 2 * np.pi)
                                  + rng.normal(0, 50, len(idx)), 1),
                "unit": "MW", "source": "synthetic",
            }))
    return EXOGENOUS.conform(pd.concat(parts, ignore_index=True))


def write_all(project: object, zones: Sequence[str], start: str | pd.Timestamp, days: int, **kw: object) -> None:
    """Insert synthetic prices, weather and exogenous series through the storage API."""
    fs = project.get_feature_store()  # type: ignore[attr-defined]
    PRICES.get_or_create(fs).insert(prices(zones, start, days))
    WEATHER.get_or_create(fs).insert(weather(zones, start, days))
    EXOGENOUS.get_or_create(fs).insert(exogenous(zones, start, days))
