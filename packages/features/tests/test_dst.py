"""Origins and targets on 23- and 25-hour days: no hour missing, none doubled."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spotcast_features.builtins.calendar import calendar_features
from spotcast_features.builtins.price_history import price_history_features
from spotcast_features.inputs import assemble
from spotcast_features.transform import Settings


def _check_hours(t: pd.DataFrame) -> None:
    assert t["ts"].is_unique
    assert (t["ts"].diff().dropna() == pd.Timedelta(hours=1)).all()


@pytest.mark.parametrize(("date", "origin_utc", "first_utc", "rows", "day1_hours", "local_hours_day1"), [
    # the day before spring-forward: targets start on the 23-hour day 2024-03-31 (02:00 skipped)
    ("2024-03-30", "2024-03-30T09:00Z", "2024-03-30T23:00Z", 167, 23, [0, 1, *range(3, 24)]),
    # origin on the 23-hour day itself: 10:00 CEST
    ("2024-03-31", "2024-03-31T08:00Z", "2024-03-31T22:00Z", 168, 24, list(range(24))),
    # the day before fall-back: targets start on the 25-hour day 2024-10-27 (02:00 twice)
    ("2024-10-26", "2024-10-26T08:00Z", "2024-10-26T22:00Z", 169, 25, [0, 1, 2, 2, *range(3, 24)]),
    # origin on the 25-hour day itself: 10:00 CET
    ("2024-10-27", "2024-10-27T09:00Z", "2024-10-27T23:00Z", 168, 24, list(range(24))),
])
def test_origins_and_targets_on_dst_days(hourly_frame, date, origin_utc, first_utc, rows, day1_hours,
                                         local_hours_day1):
    start = pd.Timestamp(date) - pd.Timedelta(days=10)
    hourly = hourly_frame("SE3", f"{start:%Y-%m-%d}", 25)
    batch = assemble("SE3", pd.DatetimeIndex([date]), Settings(), hourly)
    t = batch.targets
    _check_hours(t)
    assert (t["origin"] == pd.Timestamp(origin_utc)).all()
    assert t["ts"].iloc[0] == pd.Timestamp(first_utc)
    assert len(t) == rows
    c = calendar_features(batch)
    day1 = c["horizon_day"] == 1
    assert day1.sum() == day1_hours
    assert c.loc[day1, "hour"].tolist() == local_hours_day1
    assert c.loc[day1, "is_dst_day"].eq(int(day1_hours != 24)).all()
    assert c.loc[~day1, "is_dst_day"].eq(0).all()
    assert c["horizon_day"].value_counts().drop(1).eq(24).all()
    assert c["horizon_hours"].tolist() == list(range(c["horizon_hours"].iloc[0], c["horizon_hours"].iloc[0] + rows))


def test_hourly_series_across_both_dst_changes_has_every_utc_hour_once(hourly_frame):
    hourly = hourly_frame("SE3", "2024-03-25", 220)
    _check_hours(hourly)
    per_day = hourly.groupby(hourly["ts"].dt.tz_convert("Europe/Stockholm").dt.date).size()
    assert per_day[pd.Timestamp("2024-03-31").date()] == 23
    assert per_day[pd.Timestamp("2024-10-27").date()] == 25


def test_lags_across_dst_days(hourly_frame):
    # price = UTC hour, so the two local 02:00 hours of 2024-10-27 (00:00Z and 01:00Z) differ
    hourly = hourly_frame("SE3", "2024-10-15", 20, price=lambda t: t.tz_convert("UTC").hour)
    batch = assemble("SE3", pd.DatetimeIndex(["2024-10-27"]), Settings(), hourly)
    f = price_history_features(batch)
    t = batch.targets
    first2 = (t["local_date"] == pd.Timestamp("2024-10-28")) & (t["local_hour"] == 2)
    assert f.loc[first2, "price_lag_1d"].item() == 0.5  # mean of the repeated hour (0 and 1)

    hourly = hourly_frame("SE3", "2024-03-20", 20, price=lambda t: t.day * 100 + t.hour)
    batch = assemble("SE3", pd.DatetimeIndex(["2024-03-31"]), Settings(), hourly)
    f = price_history_features(batch)
    t = batch.targets
    at2 = (t["local_date"] == pd.Timestamp("2024-04-01")) & (t["local_hour"] == 2)
    assert f.loc[at2, "price_lag_1d"].item() == 30 * 100 + 2  # 03-31 has no 02:00: newest earlier one
    assert np.isfinite(f["price_lag_1d"]).all()


@pytest.mark.parametrize(("zone", "origin_utc", "first_utc", "local_hours_day1"), [
    # Brussels: CET/CEST like Stockholm; 02:00 is skipped on 2024-03-31
    ("BE", "2024-03-30T09:00Z", "2024-03-30T23:00Z", [0, 1, *range(3, 24)]),
    # Lisbon: WET/WEST, one hour behind; 01:00 is skipped
    ("PT", "2024-03-30T10:00Z", "2024-03-31T00:00Z", [0, *range(2, 24)]),
])
def test_a_zone_outside_the_nordics_has_its_own_local_day(hourly_frame, zone, origin_utc, first_utc,
                                                          local_hours_day1):
    hourly = hourly_frame(zone, "2024-03-20", 25)
    batch = assemble(zone, pd.DatetimeIndex(["2024-03-30"]), Settings(), hourly)
    t = batch.targets
    _check_hours(t)
    assert batch.timezone == ("Europe/Brussels" if zone == "BE" else "Europe/Lisbon")
    assert (t["origin"] == pd.Timestamp(origin_utc)).all() and t["ts"].iloc[0] == pd.Timestamp(first_utc)
    c = calendar_features(batch)
    day1 = c["horizon_day"] == 1
    assert day1.sum() == 23 and c.loc[day1, "hour"].tolist() == local_hours_day1
    assert c.loc[day1, "is_dst_day"].eq(1).all()


def test_holidays_come_from_the_zones_country(hourly_frame):
    """Whit Monday (2024-05-20) is a public holiday in Belgium, not in Sweden (since 2005)."""
    flags = {}
    for zone in ("BE", "SE3"):
        batch = assemble(zone, pd.DatetimeIndex(["2024-05-19"]), Settings(), hourly_frame(zone, "2024-05-05", 20))
        c = calendar_features(batch)
        flags[zone] = c.loc[c["horizon_day"] == 1, "is_holiday"].unique().tolist()
    assert flags == {"BE": [1], "SE3": [0]}


def test_every_zone_of_the_table_has_a_holiday_calendar():
    """The table's countries are ones the holidays package knows (an unknown code raises, and
    would fail every build). Switzerland has the fewest nationwide holidays: 4 (the rest are
    cantonal, and the table names no subdivision)."""
    from spotcast_features.builtins.calendar import holiday_dates
    from spotcast_storage.zones import ZONES

    for zone in ZONES.values():
        assert len(holiday_dates(zone.country, range(2024, 2025))) >= 4, zone.code


@pytest.mark.parametrize("zone", ["BE", "DE-LU", "FR", "NL", "DK1", "DK2", "NO1", "NO5", "FI", "SE1", "SE4",
                                  "PT", "GR"])
def test_origins_are_at_ten_local_and_targets_start_at_local_midnight(hourly_frame, zone):
    from spotcast_storage.zones import parse_zone

    tz = parse_zone(zone).tz
    batch = assemble(zone, pd.DatetimeIndex(["2024-10-26"]), Settings(), hourly_frame(zone, "2024-10-10", 25))
    t = batch.targets
    _check_hours(t)
    assert t["origin"].iloc[0].tz_convert(tz) == pd.Timestamp("2024-10-26 10:00", tz=tz)
    assert t["ts"].iloc[0].tz_convert(tz) == pd.Timestamp("2024-10-27 00:00", tz=tz)
    c = calendar_features(batch)
    assert (c["horizon_day"] == 1).sum() == 25  # 2024-10-27: every zone here leaves summer time
