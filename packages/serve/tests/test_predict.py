"""`predict` against a real store with a real registered model artifact."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from spotcast_serve import service
from spotcast_serve.hookspecs import hookimpl
from spotcast_serve.outputs import OutputWriter
from spotcast_serve.plugin import plugin_manager
from spotcast_storage.errors import NotFoundError, ValidationError

MADE = pd.Timestamp("2024-03-22T10:30Z")  # 11:30 CET, before the gate closure for 2024-03-23
STEM = "forecast_SE3_2024-03-23_2024-03-29_made_2024-03-22T1130CET"


def _events(project) -> int:
    return project.get_event_log().latest_event_id()


def _stored(project) -> pd.DataFrame:
    return project.get_feature_store().get_feature_group("forecasts", 3).read().sort_values(
        ["made_at", "ts"], ignore_index=True)


def test_predict_stores_newest_origin_and_writes_files(ready, project, tmp_path):
    out = tmp_path / "outputs"
    r = service.predict(project, "se3", outputs=out, now=MADE)
    assert r.written and r.zone == "SE3"
    assert r.origin == pd.Timestamp("2024-03-22T09:00Z")  # newest of three origins, 10:00 CET
    stored = _stored(project)
    assert (stored["made_at"] == MADE).all() and stored["fallback_reason"].isna().all()
    assert len(stored) == 168 and set(stored["origin"]) == {r.origin} and set(stored["zone"]) == {"SE3"}
    # The naive model's median is the feature price_lag_7d of the same row.
    feats = project.get_feature_store().get_feature_group("price_features", 1).read()
    merged = stored.merge(feats, on=["zone", "origin", "ts"])
    assert (merged["p50"] - merged["price_lag_7d"]).abs().max() < 1e-9
    assert (merged["p90"] - merged["p50"]).round(9).eq(8.0).all()
    assert stored["model"].eq("price_naive").all() and stored["model_version"].eq(1).all()

    # The file is named by the delivery days and the time made (local), and starts with the origin
    # day's actual prices, published the day before (the next day's come out at 13:00, after MADE).
    assert sorted(p.name for p in r.files) == [f"{STEM}.csv", f"{STEM}.png"]
    csv = pd.read_csv(out / f"{STEM}.csv", float_precision="round_trip")
    assert len(csv) == 24 + 168 and list(csv.columns[:8]) == ["zone", "origin", "made_at", "ts", "ts_local",
                                                                "resolution_minutes", "horizon_day", "actual"]
    assert (csv["resolution_minutes"] == 60).all()
    assert csv["ts_local"].iloc[0] == "2024-03-22T00:00:00+01:00" and csv["ts_local"].iloc[24] == "2024-03-23T00:00:00+01:00"
    hourly = project.get_feature_store().get_feature_group("prices_hourly", 1).read()
    hourly = hourly[hourly["zone"] == "SE3"].set_index("ts")["price_eur_mwh"]
    lead = csv.iloc[:24]
    assert lead["p50"].isna().all() and (lead["horizon_day"] == 0).all()
    assert lead["actual"].tolist() == hourly.loc[pd.to_datetime(lead["ts"], utc=True)].tolist()
    assert csv.iloc[24:]["actual"].isna().all()
    with Image.open(out / f"{STEM}.png") as img:
        assert img.size[0] > 500 and img.size[1] > 300
    assert r.daily["hours"].tolist() == [24] * 7
    assert r.daily["p50"].iloc[0] == pytest.approx(merged.sort_values("ts")["p50"].iloc[:24].mean())


def test_the_files_hold_exactly_the_stored_published_vintage(ready, project, data, tmp_path):
    first = service.predict(project, "SE3", outputs=tmp_path / "o", now=MADE)
    assert first.files and first.files_kept == []
    data.naive_model(spread=20.0)  # a later vintage must not reach the files
    r = service.predict(project, "SE3", outputs=tmp_path / "o", now=MADE + pd.Timedelta(hours=5))
    assert r.written and [p.name for p in r.files] == [f"{STEM}.csv", f"{STEM}.png"]
    assert r.files_kept == r.files  # the published vintage's files were left as they were
    csv = pd.read_csv(tmp_path / "o" / f"{STEM}.csv", float_precision="round_trip")
    csv = csv[csv["p50"].notna()].reset_index(drop=True)
    pub = service.read_forecast(project, "SE3")
    assert (pub["made_at"] == MADE).all()
    assert pd.to_datetime(csv["ts"], utc=True).tolist() == pub["ts"].tolist()
    for c in ("p10", "p50", "p90"):
        assert csv[c].tolist() == pub[c].tolist()  # exactly: the CSV writes every digit
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [f"{STEM}.csv", f"{STEM}.png"]


def test_predict_twice_changes_nothing(ready, project, tmp_path):
    first = service.predict(project, "SE3", outputs=tmp_path / "o")
    before = _events(project)
    stored = _stored(project)
    again = service.predict(project, "SE3", outputs=tmp_path / "o", now=pd.Timestamp("2030-01-01", tz="UTC"))
    assert first.written and not again.written
    assert _events(project) == before  # no commit, no event
    after = _stored(project)
    pd.testing.assert_frame_equal(stored, after)
    # A shorter horizon is a subset of what is stored: still nothing to write.
    assert not service.predict(project, "SE3", days=2, outputs=None).written
    assert _events(project) == before


def test_new_model_version_is_a_new_vintage_and_the_old_one_is_kept(ready, project, data):
    service.predict(project, "SE3", outputs=None, now=MADE)
    first = _stored(project)
    data.naive_model(spread=20.0)  # price_naive v2, newer
    later = MADE + pd.Timedelta(hours=3)
    r = service.predict(project, "SE3", outputs=None, now=later)
    assert r.written and r.model_version == 2 and r.made_at == later
    stored = _stored(project)
    assert len(stored) == 336 and set(stored["made_at"]) == {MADE, later}
    old = stored[stored["made_at"] == MADE].reset_index(drop=True)
    pd.testing.assert_frame_equal(old, first)  # values of an existing vintage never change
    new = stored[stored["made_at"] == later]
    assert new["model_version"].eq(2).all() and ((new["p90"] - new["p50"]).round(9) == 20.0).all()
    # The published vintage is still the first; it is the one read, shown and scored.
    pub = service.read_forecast(project, "SE3")
    assert (pub["made_at"] == MADE).all() and pub["model_version"].eq(1).all() and pub["on_time"].all()
    assert int(pub["vintages"].iloc[0]) == 2 and "vintage 1 of 2" in r.summary()
    v = service.read_vintages(project, "SE3")
    assert v["published"].tolist() == [True, False] and v["on_time"].tolist() == [True, False]
    scored = project.sql("select distinct made_at, model_version from forecast_accuracy")
    assert scored["model_version"].tolist() == [1]


def test_two_different_forecasts_at_one_instant_are_two_vintages(ready, project, data):
    """A replayed run that forecasts twice at its one `now` (a model registered in between)."""
    service.predict(project, "SE3", outputs=None, now=MADE)
    data.naive_model(spread=20.0)
    r = service.predict(project, "SE3", outputs=None, now=MADE)
    assert r.written and r.made_at == MADE + pd.Timedelta(microseconds=1)
    stored = _stored(project)
    assert stored.groupby("made_at")["model_version"].first().tolist() == [1, 2]


def test_a_vintage_made_before_a_stored_one_is_refused(ready, project, data):
    """A replay with a --now before the origin's newest vintage would slip in ahead of it, become
    the published vintage and renumber the others: refused, nothing written."""
    service.predict(project, "SE3", outputs=None, now=MADE)
    before = _stored(project)
    data.naive_model(spread=20.0)  # another forecast, so it is not simply "unchanged"
    with pytest.raises(ValidationError, match="already has a vintage made 2024-03-22T10:30:00"):
        service.predict(project, "SE3", outputs=None, now=MADE - pd.Timedelta(hours=1))  # after the origin
    pd.testing.assert_frame_equal(_stored(project), before)
    # forecasts at the run's one `now` are still stored, each after the ones before it
    service.predict(project, "SE3", outputs=None, now=MADE)
    data.naive_model(spread=30.0)
    r = service.predict(project, "SE3", outputs=None, now=MADE)
    assert r.written and r.made_at == MADE + pd.Timedelta(microseconds=2)
    assert service.read_forecast(project, "SE3")["made_at"].eq(MADE).all()


def test_now_forecasts_the_newest_origin_known_then(ready, project):
    """`--now T` forecasts the newest origin whose inputs were all published by T: a vintage
    "made" at T never uses prices (or weather) published later; before any origin is complete
    it is refused, nothing written."""
    # 11:00Z on 03-21: the auction result for 03-22 (13:00 CET = 12:00Z) is not out yet
    r = service.predict(project, "SE3", outputs=None, now=pd.Timestamp("2024-03-21T11:00Z"))
    assert r.written and r.origin == pd.Timestamp("2024-03-21T09:00Z")  # not the newest, 03-22
    before = _stored(project)
    assert set(before["origin"]) == {r.origin}
    with pytest.raises(ValidationError, match=r"SE3: no price_features origin was complete at --now "
                       r"2024-03-19T11:00Z: the first, 2024-03-20T09:00Z, uses inputs published 2024-03-19T12:00Z"):
        service.predict(project, "SE3", outputs=None, now=pd.Timestamp("2024-03-19T11:00Z"))
    pd.testing.assert_frame_equal(_stored(project), before)
    # after the auction the next morning's origin is complete, though later than T ...
    assert service.newest_feature_rows(project, "SE3", known_by=pd.Timestamp("2024-03-21T12:30Z"))[
        "origin"].iloc[0] == pd.Timestamp("2024-03-22T09:00Z")
    # ... unless a weather forecast issued after T (18:00Z) is among that origin's inputs
    from spotcast_storage.contracts import WEATHER

    ts = pd.date_range("2024-03-22T00:00Z", periods=48, freq="h")
    wx = pd.DataFrame({"zone": "SE3", "ts": ts, "kind": "forecast", "issued_at": pd.Timestamp("2024-03-21T18:00Z"),
                       "temperature_2m": 3.0, "wind_speed_10m": 5.0, "wind_speed_100m": 8.0,
                       "shortwave_radiation": 0.0, "cloud_cover": 50.0, "precipitation": 0.0, "source": "test"})
    WEATHER.get_or_create(project.get_feature_store()).insert(WEATHER.conform(wx))
    rows = service.newest_feature_rows(project, "SE3", known_by=pd.Timestamp("2024-03-21T12:30Z"))
    assert rows["origin"].iloc[0] == pd.Timestamp("2024-03-21T09:00Z")
    rows = service.newest_feature_rows(project, "SE3", known_by=pd.Timestamp("2024-03-21T18:00Z"))
    assert rows["origin"].iloc[0] == pd.Timestamp("2024-03-22T09:00Z")


def test_pinned_model_and_version(ready, project, data):
    data.naive_model(spread=20.0)
    r = service.predict(project, "SE3", model="price_naive:1", outputs=None)
    assert r.model_version == 1
    with pytest.raises(NotFoundError, match="price_naive v7"):
        service.predict(project, "SE3", model="price_naive:7", outputs=None)
    with pytest.raises(ValidationError, match="positive integer"):
        service.predict(project, "SE3", model="price_naive:x", outputs=None)


def test_default_model_skips_models_not_for_this_zone_or_not_on_price_features(data, project):
    data.write_features(zones=("SE3",))
    data.naive_model(name="other_thing", lineage={"feature_groups": [{"name": "weather", "version": 1}]})
    data.naive_model(name="se4_only", zones=["SE4"])
    with pytest.raises(NotFoundError, match="no registered model trained on price_features covers zone SE3"):
        service.predict(project, "SE3", outputs=None)
    data.naive_model(name="se3_model", zones=["SE3"])
    assert service.predict(project, "SE3", outputs=None).model == "se3_model"
    with pytest.raises(ValidationError, match="trained for SE4, not SE3"):
        service.predict(project, "SE3", model="se4_only", outputs=None)


def test_bad_inputs_write_nothing(ready, project, tmp_path):
    before = _events(project)
    with pytest.raises(NotFoundError, match="unknown zone 'S E3'; known zones: SE1"):
        service.predict(project, "S E3", outputs=tmp_path / "o")
    with pytest.raises(NotFoundError, match="no rows for zone SE1; zones with features: SE3, SE4"):
        service.predict(project, "SE1", outputs=tmp_path / "o")
    with pytest.raises(ValidationError, match="at least 1"):
        service.predict(project, "SE3", days=0, outputs=tmp_path / "o")
    with pytest.raises(ValidationError, match=r"unknown output format\(s\) \['pdf'\]; available: csv, png"):
        service.predict(project, "SE3", formats=["pdf"], outputs=tmp_path / "o")
    assert _events(project) == before
    assert not (tmp_path / "o").exists()


def test_no_features_or_no_model_says_what_to_run(data, project):
    # an empty store: features cannot be built before the zone is ingested
    with pytest.raises(NotFoundError, match="SE3 was never ingested; ingest it first: `spotcast-ingest update --zone SE3`"):
        service.predict(project, "SE3", outputs=None)
    data.write_prices(data.actuals())
    with pytest.raises(NotFoundError, match="spotcast-features build --zone SE3"):
        service.predict(project, "SE3", outputs=None)
    data.write_features()
    with pytest.raises(NotFoundError, match="spotcast-train fit --zone SE3"):
        service.predict(project, "SE3", outputs=None)


def test_dst_origin_gives_a_23_hour_day(data, project, tmp_path):
    data.write_features(origins=["2024-03-28"])
    data.naive_model()
    r = service.predict(project, "SE3", outputs=tmp_path / "o", now=pd.Timestamp("2024-03-28T15:00Z"))
    assert len(r.forecast) == 167
    assert r.daily.set_index("date").loc["2024-03-31", "hours"] == 23
    csv = pd.read_csv(tmp_path / "o" / "forecast_SE3_2024-03-29_2024-04-04_made_2024-03-28T1600CET.csv")
    assert csv["ts_local"].str.slice(0, 10).value_counts()["2024-03-31"] == 23


def test_python_callers_files_go_beside_the_store_by_default(ready, project, tmp_path, monkeypatch):
    """As every command's files do: not into ./outputs of whatever folder the caller runs in."""
    monkeypatch.chdir(tmp_path)
    r = service.predict(project, "SE3", now=MADE)
    from spotcast_storage.config import outputs_dir

    folder = outputs_dir(project)
    assert folder.name.endswith("-outputs") and folder != tmp_path / "outputs"
    assert sorted(p.name for p in r.files) == [f"{STEM}.csv", f"{STEM}.png"]
    assert all(p.parent == folder for p in r.files) and not (tmp_path / "outputs").exists()


def test_third_party_output_writer_plugin(ready, project, tmp_path):
    class JsonWriter:
        @hookimpl
        def register_forecast_outputs(self, register):
            def write(output, path):
                path.write_text(output.table.to_json(orient="records", date_format="iso"))
            register(OutputWriter("json", "json", write, "test writer"))

    pm = plugin_manager()
    plugin = JsonWriter()
    pm.register(plugin, name="test-json-writer")
    try:
        r = service.predict(project, "SE3", outputs=tmp_path / "o", formats=["json", "csv"], now=MADE)
        assert sorted(p.name for p in r.files) == [f"{STEM}.csv", f"{STEM}.json"]
        assert len(pd.read_json(tmp_path / "o" / f"{STEM}.json")) == 24 + 168
    finally:
        pm.unregister(plugin)
    with pytest.raises(ValidationError, match="unknown output format"):
        service.predict(project, "SE3", outputs=tmp_path / "o", formats=["json"])


def test_real_xgboost_model_is_preferred_over_a_newer_naive_baseline(data, project):
    from spotcast_storage.modelformat import load_predictor

    data.write_features(zones=("SE3",), origins=["2024-03-21", "2024-03-22"])
    xgb_model = data.xgboost_model()
    data.naive_model()  # registered later, but a naive baseline
    r = service.predict(project, "SE3", outputs=None)
    assert (r.model, r.model_version) == ("price_xgb", 1)
    rows = service.newest_feature_rows(project, "SE3")
    expected = load_predictor(xgb_model.download()).predict(rows)
    got = r.forecast.sort_values("ts", ignore_index=True)
    assert got["p50"].to_numpy() == pytest.approx(expected["p50"].to_numpy())
    assert (got["p10"] <= got["p50"]).all() and (got["p50"] <= got["p90"]).all()


def test_hours_with_missing_inputs_are_left_out_and_reported(data, project):
    feats = data.write_features(origins=["2024-03-22"])
    fg = project.get_feature_store().get_feature_group("price_features", 1)
    holes = feats.iloc[[5, 6]].copy()
    holes["price_lag_7d"] = np.nan  # the naive model has no input for these two hours
    fg.insert(holes)
    data.naive_model()
    r = service.predict(project, "SE3", outputs=None)
    assert len(r.forecast) == 166 and r.missing_hours == 2 and "2 hours left out" in r.summary()
    assert not r.forecast["ts"].isin(holes["ts"]).any()
    again = service.predict(project, "SE3", outputs=None)
    assert not again.written and again.missing_hours == 2


def test_a_store_with_forecasts_v1_is_read_then_upgraded_to_vintages(ready, project, store_path):
    """v1 rows (written before vintages existed) are served read-only as the vintage made at their
    created_at, and the first predict copies them into v2 before adding its own vintage."""
    from spotcast_storage import get_storage
    from spotcast_storage.contracts.forecasts import FORECASTS_V1

    feats = project.get_feature_store().get_feature_group("price_features", 1).read()
    rows = feats[(feats["zone"] == "SE3") & (feats["origin"] == pd.Timestamp("2024-03-22T09:00Z"))]
    v1 = pd.DataFrame({"zone": "SE3", "origin": rows["origin"], "ts": rows["ts"], "p10": 1.0, "p50": 2.0, "p90": 3.0,
                       "model": "old", "model_version": 1, "created_at": MADE})
    FORECASTS_V1.get_or_create(project.get_feature_store()).insert(v1)
    reader = get_storage(mode="local", path=store_path, read_only=True)
    seen = service.read_forecast(reader, "SE3")
    assert (seen["made_at"] == MADE).all() and (seen["p50"] == 2.0).all() and len(seen) == 168
    r = service.predict(project, "SE3", outputs=None, now=MADE + pd.Timedelta(hours=1))
    assert r.written
    stored = _stored(project)
    assert sorted(set(stored["made_at"])) == [MADE, MADE + pd.Timedelta(hours=1)]
    pub = service.read_forecast(project, "SE3")
    assert (pub["model"] == "old").all() and (pub["p50"] == 2.0).all()  # the old forecast was published first
