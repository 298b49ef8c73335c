"""Delivery days, periods and publication times of the Nordic day-ahead market.

Everything that turns a local calendar day into UTC instants lives here, because that is
where DST days (23 or 25 hours) and the 15-minute switch go wrong when done ad hoc.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd

from spotcast_storage.errors import ValidationError

AUCTION_TZ = "Europe/Stockholm"
"""The day-ahead auction runs on Central European Time (CET/CEST); Stockholm follows the same rules."""

PUBLICATION_HOUR = 13
"""Day-ahead prices for delivery day D are published about 12:45-13:00 CET on D-1; we use 13:00."""

FORECAST_ISSUE_HOUR = 10
"""Day-ahead load/wind/solar forecasts are due two hours before the 12:00 CET gate closure
(ENTSO-E's deadline for day-ahead load forecasts): we date them 10:00 CET on D-1."""

WIND_SOLAR_ISSUE_HOUR = 18
"""Day-ahead wind and solar forecasts are due by 18:00 CET on D-1 (ENTSO-E transparency rules)."""

QUARTER_HOUR_FROM = dt.date(2025, 10, 1)
"""First delivery day of 15-minute periods in the Nordic day-ahead market (SDAC)."""


def native_resolution(day: dt.date) -> int:
    """Length in minutes of the Nordic day-ahead periods on a delivery day."""
    return 15 if day >= QUARTER_HOUR_FROM else 60


def day_bounds(day: dt.date, tz: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """UTC start and end of a local calendar day (23, 24 or 25 hours long)."""
    start = pd.Timestamp(day).tz_localize(tz)
    end = pd.Timestamp(day + dt.timedelta(days=1)).tz_localize(tz)
    return start.tz_convert("UTC"), end.tz_convert("UTC")


def day_periods(day: dt.date, tz: str, minutes: int | None = None) -> pd.DatetimeIndex:
    """UTC start of every delivery period of a local day."""
    start, end = day_bounds(day, tz)
    step = minutes or native_resolution(day)
    return pd.date_range(start, end, freq=f"{step}min", inclusive="left")


def periods(first: dt.date, last: dt.date, tz: str, native: bool = True) -> pd.DatetimeIndex:
    """UTC period starts of every day in ``[first, last]``: native resolution, or hourly."""
    if last < first:
        return pd.DatetimeIndex([], tz="UTC")
    if not native or last < QUARTER_HOUR_FROM:
        return pd.date_range(day_bounds(first, tz)[0], day_bounds(last, tz)[1], freq="60min", inclusive="left")
    parts = []
    if first < QUARTER_HOUR_FROM:
        parts.append(periods(first, QUARTER_HOUR_FROM - dt.timedelta(days=1), tz))
    q_first = max(first, QUARTER_HOUR_FROM)
    parts.append(pd.date_range(day_bounds(q_first, tz)[0], day_bounds(last, tz)[1], freq="15min", inclusive="left"))
    return parts[0].append(parts[1:]) if len(parts) > 1 else parts[0]


def publication_time(day: dt.date) -> pd.Timestamp:
    """When the day-ahead auction publishes prices for delivery day ``day`` (UTC)."""
    return (pd.Timestamp(day - dt.timedelta(days=1)) + pd.Timedelta(hours=PUBLICATION_HOUR)).tz_localize(
        AUCTION_TZ).tz_convert("UTC")


def forecast_issue_time(day: dt.date) -> pd.Timestamp:
    """When day-ahead forecasts (load, wind, solar) for delivery day ``day`` are known (UTC)."""
    return (pd.Timestamp(day - dt.timedelta(days=1)) + pd.Timedelta(hours=FORECAST_ISSUE_HOUR)).tz_localize(
        AUCTION_TZ).tz_convert("UTC")


def publication_times(ts: pd.Series | pd.DatetimeIndex, tz: str, hour: int = PUBLICATION_HOUR) -> pd.DatetimeIndex:
    """Vectorised :func:`publication_time` (or, with ``hour=FORECAST_ISSUE_HOUR``,
    :func:`forecast_issue_time`) for UTC period starts of a zone with time zone ``tz``."""
    local_day = pd.DatetimeIndex(ts).tz_convert(tz).normalize().tz_localize(None)
    pub = (local_day - pd.Timedelta(days=1) + pd.Timedelta(hours=hour)).tz_localize(AUCTION_TZ)
    return pub.tz_convert("UTC")


def local_today(now: pd.Timestamp, tz: str) -> dt.date:
    return now.tz_convert(tz).date()


def newest_published_day(now: pd.Timestamp, tz: str) -> dt.date:
    """Newest delivery day whose prices are out at ``now``: tomorrow after 13:00 CET, else today."""
    tomorrow = local_today(now, tz) + dt.timedelta(days=1)
    return tomorrow if now >= publication_time(tomorrow) else tomorrow - dt.timedelta(days=1)


def local_date(ts: pd.Timestamp, tz: str) -> dt.date:
    return ts.tz_convert(tz).date()


def days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    d = first
    while d <= last:
        yield d
        d += dt.timedelta(days=1)


def month_chunks(first: dt.date, last: dt.date, months: int = 1) -> list[tuple[dt.date, dt.date]]:
    """Split ``[first, last]`` at boundaries of blocks of ``months`` calendar months (counted
    from January, so chunks of the same range line up across runs: the unit of one commit)."""
    out = []
    d = first
    while d <= last:
        m0 = (d.month - 1) // months * months + months  # months after January of d's year
        nxt = dt.date(d.year + m0 // 12, m0 % 12 + 1, 1)
        end = min(last, nxt - dt.timedelta(days=1))
        out.append((d, end))
        d = nxt
    return out


def to_utc(now: pd.Timestamp | dt.datetime | str | None) -> pd.Timestamp:
    """"Now" as a UTC timestamp (naive input is taken as UTC); an impossible time is a usage error."""
    if isinstance(now, str):
        from spotcast_storage.query import parse_instant

        return parse_instant(now, "--now")
    t = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def parse_day(value: str | dt.date, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError(f"{what} {value!r} is not a date; use YYYY-MM-DD, e.g. 2024-03-31") from None
