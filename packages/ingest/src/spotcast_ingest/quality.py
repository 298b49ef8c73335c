"""The data-quality gate on prices: pure checks, no I/O (the stage reads and writes around them).

Two kinds, as in OpenSTEF's input checks:

- **refusals** before anything is written: a price outside the zone's hard limits (SDAC's
  harmonised -500..4000 EUR/MWh for coupled zones, see
  :data:`spotcast_storage.contracts.ZONE_PRICE_LIMITS`) stops the batch with an error naming the
  rows; non-finite numbers are refused by the store itself for every writer;
- **day flags** per zone and local delivery day, computed from the stored prices after a batch:
  ``completeness`` (every period of the day's resolution present: 23/24/25 hours, or 92/96/100
  quarter-hours), ``flatliner`` (one price repeated for ``flatliner_hours`` or more in a row),
  ``limits`` and ``finite``. They go into the ``data_quality`` feature group; a forecast whose
  inputs include a failed day is not published as the model's own.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from spotcast_ingest import timeutil
from spotcast_storage.contracts.quality import DATA_QUALITY, DEFAULT_FLATLINER_HOURS, price_limits
from spotcast_storage.errors import ValidationError


def flatliner_hours(value: int | str | None = None) -> int:
    """The flatliner threshold: the argument, else ``SPOTCAST_FLATLINER_HOURS``, else the default."""
    raw = value if value is not None else os.environ.get("SPOTCAST_FLATLINER_HOURS") or DEFAULT_FLATLINER_HOURS
    try:
        hours = int(raw)
    except (TypeError, ValueError):
        raise ValidationError(f"the flatliner threshold must be a whole number of hours, got {raw!r} "
                              "(SPOTCAST_FLATLINER_HOURS or --flatliner-hours)") from None
    if hours < 2:
        raise ValidationError(f"the flatliner threshold must be at least 2 hours, got {hours}")
    return hours


def check_limits(prices: pd.DataFrame, zone: str, label: str) -> None:
    """Refuse prices outside ``zone``'s hard limits, naming the first rows (non-finite values are
    left to the store, which refuses them with its own message)."""
    if prices.empty:
        return
    lo, hi = price_limits(zone)
    p = prices["price_eur_mwh"].to_numpy(dtype="float64")
    bad = np.isfinite(p) & ((p < lo) | (p > hi))
    if not bad.any():
        return
    rows = prices.loc[bad, ["ts", "price_eur_mwh"]].head(3)
    shown = ", ".join(f"{t.isoformat()}: {v:g}" for t, v in zip(rows["ts"], rows["price_eur_mwh"], strict=True))
    more = int(bad.sum()) - len(rows)
    raise ValidationError(
        f"{label}: {int(bad.sum())} price(s) for {zone} outside the market's limits {lo:g}..{hi:g} EUR/MWh "
        f"({shown}{f', +{more} more' if more > 0 else ''}); no day-ahead auction clears there, so the data is "
        "broken (a unit slip, a bad file). Nothing was written; fix the source data")


def _longest_run(values: np.ndarray) -> int:
    """Length of the longest run of equal consecutive values (0 for no values)."""
    if len(values) == 0:
        return 0
    change = np.flatnonzero(values[1:] != values[:-1])
    bounds = np.concatenate(([-1], change, [len(values) - 1]))
    return int(np.diff(bounds).max())


def _clock(ts: pd.DatetimeIndex, tz: str, n: int = 3) -> str:
    local = ts.tz_convert(tz)
    shown = ", ".join(t.strftime("%H:%M") for t in local[:n])
    return shown + (f" (+{len(ts) - n} more)" if len(ts) > n else "")


def day_flags(prices: pd.DataFrame, zone: str, days: Sequence[dt.date], tz: str,
              flatliner: int = DEFAULT_FLATLINER_HOURS) -> pd.DataFrame:
    """One row per day and check in ``data_quality`` shape, from ``prices`` (columns ``ts``,
    ``price_eur_mwh``, ``resolution_minutes``; any rows, of this zone) for the local ``days``."""
    lo, hi = price_limits(zone)
    ts_all = pd.DatetimeIndex(prices["ts"]).tz_convert("UTC") if len(prices) else pd.DatetimeIndex([], tz="UTC")
    local_day = ts_all.tz_convert(tz).date if len(ts_all) else np.array([], dtype=object)
    order = np.argsort(ts_all.asi8, kind="stable")
    ts_all = ts_all[order]
    local_day = np.asarray(local_day)[order]
    values_all = prices["price_eur_mwh"].to_numpy(dtype="float64")[order]
    res_all = prices["resolution_minutes"].to_numpy()[order] if len(prices) else np.array([], dtype="int64")
    out = []
    for day in days:
        on = local_day == day
        ts, values, res = ts_all[on], values_all[on], res_all[on]
        start = timeutil.day_bounds(day, tz)[0]
        minutes = int(pd.Series(res).mode().iloc[0]) if len(res) else timeutil.native_resolution(day)
        expected = timeutil.day_periods(day, tz, minutes)
        missing = expected.difference(ts)
        extra = ts.difference(expected)
        if not len(ts):
            complete = (False, float(len(expected)), f"no prices for the day ({len(expected)} periods of {minutes} min "
                                                       "expected)")
        elif len(missing) or len(extra):
            parts = [f"{len(ts)} of {len(expected)} periods of {minutes} min"]
            if len(missing):
                parts.append(f"missing {_clock(missing, tz)}")
            if len(extra):
                parts.append(f"misaligned or outside the day: {_clock(extra, tz)}")
            complete = (False, float(len(missing) + len(extra)), "; ".join(parts))
        else:
            complete = (True, 0.0, f"all {len(expected)} periods of {minutes} min")
        finite = np.isfinite(values)
        run_hours = _longest_run(values[finite]) * minutes / 60 if finite.any() else 0.0
        flat = (run_hours < flatliner, float(run_hours),
                f"longest run of one price: {run_hours:g} h (flagged from {flatliner} h)")
        outside = finite & ((values < lo) | (values > hi))
        limits = (not outside.any(), float(outside.sum()),
                  f"{int(outside.sum())} price(s) outside {lo:g}..{hi:g} EUR/MWh"
                  + (f": {_clock(ts[outside], tz)}" if outside.any() else ""))
        fin = (bool(finite.all()), float((~finite).sum()),
               f"{int((~finite).sum())} non-finite price(s)" + (f": {_clock(ts[~finite], tz)}" if (~finite).any() else ""))
        for check, (passed, value, detail) in (("completeness", complete), ("flatliner", flat),
                                                ("limits", limits), ("finite", fin)):
            out.append({"zone": zone, "day": start, "check_name": check, "local_date": day.isoformat(),
                        "passed": bool(passed), "value": value, "detail": detail})
    df = pd.DataFrame(out, columns=DATA_QUALITY.column_names)
    df["day"] = pd.to_datetime(df["day"], utc=True).astype("datetime64[us, UTC]")
    df["zone"] = df["zone"].astype(object)
    return DATA_QUALITY.conform(df)


def failures(flags: pd.DataFrame) -> list[str]:
    """``"SE3 2024-03-31 completeness: ..."`` for every failed check, for summaries."""
    bad = flags[~flags["passed"].astype(bool)]
    return [f"{r.zone} {r.local_date} {r.check_name}: {r.detail}" for r in bad.itertuples()]
