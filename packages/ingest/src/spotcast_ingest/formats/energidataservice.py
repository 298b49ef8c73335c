"""Energi Data Service datasets ``Elspotprices`` (hourly, until 2025-09-30: HourUTC, PriceArea,
SpotPriceEUR, SpotPriceDKK) and ``DayAheadPrices`` (15-minute from 2025-10-01: TimeUTC,
PriceArea, DayAheadPriceEUR, DayAheadPriceDKK), wrapped in ``{"total": n, "records": [...]}``
with times as naive UTC strings."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from spotcast_ingest import frames, timeutil
from spotcast_ingest.errors import ParseError

DATASETS = {
    "Elspotprices": ("HourUTC", "SpotPriceEUR", 60),
    "DayAheadPrices": ("TimeUTC", "DayAheadPriceEUR", 15),
}


def dataset_for(day: dt.date) -> str:
    return "DayAheadPrices" if day >= timeutil.QUARTER_HOUR_FROM else "Elspotprices"


def parse_records(payload: Any, dataset: str, zone: str, where: str) -> pd.DataFrame:
    """``ts`` (UTC), ``price_eur_mwh`` of one answer, sorted; checks shape and area."""
    time_col, price_col, _ = DATASETS[dataset]
    if not isinstance(payload, dict) or not isinstance(payload.get("records"), list):
        kind = type(payload).__name__
        raise ParseError(f"{where}: expected a JSON object with a 'records' array, got {kind}"
                         + (f" with keys {sorted(payload)}" if isinstance(payload, dict) else ""))
    records = payload["records"]
    total = payload.get("total")
    if isinstance(total, int) and total > len(records):
        raise ParseError(f"{where}: the answer holds {len(records)} of {total} records (truncated by a limit)")
    if not records:
        return pd.DataFrame({"ts": pd.DatetimeIndex([], tz="UTC"), "price_eur_mwh": pd.Series([], dtype="float64")})
    for i, r in enumerate(records):
        missing = [f for f in (time_col, "PriceArea", price_col) if not isinstance(r, dict) or f not in r]
        if missing:
            raise ParseError(f"{where}: record {i} lacks field(s) {missing}; got {str(r)[:160]}")
    df = pd.DataFrame.from_records(records)
    areas = sorted(set(df["PriceArea"]) - {zone})
    if areas:
        raise ParseError(f"{where}: asked for PriceArea {zone}, the answer also has {areas}")
    try:
        ts = pd.to_datetime(df[time_col], utc=True, format="ISO8601")
        price = pd.to_numeric(df[price_col], errors="raise").astype("float64")
    except (ValueError, TypeError) as exc:
        raise ParseError(f"{where}: unreadable {time_col} or {price_col}: {exc}") from None
    if price.isna().any():
        raise ParseError(f"{where}: {price_col} is null at {ts[price.isna()].iloc[0].isoformat()}")
    out = pd.DataFrame({"ts": ts, "price_eur_mwh": price}).sort_values("ts", ignore_index=True)
    return out


def prices_for_days(df: pd.DataFrame, zone: str, days: list[dt.date], tz: str, minutes: int, where: str,
                    source: str) -> tuple[pd.DataFrame | None, list[dt.date]]:
    """``prices`` rows of the complete days among ``days`` and the days with no rows at all."""
    local_day = df["ts"].dt.tz_convert(tz).dt.date
    out, empty = [], []
    for day in days:
        rows = df[local_day == day]
        if rows.empty:
            empty.append(day)
            continue
        frames.check_day(pd.DatetimeIndex(rows["ts"]), day, tz, minutes, f"{where} {zone}")
        out.append(frames.prices_frame(zone, pd.DatetimeIndex(rows["ts"]), rows["price_eur_mwh"].to_numpy(),
                                       None, minutes, source, tz))
    stray = sorted(set(local_day) - set(days))
    if stray:
        raise ParseError(f"{where}: the answer has rows for days that were not asked for: {stray[:3]}")
    return frames.concat(out), empty
