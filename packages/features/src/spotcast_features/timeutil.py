"""Zone-local calendar arithmetic on UTC timestamps.

Storage is UTC; days, hours and origins are defined in the zone's local time, where a day has
23, 24 or 25 hours. A zone's time zone and holiday country come from the one zone table,
:func:`spotcast_storage.zones.parse_zone`. Local dates are carried as naive midnight ``datetime64`` values so that
they can be merged and subtracted like any other column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# microsecond units, so that arithmetic keeps the store's timestamp resolution
HOUR = pd.Timedelta(hours=1).as_unit("us")
DAY = pd.Timedelta(days=1).as_unit("us")


def utc(ts: pd.Series | pd.DatetimeIndex) -> pd.Series | pd.DatetimeIndex:
    """Timestamps as tz-aware UTC with microsecond resolution (what the store returns)."""
    if getattr(ts, "dtype", None) == "datetime64[us, UTC]":
        return ts
    obj = pd.to_datetime(ts, utc=True)
    return obj.astype("datetime64[us, UTC]")


def local_date(ts: pd.Series, tz: str) -> pd.Series:
    """Local calendar date of UTC timestamps, as naive midnight datetime64."""
    return ts.dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()


def local_hour(ts: pd.Series, tz: str) -> pd.Series:
    return ts.dt.tz_convert(tz).dt.hour.astype("int64")


def at_local_time(dates: pd.Series | pd.DatetimeIndex, tz: str, hour: int = 0) -> pd.DatetimeIndex:
    """UTC instant of ``hour``:00 local on each local date. A time that does not exist (the
    skipped hour of a spring-forward day) moves forward; a repeated one takes its first occurrence."""
    naive = pd.DatetimeIndex(dates).normalize() + pd.Timedelta(hours=hour)
    local = naive.tz_localize(tz, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward")
    return utc(local.tz_convert("UTC"))


def local_midnight(dates: pd.Series | pd.DatetimeIndex, tz: str) -> pd.DatetimeIndex:
    """UTC start of each local date."""
    return at_local_time(dates, tz, 0)


def day_hours(dates: pd.Series | pd.DatetimeIndex, tz: str) -> np.ndarray:
    """Number of hours in each local date: 24, or 23/25 on DST change days."""
    d = pd.DatetimeIndex(dates).normalize()
    start = local_midnight(d, tz)
    end = local_midnight(d + DAY, tz)
    return np.asarray((end - start) / HOUR, dtype="int64")


