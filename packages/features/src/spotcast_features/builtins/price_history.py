"""Price history known at the origin: same-hour lags and statistics of the newest known days."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from spotcast_features.timeutil import DAY
from spotcast_features.transform import OriginBatch, Transformation, contract_columns
from spotcast_storage.hookspecs import hookimpl

LAG_DAYS = (1, 2, 3, 7)
ROLL_DAYS = (7, 28)


def same_hour_grid(batch: OriginBatch) -> pd.DataFrame:
    """Known hourly prices per (origin, local date, local hour), sorted by date. The two hours
    of a 25-hour day that share a local hour are averaged."""
    p = batch.prices
    return (p.groupby(["origin", "local_date", "local_hour"], sort=False)["price_eur_mwh"].mean()
            .reset_index().sort_values("local_date", kind="stable"))


def same_hour_lag(batch: OriginBatch, days: int, grid: pd.DataFrame | None = None) -> np.ndarray:
    """Hourly price of the target's local hour ``days`` days earlier, as known at the origin;
    when that day is not known (the future, or a gap) the newest earlier known day's."""
    t = batch.targets
    grid = same_hour_grid(batch) if grid is None else grid
    left = t[["origin", "local_hour"]].assign(
        _row=np.arange(len(t)), src=(t["local_date"] - days * DAY).astype(grid["local_date"].dtype))
    m = pd.merge_asof(left.sort_values("src", kind="stable"), grid, left_on="src", right_on="local_date",
                      by=["origin", "local_hour"], direction="backward")
    return m.sort_values("_row")["price_eur_mwh"].to_numpy()


def day_statistics(batch: OriginBatch) -> pd.DataFrame:
    """Per origin: mean/min/max of the newest known local day, mean/std of the last 7 and 28 days."""
    p = batch.prices
    last = p.groupby("origin")["local_date"].transform("max")
    age = (last - p["local_date"]) // DAY
    price = p["price_eur_mwh"]
    g_last = price[age == 0].groupby(p["origin"][age == 0])
    stats = {"last_day_mean": g_last.mean(), "last_day_min": g_last.min(), "last_day_max": g_last.max()}
    for n in ROLL_DAYS:
        sel = age < n
        g = price[sel].groupby(p["origin"][sel])
        stats[f"roll{n}_mean"] = g.mean()
        stats[f"roll{n}_std"] = g.std(ddof=1)
    return pd.DataFrame(stats)


def price_history_features(batch: OriginBatch) -> pd.DataFrame:
    t = batch.targets
    per_origin = day_statistics(batch).reindex(pd.DatetimeIndex(t["origin"]))
    grid = same_hour_grid(batch)
    out = batch.frame(**{f"price_lag_{d}d": same_hour_lag(batch, d, grid) for d in LAG_DAYS})
    for c in per_origin.columns:
        out[c] = per_origin[c].to_numpy()
    return out


PRICE_HISTORY = Transformation(
    name="price_history",
    columns=contract_columns(*(f"price_lag_{d}d" for d in LAG_DAYS), "last_day_mean", "last_day_min",
                             "last_day_max", "roll7_mean", "roll7_std", "roll28_mean", "roll28_std"),
    compute=price_history_features,
    description="same-hour price lags 1/2/3/7 days, last known day's mean/min/max, 7/28-day rolling mean/std",
    order=20,
)


@hookimpl
def register_features(register: Any) -> None:
    register(PRICE_HISTORY)
