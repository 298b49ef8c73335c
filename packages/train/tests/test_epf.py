"""The epftoolbox layout and protocol (on small files written here; the real data stays outside tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spotcast_storage.errors import ValidationError
from spotcast_train.epf import HOURS, epf_feature_names, epf_features, evaluate, read_epf_csv
from spotcast_train.synthetic import price_matrix
from spotcast_train.xgbmodel import fit_xgb

from .conftest import FAST

BENCHMARK = Path(__file__).resolve().parents[3] / "benchmarks" / "epf.py"


def write_csv(path: Path, days: int) -> Path:
    P = price_matrix(days, seed=3)
    ts = pd.date_range("2015-01-01", periods=days * HOURS, freq="h")
    load = 10_000 + 100 * P.ravel() + np.random.default_rng(0).normal(0, 50, days * HOURS)
    pd.DataFrame({"Date": ts, " Prices": P.ravel(), " Load forecast": load, " Wind": 5.0}).to_csv(path, index=False)
    return path


def test_read_and_features_are_point_in_time(tmp_path):
    data = read_epf_csv(write_csv(tmp_path / "X.csv", 40))
    assert data.prices.shape == (40, 24) and set(data.exogenous) == {"exo_1", "exo_2"}
    f = epf_features(data)
    day10 = f[f["origin"] == data.days[10]]
    assert np.allclose(day10["price_lag_1d"], data.prices[9]) and np.allclose(day10["price_lag_7d"], data.prices[3])
    assert np.allclose(day10["last_day_mean"], data.prices[9].mean())
    assert np.allclose(day10["roll7_mean"], data.prices[3:10].mean())
    assert np.allclose(day10["exo_1"], data.exogenous["exo_1"][10])  # the day's own exogenous forecast
    assert (day10["known_at"] == data.days[10] + pd.Timedelta(days=1)).all()
    assert "target_price_eur_mwh" not in epf_feature_names(f)


def test_protocol_scores_against_the_weekly_naive(tmp_path):
    data = read_epf_csv(write_csv(tmp_path / "X.csv", 120))

    def fit(frame, origin):
        assert frame["origin"].max() < origin  # only earlier days train the model
        return fit_xgb(frame, epf_feature_names(frame), "target_price_eur_mwh", "origin", FAST, until=origin)

    pred, res = evaluate(data, fit, recalibrate=7, test_days=21)
    assert res["days"] == 21 and len(pred) == 21 * 24
    assert 0 < res["rmae"] < 1 and res["mae"] < res["naive_weekly_mae"]
    assert {"mae", "rmse", "smape", "rmae"} <= set(res)
    _, val = evaluate(data, fit, recalibrate=7, test_days=21, validation=True, validation_days=21,
                      max_days=7)
    assert val["days"] == 7


def test_the_protocol_split_over_processes_forecasts_exactly_as_one_run(tmp_path):
    """``jobs=2`` (benchmarks/epf.py --jobs 2): each forked part is a run of whole refit blocks, so
    every model is fitted at the same origin on the same rows, and the forecasts are identical."""
    data = read_epf_csv(write_csv(tmp_path / "X.csv", 120))
    settings = FAST.with_(nthread=1)

    def fit(frame, origin):
        return fit_xgb(frame, epf_feature_names(frame), "target_price_eur_mwh", "origin", settings, until=origin)

    one, res1 = evaluate(data, fit, recalibrate=7, test_days=24)
    two, res2 = evaluate(data, fit, recalibrate=7, test_days=24, jobs=2)
    key = ["origin", "ts"]
    one, two = one.sort_values(key, ignore_index=True), two.sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(one, two)
    assert res1 == res2 and one["fitted_at"].nunique() == 4  # 24 days, refits every 7: 4 blocks, 2 per part


@pytest.mark.parametrize(("text", "match"), [
    ("Date,Price\n2015-01-01 00:00:00,1\n", "whole number of 24-hour days"),
    ("Date,Price\n" + "".join(f"2015-01-01 {h % 24:02d}:00:00,1\n" for h in range(23)) + "nonsense,1\n",
     "unparsable timestamp"),
    ("Date,Price\n" + "".join(f"2015-01-01 {h:02d}:00:00,{'x' if h == 5 else 1}\n" for h in range(24)),
     "non-numeric"),
    ("Date,Price\n" + "".join(f"2015-01-01 {(h + 1) % 24:02d}:00:00,1\n" for h in range(24)), "hours 0..23"),
])
def test_bad_files(tmp_path, text, match):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(ValidationError, match=match):
        read_epf_csv(p)


@pytest.mark.slow
def test_benchmark_script_json_last_line(tmp_path):
    csv = write_csv(tmp_path / "BE.csv", 760)
    r = subprocess.run([sys.executable, str(BENCHMARK), str(csv), "--max-days", "2", "--rounds", "10",
                        "--depth", "3", "--json"], capture_output=True, text=True, timeout=300, check=True)
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert {"mae", "rmae", "smape", "rmse", "settings", "recalibrate"} <= set(out)
    assert out["days"] == 2 and out["settings"]["num_boost_round"] == 10
    assert "LEAR ensemble (published)" in r.stdout  # a file named BE.csv is compared with the paper
