"""elprisetjustnu.se: ``GET /api/v1/prices/{YYYY}/{MM}-{DD}_{ZONE}.json`` answers a JSON array of
``{"SEK_per_kWh", "EUR_per_kWh", "EXR", "time_start", "time_end"}`` with Stockholm offsets:
24 hourly items per day until 2025-09-30, 96 quarter-hours from 2025-10-01 (23/25 or 92/100
on DST days).

Parsing is plain Python per day and one frame per batch: a multi-year backfill parses
thousands of days, and pandas' per-call overhead would cost more than the requests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from spotcast_ingest import frames, timeutil
from spotcast_ingest.errors import ParseError

FIELDS = ("SEK_per_kWh", "EUR_per_kWh", "time_start", "time_end")
TZ = "Europe/Stockholm"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class DayPrices:
    ts_us: np.ndarray  # UTC period starts, microseconds since the epoch, sorted
    eur_mwh: np.ndarray
    sek_kwh: np.ndarray
    minutes: int


def parse_day(payload: Any, zone: str, day: dt.date, where: str) -> DayPrices:
    """One delivery day's answer, checked to hold exactly the day's periods (EUR/kWh -> EUR/MWh)."""
    if not isinstance(payload, list) or not payload:
        kind = "an empty array" if payload == [] else f"a JSON {type(payload).__name__}"
        raise ParseError(f"{where}: expected a JSON array of price periods for {zone} {day}, got {kind}")
    n = len(payload)
    ts, eur, sek, minutes = np.empty(n, np.int64), np.empty(n), np.empty(n), set()
    for i, item in enumerate(payload):
        missing = [f for f in FIELDS if not isinstance(item, dict) or item.get(f) is None]
        if missing:
            raise ParseError(f"{where}: item {i} for {zone} {day} lacks field(s) {missing}; got {str(item)[:120]}")
        try:
            start = dt.datetime.fromisoformat(item["time_start"])
            end = dt.datetime.fromisoformat(item["time_end"])
            eur[i] = float(item["EUR_per_kWh"]) * 1000.0
            sek[i] = float(item["SEK_per_kWh"])
        except (TypeError, ValueError) as exc:
            raise ParseError(f"{where}: unreadable item {i} for {zone} {day}: {exc}") from None
        if start.tzinfo is None:
            raise ParseError(f"{where}: time_start {item['time_start']!r} has no UTC offset")
        ts[i] = (start - _EPOCH) // _US
        minutes.add((end - start) // dt.timedelta(minutes=1))
    if len(minutes) != 1 or next(iter(minutes)) not in (15, 30, 60):
        raise ParseError(f"{where}: periods of {zone} {day} have lengths {sorted(minutes)} min; "
                         "expected all 60 or all 15")
    res = minutes.pop()
    order = np.argsort(ts, kind="stable")
    ts, eur, sek = ts[order], eur[order], sek[order]
    lo, hi = timeutil.day_bounds(day, TZ)
    step = res * 60_000_000
    expected_n = int((hi - lo) / pd.Timedelta(minutes=res))
    if len(ts) != expected_n or not np.array_equal(ts, lo.value // 1000 + step * np.arange(expected_n)):
        frames.check_day(pd.to_datetime(ts, unit="us", utc=True), day, TZ, res, where)  # raises, naming what is wrong
    return DayPrices(ts, eur, sek, res)


def to_prices(days: Sequence[DayPrices], zone: str, source: str) -> pd.DataFrame | None:
    """One ``prices`` frame for the parsed days of a batch."""
    if not days:
        return None
    ts = pd.DatetimeIndex(pd.to_datetime(np.concatenate([d.ts_us for d in days]), unit="us", utc=True))
    res = np.concatenate([np.full(len(d.ts_us), d.minutes, np.int64) for d in days])
    return frames.prices_frame(zone, ts, np.concatenate([d.eur_mwh for d in days]),
                               np.concatenate([d.sek_kwh for d in days]), res, source, TZ)
