"""Open-Meteo archive and forecast answers, asked for in GMT (``timezone=GMT``, optionally
``timeformat=unixtime``): ``{"utc_offset_seconds": 0, "hourly": {"time": [...], "<var>": [...]}}``.

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
