"""Weather as it was known: training rows (history, archived forecasts of the Previous Runs
shape) and serving rows (the newest origin, a live forecast) at the same lead time draw the
same kind of input -- a forecast issued by the origin --, and nothing issued later moves a row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spotcast_features import synthetic
from spotcast_features.inputs import assemble, hourly_prices
from spotcast_features.transform import (
    Settings,
    collect_transformations,
    compute_rows,
    output_contract,
)
from spotcast_storage.contracts.features import WEATHER_VARIABLES

ZONE = "SE3"
START, DAYS = "2024-03-01", 40
HISTORY, NEWEST = pd.Timestamp("2024-03-08"), pd.Timestamp("2024-03-15")  # no DST change inside
COLS = [f"wx_{c}" for c in WEATHER_VARIABLES]


def _origin(date: pd.Timestamp) -> pd.Timestamp:
    return date.tz_localize("Europe/Stockholm").replace(hour=10).tz_convert("UTC")


@pytest.fixture(scope="module")
def inputs():
    prices = synthetic.prices([ZONE], START, DAYS)
    # the live forecast is fetched at 06:00 UTC on the newest origin's day, before its 10:00 origin
    live = _origin(NEWEST).floor("D") + pd.Timedelta(hours=6)
    weather = synthetic.archived_weather([ZONE], START, DAYS, live_issued_at=live)
    assert not weather.duplicated(["zone", "ts", "kind", "issued_at"]).any()
    return prices, weather


def _rows(date, prices, weather):
    trs = collect_transformations()
    batch = assemble(ZONE, pd.DatetimeIndex([date]), Settings(), hourly_prices(prices), weather, None)
    return compute_rows(batch, trs, output_contract(trs)).reset_index(drop=True)


def _used(rows, weather, date):
    """Per row, the weather rows its values came from: forecasts issued by the origin, newest first."""
    o = _origin(date)
    fc = weather[(weather["kind"] == "forecast") & (weather["issued_at"] <= o)]
    newest = fc.sort_values("issued_at").drop_duplicates("ts", keep="last").set_index("ts")
    return newest.reindex(pd.DatetimeIndex(rows["ts"]))


def test_training_and_serving_rows_at_the_same_lead_draw_the_same_kind_of_weather(inputs):
    prices, weather = inputs
    train, serve = _rows(HISTORY, prices, weather), _rows(NEWEST, prices, weather)
    assert len(train) == len(serve) == 168
    for rows, date in ((train, HISTORY), (serve, NEWEST)):
        used = _used(rows, weather, date)
        lead = rows["horizon_hours"].to_numpy()
        within = lead <= 7 * 24  # the archive's longest lead is 7 days
        # every hour the archive covers is a forecast issued by the origin, never an observation
        assert (rows.loc[within, "wx_is_observed"] == 0).all()
        np.testing.assert_allclose(rows.loc[within, COLS].to_numpy(), used.loc[within, list(WEATHER_VARIABLES)].to_numpy())
    # serving: the live forecast covers the whole horizon, so no row falls back to an observation
    assert (serve["wx_is_observed"] == 0).all()
    # the same lead in both: the same kind of input (a forecast issued before the origin)
    same = train["horizon_hours"].isin(serve["horizon_hours"]) & (train["horizon_hours"] <= 7 * 24)
    assert same.sum() >= 150
    assert (train.loc[same, "wx_is_observed"] == serve.set_index("horizon_hours").loc[
        train.loc[same, "horizon_hours"], "wx_is_observed"].to_numpy()).all()


def test_history_rows_beyond_the_archives_longest_lead_are_flagged_observed(inputs):
    """Origin 10:00, targets to the end of D+7: the last hours are more than 7 days out, where no
    archived forecast was issued by the origin; the observed stand-in says so."""
    prices, weather = inputs
    train = _rows(HISTORY, prices, weather)
    beyond = train["horizon_hours"] > 7 * 24
    assert beyond.any()
    assert (train.loc[beyond, "wx_is_observed"] == 1).all()


def test_a_forecast_issued_after_the_origin_leaves_the_row_unchanged(inputs):
    prices, weather = inputs
    o = _origin(HISTORY)
    before = _rows(HISTORY, prices, weather)
    late = weather.copy()
    after_origin = (late["kind"] == "forecast") & (late["issued_at"] > o)
    assert after_origin.sum() > 1000  # shorter-lead archived forecasts of the same target hours
    late.loc[after_origin, list(WEATHER_VARIABLES)] += 500.0
    pd.testing.assert_frame_equal(before, _rows(HISTORY, prices, late))
    # and one forecast issued just before the origin does move its row (the test can fail)
    moved = weather.copy()
    fc = (moved["kind"] == "forecast") & (moved["issued_at"] <= o) & (moved["ts"] == before["ts"].iloc[0])
    newest = moved[fc]["issued_at"].max()
    moved.loc[fc & (moved["issued_at"] == newest), "temperature_2m"] += 500.0
    assert not _rows(HISTORY, prices, moved)["wx_temperature_2m"].equals(before["wx_temperature_2m"])
