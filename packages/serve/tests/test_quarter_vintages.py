"""Quarter-hour forecasts are stored with their vintage (issue 15, forecasts v3): serve writes a
vintage's hourly rows and, for a zone that clears in 15 minutes, its quarter-hours in one commit
with one made_at; readers show the stored quarter-hours, so a published one never changes."""

from __future__ import annotations

import pandas as pd
import pytest

from spotcast_serve import service
from spotcast_storage.contracts.forecasts import FORECASTS, run_on_frame, vintages_sql
from spotcast_storage.errors import ValidationError

from .conftest import QUARTERS_FROM, TZ, quarter_prices

MADE = pd.Timestamp("2024-03-22T10:30Z")
EARLY_MADE = pd.Timestamp("2024-03-21T10:30Z")  # on time for delivery from 2024-03-22 (closure 11:00Z)


def _forecasts(project) -> pd.DataFrame:
    return FORECASTS.get(project.get_feature_store()).read()


def _origin_rows(project, zone: str, day: str) -> pd.DataFrame:
    fg = project.get_feature_store().get_feature_group("price_features", 1)
    origin = (pd.Timestamp(day, tz=TZ) + pd.Timedelta(hours=10)).tz_convert("UTC")
    return fg.filter((fg.zone == zone) & (fg.origin == origin)).read().sort_values("ts", ignore_index=True)


def _forecast(project, day: str, now: pd.Timestamp) -> service.PredictResult:
    ref = service.resolve_model(project, "SE3")
    return service.forecast_origin(project, "SE3", _origin_rows(project, "SE3", day), service.load_predictor(ref),
                                   ref, now=now)


def _published_quarters(project, origin: pd.Timestamp) -> pd.DataFrame:
    pub = service.read_forecast(project, "SE3", origin)
    table, _ = service.published_table(project, "SE3", pub, resolution=15)
    return table.loc[table["p50"].notna(), ["ts", "made_at", "p10", "p50", "p90"]].reset_index(drop=True)


def test_a_quarter_zone_vintage_is_its_hours_and_quarters_in_one_commit(quarter_store, project):
    def commits() -> int:
        return len(FORECASTS.get(project.get_feature_store()).commit_details())

    r = service.predict(project, "SE3", outputs=None, now=MADE)
    assert r.written and commits() == 1 and r.commit_id is not None and r.quarter_rows == 4 * 168
    assert "and 672 quarter-hours" in r.summary()
    rows = _forecasts(project)
    by_res = rows.groupby("resolution_minutes").size().to_dict()
    assert by_res == {15: 4 * 168, 60: 168}
    assert rows["made_at"].nunique() == 1 and rows["created_at"].nunique() == 1
    q = rows[rows["resolution_minutes"] == 15].sort_values("ts")
    assert q["ts"].min() == QUARTERS_FROM and (q["ts"].diff().dropna() == pd.Timedelta(minutes=15)).all()
    # an idle rerun compares the hourly rows and writes nothing, quarter-hours included
    again = service.predict(project, "SE3", outputs=None, now=MADE + pd.Timedelta(hours=1))
    assert not again.written and commits() == 1 and len(_forecasts(project)) == 5 * 168


def test_an_hourly_zone_stores_no_quarter_hours(quarter_store, project):
    service.predict(project, "SE4", outputs=None, now=MADE)
    rows = _forecasts(project)
    assert len(rows) == 168 and (rows["resolution_minutes"] == 60).all()


def test_a_published_quarter_forecast_survives_a_rerun_and_a_backfill_of_earlier_quarter_prices(quarter_store, project):
    """The vintage of 2024-03-21 delivers 2024-03-22 (hourly then) and six days at 15 minutes.
    Backfilling 15-minute prices of 2024-03-22 afterwards moves the zone's first quarter-hour: a
    quarter-hour forecast derived on read would gain a day and bend its first ramp; the stored one
    stays as published."""
    r = _forecast(project, "2024-03-21", EARLY_MADE)
    service.ensure_accuracy_view(project)
    before = _published_quarters(project, r.origin)
    view_before = project.sql("select ts, p10, p50, p90, p50_hourly from forecasts_15min where zone = 'SE3' order by ts")
    assert len(before) == 6 * 96 and before["ts"].min() == QUARTERS_FROM and len(view_before) == 6 * 96
    rerun = _forecast(project, "2024-03-21", EARLY_MADE + pd.Timedelta(hours=2))
    assert not rerun.written
    hourly = quarter_store.actuals(zones=("SE3",), days=29)
    day = hourly[(hourly["ts"] >= pd.Timestamp("2024-03-21T23:00Z")) & (hourly["ts"] < QUARTERS_FROM)]
    quarter_store.write_prices(quarter_prices(day), resolution_minutes=15)
    assert service.quarter_since(project, "SE3") == pd.Timestamp("2024-03-21T23:00Z")
    pd.testing.assert_frame_equal(_published_quarters(project, r.origin), before)
    after_view = project.sql("select ts, p10, p50, p90, p50_hourly from forecasts_15min where zone = 'SE3' order by ts")
    pd.testing.assert_frame_equal(after_view, view_before)


def test_a_later_vintage_never_outranks_the_published_quarter_hours(quarter_store, project):
    first = _forecast(project, "2024-03-21", EARLY_MADE)
    published = _published_quarters(project, first.origin)
    later = first.forecast.assign(p10=first.forecast["p10"] + 5, p50=first.forecast["p50"] + 5,
                                  p90=first.forecast["p90"] + 5, made_at=EARLY_MADE + pd.Timedelta(minutes=10))
    written, _, _, _, n_quarters = service.store_vintage(project, "SE3", later)  # also before the gate closure
    assert written and n_quarters == 6 * 96
    pd.testing.assert_frame_equal(_published_quarters(project, first.origin), published)
    ranks = run_on_frame(vintages_sql("_forecasts", resolution=15), _forecasts(project))
    facts = ranks.groupby("made_at", as_index=False).agg(vintage=("vintage", "first"), vintages=("vintages", "first"),
                                                         published=("published", "first"), n=("ts", "size"))
    assert facts["vintage"].tolist() == [1, 2] and facts["vintages"].tolist() == [2, 2]  # counted by made_at
    assert facts["published"].tolist() == [True, False] and facts["n"].tolist() == [6 * 96, 6 * 96]
    v = service.read_vintages(project, "SE3", first.origin)
    assert v["hours"].tolist() == [168, 168]  # hourly rows only


def test_a_bad_resolution_is_refused_and_nothing_is_written(quarter_store, project):
    rows = _origin_rows(project, "SE3", "2024-03-21")
    from spotcast_serve import forecast as fc

    new = fc.naive_forecast(rows, reason="test", made_at=EARLY_MADE).assign(resolution_minutes=30)
    with pytest.raises(ValidationError, match=r"resolution_minutes 30 .*use one of 60, 15"):
        service.store_vintage(project, "SE3", new)
    assert FORECASTS.source(project.get_feature_store()) is None  # not even registered


def test_an_upgraded_v2_vintage_keeps_the_quarter_hours_its_readers_saw(quarter_store, project):
    """A vintage stored before quarter-hours were (forecasts v2) reads as v3 with the quarter-hours
    v2's readers derived from it (the ramp from the zone's first 15-minute price on): read through
    the upgrade and after the migration alike, so the upgrade loses no published quarter-hour."""
    from spotcast_serve import forecast as fc
    from spotcast_storage import quarters
    from spotcast_storage.contracts.forecasts import FORECASTS_V2

    rows = _origin_rows(project, "SE3", "2024-03-21")
    v2 = fc.naive_forecast(rows, reason="test", made_at=EARLY_MADE).drop(columns=["resolution_minutes"])
    FORECASTS_V2.get_or_create(project.get_feature_store()).insert(FORECASTS_V2.conform(v2))
    origin = v2["origin"].iloc[0]
    expected = quarters.quarter_rows(FORECASTS.conform(v2), QUARTERS_FROM).reset_index(drop=True)
    assert len(expected) and expected["ts"].min() == QUARTERS_FROM
    cols = ["ts", "p10", "p50", "p90", "made_at"]
    for migrated in (False, True):  # read through the upgrade (not migrated), then migrated
        if migrated:
            FORECASTS.get_or_create(project.get_feature_store())
        pub = service.read_forecast(project, "SE3", origin)
        assert len(pub) == 168 and (pub["resolution_minutes"] == 60).all()
        q = service.published_of(service.stored_rows(project, "SE3", origin, resolution=None), resolution=15)
        pd.testing.assert_frame_equal(q[cols].reset_index(drop=True), expected[cols], check_dtype=False)
    assert quarters.first_quarter_hours(project.get_feature_store()) == {"SE3": QUARTERS_FROM}  # SE4: hourly
