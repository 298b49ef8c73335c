"""Building frames in contract shape and checking that a day is complete.

Pure functions shared by the sources, so every source stamps ``known_at`` the same way and
rejects a day with missing, extra or misaligned periods with the same message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from spotcast_ingest import timeutil
from spotcast_ingest.errors import ParseError
from spotcast_storage.contracts import EXOGENOUS, PRICES, WEATHER

WEATHER_VARIABLES = ("temperature_2m", "wind_speed_10m", "wind_speed_100m", "shortwave_radiation",
                     "cloud_cover", "precipitation")


def prices_frame(zone: str, ts: pd.DatetimeIndex | pd.Series, price_eur_mwh: Sequence[float] | np.ndarray,
                 price_sek_kwh: Sequence[float] | np.ndarray | None, resolution_minutes: int | np.ndarray,
                 source: str, tz: str) -> pd.DataFrame:
    """Rows of ``prices`` v1; ``known_at`` is the auction's publication time of each row's day."""
    idx = pd.DatetimeIndex(ts).tz_convert("UTC").as_unit("us")
    n = len(idx)
    df = pd.DataFrame({
        "zone": pd.Series([zone] * n, dtype=object),
        "ts": idx,
        "price_eur_mwh": np.asarray(price_eur_mwh, dtype="float64"),
        "price_sek_kwh": (np.full(n, np.nan) if price_sek_kwh is None
                          else np.asarray(price_sek_kwh, dtype="float64")),
        "resolution_minutes": np.broadcast_to(np.asarray(resolution_minutes, dtype="int64"), (n,)).copy(),
        "known_at": timeutil.publication_times(idx, tz).as_unit("us"),
        "source": source,
    })
    return PRICES.conform(df)


def weather_frame(zone: str, ts: pd.DatetimeIndex, values: dict[str, np.ndarray], kind: str,
                  issued_at: pd.Timestamp | pd.DatetimeIndex | None, source: str) -> pd.DataFrame:
    """Rows of ``weather`` v1. Observations get ``issued_at = ts``."""
    idx = pd.DatetimeIndex(ts).tz_convert("UTC").as_unit("us")
    n = len(idx)
    if kind == "observed":
        issued = idx
    elif isinstance(issued_at, pd.Timestamp):
        issued = pd.DatetimeIndex([issued_at] * n).tz_convert("UTC").as_unit("us")
    else:
        issued = pd.DatetimeIndex(issued_at).tz_convert("UTC").as_unit("us")
    df = pd.DataFrame({"zone": pd.Series([zone] * n, dtype=object), "ts": idx,
                       "kind": kind, "issued_at": issued})
    for v in WEATHER_VARIABLES:
        df[v] = np.asarray(values[v], dtype="float64") if v in values else np.full(n, np.nan)
    df["source"] = source
    return WEATHER.conform(df)


def exogenous_frame(zone: str, ts: pd.DatetimeIndex, series: str, value: np.ndarray, unit: str | None,
                    issued_at: pd.DatetimeIndex | pd.Series, source: str) -> pd.DataFrame:
    """Rows of ``exogenous`` v1 for one series."""
    idx = pd.DatetimeIndex(ts).tz_convert("UTC").as_unit("us")
    n = len(idx)
    return EXOGENOUS.conform(pd.DataFrame({
        "zone": pd.Series([zone] * n, dtype=object), "ts": idx, "series": series,
        "issued_at": pd.DatetimeIndex(issued_at).tz_convert("UTC").as_unit("us"),
        "value": np.asarray(value, dtype="float64"), "unit": unit, "source": source,
    }))


def concat(frames: Sequence[pd.DataFrame]) -> pd.DataFrame | None:
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return None
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def check_day(ts: pd.DatetimeIndex, day: dt.date, tz: str, minutes: int, where: str) -> None:
    """Raise unless ``ts`` are exactly the periods of local ``day`` at ``minutes`` resolution
    (so a DST day has 23/25 hours or 92/100 quarters, and nothing is missing or doubled)."""
    expected = timeutil.day_periods(day, tz, minutes)
    got = pd.DatetimeIndex(ts).tz_convert("UTC").sort_values()
    if len(got) == len(expected) and (got == expected).all():
        return
    dupes = got[got.duplicated()]
    missing = expected.difference(got)
    extra = got.difference(expected)
    parts = [f"expected {len(expected)} periods of {minutes} min, got {len(got)}"]
    if len(dupes):
        parts.append(f"repeated: {_few(dupes)}")
    if len(missing):
        parts.append(f"missing: {_few(missing)}")
    if len(extra):
        parts.append(f"outside the day or misaligned: {_few(extra)}")
    raise ParseError(f"{where}: incomplete day {day}: " + "; ".join(parts))


def _few(idx: pd.DatetimeIndex, n: int = 3) -> str:
    shown = ", ".join(t.isoformat() for t in idx[:n])
    return shown + (f" (+{len(idx) - n} more)" if len(idx) > n else "")
