"""forecasts v3 (issue 15): the resolution is a column of the key, older versions upgrade through
a chain (v1 -> v2 -> v3), a contract check refuses a resolution other than 60 or 15, and one
vintage's hourly rows and quarter-hours (:func:`spotcast_storage.quarters.vintage_rows`) are
ranked and published together."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spotcast_storage import quarters
from spotcast_storage.contracts.forecasts import (
    FORECASTS,
    FORECASTS_V1,
    FORECASTS_V2,
    published,
    run_on_frame,
    vintages_sql,
)
from spotcast_storage.errors import ValidationError

TZ = "Europe/Stockholm"


def hourly(first_day: str, made: str, value: float = 50.0, days: int = 1, zone: str = "SE4") -> pd.DataFrame:
    """One vintage's hourly rows (v3) for ``days`` local days from ``first_day``."""
    start = pd.Timestamp(first_day, tz=TZ)
    ts = pd.date_range(start.tz_convert("UTC"), (start + pd.DateOffset(days=days)).tz_convert("UTC"), freq="h",
                       inclusive="left")
    p50 = value + 20 * np.sin(np.arange(len(ts)) / 24 * 2 * np.pi)
    made_at = pd.Timestamp(made)
    return FORECASTS.conform(pd.DataFrame({
        "zone": zone, "origin": (start - pd.Timedelta(hours=14)).tz_convert("UTC"), "ts": ts,
        "resolution_minutes": 60, "made_at": made_at, "p10": p50 - 10, "p50": p50, "p90": p50 + 10,
        "model": "m", "model_version": 1, "fallback_reason": None, "created_at": made_at}))


def test_a_vintage_is_its_hours_and_from_the_first_quarter_price_on_its_quarters():
    h = hourly("2025-10-06", "2025-10-05T09:00Z", days=2)
    since = pd.Timestamp("2025-10-06T22:00Z")  # the second day clears in 15 minutes
    rows = quarters.vintage_rows(h, since)
    assert list(rows.columns) == FORECASTS.column_names
    q = rows[rows["resolution_minutes"] == 15]
    assert (rows["resolution_minutes"] == 60).sum() == 48 and len(q) == 96 and q["ts"].min() == since
    assert rows["made_at"].nunique() == 1 and rows["created_at"].nunique() == 1
    # the ramp is the one definition: the stored quarters are to_quarters' numbers
    ref = quarters.to_quarters(h, since)
    np.testing.assert_allclose(q.sort_values("ts")["p50"].to_numpy(), ref["p50"].to_numpy())
    assert quarters.vintage_rows(h, None).equals(h)  # an hourly zone: its hours only


def test_the_autumn_dst_day_stores_25_hours_and_100_quarters_under_one_key_each(local_project):
    rows = quarters.vintage_rows(hourly("2025-10-26", "2025-10-25T09:00Z"), pd.Timestamp("2025-10-01T00:00Z"))
    assert rows.groupby("resolution_minutes").size().to_dict() == {15: 100, 60: 25}
    assert not rows.duplicated(["zone", "origin", "ts", "resolution_minutes", "made_at"]).any()
    local = rows["ts"].dt.tz_convert(TZ).dt.date.astype(str)
    assert (local == "2025-10-26").all()
    fg = FORECASTS.get_or_create(local_project.get_feature_store())
    fg.insert(rows)
    got = fg.read()
    assert len(got) == 125 and len(fg.commit_details()) == 1


@pytest.mark.parametrize("bad", [30, 0, 1440])
def test_a_resolution_other_than_60_or_15_is_refused_by_the_contract(bad):
    # that nothing is written: serve's test_quarter_vintages.py, where a vintage is written
    h = hourly("2025-10-06", "2025-10-05T09:00Z").assign(resolution_minutes=bad)
    with pytest.raises(ValidationError, match=rf"resolution_minutes {bad} \(24 row\(s\)\) is not allowed; use one of 60, 15"):
        FORECASTS.conform(h)


def test_a_quarter_hour_labelled_hourly_is_refused():
    q = quarters.quarter_rows(hourly("2025-10-06", "2025-10-05T09:00Z"), pd.Timestamp("2025-10-01T00:00Z"))
    with pytest.raises(ValidationError, match=r"does not start a 60-minute period"):
        FORECASTS.conform(q.assign(resolution_minutes=60))


def test_quarter_hours_rank_with_their_hours_and_a_later_vintage_never_outranks():
    since = pd.Timestamp("2025-10-01T00:00Z")
    first = quarters.vintage_rows(hourly("2025-10-07", "2025-10-06T09:00Z", 50.0), since)
    second = quarters.vintage_rows(hourly("2025-10-07", "2025-10-06T09:30Z", 70.0), since)  # also on time
    rows = pd.concat([second, first], ignore_index=True)
    for res, n in ((60, 24), (15, 96)):
        v = run_on_frame(vintages_sql("_forecasts", resolution=res), rows)
        assert (v["resolution_minutes"] == res).all() and len(v) == 2 * n
        facts = v.groupby("made_at").agg(vintage=("vintage", "first"), vintages=("vintages", "first"),
                                         published=("published", "first"))
        assert facts["vintage"].tolist() == [1, 2] and facts["vintages"].tolist() == [2, 2]
        assert facts["published"].tolist() == [True, False]
        pub = published(rows, resolution=res)
        assert len(pub) == n and (pub["made_at"] == pd.Timestamp("2025-10-06T09:00Z")).all()


def old_rows() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Three hours of one origin as forecasts v1 rows and as v2 rows (made an hour after the origin)."""
    ts = pd.date_range("2024-03-20T23:00Z", periods=3, freq="h")
    v1 = pd.DataFrame({"zone": "SE3", "origin": pd.Timestamp("2024-03-20T09:00Z"), "ts": ts, "p10": 1.0,
                       "p50": [2.0, 3.0, 4.0], "p90": 5.0, "model": "m", "model_version": 1,
                       "created_at": pd.Timestamp("2024-03-20T14:00Z")})
    return v1, FORECASTS_V2.conform(v1.assign(made_at=pd.Timestamp("2024-03-20T10:00Z"), fallback_reason=None))


def check_old_store_reads_as_v3(project, version: int) -> None:
    """A store holding only forecasts v``version`` rows reads as v3 hourly rows before the
    migration and holds them in v3 after it (one commit); the same checks on every backend."""
    v1, v2 = old_rows()
    contract, frame, made = ((FORECASTS_V1, v1, "2024-03-20T14:00Z") if version == 1
                             else (FORECASTS_V2, v2, "2024-03-20T10:00Z"))
    fs = project.get_feature_store()
    contract.get_or_create(fs).insert(frame)
    group, to_rows = FORECASTS.source(fs)  # a reader before the migration
    assert group.version == version
    seen = to_rows(group.read())
    assert list(seen.columns) == FORECASTS.column_names and (seen["resolution_minutes"] == 60).all()
    fg = FORECASTS.get_or_create(fs)  # the migration: one commit of v3 rows
    got = fg.read().sort_values("ts", ignore_index=True)
    assert fg.version == 3 and len(fg.commit_details()) == 1
    assert (got["resolution_minutes"] == 60).all() and got["p50"].tolist() == [2.0, 3.0, 4.0]
    assert (got["made_at"] == pd.Timestamp(made)).all()
    assert len(published(got, resolution=15)) == 0 and len(published(got)) == 3


@pytest.mark.parametrize("version", [1, 2])
def test_a_store_of_v1_rows_or_of_v2_rows_reads_as_v3_hourly(local_project, version):
    check_old_store_reads_as_v3(local_project, version)


def test_the_quarter_view_finds_each_quarters_hour_in_any_session_time_zone():
    """A user's own DuckDB session may be in a half-hour-offset zone: the view's join of a
    quarter to its hour must not depend on the session's time zone (date_trunc would)."""
    import duckdb

    rows = quarters.vintage_rows(hourly("2025-10-06", "2025-10-05T09:00Z"), pd.Timestamp("2025-10-01T00:00Z"))
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'Asia/Kolkata'")
        con.register("_f", rows)
        out = con.execute(quarters.view_sql("_f")).df()
    finally:
        con.close()
    assert len(out) == 96 and out["p50_hourly"].notna().all()
