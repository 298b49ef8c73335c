"""Every stage reads its zones from one table (``spotcast_storage.zones``): an unknown zone is
the same error everywhere, and a zone outside the Nordics (BE, from a file in the epftoolbox
layout) flows from ingest to a served forecast in its own local time."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from spotcast_storage import get_storage
from spotcast_storage.local import connection
from test_pipeline import run_cli

UNKNOWN = "unknown zone 'XX9'; known zones: SE1, SE2, SE3, SE4, DK1, DK2"


@pytest.mark.parametrize("args", [
    ["ingest", "backfill", "--source", "synthetic", "--zone", "XX9", "--start", "2025-01-01"],
    ["ingest", "update", "--zone", "XX9"],
    ["features", "build", "--zone", "XX9", "--no-progress"],
    ["features", "show", "--zone", "XX9", "--origin", "2025-01-01"],
    ["train", "fit", "--zone", "XX9", "--no-progress"],
    ["serve", "predict", "--zone", "XX9", "--no-files"],
    ["serve", "forecast", "--zone", "XX9"],
    ["run", "--zone", "XX9", "--source", "synthetic"],
])
def test_an_unknown_zone_is_the_same_error_in_every_stage(store_path, args):
    r = run_cli(store_path, "ingest", "backfill", "--source", "synthetic", "--zone", "SE3", "--start", "2025-01-01",
                "--end", "2025-01-02", "--now", "2025-01-03T12:00Z")
    assert r.exit_code == 0, r.output
    r = run_cli(store_path, *args)
    assert r.exit_code == 1, r.output
    assert f"error: {UNKNOWN}" in r.output and "spotcast_storage/zones.py" in r.output
    assert "Traceback" not in r.output


def epftoolbox_file(path, first: pd.Timestamp, days: int):
    """The epftoolbox layout (as in the BE.csv of Lago et al.): hour on the local clock, 24 rows
    every day, price, then two day-ahead exogenous forecasts; prices with a daily and weekly shape."""
    stamps = pd.date_range(first, periods=24 * days, freq="h")
    rng = np.random.default_rng(0)
    hour, work = stamps.hour.to_numpy(), np.asarray(stamps.dayofweek < 5)
    price = 40 + 12 * np.sin((hour - 7) / 24 * 2 * np.pi) + 6 * work + rng.normal(0, 3, len(stamps))
    i = np.arange(len(stamps))
    gen, load = 9000 + 50 * np.sin(i / 24), 11000 + 100 * np.sin(i / 12) + 300 * work
    lines = [f"{t:%Y-%m-%d %H:%M:%S},{p:.2f},{g:.1f},{ld:.1f}" for t, p, g, ld in zip(stamps, price, gen, load,
                                                                                       strict=True)]
    path.write_text("Date, Prices, Generation forecast, System load forecast\n" + "\n".join(lines) + "\n")
    return path


@pytest.mark.slow  # the promotion gate fits 28 origins' worth of models (small ones: fast_train)
def test_belgium_from_an_epftoolbox_file_to_a_served_forecast_in_brussels_time(store_path, tmp_path, fast_train):
    # The file ends yesterday: train fits its final model on the windows ending now, so old
    # history (the real BE.csv ends in 2016) would leave it no rows (see the train README).
    days = 60
    first = (pd.Timestamp.now() - pd.Timedelta(days=days)).normalize()
    f = epftoolbox_file(tmp_path / "BE.csv", first, days)
    last = first + pd.Timedelta(days=days - 1)

    r = run_cli(store_path, "ingest", "backfill", "--source", "csv", "--zone", "be", "--file", str(f))
    assert r.exit_code == 0, r.output
    r = run_cli(store_path, "features", "build", "--no-progress")
    assert r.exit_code == 0, r.output
    assert f"{days} origins in BE" in r.output and "skipped" not in r.output
    r = run_cli(store_path, "train", "fit", "--zone", "BE", "--refit", "28d", "--no-progress")
    assert r.exit_code == 0, r.output
    assert "price_xgboost_be v1" in r.output
    now = pd.Timestamp(last, tz="Europe/Brussels") + pd.Timedelta(hours=11)  # after that day's 10:00 origin
    r = run_cli(store_path, "serve", "predict", "--zone", "BE", "--no-files", "--now", now.isoformat(),
                "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)

    fc = get_storage(mode="local", path=store_path).get_feature_store().get_feature_group("forecasts").read()
    connection.release(store_path)
    assert set(fc["zone"]) == {"BE"} and fc["p50"].notna().all()
    origin = fc["origin"].max()
    assert origin == pd.Timestamp(last, tz="Europe/Brussels") + pd.Timedelta(hours=10)  # 10:00 in Brussels
    rows = fc[fc["origin"] == origin].sort_values("ts")
    local = rows["ts"].dt.tz_convert("Europe/Brussels")
    assert local.iloc[0] == pd.Timestamp(last + pd.Timedelta(days=1), tz="Europe/Brussels")  # next local midnight
    per_day = local.dt.date.value_counts()
    assert len(per_day) == 7 and per_day.isin([23, 24, 25]).all()
    assert (rows["p10"] <= rows["p50"]).all() and (rows["p50"] <= rows["p90"]).all()
    # the model was trained on Belgian calendars: the features of BE carry Brussels hours
    feats = get_storage(mode="local", path=store_path).get_feature_store().get_feature_group("price_features").read()
    connection.release(store_path)
    one = feats[feats["origin"] == origin].sort_values("ts")
    assert one["hour"].tolist() == one["ts"].dt.tz_convert("Europe/Brussels").dt.hour.tolist()
    assert one["hour"].iloc[0] == 0 and one["ts"].iloc[0].hour in (22, 23)  # local midnight, in UTC the day before
