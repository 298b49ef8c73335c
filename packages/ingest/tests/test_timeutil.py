import datetime as dt

import pandas as pd
import pytest

from spotcast_ingest import timeutil
from spotcast_storage.errors import ValidationError

SE = "Europe/Stockholm"


@pytest.mark.parametrize(("day", "n"), [
    (dt.date(2024, 3, 31), 23), (dt.date(2024, 10, 27), 25), (dt.date(2024, 6, 1), 24),
    (dt.date(2025, 10, 1), 96), (dt.date(2025, 10, 26), 100), (dt.date(2026, 3, 29), 92),
])
def test_day_periods_follow_dst_and_the_15_minute_switch(day, n):
    p = timeutil.day_periods(day, SE)
    assert len(p) == n
    assert str(p.tz) == "UTC"
    assert p[0] == pd.Timestamp(day).tz_localize(SE).tz_convert("UTC")


def test_periods_across_the_switch_are_hourly_then_quarter_hourly():
    p = timeutil.periods(dt.date(2025, 9, 30), dt.date(2025, 10, 1), SE)
    assert len(p) == 24 + 96
    assert (p[1] - p[0]) == pd.Timedelta(hours=1) and (p[-1] - p[-2]) == pd.Timedelta(minutes=15)
    assert len(timeutil.periods(dt.date(2025, 9, 30), dt.date(2025, 10, 1), SE, native=False)) == 48


def test_publication_time_is_13_cet_the_day_before_in_utc():
    assert timeutil.publication_time(dt.date(2024, 1, 15)) == pd.Timestamp("2024-01-14 12:00", tz="UTC")
    assert timeutil.publication_time(dt.date(2024, 7, 15)) == pd.Timestamp("2024-07-14 11:00", tz="UTC")
    # the day after the spring change: published on the change day, which is already CEST
    assert timeutil.publication_time(dt.date(2024, 4, 1)) == pd.Timestamp("2024-03-31 11:00", tz="UTC")
    ts = timeutil.day_periods(dt.date(2024, 10, 27), SE)
    assert (timeutil.publication_times(ts, SE) == pd.Timestamp("2024-10-26 11:00", tz="UTC")).all()


def test_newest_published_day_switches_at_13_cet():
    before = pd.Timestamp("2024-01-15 11:59", tz="UTC")  # 12:59 CET
    after = pd.Timestamp("2024-01-15 12:00", tz="UTC")
    assert timeutil.newest_published_day(before, SE) == dt.date(2024, 1, 15)
    assert timeutil.newest_published_day(after, SE) == dt.date(2024, 1, 16)


def test_month_chunks_line_up_with_calendar_blocks():
    assert timeutil.month_chunks(dt.date(2024, 1, 30), dt.date(2024, 3, 2)) == [
        (dt.date(2024, 1, 30), dt.date(2024, 1, 31)), (dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
        (dt.date(2024, 3, 1), dt.date(2024, 3, 2))]
    assert timeutil.month_chunks(dt.date(2024, 5, 5), dt.date(2025, 2, 1), 12) == [
        (dt.date(2024, 5, 5), dt.date(2024, 12, 31)), (dt.date(2025, 1, 1), dt.date(2025, 2, 1))]


def test_bad_dates_and_zones_are_named():
    with pytest.raises(ValidationError, match=r"2024-13-01.*YYYY-MM-DD"):
        timeutil.parse_day("2024-13-01", "start")
