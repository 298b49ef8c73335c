"""backtest_metrics v2 (width and pinball beside coverage): a store with v1 rows keeps them."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from spotcast_storage.contracts.backtests import BACKTEST_METRICS

V1 = replace(BACKTEST_METRICS, version=1, upgrade=None,
             columns=tuple(c for c in BACKTEST_METRICS.columns if c.name not in ("width_p10_p90", "pinball")))


def _row(run_id: str, **extra) -> pd.DataFrame:
    t = pd.Timestamp("2024-03-01", tz="UTC")
    return pd.DataFrame([{
        "run_id": run_id, "zone": "SE3", "model": "xgboost", "horizon_day": 0, "n": 168, "mae": 5.0, "rmse": 7.0,
        "smape": 10.0, "rmae": 0.8, "coverage_p10_p90": 0.79, "beats_naive": True, "period_start": t,
        "period_end": t + pd.Timedelta(days=7), "recalibrate": "weekly", "window_days": None, "created_at": t, **extra,
    }])


def test_v1_rows_are_copied_into_v2_once_and_the_view_shows_both(project):
    fs = project.get_feature_store()
    V1.get_or_create(fs).insert(V1.conform(_row("old_run")))
    fg = BACKTEST_METRICS.get_or_create(fs)
    fg.insert(BACKTEST_METRICS.conform(_row("new_run", width_p10_p90=21.5, pinball=2.1)))
    BACKTEST_METRICS.get_or_create(fs)  # a second use copies nothing again
    got = project.sql("select run_id, coverage_p10_p90, width_p10_p90, pinball from backtest_metrics order by run_id")
    assert got["run_id"].tolist() == ["new_run", "old_run"]
    assert got.loc[0, "width_p10_p90"] == 21.5 and pd.isna(got.loc[1, "width_p10_p90"])
    assert got.loc[1, "coverage_p10_p90"] == 0.79
