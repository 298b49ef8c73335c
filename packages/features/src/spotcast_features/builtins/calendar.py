"""Calendar features of the target hour in the zone's local time, and the horizon."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from spotcast_features.timeutil import DAY, HOUR, day_hours, local_date
from spotcast_features.transform import OriginBatch, Transformation, contract_columns
from spotcast_storage.hookspecs import hookimpl

HOLIDAY_CATEGORIES: dict[str, tuple[str, ...]] = {"SE": ("public", "de_facto")}
"""Holiday categories per country beyond "public": Sweden's de-facto holidays (Midsummer,
Christmas and New Year's Eve) shut offices like public ones, which moves demand."""


def holiday_dates(country: str, years: range) -> pd.DatetimeIndex:
    """Holidays of ``country`` in ``years`` as naive local midnights.

    ``holidays`` is imported here, not at module level: this module registers at plugin load,
    which every command that opens a store does, and only a feature build needs the calendar."""
    import holidays

    cal = holidays.country_holidays(country, years=list(years),
                                    categories=HOLIDAY_CATEGORIES.get(country, ("public",)))
    return pd.DatetimeIndex(sorted(pd.Timestamp(d) for d in cal)).as_unit("us")


def day_flags(dates: pd.DatetimeIndex, country: str, tz: str) -> pd.DataFrame:
    """is_holiday, is_bridge_day and is_dst_day for local dates (naive midnights)."""
    dates = pd.DatetimeIndex(dates).as_unit("us")
    span = pd.date_range(dates.min() - DAY, dates.max() + DAY, freq="D", unit="us")
    hol = span.isin(holiday_dates(country, range(span.min().year, span.max().year + 1)))
    off = hol | (span.day_of_week >= 5)
    bridge = ~off & np.roll(off, 1) & np.roll(off, -1)
    bridge[[0, -1]] = False  # neighbours outside the span are unknown here; span has a day of margin
    flags = pd.DataFrame({"is_holiday": hol.astype("int64"), "is_bridge_day": bridge.astype("int64"),
                          "is_dst_day": (day_hours(span, tz) != 24).astype("int64")}, index=span)
    return flags.reindex(dates)


def calendar_features(batch: OriginBatch) -> pd.DataFrame:
    t = batch.targets
    local = t["ts"].dt.tz_convert(batch.timezone)
    first_day = local_date(t["first_target"], batch.timezone)
    flags = day_flags(pd.DatetimeIndex(t["local_date"].unique()), batch.country, batch.timezone)
    f = flags.reindex(pd.DatetimeIndex(t["local_date"]).as_unit("us"))
    return batch.frame(
        horizon_hours=((t["ts"] - t["origin"]) // HOUR).astype("int64"),
        horizon_day=((t["local_date"] - first_day) // DAY).astype("int64") + 1,
        hour=local.dt.hour.astype("int64"),
        weekday=local.dt.day_of_week.astype("int64"),
        month=local.dt.month.astype("int64"),
        day_of_year=local.dt.day_of_year.astype("int64"),
        is_holiday=f["is_holiday"].to_numpy(),
        is_bridge_day=f["is_bridge_day"].to_numpy(),
        is_dst_day=f["is_dst_day"].to_numpy(),
    )


CALENDAR = Transformation(
    name="calendar",
    columns=contract_columns("horizon_hours", "horizon_day", "hour", "weekday", "month", "day_of_year",
                             "is_holiday", "is_bridge_day", "is_dst_day"),
    compute=calendar_features,
    description="local hour, weekday, month, day of year, holiday/bridge/DST day, horizon",
    order=10,
)


@hookimpl
def register_features(register: Any) -> None:
    register(CALENDAR)
