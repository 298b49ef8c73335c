"""Which forecast vintage is published: the SQL in spotcast_storage.contracts.forecasts, on frames.

The gate closure is 12:00 Europe/Berlin on the day before the first delivery day: 11:00 UTC in
winter, 10:00 UTC in summer, and the day before a DST change still has the old offset."""

from __future__ import annotations

import pandas as pd
import pytest

from spotcast_storage.contracts.forecasts import FORECASTS, published, run_on_frame, vintages_sql

TZ = "Europe/Stockholm"


def vintage(first_day: str, made: str, value: float, zone: str = "SE3", hours: int = 3) -> pd.DataFrame:
    start = pd.Timestamp(first_day, tz=TZ).tz_convert("UTC")
    ts = pd.date_range(start, periods=hours, freq="h")
    origin = (pd.Timestamp(first_day, tz=TZ) - pd.Timedelta(hours=14)).tz_convert("UTC")  # 10:00 the day before
    made_at = pd.Timestamp(made)
    return FORECASTS.conform(pd.DataFrame({
        "zone": zone, "origin": origin, "ts": ts, "made_at": made_at, "p10": value - 1, "p50": value,
        "p90": value + 1, "model": "m", "model_version": 1, "fallback_reason": None, "created_at": made_at}))


def facts(rows: pd.DataFrame) -> pd.DataFrame:
    out = run_on_frame(vintages_sql("_forecasts"), rows)
    return out.groupby("made_at", as_index=False).first().sort_values("made_at", ignore_index=True)


@pytest.mark.parametrize(("first_day", "closure"), [
    ("2024-03-23", "2024-03-22T11:00Z"),  # winter: 12:00 CET
    ("2024-03-31", "2024-03-30T11:00Z"),  # the spring DST day is delivered; the day before is still CET
    ("2024-04-01", "2024-03-31T10:00Z"),  # the closure falls on the DST day itself: 12:00 CEST
    ("2024-10-27", "2024-10-26T10:00Z"),  # the 25-hour day is delivered; the day before is CEST
    ("2024-10-28", "2024-10-27T11:00Z"),  # closure on the 25-hour day: 12:00 CET
])
def test_gate_closure_is_noon_berlin_the_day_before_the_first_delivery_day(first_day, closure):
    c = pd.Timestamp(closure)
    rows = pd.concat([vintage(first_day, str(c - pd.Timedelta(minutes=1)), 1.0),
                      vintage(first_day, str(c), 2.0)])
    f = facts(rows)
    assert (f["gate_closure"] == c).all() and f["first_delivery_day"].tolist() == [first_day] * 2
    assert f["on_time"].tolist() == [True, False]  # made *before* the closure; 12:00:00 itself is late
    assert f["published"].tolist() == [True, False]


def test_the_first_vintage_made_before_the_closure_is_published():
    rows = pd.concat([vintage("2024-10-27", "2024-10-26T07:00Z", 1.0),  # 09:00 CEST
                      vintage("2024-10-27", "2024-10-26T09:30Z", 2.0),  # 11:30 CEST, also in time
                      vintage("2024-10-27", "2024-10-26T14:00Z", 3.0)])  # after the auction
    f = facts(rows)
    assert f["vintage"].tolist() == [1, 2, 3] and f["vintages"].tolist() == [3, 3, 3]
    assert f["published"].tolist() == [True, False, False]
    assert published(rows)["p50"].unique().tolist() == [1.0]


def test_when_no_vintage_beat_the_closure_the_first_is_published():
    rows = pd.concat([vintage("2024-03-23", "2024-03-22T16:00Z", 5.0), vintage("2024-03-23", "2024-03-22T13:00Z", 4.0)])
    f = facts(rows)
    assert f["on_time"].tolist() == [False, False] and f["published"].tolist() == [True, False]
    assert published(rows)["p50"].unique().tolist() == [4.0]


def test_a_vintage_stored_later_but_made_earlier_before_the_closure_wins():
    """A replay (`--now` in the past) stores a vintage made before one already stored."""
    rows = pd.concat([vintage("2024-03-23", "2024-03-22T11:30Z", 5.0), vintage("2024-03-23", "2024-03-22T10:00Z", 4.0)])
    assert published(rows)["p50"].unique().tolist() == [4.0]


def test_origins_and_zones_are_chosen_apart():
    rows = pd.concat([vintage("2024-03-23", "2024-03-22T10:00Z", 1.0), vintage("2024-03-23", "2024-03-22T09:00Z", 2.0, zone="SE4"),
                      vintage("2024-03-24", "2024-03-23T12:00Z", 3.0), vintage("2024-03-24", "2024-03-23T13:00Z", 6.0)])
    got = published(rows).groupby(["zone", "origin"])["p50"].first().tolist()
    assert got == [1.0, 3.0, 2.0]
