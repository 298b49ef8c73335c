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


def _events(project) -> int:
    return project.get_event_log().latest_event_id()


def test_predict_stores_newest_origin_and_writes_files(ready, project, tmp_path):
    out = tmp_path / "outputs"
    r = service.predict(project, "se3", outputs=out)
    assert r.written and r.zone == "SE3"
    assert r.origin == pd.Timestamp("2024-03-22T09:00Z")  # newest of three origins, 10:00 CET
    stored = project.get_feature_store().get_feature_group("forecasts", 1).read()
    assert len(stored) == 168 and set(stored["origin"]) == {r.origin} and set(stored["zone"]) == {"SE3"}
    # The naive model's median is the feature price_lag_7d of the same row.
    feats = project.get_feature_store().get_feature_group("price_features", 1).read()
    merged = stored.merge(feats, on=["zone", "origin", "ts"])
    assert (merged["p50"] - merged["price_lag_7d"]).abs().max() < 1e-9
    assert (merged["p90"] - merged["p50"]).round(9).eq(8.0).all()
    assert stored["model"].eq("price_naive").all() and stored["model_version"].eq(1).all()

    csv = pd.read_csv(out / "forecast_SE3_2024-03-22.csv")
    assert len(csv) == 168 and list(csv.columns[:4]) == ["zone", "origin", "ts", "ts_local"]
    assert csv["ts_local"].iloc[0] == "2024-03-23T00:00:00+01:00"
    with Image.open(out / "forecast_SE3_2024-03-22.png") as img:
        assert img.size[0] > 500 and img.size[1] > 300
    assert r.daily["hours"].tolist() == [24] * 7
    assert r.daily["p50"].iloc[0] == pytest.approx(merged.sort_values("ts")["p50"].iloc[:24].mean())


def test_predict_twice_changes_nothing(ready, project, tmp_path):
    first = service.predict(project, "SE3", outputs=tmp_path / "o")
    before = _events(project)
    stored = project.get_feature_store().get_feature_group("forecasts", 1).read()
    again = service.predict(project, "SE3", outputs=tmp_path / "o", now=pd.Timestamp("2030-01-01", tz="UTC"))
    assert first.written and not again.written
    assert _events(project) == before  # no commit, no event
    after = project.get_feature_store().get_feature_group("forecasts", 1).read()
    pd.testing.assert_frame_equal(stored.sort_values("ts", ignore_index=True), after.sort_values("ts", ignore_index=True))
    # A shorter horizon is a subset of what is stored: still nothing to write.
    assert not service.predict(project, "SE3", days=2, outputs=None).written
    assert _events(project) == before


def test_new_model_version_replaces_the_origins_forecast(ready, project, data):
    service.predict(project, "SE3", outputs=None)
    data.naive_model(spread=20.0)  # price_naive v2, newer
    r = service.predict(project, "SE3", outputs=None)
    assert r.written and r.model_version == 2
    stored = project.get_feature_store().get_feature_group("forecasts", 1).read()
    assert len(stored) == 168 and stored["model_version"].eq(2).all()
    assert ((stored["p90"] - stored["p50"]).round(9) == 20.0).all()


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
    with pytest.raises(ValidationError, match="not a bidding-zone code"):
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
    with pytest.raises(NotFoundError, match="spotcast-features build --zone SE3"):
        service.predict(project, "SE3", outputs=None)
    data.write_features()
    with pytest.raises(NotFoundError, match="spotcast-train fit --zone SE3"):
        service.predict(project, "SE3", outputs=None)


def test_dst_origin_gives_a_23_hour_day(data, project, tmp_path):
    data.write_features(origins=["2024-03-28"])
    data.naive_model()
    r = service.predict(project, "SE3", outputs=tmp_path / "o")
    assert len(r.forecast) == 167
    assert r.daily.set_index("date").loc["2024-03-31", "hours"] == 23
    csv = pd.read_csv(tmp_path / "o" / "forecast_SE3_2024-03-28.csv")
    assert csv["ts_local"].str.slice(0, 10).value_counts()["2024-03-31"] == 23


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
        r = service.predict(project, "SE3", outputs=tmp_path / "o", formats=["json", "csv"])
        assert sorted(p.name for p in r.files) == ["forecast_SE3_2024-03-22.csv", "forecast_SE3_2024-03-22.json"]
        assert len(pd.read_json(tmp_path / "o" / "forecast_SE3_2024-03-22.json")) == 168
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
    assert len(r.forecast) == 166 and r.missing_hours == 2 and "2 hour(s) left out" in r.summary()
    assert not r.forecast["ts"].isin(holes["ts"]).any()
    again = service.predict(project, "SE3", outputs=None)
    assert not again.written and again.missing_hours == 2
