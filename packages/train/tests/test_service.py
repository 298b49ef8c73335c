"""fit / backtest / models against a real DuckDB store."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from spotcast_storage.contracts.backtests import BACKTEST_METRICS, BACKTESTS
from spotcast_storage.contracts.features import LABEL
from spotcast_storage.errors import NotFoundError, ValidationError
from spotcast_storage.modelformat import load_predictor
from spotcast_storage.modellist import models_table
from spotcast_train import service
from spotcast_train.data import load_training_frame


def test_fit_registers_model_with_metrics_lineage_and_open_artifact(fresh_store, fast):
    s = fresh_store
    r = service.fit(s.project, "se3", options=fast, now=s.origin(99))
    assert r.name == "price_xgboost_se3" and r.version == 1
    m = s.project.get_model_registry().get_model("price_xgboost_se3")
    assert m.training_metrics["mae"] == pytest.approx(r.metrics["mae"])
    assert {"mae", "rmse", "smape", "rmae", "naive_weekly_mae", "naive_daily_mae"} <= set(m.training_metrics)
    assert r.metrics["mae"] < r.metrics["naive_weekly_mae"]  # the synthetic prices are learnable
    groups = {g["name"]: g for g in m.lineage["feature_groups"]}
    assert set(groups) == {"price_features", "prices_hourly"}
    assert all(isinstance(g["commit_id"], int) and g["version"] == 1 for g in groups.values())
    assert m.lineage["zones"] == ["SE3"] and m.lineage["feature_view"]["name"] == "price_training"

    folder = Path(m.download())
    meta = json.loads((folder / "spotcast-model.json").read_text())
    assert meta["training_window"]["rows"] > 0 and meta["lineage"]["zones"] == ["SE3"]
    assert "horizon_day" in meta["features"] and meta["residual_by"] == "horizon_day"
    assert all(f.suffix in (".ubj", ".json") for f in folder.iterdir())

    frame, _ = load_training_frame(s.project, "SE3")
    rows = frame[frame["origin"] == frame["origin"].max()]
    loaded = load_predictor(folder).predict(rows)
    np.testing.assert_allclose(loaded.to_numpy(), r.predictor.predict(rows).to_numpy())
    # p10/p90 = p50 + the row's recent volatility (roll7_std) x the out-of-sample residual
    # quantile of the row's horizon day
    table = meta["residual_table"]
    assert meta["interval_scale"]["column"] == "roll7_std"
    assert sorted(table, key=int) == [str(d) for d in range(1, 8)]
    for hd, part in loaded.groupby(rows["horizon_day"]):
        unit = rows.loc[part.index, "roll7_std"].to_numpy()
        np.testing.assert_allclose(part["p90"] - part["p50"], unit * table[str(hd)]["p90"])
        assert table[str(hd)]["p10"] < 0 < table[str(hd)]["p90"]


def test_fit_naive_model_and_list_models(fresh_store):
    s = fresh_store
    r = service.fit(s.project, "SE3", model="naive-weekly", now=s.origin(99))
    assert r.name == "price_naive_weekly_se3"
    listing = models_table(s.project, for_people=False)
    assert list(listing["name"]) == ["price_naive_weekly_se3"]
    row = listing.iloc[0]
    assert row["zones"] == "SE3" and row["metrics"]["mae"] == pytest.approx(r.metrics["mae"])
    assert "price_features v1@" in row["trained_on"] and "prices_hourly v1@" in row["trained_on"]
    assert models_table(s.project, zone="SE4").empty


def test_window_limits_training_rows(fresh_store, fast):
    r = service.fit(fresh_store.project, "SE3", options=fast, window="30d", register=False, now=fresh_store.origin(99))
    assert r.version is None
    assert r.training_window["days"] == 30
    assert r.training_window["rows"] <= 31 * 168


def test_backtest_stores_forecasts_metrics_and_writes_a_report(fresh_store, fast, tmp_path):
    s = fresh_store
    r = service.backtest(s.project, "SE3", "2024-03-01", "2024-03-08", options=fast, report_dir=tmp_path / "rep")
    assert r.run_id == "se3_xgboost_20240301_20240308_weekly_all"
    assert set(r.forecasts["model"]) == {"xgboost", "naive-daily", "naive-weekly"}
    assert r.forecasts["origin"].nunique() == 7
    overall = r.table[r.table.horizon_day == 0].set_index("model")
    assert overall.loc["naive-weekly", "rmae"] == pytest.approx(1.0)
    assert set(r.table.horizon_day) == set(range(8))
    assert "beats the naive" in r.verdict

    stored = s.project.sql(f"select model, count(*) n from {BACKTESTS.name} where run_id = ? group by model",
                           [r.run_id])
    assert dict(zip(stored["model"], stored["n"], strict=True)) == {m: 7 * 168 for m in ("xgboost", "naive-daily", "naive-weekly")}
    met = s.project.sql(f"select * from {BACKTEST_METRICS.name} where run_id = ? and horizon_day = 0", [r.run_id])
    assert len(met) == 3 and met.set_index("model").loc["xgboost", "beats_naive"]

    text = r.report.read_text()
    assert "## MAE by horizon day" in text and r.verdict in text
    for png in (tmp_path / "rep").glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(list((tmp_path / "rep").glob("*.png"))) == 2

    again = service.backtest(s.project, "SE3", "2024-03-01", "2024-03-08", options=fast)
    assert again.commit_ids  # a rerun upserts the same keys instead of adding rows
    n = s.project.sql(f"select count(*) n from {BACKTESTS.name}")["n"].item()
    assert n == 3 * 7 * 168


def test_backtest_trains_only_on_labels_known_at_each_origin(fresh_store, fast):
    """Every model in a backtest was fitted at an origin not after the one it forecasts, and each
    fit saw only rows whose label was published by then (checked in test_rolling)."""
    r = service.backtest(fresh_store.project, "SE3", "2024-03-01", "2024-03-11", options=fast,
                         recalibrate="daily", write=False)
    assert (r.forecasts["fitted_at"] == r.forecasts["origin"]).all()
    assert r.forecasts.loc[r.forecasts["actual"].notna(), "actual"].size > 0
    assert LABEL not in r.forecasts.columns


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"zone": "XX9"}, ValidationError, "unknown zone 'XX9'"),
    ({"start": "2024-03-10", "end": "2024-03-01"}, ValidationError, "must be after"),
    ({"start": "2025-01-01", "end": "2025-02-01"}, NotFoundError, "no feature rows with origins"),
    ({"start": "2024-01-29", "end": "2024-02-05"}, ValidationError, "no labelled rows are known"),
    ({"model": "prophet"}, NotFoundError, "unknown model 'prophet'"),
    ({"recalibrate": "sometimes"}, ValidationError, "daily, weekly, never"),
])
def test_backtest_bad_input_writes_nothing(fresh_store, fast, kwargs, error, match):
    args = {"zone": "SE3", "start": "2024-03-01", "end": "2024-03-08", **kwargs}
    with pytest.raises(error, match=match):
        service.backtest(fresh_store.project, options=fast, **args)
    fs = fresh_store.project.get_feature_store()
    assert [g.name for g in fs.get_feature_groups() if g.name.startswith("backtest")] == []


def test_fit_without_features_is_a_clear_error(project):
    with pytest.raises(NotFoundError, match="spotcast-features build"):
        service.fit(project, "SE3")
    assert project.get_model_registry().get_models() == []


def test_fit_unknown_zone_in_store(fresh_store):
    with pytest.raises(NotFoundError, match=r"no rows for zone SE1.*zones with features: SE3"):
        service.fit(fresh_store.project, "SE1", model="naive-daily")


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"origins": 400}, "only 71 labelled origins: the promotion gate scores the newest 400"),
    ({"origins": 27}, "at least 28 origins"),
    ({"refit": "never"}, "schedule of at least one day"),
    ({"refit": "sometimes"}, "daily, weekly, never"),
])
def test_gate_settings_that_cannot_work_are_clear_errors(fresh_store, kwargs, match):
    with pytest.raises(ValidationError, match=match):
        service.fit(fresh_store.project, "SE3", model="naive-daily", now=fresh_store.origin(99), **kwargs)
    assert fresh_store.project.get_model_registry().get_models() == []


def test_backtest_scores_at_15_minutes_where_prices_clear_in_quarter_hours(fresh_store, tmp_path):
    """Issue 15: a zone with 15-minute prices in the period gets MAE at 15 minutes per model and
    horizon day, beside the hourly forecast repeated in its quarters; an hourly period gets none."""
    import numpy as np
    import pandas as pd

    from spotcast_storage import quarters
    from spotcast_storage.contracts.market import PRICES
    from spotcast_train import evaluate

    s = fresh_store
    start, end = s.origin(60), s.origin(64)
    hourly = s.project.get_feature_store().get_feature_group("prices_hourly", 1).read()
    hourly = hourly[(hourly["zone"] == "SE3") & (hourly["ts"] >= start)]
    ts = pd.DatetimeIndex(hourly["ts"]).repeat(4) + pd.to_timedelta(np.tile([0, 15, 30, 45], len(hourly)), unit="m")
    price = np.repeat(hourly["price_eur_mwh"].to_numpy(), 4) + np.tile([-5.0, -1.0, 1.0, 5.0], len(hourly))
    PRICES.get_or_create(s.project.get_feature_store()).insert(PRICES.conform(pd.DataFrame({
        "zone": "SE3", "ts": ts, "price_eur_mwh": price, "price_sek_kwh": None, "resolution_minutes": 15,
        "known_at": ts - pd.Timedelta(hours=12), "source": "test"})))
    r = service.backtest(s.project, "SE3", start, end, model="naive-daily", recalibrate="never",
                         report_dir=tmp_path, write=False)
    t = r.table_15min
    assert t is not None and set(t["model"]) == {"naive-daily", "naive-weekly"}
    row = t[(t["model"] == "naive-daily") & (t["horizon_day"] == 1)].iloc[0]
    # recompute from the backtest's own hourly forecasts
    f = r.forecasts[(r.forecasts["model"] == "naive-daily")].assign(
        zone="SE3", made_at=lambda d: d["origin"], model_version=0, fallback_reason=None, p10=np.nan, p90=np.nan)
    q = quarters.to_quarters(f, pd.Timestamp(ts.min())).merge(pd.DataFrame({"ts": ts, "price": price}), on="ts")
    tz = "Europe/Stockholm"
    q = q[(q["ts"].dt.tz_convert(tz).dt.normalize() - q["origin"].dt.tz_convert(tz).dt.normalize()).dt.days == 1]
    assert row["quarters"] == len(q) > 0
    assert row["mae"] == pytest.approx((q["p50"] - q["price"]).abs().mean())
    assert row["hourly_mae"] == pytest.approx((q["p50_hourly"] - q["price"]).abs().mean())
    assert "## At 15 minutes" in r.report.read_text()
    hourly_only = service.backtest(s.project, "SE3", s.origin(40), s.origin(44), model="naive-daily",
                                   recalibrate="never", write=False)
    assert hourly_only.table_15min is None
    assert evaluate.score_quarters(r.forecasts, pd.DataFrame(columns=["ts", "price_eur_mwh"]), tz).empty
