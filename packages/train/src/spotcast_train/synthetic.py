"""Synthetic prices and price_features rows in the contracts' shapes, for tests and benchmarks.

A drifting level with daily and weekly shapes, noise and rare spikes: learnable enough that a
model should beat the naive forecasts, noisy enough that it cannot be perfect. The rows follow
price_features' point-in-time rule (origin day i at 09:00 UTC, every value from days <= i).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def price_matrix(days: int, seed: int = 0) -> np.ndarray:
    """(days, 24) prices: a drifting level, a daily and weekly shape, noise and a few spikes."""
    rng = np.random.default_rng(seed)
    d = np.arange(days)[:, None]
    h = np.arange(24)[None, :]
    level = 60 + 15 * np.sin(d / 25) + 0.2 * d
    shape = 12 * np.sin((h - 6) / 24 * 2 * np.pi) + 8 * np.exp(-((h - 18) ** 2) / 6)
    weekend = np.where((d % 7) >= 5, -10.0, 0.0)
    noise = rng.normal(0, 4, size=(days, 24))
    spikes = (rng.random((days, 24)) < 0.01) * rng.normal(60, 20, size=(days, 24))
    return level + shape + weekend + noise + spikes


def hourly_frame(zone: str, start: str, P: np.ndarray) -> pd.DataFrame:
    days = len(P)
    ts = pd.date_range(start, periods=days * 24, freq="h", tz="UTC")
    day = ts.floor("D")
    return pd.DataFrame({"zone": zone, "ts": ts, "price_eur_mwh": P.ravel(),
                         "known_at": day - pd.Timedelta(hours=12), "n_periods": 1})


def features_frame(zone: str, start: str, P: np.ndarray, first_origin_day: int = 28, horizon: int = 7,
                   last_origin_day: int | None = None) -> pd.DataFrame:
    """price_features rows: origin day i at 09:00 UTC, targets days i+1..i+horizon; every value uses
    prices of days <= i only (day i+1's prices are published at 12:00 UTC on day i)."""
    days = len(P)
    last = days - 1 if last_origin_day is None else last_origin_day
    t0 = pd.Timestamp(start, tz="UTC")
    rng = np.random.default_rng(1)
    parts = []
    for i in range(first_origin_day, last + 1):
        j = np.repeat(np.arange(i + 1, i + horizon + 1), 24)
        h = np.tile(np.arange(24), horizon)
        ts = t0 + pd.to_timedelta(j, unit="D") + pd.to_timedelta(h, unit="h")
        cols = {}
        for k in (1, 2, 3, 7):
            src = np.where(j - k <= i, j - k, i)
            cols[f"price_lag_{k}d"] = P[src, h]
        last_day = P[i]
        wk, mo = P[i - 6:i + 1].ravel(), P[i - 27:i + 1].ravel()
        dow = ts.day_of_week.to_numpy()
        parts.append(pd.DataFrame({
            "zone": zone, "origin": t0 + pd.Timedelta(days=i, hours=9), "ts": ts,
            "horizon_hours": ((ts - (t0 + pd.Timedelta(days=i, hours=9))) / pd.Timedelta(hours=1)).astype("int64"),
            "horizon_day": j - i, "hour": h, "weekday": dow, "month": ts.month.to_numpy(),
            "day_of_year": ts.day_of_year.to_numpy(), "is_holiday": 0, "is_bridge_day": 0, "is_dst_day": 0,
            **cols,
            "last_day_mean": last_day.mean(), "last_day_min": last_day.min(), "last_day_max": last_day.max(),
            "roll7_mean": wk.mean(), "roll7_std": wk.std(ddof=1), "roll28_mean": mo.mean(), "roll28_std": mo.std(ddof=1),
            "wx_temperature_2m": rng.normal(5, 3, len(j)), "wx_wind_speed_10m": rng.gamma(2, 3, len(j)),
            "wx_wind_speed_100m": rng.gamma(2, 4, len(j)), "wx_shortwave_radiation": np.clip(rng.normal(100, 80, len(j)), 0, None),
            "wx_cloud_cover": rng.uniform(0, 100, len(j)), "wx_precipitation": rng.exponential(0.2, len(j)),
            "wx_is_observed": 0,
            "exo_load_forecast": 10_000 + 50 * np.where((dow >= 5), 0, 1) * h + rng.normal(0, 100, len(j)),
            "exo_wind_forecast": np.nan, "exo_solar_forecast": np.nan,
        }))
    return pd.concat(parts, ignore_index=True)
