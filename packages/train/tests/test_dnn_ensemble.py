"""The DNN member (epftoolbox design on scikit-learn) and ensembles with validation-fixed weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spotcast_storage.errors import ValidationError
from spotcast_train import dnn, ensemble, lear
from spotcast_train.synthetic import price_matrix

SMALL = dnn.DnnSettings(hidden=(32, 16), seeds=(0,), max_epochs=200, patience=10, window_days=150)


def arrays(days: int = 160):
    P = price_matrix(days, seed=2)
    load = 1_000 + 5 * P + np.random.default_rng(2).normal(0, 3, P.shape)
    return lear.design(P, [load], pd.date_range("2015-01-05", periods=days, freq="D")), P


def test_dnn_two_hidden_layers_24_outputs_beats_naive():
    X, P = arrays()
    m = dnn.fit_before(X, P, 150, SMALL)
    net = m.nets[0]
    assert [w.shape for w in net.coefs_] == [(X.shape[1], 32), (32, 16), (16, 24)]
    assert net.n_iter_ < SMALL.max_epochs  # early stopping on the validation split ended training
    err = np.mean([np.abs(m.predict(X[d])[0] - P[d]).mean() for d in range(150, 160)])
    naive = np.mean([np.abs(P[d - 7] - P[d]).mean() for d in range(150, 160)])
    assert err < naive


def test_dnn_ignores_every_price_from_the_forecast_day_on():
    X, P = arrays()
    d = 140
    base = dnn.fit_before(X, P, d, SMALL).predict(X[d])
    Q = P.copy()
    Q[d:] = 1e4
    Xq = lear.design(Q, [1_000 + 5 * P + np.random.default_rng(2).normal(0, 3, P.shape)],
                     pd.date_range("2015-01-05", periods=len(P), freq="D"))
    assert np.array_equal(Xq[d], X[d])
    assert np.allclose(dnn.fit_before(Xq, Q, d, SMALL).predict(Xq[d]), base)


def test_dnn_seeds_average_and_bad_input():
    X, P = arrays()
    two = dnn.fit_before(X, P, 150, SMALL.with_(seeds=(0, 1)))
    one = [dnn.fit_before(X, P, 150, SMALL.with_(seeds=(s,))).predict(X[150]) for s in (0, 1)]
    assert np.allclose(two.predict(X[150]), np.mean(one, axis=0))
    with pytest.raises(ValidationError, match="two hidden layers"):
        dnn.fit_before(X, P, 150, SMALL.with_(hidden=(8,)))
    with pytest.raises(ValidationError, match="fewer than 20 training days"):
        dnn.fit_before(X, P, 20, SMALL)
    with pytest.raises(ValidationError, match="not fitted"):
        dnn.DnnModel().predict(X[150])
    with pytest.raises(ValidationError, match="integers separated by commas"):
        dnn.seeds_of("0,x")


def test_weights_prefer_the_better_member_and_combine_applies_them():
    rng = np.random.default_rng(0)
    y = rng.normal(50, 10, 2_000)
    good = y + rng.normal(0, 1, y.size)
    bad = y + rng.normal(0, 8, y.size)
    w = ensemble.fit_weights({"good": good, "bad": bad}, y, step=0.1)
    assert w["good"] > 0.8 and sum(w.values()) == pytest.approx(1)
    assert np.allclose(ensemble.combine({"good": good, "bad": bad}, w), w["good"] * good + w["bad"] * bad)


def test_members_with_opposite_errors_get_even_weights():
    y = np.zeros(100)
    up, down = y + 1.0, y - 1.0  # each MAE 1, their mean is exact
    assert ensemble.fit_weights({"a": up, "b": down}, y) == {"a": 0.5, "b": 0.5}


def test_weights_are_fixed_on_validation_and_not_refitted_on_test():
    y_val, y_test = np.zeros(50), np.zeros(50)
    a_val, b_val = y_val + 0.1, y_val + 5  # a is better on validation ...
    a_test, b_test = y_test + 5, y_test + 0.1  # ... worse on test: fixed weights must not follow it
    w = ensemble.fit_weights({"a": a_val, "b": b_val}, y_val)
    assert w == {"a": 1.0, "b": 0.0}
    assert np.allclose(ensemble.combine({"a": a_test, "b": b_test}, w), a_test)


def test_pooled_weights_scale_each_market_so_a_high_priced_one_does_not_decide():
    """Market A (prices ~10x B's) prefers member a, market B prefers b by more in relative terms:
    raw MAEs would follow A; the mean rMAE follows B."""
    y = np.zeros(100)
    big = ({"a": y + 10.0, "b": y + 12.0}, y, 100.0)  # b 20% worse on A
    small = ({"a": y + 2.0, "b": y + 1.0}, y, 10.0)  # a 100% worse on B
    assert ensemble.fit_pooled_weights([big, small], step=0.5) == {"a": 0.0, "b": 1.0}
    raw = ensemble.fit_pooled_weights([(big[0], y, 1.0), (small[0], y, 1.0)], step=0.5)
    assert raw == {"a": 1.0, "b": 0.0}
    assert ensemble.fit_pooled_weights([big], step=0.1) == ensemble.fit_weights(big[0], y, step=0.1)
    with pytest.raises(ValidationError, match="same members in the same order"):
        ensemble.fit_pooled_weights([big, ({"b": y, "a": y}, y, 1.0)])
    with pytest.raises(ValidationError, match="scale must be a positive number"):
        ensemble.fit_pooled_weights([(big[0], y, 0.0)])
    with pytest.raises(ValidationError, match="at least one market"):
        ensemble.fit_pooled_weights([])


def test_simplex_grid_and_bad_input():
    g = ensemble.simplex_grid(3, 0.25)
    assert np.allclose(g.sum(axis=1), 1) and (g >= 0).all() and len(g) == 15
    with pytest.raises(ValidationError, match="must divide 1"):
        ensemble.simplex_grid(2, 0.3)
    with pytest.raises(ValidationError, match="missing forecasts"):
        ensemble.fit_weights({"a": np.array([1.0, np.nan]), "b": np.ones(2)}, np.ones(2))
    with pytest.raises(ValidationError, match="2 forecasts per member for 3"):
        ensemble.fit_weights({"a": np.ones(2)}, np.ones(3))
    with pytest.raises(ValidationError, match="sum to 1"):
        ensemble.combine({"a": np.ones(2), "b": np.ones(2)}, {"a": 0.7, "b": 0.7})
    with pytest.raises(ValidationError, match=r"no forecasts for ensemble member\(s\) \['c'\]"):
        ensemble.combine({"a": np.ones(2)}, {"c": 1.0})


@pytest.mark.slow
def test_benchmark_dnn_and_ensemble_of_saved_members(tmp_path):
    from .test_lear import run_bench, write_csv

    csv = write_csv(tmp_path / "X.csv", 1130)  # a validation year before the 728 test days
    paths = {}
    for model, extra in (("lear", ["--lear-windows", "14,28"]), ("dnn", ["--dnn-hidden", "16,8", "--dnn-seeds", "0"])):
        for period in ("test", "validation"):
            p = tmp_path / f"{model}-{period}.parquet"
            flags = ["--validation"] if period == "validation" else []
            out = run_bench(str(csv), "--model", model, "--days", "2", "--save-predictions", str(p), *extra, *flags)
            assert out["days"] == 2 and out["period"] == period
            paths[model, period] = p
    out = run_bench(str(csv), "--model", "ensemble", "--days", "2", "--weight-step", "0.5",
                    "--member", f"lear={paths['lear', 'test']},{paths['lear', 'validation']}",
                    "--member", f"dnn={paths['dnn', 'test']},{paths['dnn', 'validation']}")
    w = out["settings"]["weights"]
    assert set(w) == {"lear", "dnn"} and sum(w.values()) == pytest.approx(1)
    assert {"lear", "dnn", "plain mean"} <= set(out["parts"]) and out["days"] == 2
    val = {m: pd.read_parquet(paths[m, "validation"]) for m in ("lear", "dnn")}
    y = val["lear"]["target_price_eur_mwh"].to_numpy()
    assert w == ensemble.fit_weights({m: val[m]["p50"].to_numpy() for m in val}, y, step=0.5)
