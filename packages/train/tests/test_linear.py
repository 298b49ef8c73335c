"""The LEAR-style linear member: design without leakage, fit/predict/save/load, the trees+linear blend."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from spotcast_storage.boosted import blend, design_columns, lear_design
from spotcast_storage.errors import ValidationError
from spotcast_storage.modelformat import METADATA_FILE, load_predictor
from spotcast_train.linear import (
    LinearSettings,
    blend_frames,
    default_sources,
    fit_linear,
    with_linear,
)
from spotcast_train.synthetic import features_frame, price_matrix
from spotcast_train.xgbmodel import XGBSettings, fit_xgb

TARGET = "target_price_eur_mwh"
LIN = LinearSettings(windows_days=(21, 56), num_boost_round=10, horizon_days=(1, 2))
TREES = XGBSettings(windows_days=(1000,), num_boost_round=20, eta=0.3, max_depth=3, max_bin=32, quantiles=(0.5,))


def _frame(days: int = 80, horizon: int = 3) -> pd.DataFrame:
    P = price_matrix(days)
    f = features_frame("SE3", "2024-01-01", P, first_origin_day=28, horizon=horizon, last_origin_day=days - horizon - 1)
    day = (f["ts"] - pd.Timestamp("2024-01-01", tz="UTC")).dt.days.to_numpy()
    f[TARGET] = P[day, f["hour"].to_numpy()]
    f["label_known_at"] = f["ts"].dt.floor("D") - pd.Timedelta(hours=12)
    return f


def test_design_pivots_one_origin_by_hour():
    f = _frame()
    sources = default_sources(f)
    assert sources == ["price_lag_1d", "price_lag_2d", "price_lag_3d", "price_lag_7d", "exo_load_forecast"]
    keys, D, y = lear_design(f, sources, target=TARGET)
    assert D.shape == (len(keys), len(design_columns(sources)))
    assert len(design_columns(sources)) == 5 * 24 + 7
    o = f["origin"].iloc[0]
    k = int(np.flatnonzero((keys["origin"] == o) & (keys["horizon_day"] == 1))[0])
    rows = f[(f["origin"] == o) & (f["horizon_day"] == 1)].sort_values("hour")
    np.testing.assert_array_equal(D[k, :24], rows["price_lag_1d"].to_numpy())      # the 24 prices of d-1
    np.testing.assert_array_equal(D[k, 72:96], rows["price_lag_7d"].to_numpy())    # ... and of d-7
    assert D[k, 120:].sum() == 1 and D[k, 120 + int(rows["weekday"].iloc[0])] == 1
    np.testing.assert_array_equal(y[k], rows[TARGET].to_numpy())


def test_design_has_no_leakage():
    """Changing every value known after an origin (later origins' rows, every label) leaves the
    origin's design row unchanged: it is made of that origin's own features only."""
    f = _frame()
    o = f["origin"].unique()[20]
    g = f.copy()
    later = g["origin"] > o
    num = [c for c in g.columns if c not in ("zone", "origin", "ts", "label_known_at", "hour", "horizon_day",
                                             "weekday") and pd.api.types.is_numeric_dtype(g[c])]
    g.loc[later, num] = g.loc[later, num] * 3 + 100
    g[TARGET] = -g[TARGET]
    src = default_sources(f)
    k1, D1, _ = lear_design(f, src)
    k2, D2, _ = lear_design(g, src)
    pd.testing.assert_frame_equal(k1, k2)
    at = np.flatnonzero((k1["origin"] <= o).to_numpy())
    np.testing.assert_array_equal(D1[at], D2[at])
    # and a model fitted on what was known at o forecasts o the same way
    def forecast(frame):
        known = frame[frame["label_known_at"] <= o]
        return fit_linear(known, TARGET, "origin", LIN, until=o).predict(frame[frame["origin"] == o])
    known_g = g.copy()
    known_g.loc[g["label_known_at"] <= o, TARGET] = f.loc[g["label_known_at"] <= o, TARGET]
    pd.testing.assert_frame_equal(forecast(f), forecast(known_g))


def test_linear_fit_predict_save_load_round_trip(tmp_path):
    f = _frame()
    o = f["origin"].max()
    train = f[f["label_known_at"] <= o]
    model = fit_linear(train, TARGET, "origin", LIN, until=o)
    rows = f[f["origin"] == o]
    before = model.predict(rows)
    covered = rows["horizon_day"].isin([1, 2]).to_numpy()
    assert before.loc[covered, "p50"].notna().all() and before.loc[~covered, "p50"].isna().all()
    # out of sample over the last 20 origins it beats the daily naive (synthetic prices: weekly shape)
    cut = f["origin"].unique()[-20]
    later = f[(f["origin"] >= cut) & (f["horizon_day"] == 1)]
    early = fit_linear(f[f["label_known_at"] <= cut], TARGET, "origin", LIN, until=cut).predict(later)["p50"]
    mae = (early - later[TARGET]).abs().mean()
    naive = (later["price_lag_1d"] - later[TARGET]).abs().mean()
    assert mae < naive
    path = model.save(tmp_path / "lin")
    meta = json.loads((path / METADATA_FILE).read_text())
    assert meta["kind"] == "linear" and meta["format_version"] == 2
    files = sorted(p.name for p in path.iterdir())
    assert files == sorted([METADATA_FILE, *(m["file"] for m in meta["linear"]["members"])])
    assert all(not (path / n).read_bytes().startswith(b"\x80") for n in files)  # no pickle
    assert {(m["horizon_day"], m["window_days"]) for m in meta["linear"]["members"]} == {
        (1, 21), (1, 56), (2, 21), (2, 56)}
    after = load_predictor(path).predict(rows)
    pd.testing.assert_frame_equal(before, after)


def test_blend_is_the_weighted_mean_of_its_parts(tmp_path):
    f = _frame()
    o = f["origin"].max()
    train = f[f["label_known_at"] <= o]
    features = ["hour", "weekday", "price_lag_1d", "price_lag_7d", "last_day_mean"]
    trees = fit_xgb(train, features, TARGET, "origin", TREES, until=o)
    both = with_linear(trees, train, TARGET, "origin", LIN.with_(weight=0.3), until=o)
    alone = fit_linear(train, TARGET, "origin", LIN, until=o)
    rows = f[f["origin"] == o]
    t, lin, b = trees.predict(rows)["p50"], alone.predict(rows)["p50"], both.predict(rows)["p50"]
    covered = lin.notna()
    np.testing.assert_allclose(b[covered], 0.7 * t[covered] + 0.3 * lin[covered], rtol=1e-9)
    np.testing.assert_allclose(b[~covered], t[~covered])        # horizon day 3: trees alone
    np.testing.assert_allclose(blend(t.to_numpy(), lin.to_numpy(), 0.3), b.to_numpy(), rtol=1e-9)
    # the saved artifact holds both kinds of members and predicts the same
    path = both.save(tmp_path / "both")
    names = sorted(p.name for p in path.iterdir())
    assert "member-00.ubj" in names and any(n.startswith("linear-") for n in names)
    pd.testing.assert_frame_equal(load_predictor(path).predict(rows), both.predict(rows))
    # the benchmark's combination of two forecast frames uses the same rule
    fr = rows[["origin", "ts"]].assign(p50=t.to_numpy())
    lf = rows[["origin", "ts"]].assign(p50=lin.to_numpy())
    np.testing.assert_allclose(blend_frames(fr, lf, 0.3)["p50"].to_numpy(), b.to_numpy(), rtol=1e-9)


def test_too_little_history():
    f = _frame(days=45)
    o = f["origin"].min() + pd.Timedelta(days=5)
    train = f[f["label_known_at"] <= o]
    with pytest.raises(ValidationError, match="complete days"):
        fit_linear(train, TARGET, "origin", LIN, until=o)
    trees = fit_xgb(f[f["label_known_at"] <= f["origin"].max()], ["hour", "price_lag_1d", "last_day_mean"],
                    TARGET, "origin", TREES)
    assert with_linear(trees, train, TARGET, "origin", LIN, until=o) is trees  # trees alone


def test_dst_days_missing_and_repeated_hours():
    """A 23-hour day lacks hour 2 (NaN in the design, not a training day); a 25-hour day has it
    twice (averaged); both still get a forecast for every row."""
    f = _frame()
    o1, o2 = f["origin"].unique()[[30, 31]]
    short = (f["origin"] == o1) & (f["horizon_day"] == 1) & (f["hour"] == 2)
    extra = f[(f["origin"] == o2) & (f["horizon_day"] == 1) & (f["hour"] == 2)].copy()
    extra["ts"] = extra["ts"] + pd.Timedelta(minutes=30)
    extra["price_lag_1d"] += 10
    g = pd.concat([f[~short], extra], ignore_index=True).sort_values(["origin", "ts"], ignore_index=True)
    keys, D, _ = lear_design(g, ["price_lag_1d"], calendar=None)
    k1 = int(np.flatnonzero((keys["origin"] == o1) & (keys["horizon_day"] == 1))[0])
    k2 = int(np.flatnonzero((keys["origin"] == o2) & (keys["horizon_day"] == 1))[0])
    assert np.isnan(D[k1, 2]) and np.isfinite(np.delete(D[k1], 2)).all()
    base = f[(f["origin"] == o2) & (f["horizon_day"] == 1) & (f["hour"] == 2)]["price_lag_1d"].iloc[0]
    assert D[k2, 2] == pytest.approx(base + 5)
    model = fit_linear(g[g["label_known_at"] <= g["origin"].max()], TARGET, "origin", LIN)
    p = model.predict(g[g["origin"].isin([o1, o2]) & (g["horizon_day"] == 1)])["p50"]
    assert p.notna().all()


def test_stage_fit_with_linear_members_registers_a_loadable_artifact(fresh_store, fast):
    """The stage path: XGBSettings.linear through the xgboost plugin, fit, register, load as serve does."""
    from pathlib import Path

    from spotcast_train import service
    from spotcast_train.data import load_training_frame

    s = fresh_store
    opts = {**fast, "linear": LinearSettings(windows_days=(21, 56), num_boost_round=10)}
    r = service.fit(s.project, "se3", options=opts, now=s.origin(99))
    folder = Path(r.artifact)
    meta = json.loads((folder / METADATA_FILE).read_text())
    assert meta["kind"] == "xgboost" and meta["format_version"] == 2
    assert [m["horizon_day"] for m in meta["linear"]["members"]] == [1, 1]
    assert meta["linear"]["sources"] == ["price_lag_1d", "price_lag_2d", "price_lag_3d", "price_lag_7d",
                                         "exo_load_forecast"]
    frame, _ = load_training_frame(s.project, "SE3")
    rows = frame[frame["origin"] == frame["origin"].max()]
    loaded = load_predictor(folder)
    out = loaded.predict(rows)
    np.testing.assert_allclose(out.to_numpy(), r.predictor.predict(rows).to_numpy())
    lin = loaded.predict_linear(rows)
    day1 = (rows["horizon_day"] == 1).to_numpy()
    assert np.isfinite(lin[day1]).all() and np.isnan(lin[~day1]).all()
    trees = loaded.tree_point(rows)
    np.testing.assert_allclose(out["p50"].to_numpy()[~day1], trees[~day1])
    np.testing.assert_allclose(out["p50"].to_numpy()[day1], 0.6 * trees[day1] + 0.4 * lin[day1])


def test_the_stage_default_model_has_linear_members_and_no_linear_opts_out():
    from spotcast_train.builtins import xgboost as builtin
    from spotcast_train.models import FitRequest

    f = _frame(days=60, horizon=2)
    features = ["hour", "horizon_day", "price_lag_1d", "price_lag_7d", "last_day_mean"]
    req = FitRequest(frame=f, features=features, target=TARGET, options={"settings": TREES.with_(linear=LIN)})
    assert builtin.fit(req).spec.linear is not None
    off = FitRequest(frame=f, features=features, target=TARGET, options={"settings": TREES.with_(linear=LIN),
                                                                         "linear": None})
    assert builtin.fit(off).spec.linear is None
    assert LinearSettings() == builtin.STAGE_LINEAR  # what fit uses when no settings are passed
