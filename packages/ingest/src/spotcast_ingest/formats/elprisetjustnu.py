"""elprisetjustnu.se: ``GET /api/v1/prices/{YYYY}/{MM}-{DD}_{ZONE}.json`` answers a JSON array of
``{"SEK_per_kWh", "EUR_per_kWh", "EXR", "time_start", "time_end"}`` with Stockholm offsets:
24 hourly items per day until 2025-09-30, 96 quarter-hours from 2025-10-01 (23/25 or 92/100
on DST days)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from spotcast_ingest import frames
from spotcast_ingest.errors import ParseError

FIELDS = ("SEK_per_kWh", "EUR_per_kWh", "time_start", "time_end")
TZ = "Europe/Stockholm"


def parse_day(payload: Any, zone: str, day: dt.date, where: str, source: str = "elprisetjustnu") -> pd.DataFrame:
    """One delivery day's answer as ``prices`` rows (EUR/kWh becomes EUR/MWh)."""
    if not isinstance(payload, list) or not payload:
        kind = "an empty array" if payload == [] else f"a JSON {type(payload).__name__}"
        raise ParseError(f"{where}: expected a JSON array of price periods for {zone} {day}, got {kind}")
    for i, item in enumerate(payload):
        missing = [f for f in FIELDS if not isinstance(item, dict) or item.get(f) is None]
        if missing:
            raise ParseError(f"{where}: item {i} for {zone} {day} lacks field(s) {missing}; got {str(item)[:120]}")
    df = pd.DataFrame(payload)
    try:
        start = pd.to_datetime(df["time_start"], utc=True, format="ISO8601")
        end = pd.to_datetime(df["time_end"], utc=True, format="ISO8601")
        eur = pd.to_numeric(df["EUR_per_kWh"], errors="raise").astype("float64") * 1000.0
        sek = pd.to_numeric(df["SEK_per_kWh"], errors="raise").astype("float64")
    except (ValueError, TypeError) as exc:
        raise ParseError(f"{where}: unreadable value for {zone} {day}: {exc}") from None
    minutes = ((end - start).dt.total_seconds() // 60).astype("int64").unique()
    if len(minutes) != 1 or minutes[0] not in (15, 30, 60):
        raise ParseError(f"{where}: periods of {zone} {day} have lengths {sorted(minutes.tolist())} min; "
                         "expected all 60 or all 15")
    res = int(minutes[0])
    order = start.sort_values().index
    frames.check_day(pd.DatetimeIndex(start), day, TZ, res, where)
    return frames.prices_frame(zone, pd.DatetimeIndex(start[order]), eur[order].to_numpy(),
                               sek[order].to_numpy(), res, source, TZ)
