"""Open-Meteo archive, forecast and previous-runs answers, asked for in GMT (``timezone=GMT``,
optionally ``timeformat=unixtime``): ``{"utc_offset_seconds": 0, "hourly": {"time": [...], "<var>": [...]}}``.
The Previous Runs API answers in the forecast API's format, with one array per variable and lead
day: ``"temperature_2m_previous_day1"`` ... ``"_previous_day7"``.

Open-Meteo applies one fixed ``utc_offset_seconds`` to a whole answer, so a local-time series
would be an hour off for half the year; we refuse anything but offset 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from spotcast_ingest import frames
from spotcast_ingest.errors import ParseError


def parse_hourly(payload: Any, variables: Sequence[str], where: str) -> tuple[pd.DatetimeIndex, dict[str, np.ndarray]]:
    """UTC hours and one float array per variable; hours where every variable is null are
    dropped (the archive answers null for days it does not have yet)."""
    if not isinstance(payload, dict):
        raise ParseError(f"{where}: expected a JSON object, got {type(payload).__name__}")
    if payload.get("error"):
        raise ParseError(f"{where}: Open-Meteo refused the request: {payload.get('reason', payload)}")
    offset = payload.get("utc_offset_seconds")
    if offset != 0:
        raise ParseError(f"{where}: answer has utc_offset_seconds={offset!r}; spotcast asks for timezone=GMT")
    hourly = payload.get("hourly")
    if not isinstance(hourly, dict) or not isinstance(hourly.get("time"), list):
        raise ParseError(f"{where}: answer has no hourly.time array; keys are {sorted(payload)}")
    times = hourly["time"]
    missing = [v for v in variables if not isinstance(hourly.get(v), list)]
    if missing:
        raise ParseError(f"{where}: answer lacks hourly variable(s) {missing}")
    bad = [v for v in variables if len(hourly[v]) != len(times)]
    if bad:
        raise ParseError(f"{where}: hourly variable(s) {bad} do not have one value per time ({len(times)})")
    try:
        if times and isinstance(times[0], (int, float)):
            ts = pd.to_datetime(pd.Series(times, dtype="int64"), unit="s", utc=True)
        else:
            ts = pd.to_datetime(pd.Series(times, dtype=object), utc=True, format="ISO8601")
        values = {v: pd.to_numeric(pd.Series(hourly[v], dtype=object), errors="raise").astype("float64").to_numpy()
                  for v in variables}
    except (ValueError, TypeError) as exc:
        raise ParseError(f"{where}: unreadable hourly values: {exc}") from None
    idx = pd.DatetimeIndex(ts)
    if idx.duplicated().any():
        raise ParseError(f"{where}: repeated times, e.g. {idx[idx.duplicated()][0].isoformat()}")
    known = ~np.all(np.isnan(np.vstack([values[v] for v in variables])), axis=0) if variables else np.ones(len(idx), bool)
    return idx[known], {v: a[known] for v, a in values.items()}


def weather_rows(payload: Any, zone: str, variables: Sequence[str], kind: str, issued_at: pd.Timestamp | None,
                 where: str, source: str, start: pd.Timestamp | None = None,
                 end: pd.Timestamp | None = None) -> pd.DataFrame:
    """``weather`` rows of one answer, limited to ``[start, end)`` when given."""
    ts, values = parse_hourly(payload, variables, where)
    keep = np.ones(len(ts), bool)
    if start is not None:
        keep &= ts >= start
    if end is not None:
        keep &= ts < end
    return frames.weather_frame(zone, ts[keep], {v: a[keep] for v, a in values.items()}, kind, issued_at, source)


def previous_day_variable(variable: str, day: int) -> str:
    """The Previous Runs API's name of ``variable`` as forecast ``day`` days before its hour."""
    return f"{variable}_previous_day{day}"


def previous_runs_rows(payload: Any, zone: str, variables: Sequence[str], days: Sequence[int], where: str,
                       source: str, start: pd.Timestamp | None = None,
                       end: pd.Timestamp | None = None) -> pd.DataFrame:
    """``weather`` forecast rows of a Previous Runs answer: one row per hour and lead day N whose
    values are not all null, issued at ``ts - N days``.

    Why that issue time: the API defines ``<var>_previous_dayN`` as the value that was predicted
    24 x N hours before the valid time, i.e. the forecast that was current at ``ts - N days``.
    It was known then; dating it earlier would let a model learn from a forecast that did not
    exist yet at its origin, dating it later would only throw information away."""
    names = [previous_day_variable(v, d) for d in days for v in variables]
    ts, values = parse_hourly(payload, names, where)
    parts = []
    for d in days:
        block = np.vstack([values[previous_day_variable(v, d)] for v in variables])
        keep = ~np.all(np.isnan(block), axis=0)
        if start is not None:
            keep &= ts >= start
        if end is not None:
            keep &= ts < end
        if not keep.any():
            continue
        hours = ts[keep]
        parts.append(frames.weather_frame(zone, hours, {v: values[previous_day_variable(v, d)][keep] for v in variables},
                                          "forecast", hours - pd.Timedelta(days=d), source))
    if not parts:
        return frames.weather_frame(zone, ts[:0], {v: np.array([]) for v in variables}, "forecast",
                                    ts[:0], source)
    return pd.concat(parts, ignore_index=True)
