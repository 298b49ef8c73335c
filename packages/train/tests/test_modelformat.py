"""The artifact contract with serve: round trip, inference through one code path, bad artifacts."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from spotcast_storage.boosted import ModelSpec, Transform, read_spec
from spotcast_storage.errors import NotFoundError, ValidationError
from spotcast_storage.modelformat import METADATA_FILE, load_predictor
from spotcast_train.naive import fit_naive
from spotcast_train.xgbmodel import XGBSettings, fit_xgb


def _frame(n_days: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-01-01", periods=n_days, freq="D", tz="UTC")
    rows = []
    level = 50.0
    for d in days:
        level += rng.normal(0, 2)
        for h in range(24):
            rows.append({"origin": d, "hour": h, "last_day_mean": level, "price_lag_1d": level + 5 * np.sin(h / 4),
                         "target_price_eur_mwh": level + 5 * np.sin(h / 4) + rng.normal(0, 1)})
    return pd.DataFrame(rows)


SETTINGS = XGBSettings(windows_days=(20, 1000), num_boost_round=20, eta=0.3, max_depth=3, max_bin=32)


def test_xgboost_round_trip_predicts_the_same(tmp_path):
    df = _frame()
    model = fit_xgb(df, ["hour", "price_lag_1d", "last_day_mean"], "target_price_eur_mwh", "origin", SETTINGS)
    before = model.predict(df.tail(48))
    path = model.save(tmp_path / "m")
    files = sorted(p.name for p in path.iterdir())
    assert files == ["member-00.ubj", "member-01.ubj", METADATA_FILE]
    meta = json.loads((path / METADATA_FILE).read_text())
    assert meta["kind"] == "xgboost" and meta["outputs"] == ["p10", "p50", "p90"]
    assert meta["transform"]["kind"] == "asinh" and meta["transform"]["level"] == "last_day_mean"
    assert [m["window_days"] for m in meta["members"]] == [20, 1000]
    after = load_predictor(path).predict(df.tail(48))
    pd.testing.assert_frame_equal(before, after)
    assert (after["p10"] <= after["p50"]).all() and (after["p50"] <= after["p90"]).all()


def test_no_pickle_anywhere(tmp_path):
    model = fit_xgb(_frame(), ["hour", "price_lag_1d"], "target_price_eur_mwh", "origin", SETTINGS)
    path = model.save(tmp_path / "m")
    for f in path.iterdir():
        assert not f.read_bytes().startswith(b"\x80"), f"{f.name} looks like a pickle"


def test_transform_inverts_and_follows_the_level():
    t = Transform(kind="asinh", level="lvl", scale=10.0, columns=("x",))
    X = pd.DataFrame({"lvl": [50.0, 500.0], "x": [60.0, 510.0]})
    level, scale = t.location_scale(X)
    z = t.forward(np.array([60.0, 510.0]), level, scale)
    assert np.allclose(z, np.arcsinh(1.0))  # the same deviation from the level gives the same z
    assert np.allclose(t.inverse(z, level, scale), [60.0, 510.0])
    assert np.allclose(t.apply(X)["x"], z)


def test_the_level_moves_predictions_beyond_the_training_range():
    """Trees cannot extrapolate a raw price; relative to the level, a doubled level doubles the forecast."""
    df = _frame()
    model = fit_xgb(df, ["hour", "price_lag_1d", "last_day_mean"], "target_price_eur_mwh", "origin", SETTINGS)
    X = df.tail(24).copy()
    X[["last_day_mean", "price_lag_1d"]] += 300.0
    p = model.predict(X)["p50"]
    assert (p > df["target_price_eur_mwh"].max() + 200).all()


def test_naive_model_is_metadata_only(tmp_path):
    df = _frame()
    model = fit_naive(df, "price_lag_1d", "target_price_eur_mwh")
    path = model.save(tmp_path / "naive")
    assert sorted(p.name for p in path.iterdir()) == [METADATA_FILE]
    p = load_predictor(path).predict(df.head(3))
    assert np.allclose(p["p50"], df["price_lag_1d"].head(3))
    assert (p["p10"] < p["p50"]).all() and (p["p90"] > p["p50"]).all()


def test_a_naive_model_keeps_its_band_in_units_of_the_recent_volatility(tmp_path):
    """With roll7_std in the frame the naive's residual quantiles are in its units (as the learned
    models' are), so serve can recalibrate its band online: the band is wide in a volatile week and
    narrow in a calm one, and its errors still fall inside it about 80% of the time."""
    rng = np.random.default_rng(2)
    df = _frame(120)
    df["roll7_std"] = np.where(df.index < len(df) // 2, 1.0, 8.0)
    df["target_price_eur_mwh"] = df["price_lag_1d"] + rng.normal(0, 1, len(df)) * df["roll7_std"]
    model = fit_naive(df, "price_lag_1d", "target_price_eur_mwh")
    spec = read_spec(model.save(tmp_path / "naive"))
    assert spec.interval_scale is not None and spec.interval_scale.column == "roll7_std"
    p = load_predictor(tmp_path / "naive").predict(df)
    width = (p["p90"] - p["p10"]).to_numpy()
    assert width[-1] == pytest.approx(8 * width[0])
    inside = (df["target_price_eur_mwh"] >= p["p10"]) & (df["target_price_eur_mwh"] <= p["p90"])
    assert 0.77 <= inside[: len(df) // 2].mean() <= 0.83 and 0.77 <= inside[len(df) // 2:].mean() <= 0.83
    assert read_spec(fit_naive(df.drop(columns="roll7_std"), "price_lag_1d", "target_price_eur_mwh")
                     .save(tmp_path / "plain")).interval_scale is None  # no column: one band in EUR/MWh


def test_missing_input_column_is_a_clear_error():
    model = fit_xgb(_frame(), ["hour", "price_lag_1d"], "target_price_eur_mwh", "origin", SETTINGS)
    with pytest.raises(ValidationError, match=r"lacks.*price_lag_1d"):
        model.predict(pd.DataFrame({"hour": [1], "last_day_mean": [3.0]}))


def test_bad_artifacts_are_rejected(tmp_path):
    with pytest.raises(NotFoundError, match=r"spotcast-model\.json is missing"):
        read_spec(tmp_path)
    (tmp_path / METADATA_FILE).write_text("{not json")
    with pytest.raises(ValidationError, match="not valid JSON"):
        read_spec(tmp_path)
    (tmp_path / METADATA_FILE).write_text(json.dumps({"format": "spotcast-model", "format_version": 99,
                                                      "kind": "naive", "features": []}))
    with pytest.raises(ValidationError, match="newer"):
        read_spec(tmp_path)
    spec = ModelSpec(kind="naive", features=["a"], naive_column="a").to_dict()
    spec["members"] = [{"file": "member-00.ubj"}]
    spec["kind"] = "xgboost"
    (tmp_path / METADATA_FILE).write_text(json.dumps(spec))
    with pytest.raises(NotFoundError, match=r"lacks its booster file member-00\.ubj"):
        load_predictor(tmp_path)


@pytest.mark.parametrize("bad", [dict(quantiles=[0.1, 0.9]), dict(quantiles=[0.9, 0.5]), dict(kind="lstm"),
                                 dict(combine="max")])
def test_invalid_specs(bad):
    with pytest.raises(ValidationError):
        ModelSpec(**{"kind": "naive", "features": ["a"], "naive_column": "a", **bad})
