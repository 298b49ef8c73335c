"""Point-in-time assembly of the inputs of each forecast origin (pure pandas, no I/O).

An origin ``o`` on local day ``D`` (at the configured local hour) sees:

- prices (hourly means) with ``known_at <= o`` and ts in ``[D-35 00:00, D+2 00:00)`` local;
- per target hour, the newest weather forecast and exogenous value with ``issued_at <= o``;
- weather observations with ``ts < o`` and ``ts >= o - 7 days`` (an observation at a target
  hour is a measurement of the future, never an input);
- targets: every hour from the first hour whose price is unknown at ``o`` (never before
  D+1 00:00 local) to the end of the local day ``horizon_days`` days later.

Each origin reads only inside these windows, so a changed input at time ``t`` can affect only
the origins listed by :func:`affected_dates`; that bound is what makes incremental builds
equal full rebuilds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from spotcast_features.timeutil import (
    DAY,
    HOUR,
    at_local_time,
    local_date,
    local_hour,
    local_midnight,
    utc,
)
from spotcast_features.transform import OriginBatch, Settings
from spotcast_storage.contracts.features import WEATHER_VARIABLES
from spotcast_storage.zones import parse_zone

PRICE_LOOKBACK_DAYS = 35
"""Local days of price history an origin may read (28-day rolling window plus a week of slack
for late data)."""
OBSERVATION_LOOKBACK_DAYS = 7
"""Days of weather observations before the origin an origin may read (same-hour persistence)."""

HOURLY_COLUMNS = ["zone", "ts", "price_eur_mwh", "known_at", "n_periods"]


# -- hourly label -------------------------------------------------------------------------------
def hourly_prices(prices: pd.DataFrame) -> pd.DataFrame:
    """Hourly mean price from native-resolution periods (60 or 15 min), weighted by period length.

    An hour becomes known when its last period does (max ``known_at``).
    """
    if prices.empty:
        return pd.DataFrame({"zone": pd.Series(dtype="str"), "ts": pd.Series(dtype="datetime64[us, UTC]"),
                             "price_eur_mwh": pd.Series(dtype="float64"),
                             "known_at": pd.Series(dtype="datetime64[us, UTC]"),
                             "n_periods": pd.Series(dtype="int64")})
    w = prices["resolution_minutes"].astype("float64")
    df = pd.DataFrame({
        "zone": prices["zone"], "ts": utc(prices["ts"]).dt.floor("h"),
        "pw": prices["price_eur_mwh"].astype("float64") * w, "w": w, "known_at": utc(prices["known_at"]),
    })
    g = df.groupby(["zone", "ts"], sort=True)
    out = pd.DataFrame({"pw": g["pw"].sum(), "w": g["w"].sum(), "known_at": g["known_at"].max(),
                        "n_periods": g.size().astype("int64")}).reset_index()
    out["price_eur_mwh"] = out["pw"] / out["w"]
    return out[HOURLY_COLUMNS]


# -- windows --------------------------------------------------------------------------------------
def affected_dates(source: str, t_min: pd.Timestamp, t_max: pd.Timestamp, tz: str,
                   horizon_days: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Local origin dates (inclusive range) whose rows may use an input row of ``source``
    (prices, prices_hourly, weather or exogenous) with event time in ``[t_min, t_max]``."""
    lo = local_date(pd.Series([utc(pd.DatetimeIndex([t_min]))[0]]), tz).iloc[0]
    hi = local_date(pd.Series([utc(pd.DatetimeIndex([t_max]))[0]]), tz).iloc[0]
    if source in ("prices", "prices_hourly"):
        # t in [D-35, D+2): D in [date(t)-1, date(t)+35]
        return lo - DAY, hi + PRICE_LOOKBACK_DAYS * DAY
    # forecasts: t in [D+1, D+2+H) -> D in [date(t)-H-1, date(t)-1];
    # observations: t in [o-7d, o) -> D in [date(t), date(t)+8]
    return lo - (horizon_days + 1) * DAY, hi + (OBSERVATION_LOOKBACK_DAYS + 1) * DAY


@dataclass(frozen=True)
class ReadRange:
    """Event-time ranges ``[lo, hi)`` to read so that every origin of a date range has its inputs."""

    prices: tuple[pd.Timestamp, pd.Timestamp]
    weather: tuple[pd.Timestamp, pd.Timestamp]
    exogenous: tuple[pd.Timestamp, pd.Timestamp]
    known_by: pd.Timestamp  # newest origin: nothing known later is needed


def read_range(first: pd.Timestamp, last: pd.Timestamp, tz: str, settings: Settings) -> ReadRange:
    d = pd.DatetimeIndex([first, last]).normalize()
    o_first, o_last = at_local_time(d, tz, settings.origin_hour)
    p_lo = local_midnight(d[:1] - PRICE_LOOKBACK_DAYS * DAY, tz)[0]
    p_hi = local_midnight(d[1:] + 2 * DAY, tz)[0]
    t_lo = local_midnight(d[:1] + DAY, tz)[0]
    t_hi = local_midnight(d[1:] + (settings.horizon_days + 2) * DAY, tz)[0]
    w_lo = min(t_lo, o_first - OBSERVATION_LOOKBACK_DAYS * DAY)
    return ReadRange((p_lo, p_hi), (w_lo, t_hi), (t_lo, t_hi), o_last)


# -- assembly ---------------------------------------------------------------------------------------
def _i8(values: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    return np.asarray(pd.DatetimeIndex(values).tz_convert("UTC").as_unit("us").asi8)


def _slices(sorted_times: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each window ``[lo[i], hi[i])`` over sorted times: (window index, row position) pairs."""
    a = np.searchsorted(sorted_times, lo, side="left")
    b = np.searchsorted(sorted_times, hi, side="left")
    n = np.maximum(b - a, 0)
    owner = np.repeat(np.arange(len(lo)), n)
    offset = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    return owner, np.repeat(a, n) + offset


def _newest_per_target(targets: pd.DataFrame, values: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per target row, the row of ``values`` with the same ``by`` keys and the newest
    ``issued_at <= origin``; targets without one are left out. Keeps the ``_row`` column."""
    if values.empty or targets.empty:
        return _empty(["_row", "origin", *values.columns])
    left = targets[["_row", "origin", *by]].sort_values("origin", kind="stable")
    right = values.sort_values("issued_at", kind="stable")
    m = pd.merge_asof(left, right, left_on="origin", right_on="issued_at", by=by, direction="backward",
                      allow_exact_matches=True)
    return m[m["issued_at"].notna()].sort_values("_row", kind="stable")


def assemble(zone: str, dates: pd.DatetimeIndex, settings: Settings, hourly: pd.DataFrame,
             weather: pd.DataFrame | None = None, exogenous: pd.DataFrame | None = None) -> OriginBatch | None:
    """The :class:`OriginBatch` of ``zone``'s origins on local ``dates``.

    ``hourly`` is :func:`hourly_prices` output, ``weather`` rows of ``weather`` v1 and
    ``exogenous`` rows of ``exogenous`` v1; rows of other zones or outside the windows are ignored.
    Origins that know no price at all are left out; returns None when none is left.
    """
    z = parse_zone(zone)
    tz, country = z.tz, z.country
    dates = pd.DatetimeIndex(dates).normalize().unique().sort_values()
    origins = at_local_time(dates, tz, settings.origin_hour)

    # prices known at each origin, inside its window
    h = hourly[hourly["zone"] == zone] if "zone" in hourly.columns else hourly
    h = h.sort_values("ts", kind="stable")
    h_ts = utc(h["ts"])
    p_lo = _i8(local_midnight(dates - PRICE_LOOKBACK_DAYS * DAY, tz))
    p_hi = _i8(local_midnight(dates + 2 * DAY, tz))
    owner, pos = _slices(_i8(h_ts), p_lo, p_hi)
    o_i8 = _i8(origins)
    known = _i8(utc(h["known_at"]))[pos] <= o_i8[owner]
    owner, pos = owner[known], pos[known]
    prices = pd.DataFrame({
        "origin": origins[owner], "ts": pd.DatetimeIndex(h_ts)[pos],
        "price_eur_mwh": h["price_eur_mwh"].to_numpy(dtype="float64")[pos],
    })
    prices["local_date"] = local_date(prices["ts"], tz)
    prices["local_hour"] = local_hour(prices["ts"], tz)

    # targets: from the first hour not known at the origin to the end of the horizon
    last_known = prices.groupby("origin", sort=True)["ts"].max()
    keep = origins.isin(last_known.index)
    if not keep.any():
        return None
    dates, origins = dates[keep], origins[keep]
    day1 = local_midnight(dates + DAY, tz)
    after_known = utc(pd.DatetimeIndex(last_known.reindex(origins))) + HOUR
    first = day1.where(day1 >= after_known, after_known)
    first_day = local_date(pd.Series(first), tz)
    end = local_midnight(pd.DatetimeIndex(first_day) + settings.horizon_days * DAY, tz)
    n = np.asarray((end - first) // HOUR, dtype="int64")
    idx = np.repeat(np.arange(len(origins)), n)
    step = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    ts = first[idx] + pd.to_timedelta(step, unit="h")
    targets = pd.DataFrame({"origin": origins[idx], "ts": utc(ts), "first_target": first[idx]})
    targets["local_date"] = local_date(targets["ts"], tz)
    targets["local_hour"] = local_hour(targets["ts"], tz)

    if weather is not None and "zone" in weather.columns:
        weather = weather[weather["zone"] == zone]
    if exogenous is not None and "zone" in exogenous.columns:
        exogenous = exogenous[exogenous["zone"] == zone]
    forecasts, observations = _weather(targets, origins, weather, tz)
    return OriginBatch(
        zone=zone, timezone=tz, country=country, settings=settings, targets=targets, prices=prices,
        forecasts=forecasts, observations=observations, exogenous=_exogenous(targets, exogenous),
    )


def _weather(targets: pd.DataFrame, origins: pd.DatetimeIndex, weather: pd.DataFrame | None,
             tz: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    cols = list(WEATHER_VARIABLES)
    fc_cols = ["origin", "ts", "issued_at", *cols]
    obs_cols = ["origin", "ts", "local_date", "local_hour", *cols]
    if weather is None or weather.empty:
        return _empty(fc_cols), _empty(obs_cols)
    w = weather.copy()
    w["ts"], w["issued_at"] = utc(w["ts"]), utc(w["issued_at"])
    fc = w.loc[w["kind"] == "forecast", ["ts", "issued_at", *cols]]
    t = targets[["origin", "ts"]].assign(_row=np.arange(len(targets)))
    forecasts = _newest_per_target(t, fc, ["ts"])[fc_cols].reset_index(drop=True)

    obs = w.loc[w["kind"] == "observed", ["ts", *cols]].sort_values("ts", kind="stable")
    o_i8 = _i8(origins)
    owner, pos = _slices(_i8(obs["ts"]), o_i8 - OBSERVATION_LOOKBACK_DAYS * 86_400_000_000, o_i8)
    observations = obs.iloc[pos].reset_index(drop=True)
    observations.insert(0, "origin", origins[owner])
    observations["local_date"] = local_date(observations["ts"], tz)
    observations["local_hour"] = local_hour(observations["ts"], tz)
    return forecasts, observations[obs_cols]


def _exogenous(targets: pd.DataFrame, exogenous: pd.DataFrame | None) -> pd.DataFrame:
    cols = ["origin", "ts", "series", "issued_at", "value"]
    if exogenous is None or exogenous.empty:
        return _empty(cols)
    e = exogenous[["ts", "series", "issued_at", "value"]].copy()
    e["ts"], e["issued_at"] = utc(e["ts"]), utc(e["issued_at"])
    t = targets[["origin", "ts"]].assign(_row=np.arange(len(targets)))
    parts = [_newest_per_target(t, e[e["series"] == s], ["ts"]) for s in sorted(e["series"].unique())]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return _empty(cols)
    return pd.concat(parts, ignore_index=True)[cols]


_EMPTY_DTYPES = {"origin": "datetime64[us, UTC]", "ts": "datetime64[us, UTC]",
                 "issued_at": "datetime64[us, UTC]", "local_date": "datetime64[us]", "local_hour": "int64",
                 "_row": "int64", "series": "str"}


def _empty(cols: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=_EMPTY_DTYPES.get(c, "float64")) for c in dict.fromkeys(cols)})
