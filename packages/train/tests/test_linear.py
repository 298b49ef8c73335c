"""The LEAR-style linear member: design without leakage, fit/predict/save/load, the trees+linear blend;
and the members fitted as the published LEAR (``solver="lear"``): the same numbers as
:mod:`spotcast_train.lear` on the stage's design, stored as coefficients that load and predict
without scikit-learn, no leakage, clear errors for a bad solver."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from spotcast_storage.boosted import LinearCoefficients, blend, design_columns, lear_design
from spotcast_storage.errors import ValidationError
from spotcast_storage.modelformat import METADATA_FILE, load_predictor
from spotcast_train.dnnpart import DnnPartSettings
from spotcast_train.lear import LearModel
from spotcast_train.linear import (
    LinearSettings,
    blend_frames,
    default_sources,
    fit_linear,
    linear_options,
    with_linear,
)
from spotcast_train.synthetic import features_frame, price_matrix
from spotcast_train.xgbmodel import XGBSettings, fit_xgb

TARGET = "target_price_eur_mwh"
LIN = LinearSettings(windows_days=(21, 56), num_boost_round=10, horizon_days=(1, 2))
LEAR = LinearSettings(windows_days=(21, 56), horizon_days=(1, 2), solver="lear")
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


@pytest.mark.parametrize("settings", [LIN, LEAR], ids=["gblinear", "lear"])
def test_blend_is_the_weighted_mean_of_its_parts(tmp_path, settings):
    f = _frame()
    o = f["origin"].max()
    train = f[f["label_known_at"] <= o]
    features = ["hour", "weekday", "price_lag_1d", "price_lag_7d", "last_day_mean"]
    trees = fit_xgb(train, features, TARGET, "origin", TREES, until=o)
    both = with_linear(trees, train, TARGET, "origin", settings.with_(weight=0.3), until=o)
    alone = fit_linear(train, TARGET, "origin", settings, until=o)
    rows = f[f["origin"] == o]
    t, lin, b = trees.predict(rows)["p50"], alone.predict(rows)["p50"], both.predict(rows)["p50"]
    covered = lin.notna()
    assert covered.any() and not covered.all()  # horizon day 3 has no member
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
    # what fit uses when no settings are passed: the ensemble of families, 0.45 / 0.35 / 0.20
    assert LinearSettings(solver="lear", weight=0.35) == builtin.STAGE_LINEAR
    assert XGBSettings(linear=builtin.STAGE_LINEAR, dnn=DnnPartSettings(weight=0.2)) == builtin.STAGE_SETTINGS
    # each CLI option changes one part of that default and keeps the rest
    assert builtin.settings_of({}) == builtin.STAGE_SETTINGS
    assert builtin.settings_of({"linear": True}) == builtin.STAGE_SETTINGS
    fast = builtin.settings_of(linear_options(None, "gblinear", base=builtin.STAGE_LINEAR) | {"dnn": None})
    assert fast.linear == LinearSettings(weight=0.35) and fast.dnn is None

# -- linear members as the published LEAR (solver="lear", issue 14) ----------------------------------

def test_lear_members_are_the_benchmarks_lear_on_the_same_design():
    """Each member is :class:`spotcast_train.lear.LearModel` fitted on that window's complete days
    of the stage's ``lear_design``; the linear forecast is their mean (to 1e-9)."""
    f = _frame()
    o = f["origin"].max()
    train = f[f["label_known_at"] <= o]
    model = fit_linear(train, TARGET, "origin", LEAR, until=o)
    part = model.spec.linear
    assert part.solver == "lear" and model.spec.written_version == 3
    rows = f[(f["origin"] == o) & (f["horizon_day"] == 1)]
    got = model.predict_linear(rows)

    sources = part.sources
    keys, D, Y = lear_design(train[train["horizon_day"] == 1], sources, target=TARGET)
    times = pd.DatetimeIndex(keys["origin"])
    complete = np.isfinite(D).all(axis=1) & np.isfinite(Y).all(axis=1)
    _, Dnew, _ = lear_design(rows, sources)
    forecasts = []
    for w, member, fitted in zip((21, 56), part.members[:2], model.linear_boosters[:2], strict=True):
        sel = complete & np.asarray(times >= o - pd.Timedelta(days=w))
        ref = LearModel().fit(D[sel], Y[sel])  # the benchmark's LEAR, published alpha mode, 7 dummies
        assert (member.window_days, member.horizon_day, member.rows) == (w, 1, int(sel.sum()))
        np.testing.assert_allclose(fitted.coef, ref.coef, rtol=0, atol=1e-12)
        np.testing.assert_allclose(part.info["alphas"][member.file], ref.alphas)
        assert (fitted.coef == 0).any() and (fitted.coef != 0).any()  # a LASSO: some inputs dropped, not all
        forecasts.append(ref.predict(Dnew)[0])
    expected = np.mean(forecasts, axis=0)  # 24 hours of the origin's day 1
    hour = rows["hour"].to_numpy()
    np.testing.assert_allclose(got, expected[hour], rtol=1e-9, atol=1e-9)


def test_lear_model_saves_as_numbers_and_round_trips(tmp_path):
    f = _frame()
    o = f["origin"].max()
    model = fit_linear(f[f["label_known_at"] <= o], TARGET, "origin", LEAR, until=o)
    rows = f[f["origin"] == o]
    before = model.predict(rows)
    path = model.save(tmp_path / "lin")
    meta = json.loads((path / METADATA_FILE).read_text())
    assert meta["format_version"] == 3 and meta["linear"]["solver"] == "lear"
    files = sorted(p.name for p in path.iterdir())
    assert files == sorted([METADATA_FILE, *(m["file"] for m in meta["linear"]["members"])])
    assert all(n.endswith(".npy") for n in files if n != METADATA_FILE)
    width = len(meta["linear"]["columns"])
    arr = np.load(path / files[0], allow_pickle=False)  # plain numbers: coefficients, then intercepts
    assert arr.shape == (width + 1, 24)
    after = load_predictor(path).predict(rows)
    pd.testing.assert_frame_equal(before, after)
    # a member file that does not fit the design is a clear error, not a wrong forecast
    np.save(path / files[0], arr[:-2], allow_pickle=False)
    with pytest.raises(ValidationError, match=r"the design needs \(\d+, 24\).*refit the model"):
        load_predictor(path)


PROBE = """
import sys
sys.modules["sklearn"] = None  # importing scikit-learn fails in this process
import json
import numpy as np, pandas as pd
from spotcast_storage.boosted import xgboost_core_only
from spotcast_storage.modelformat import load_predictor
with xgboost_core_only():  # as `spotcast-serve predict` loads models
    model = load_predictor(sys.argv[1])
    out = model.predict(pd.read_pickle(sys.argv[2]))
np.save(sys.argv[3], out.to_numpy())
print(json.dumps({"sklearn": sorted(m for m in sys.modules if m.startswith("sklearn") and sys.modules[m])}))
"""


def test_stage_fit_with_lear_members_serves_without_scikit_learn(fresh_store, fast, tmp_path):
    """The stage path (xgboost kind, lear members) fits and registers; a process where importing
    scikit-learn fails loads the artifact and predicts the same numbers."""
    from spotcast_train import service
    from spotcast_train.data import load_training_frame

    s = fresh_store
    opts = {**fast, "linear": LEAR.with_(horizon_days=(1,))}
    r = service.fit(s.project, "se3", options=opts, now=s.origin(99))
    meta = json.loads((tmp_path.parent / r.artifact / METADATA_FILE).read_text())
    assert meta["kind"] == "xgboost" and meta["format_version"] == 3 and meta["linear"]["solver"] == "lear"
    assert r.training_window["gate_origins"] == 28  # through the promotion gate like any fit
    frame, _ = load_training_frame(s.project, "SE3")
    rows = frame[frame["origin"] == frame["origin"].max()].reset_index(drop=True)
    expected = r.predictor.predict(rows).to_numpy()
    day1 = (rows["horizon_day"] == 1).to_numpy()
    assert np.isfinite(r.predictor.predict_linear(rows)[day1]).all()
    rows.to_pickle(tmp_path / "rows.pkl")
    p = subprocess.run([sys.executable, "-c", PROBE, r.artifact, str(tmp_path / "rows.pkl"), str(tmp_path / "out.npy")],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout.strip().splitlines()[-1]) == {"sklearn": []}
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), expected, rtol=1e-12)


def test_lear_members_have_no_leakage():
    """The origin's LEAR forecast reads only the origin's own rows: changing later origins' rows
    and every label not yet known at the origin (the origin's own targets included) leaves it
    unchanged. The training rows are cut at the origin by the caller (the stage's training frame,
    as for gblinear), so both fits here see the same rows; what can fail is the design/predict."""
    f = _frame()
    o = f["origin"].unique()[40]
    g = f.copy()
    later = g["origin"] > o
    num = [c for c in g.columns if c not in ("zone", "origin", "ts", "label_known_at", "hour", "horizon_day",
                                             "weekday") and pd.api.types.is_numeric_dtype(g[c])]
    g.loc[later, num] = g.loc[later, num] * 3 + 100
    unknown = g["label_known_at"] > o
    g.loc[unknown, TARGET] = -g.loc[unknown, TARGET] - 50

    def forecast(frame):
        known = frame[frame["label_known_at"] <= o]
        return fit_linear(known, TARGET, "origin", LEAR, until=o).predict(frame[frame["origin"] == o])

    a, b = forecast(f), forecast(g)
    assert a["p50"].notna().any()
    pd.testing.assert_frame_equal(a, b)


def test_lear_without_weekday_dummies_and_with_an_incomplete_day():
    """``calendar=None``: no dummy is left unscaled; a training day with a missing input (hour 2 of
    a 23-hour day) is left out, and a forecast day with one gets no linear forecast (trees alone)."""
    f = _frame()
    o = f["origin"].max()
    short = (f["origin"] == f["origin"].unique()[40]) & (f["horizon_day"] == 1) & (f["hour"] == 2)
    g = f[~short]
    train = g[g["label_known_at"] <= o]
    settings = LEAR.with_(calendar=None, horizon_days=(1,))
    model = fit_linear(train, TARGET, "origin", settings, until=o)
    keys, D, Y = lear_design(train[train["horizon_day"] == 1], model.spec.linear.sources, calendar=None,
                             target=TARGET)
    sel = np.isfinite(D).all(axis=1) & np.isfinite(Y).all(axis=1) \
        & np.asarray(pd.DatetimeIndex(keys["origin"]) >= o - pd.Timedelta(days=56))
    assert model.spec.linear.members[1].rows == int(sel.sum()) < int(
        (pd.DatetimeIndex(keys["origin"]) >= o - pd.Timedelta(days=56)).sum())
    ref = LearModel(dummies=0).fit(D[sel], Y[sel])
    np.testing.assert_allclose(model.linear_boosters[1].coef, ref.coef, atol=1e-12)
    rows = f[(f["origin"] == o) & (f["horizon_day"] == 1)]
    assert np.isfinite(model.predict_linear(rows)).all()
    gap = rows[rows["hour"] != 5]
    gap = pd.concat([gap, rows[rows["hour"] == 5].assign(price_lag_2d=np.nan)])
    assert np.isnan(model.predict_linear(gap)).all()  # a LASSO has no rule for a missing input


def test_bad_solver_settings_are_clear_errors(monkeypatch):
    with pytest.raises(ValidationError, match=r"linear solver 'nope': use one of gblinear, lear"):
        LinearSettings(solver="nope")
    with pytest.raises(ValidationError, match=r"alpha selection 'bic': use one of published, aic"):
        LinearSettings(solver="lear", alpha_selection="bic")
    with pytest.raises(ValidationError, match=r"--no-linear with --linear-solver lear"):
        linear_options(False, "lear")
    assert linear_options(None, "lear") == {"linear": LinearSettings(solver="lear")}
    assert linear_options(True, None, base=LEAR) == {"linear": LEAR}  # --linear: the model's own linear part
    assert linear_options(False, None) == {"linear": None} and linear_options(None, None) == {}
    with pytest.raises(ValueError, match=r"one intercept per hour"):
        LinearCoefficients(np.zeros((3, 24)), np.zeros(23))
    monkeypatch.setitem(sys.modules, "sklearn", None)  # as if scikit-learn were not installed
    monkeypatch.delitem(sys.modules, "spotcast_train.lear", raising=False)
    with pytest.raises(ValidationError, match=r"linear solver 'lear': .*pip install 'scikit-learn>=1.4'"):
        linear_options(None, "lear")
    with pytest.raises(ValidationError, match=r"pip install 'scikit-learn>=1.4'"):
        fit_linear(_frame(), TARGET, "origin", LEAR)


def test_cli_linear_solver_bad_input_writes_nothing(fresh_store, monkeypatch):
    from typer.testing import CliRunner

    from spotcast_train.cli import app

    s = fresh_store
    store = str(s.project.path)
    events = s.project.get_event_log()

    def snapshot():  # every committed write appends an event in the same transaction
        return events.latest_event_id(), s.project.get_model_registry().get_models("price_xgboost_se3")

    before = snapshot()
    for cmd in (["fit", "--zone", "SE3"], ["backtest", "--zone", "SE3", "--start", "2024-03-01", "--end", "2024-03-04"]):
        r = CliRunner().invoke(app, ["--store", store, *cmd, "--linear-solver", "nope", "--no-progress"])
        assert r.exit_code == 1 and "error: --linear-solver 'nope': use one of gblinear, lear" in r.output, r.output
        assert "Traceback" not in r.output
    r = CliRunner().invoke(app, ["--store", store, "fit", "--zone", "SE3", "--no-linear", "--linear-solver", "lear"])
    assert r.exit_code == 1 and "--no-linear with --linear-solver lear" in r.output
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.delitem(sys.modules, "spotcast_train.lear", raising=False)
    r = CliRunner().invoke(app, ["--store", store, "fit", "--zone", "SE3", "--linear-solver", "lear"])
    assert r.exit_code == 1 and "pip install 'scikit-learn>=1.4'" in r.output and "Traceback" not in r.output, r.output
    assert snapshot() == before
    r = CliRunner().invoke(app, ["--store", store, "models", "--format", "json"])
    assert json.loads(r.output[r.output.index("["):]) == []  # nothing registered


def test_a_gblinear_artifact_still_loads_in_a_version_2_reader(tmp_path):
    """The default model (gblinear members) is written as version 2 with only the keys a
    version-2 reader knows: a stage installed alone at an older spotcast-storage loads it."""
    import dataclasses

    from spotcast_storage import boosted

    f = _frame()
    o = f["origin"].max()
    model = fit_linear(f[f["label_known_at"] <= o], TARGET, "origin", LIN, until=o)
    spec = json.loads((model.save(tmp_path / "m") / boosted.METADATA_FILE).read_text())
    assert spec["format_version"] == 2 and "solver" not in spec["linear"]
    # the fields the version-2 LinearPart had (boosted.py before solvers; columns is derived)
    v2_fields = {"sources", "weight", "hours", "calendar", "time_col", "hour_col", "horizon_col", "members",
                 "params", "info"}
    assert set(spec["linear"]) - {"columns"} <= v2_fields
    assert {fl.name for fl in dataclasses.fields(boosted.LinearPart)} - {"solver"} == v2_fields


def test_a_newer_format_version_says_upgrade_before_reading_its_parts():
    from spotcast_storage.boosted import FORMAT, FORMAT_VERSION, ModelSpec

    with pytest.raises(ValidationError, match="upgrade spotcast-storage"):
        ModelSpec.from_dict({"format": FORMAT, "format_version": FORMAT_VERSION + 1, "kind": "xgboost",
                             "linear": {"a part": "this reader cannot parse"}})
