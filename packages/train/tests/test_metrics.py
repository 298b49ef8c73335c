from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from spotcast_train import metrics
from spotcast_train.evaluate import score, verdict


def test_metric_values():
    y, f = np.array([10.0, 20.0, 0.0]), np.array([12.0, 16.0, 0.0])
    assert metrics.mae(y, f) == 2.0
    assert math.isclose(metrics.rmse(y, f), math.sqrt((4 + 16) / 3))
    # sMAPE: 2*2/22, 2*4/36, and 0 for a pair of zeros
    assert math.isclose(metrics.smape(y, f), (4 / 22 + 8 / 36 + 0) / 3 * 100)
    assert metrics.point_metrics(y, f, naive_mae=4.0)["rmae"] == 0.5
    assert metrics.coverage(y, y - 1, y + 1) == 1.0
    assert math.isnan(metrics.mae([np.nan], [1.0]))


def _long(model, actual, p50, hd):
    return pd.DataFrame({"model": model, "horizon_day": hd, "actual": actual, "p50": p50,
                         "p10": np.asarray(p50) - 5, "p90": np.asarray(p50) + 5})


def test_score_compares_models_on_the_same_rows_and_says_who_wins():
    actual = np.array([50.0, 60.0, 70.0, 80.0])
    hd = [1, 1, 2, 2]
    df = pd.concat([
        _long("xgboost", actual, actual + 1, hd),
        _long("naive-weekly", actual, actual + 4, hd),
        _long("naive-daily", actual, actual + 2, hd),
    ])
    t = score(df)
    overall = t[t.horizon_day == 0].set_index("model")
    assert overall.loc["xgboost", "rmae"] == 0.25
    assert overall.loc["xgboost", "beats_naive"]
    assert set(t.horizon_day) == {0, 1, 2}
    assert "beats the naive" in verdict(t, "xgboost")


def test_a_model_worse_than_naive_says_so():
    actual = np.array([50.0, 60.0])
    df = pd.concat([_long("xgboost", actual, actual + 9, [1, 1]), _long("naive-weekly", actual, actual + 4, [1, 1]),
                    _long("naive-daily", actual, actual + 2, [1, 1])])
    t = score(df)
    assert not t[(t.model == "xgboost") & (t.horizon_day == 0)]["beats_naive"].item()
    assert "does NOT beat" in verdict(t, "xgboost") and "naive-daily" in verdict(t, "xgboost")


def test_band_width_and_quantile_loss():
    from spotcast_train.metrics import band_width, quantile_loss

    y = np.array([10.0, 20.0, 30.0, np.nan])
    lo, mid, hi = np.array([5.0, 25.0, 20.0, 1.0]), np.array([10.0, 30.0, 30.0, 2.0]), np.array([15.0, 35.0, 40.0, 3.0])
    assert band_width(lo, hi) == pytest.approx(np.mean([10, 10, 20, 2]))
    # y=20 lies below the whole band: p10 loses 0.9 * 5, p50 0.5 * 10, p90 0.1 * 15
    per_row = [[0.5, 0.0, 0.5], [4.5, 5.0, 1.5], [1.0, 0.0, 1.0]]
    assert quantile_loss(y, {0.1: lo, 0.5: mid, 0.9: hi}) == pytest.approx(np.mean(per_row))
    assert np.isnan(quantile_loss(y[3:], {0.1: lo[3:]}))
