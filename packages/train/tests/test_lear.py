"""LEAR as published: the epftoolbox design, Invariant scaling, LARS-AIC penalties, windows, no leakage."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spotcast_storage.errors import ValidationError
from spotcast_train import lear
from spotcast_train.epf import read_epf_csv
from spotcast_train.synthetic import price_matrix

BENCHMARK = Path(__file__).resolve().parents[3] / "benchmarks" / "epf.py"


def dataset(days: int = 120, seed: int = 1) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    P = price_matrix(days, seed=seed)
    load = 1_000 + 5 * P + np.random.default_rng(seed).normal(0, 3, P.shape)
    return pd.date_range("2015-01-05", periods=days, freq="D"), P, load  # 2015-01-05 is a Monday


def test_design_is_the_epftoolbox_layout():
    days, P, load = dataset(30)
    wind = load / 2
    X = lear.design(P, [load, wind], days)
    assert X.shape == (30, 96 + 2 * 72 + 7)
    i, h = 12, 5
    # per hour: prices of d-1, d-2, d-3, d-7
    assert np.allclose(X[i, 4 * h: 4 * h + 4], [P[i - 1, h], P[i - 2, h], P[i - 3, h], P[i - 7, h]])
    # per hour: exogenous of d-1 (both series), d-7 (both), then d (both)
    e = 96 + 6 * h
    assert np.allclose(X[i, e: e + 6], [load[i - 1, h], wind[i - 1, h], load[i - 7, h], wind[i - 7, h],
                                        load[i, h], wind[i, h]])
    dummies = X[:, -7:]
    assert (dummies.sum(axis=1) == 1).all() and dummies[0, 0] == 1 and dummies[6, 6] == 1  # Monday first
    assert np.isnan(X[:7]).any() and np.isfinite(X[7:]).all()
    # the other revision of epftoolbox's design: exogenous of d-1 and d-2
    X2 = lear.design(P, [load, wind], days, exo_lags=(1, 2))
    assert np.allclose(X2[i, e: e + 6], [load[i - 1, h], wind[i - 1, h], load[i - 2, h], wind[i - 2, h],
                                         load[i, h], wind[i, h]])


def test_bad_shapes_are_clear_errors():
    days, P, load = dataset(20)
    with pytest.raises(ValidationError, match=r"\(days, 24\)"):
        lear.design(P[:, :23], [], days)
    with pytest.raises(ValidationError, match="exogenous"):
        lear.design(P, [load[:-1]], days)
    X, Y = lear.design(P, [load], days), P
    with pytest.raises(ValidationError, match="fewer than 2 training days"):
        lear.forecast_day(X, Y, 8, windows=(56,))
    with pytest.raises(ValidationError, match="too short"):
        lear.forecast_day(X, Y, 15, windows=(7,))
    with pytest.raises(ValidationError, match="missing value"):
        lear.LearModel().fit(X[:10], Y[:10])  # the first week has no lags
    from spotcast_train.epf import EpfData, period_indices

    short = EpfData(days=days, prices=P, exogenous={"exo_1": load}, price_name="p")
    with pytest.raises(ValidationError, match="too few for a 364-day validation period"):
        period_indices(short, validation=True)
    for bad in ((), (0, 7), (1, 8)):
        with pytest.raises(ValidationError, match="exogenous lags"):
            lear.design(P, [load], days, exo_lags=bad)
    with pytest.raises(ValidationError, match="alpha mode"):
        lear.select_alpha(X[8:], Y[8:, 0], "bic")


def test_invariant_scaler_round_trips_and_survives_constant_columns():
    a = np.column_stack([np.arange(50.0) ** 1.5, np.full(50, 3.0)])
    s = lear.InvariantScaler().fit(a)
    assert np.allclose(s.inverse(s.transform(a)), a)
    assert s.scale[1] == 1.0 and np.allclose(s.transform(a)[:, 1], 0)
    # MAD scaled like statsmodels.robust.mad (a normal's standard deviation)
    x = np.random.default_rng(0).normal(0, 2.0, (20_000, 1))
    assert abs(lear.InvariantScaler().fit(x).scale[0] - 2.0) < 0.05


def old_lassolarsic_alpha(X: np.ndarray, y: np.ndarray) -> float:
    """scikit-learn 0.2x's LassoLarsIC(criterion='aic') with its default normalize=True,
    written out from its definition: LARS on the centred design with unit-norm columns,
    criterion n * MSE / var(y) + 2 * df."""
    from sklearn.linear_model import lars_path

    Xc = X - X.mean(axis=0)
    Xc = Xc / np.sqrt((Xc ** 2).sum(axis=0))
    yc = y - y.mean()
    alphas, _, coefs = lars_path(Xc, yc, method="lasso", max_iter=2500)
    mse = ((yc[:, None] - Xc @ coefs) ** 2).mean(axis=0)
    df = (np.abs(coefs) > np.finfo(float).eps).sum(axis=0)
    return float(alphas[np.argmin(len(y) * mse / np.var(y) + 2 * df)])


def test_published_penalty_is_the_old_lassolarsic_one():
    rng = np.random.default_rng(3)
    X = rng.normal(0, 1, (60, 40)) * rng.uniform(0.2, 3, 40)  # fewer rows than features: the 56-day case
    X = np.hstack([X, rng.normal(0, 1, (60, 60))])
    y = X[:, 0] - 0.5 * X[:, 3] + rng.normal(0, 0.3, 60)
    a = lear.select_alpha(X, y, "published")
    assert a == pytest.approx(old_lassolarsic_alpha(X, y), rel=1e-6)
    # the AIC penalty on the un-normalised design is another (here: larger) number
    assert lear.select_alpha(X, y, "aic") != pytest.approx(a, rel=1e-3)


def test_lear_beats_the_naive_forecasts():
    days, P, load = dataset(200)
    X = lear.design(P, [load], days)
    errs, naive_d1, naive_d7 = [], [], []
    # three test days (three weekdays; each costs 48 LASSO fits): LEAR's MAE is about a tenth of
    # the better naive's on every such sample of these days (0.07-0.11), far inside the 0.8 checked
    for d in range(170, 200, 10):
        f = lear.forecast_day(X, P, d, windows=(56, 84))
        assert set(f) == {56, 84} and all(v.shape == (24,) for v in f.values())
        errs.append(np.abs((f[56] + f[84]) / 2 - P[d]).mean())
        naive_d1.append(np.abs(P[d - 1] - P[d]).mean())
        naive_d7.append(np.abs(P[d - 7] - P[d]).mean())
    assert np.mean(errs) < 0.8 * min(np.mean(naive_d1), np.mean(naive_d7))


def test_window_rows_stop_before_the_forecast_day():
    assert lear.window_rows(100, 56) == slice(51, 100)  # 56 days less their first week
    assert lear.window_rows(20, 1456) == slice(7, 20)  # short history: all days with lags
    for day in (30, 100):
        for w in lear.WINDOWS:
            assert lear.window_rows(day, w).stop == day


def test_no_leakage_a_forecast_ignores_every_later_price():
    """Process-order pitfall: a day's forecast must come from a model fitted only on earlier days.
    Changing every price from the forecast day on (and so every design row after it) leaves the
    forecast unchanged; changing a price before it changes the forecast."""
    days, P, load = dataset(140)
    d = 120
    base = lear.forecast_day(lear.design(P, [load], days), P, d, windows=(56, 84))
    Q = P.copy()
    Q[d:] = np.random.default_rng(9).normal(500, 200, Q[d:].shape)  # the day itself and all later days
    after = lear.forecast_day(lear.design(Q, [load], days), Q, d, windows=(56, 84))
    for w in base:
        assert np.array_equal(base[w], after[w])
    R = P.copy()
    R[d - 1] += 50  # yesterday's prices are known and must matter
    moved = lear.forecast_day(lear.design(R, [load], days), R, d, windows=(56, 84))
    assert not np.allclose(moved[56], base[56])


def write_csv(path: Path, days: int) -> Path:
    _, P, load = dataset(days, seed=4)
    ts = pd.date_range("2015-01-05", periods=days * 24, freq="h")
    pd.DataFrame({"Date": ts, "Price": P.ravel(), "Load": load.ravel()}).to_csv(path, index=False)
    return path


def run_bench(*args: str) -> dict:
    r = subprocess.run([sys.executable, str(BENCHMARK), *args, "--json"], capture_output=True, text=True,
                       timeout=300, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_benchmark_lear_sample_save_and_resume(tmp_path):
    csv = write_csv(tmp_path / "X.csv", 780)
    save = tmp_path / "pred.parquet"
    out = run_bench(str(csv), "--model", "lear", "--lear-windows", "14,28", "--days", "3",
                    "--save-predictions", str(save))
    assert out["days"] == 3 and out["sample"] and set(out["parts"]) == {"w14", "w28"}
    first = pd.read_parquet(save)
    data = read_epf_csv(csv)
    test_start = data.days[len(data.days) - 728]
    assert first["origin"].min() == test_start and first["origin"].nunique() == 3
    # days come out in order, each forecast from days before it only (the p50 is the windows' mean)
    assert first["origin"].is_monotonic_increasing
    assert np.allclose(first["p50"], (first["p50_w14"] + first["p50_w28"]) / 2)
    # an interrupted run continues: saved days are kept as saved, only the missing ones are forecast
    marked = first.copy()
    marked.loc[marked["origin"] == test_start, "p50"] = -999.0
    marked.to_parquet(save)
    out = run_bench(str(csv), "--model", "lear", "--lear-windows", "14,28", "--days", "5",
                    "--save-predictions", str(save), "--resume")
    assert out["days"] == 5  # the 5-day sample is scored; the 3-day one's other days stay in the file
    again = pd.read_parquet(save)
    assert again["origin"].nunique() == 7 and (again.loc[again["origin"] == test_start, "p50"] == -999.0).all()


def test_sample_rows_and_scores():
    from spotcast_train.epf import EpfData, forecast_rows, period_indices, score

    days, P, load = dataset(60)
    data = EpfData(days=days, prices=P, exogenous={"exo_1": load}, price_name="p")
    pred = pd.concat([forecast_rows(data, d, {"p50": P[d] + 1.0}) for d in (20, 30, 40)], ignore_index=True)
    assert (pred["origin"].dt.hour == 0).all() and np.allclose(pred["price_lag_7d"][:24], P[13])
    res = score(pred, naive_skip_days=0)
    assert res["mae"] == pytest.approx(1.0) and res["days"] == 3
    naive = np.abs(P[[20, 30, 40]] - P[[13, 23, 33]]).mean()
    assert res["naive_weekly_mae"] == pytest.approx(naive)
    # a sample keeps every k-th day from the first, and a sample of N is inside the one of 2N
    full = period_indices(data, test_days=40, sample=None)
    assert full == list(range(20, 60))
    s4, s8 = period_indices(data, test_days=40, sample=4), period_indices(data, test_days=40, sample=8)
    assert s4 == [20, 30, 40, 50] and set(s4) <= set(s8) and len(s8) == 8


@pytest.mark.parametrize("module", ["spotcast_train.lear", "spotcast_train.dnn"])
def test_without_scikit_learn_the_import_says_how_to_install_it(monkeypatch, module):
    import importlib

    monkeypatch.setitem(sys.modules, "sklearn", None)  # as if not installed
    for name in ("spotcast_train.lear", "spotcast_train.dnn"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'scikit-learn>=1.4' \(in the workspace: uv sync\).*--no-dnn"):
        importlib.import_module(module)


def test_train_depends_on_scikit_learn_and_serve_does_not():
    """The default model's LEAR and DNN members fit with scikit-learn, so train installs it; serve
    predicts them with NumPy alone, so a serving install stays without it."""
    from importlib.metadata import PackageNotFoundError, requires

    def sklearn_of(dist: str) -> list[str]:
        return [d for d in requires(dist) or [] if d.lower().startswith("scikit-learn")]

    train = sklearn_of("spotcast-train")
    assert any("extra" not in d for d in train), train
    assert sklearn_of("spotcast-storage") == []
    with contextlib.suppress(PackageNotFoundError):  # serve is absent beside train alone (CI)
        assert sklearn_of("spotcast-serve") == []
