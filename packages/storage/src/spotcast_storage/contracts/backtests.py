"""Contracts written by the train stage: rolling-origin backtest forecasts and their metrics.

Both are keyed by ``run_id``, a readable name derived from the backtest's settings (zone, model,
period, recalibration, window), so running the same backtest again upserts the same rows
instead of piling up copies, and different settings sit side by side for SQL, e.g.::

    select model, horizon_day, mae, rmae from backtest_metrics
    where run_id = 'se3_xgboost_20240101_20240401_weekly_all' order by model, horizon_day
"""

from __future__ import annotations

import pandas as pd

from spotcast_storage.contracts.base import Column, Contract, Upgrade

BACKTESTS = Contract(
    name="backtests",
    version=1,
    primary_key=("run_id", "zone", "model", "origin", "ts"),
    event_time="origin",
    description="Rolling-origin backtest forecasts: per run, zone, model (the evaluated model and "
    "the naive baselines), origin and target hour, the p10/p50/p90 forecast next to the actual price.",
    columns=(
        Column("run_id", "string", "backtest run: zone_model_start_end_recalibration_window", nullable=False),
        Column("zone", "string", "bidding zone", nullable=False),
        Column("model", "string", "model type (xgboost, naive-daily, naive-weekly, or a plugin's)",
               nullable=False),
        Column("origin", "timestamp", "forecast origin, UTC", nullable=False),
        Column("ts", "timestamp", "target hour (start), UTC", nullable=False),
        Column("horizon_day", "bigint", "local day of the target counted from the first target day (1..7)",
               nullable=False),
        Column("actual", "double", "actual hourly price, EUR/MWh"),
        Column("p10", "double", "10th percentile forecast, EUR/MWh"),
        Column("p50", "double", "median (point) forecast, EUR/MWh", nullable=False),
        Column("p90", "double", "90th percentile forecast, EUR/MWh"),
        Column("fitted_at", "timestamp", "origin whose known data trained the model that made this forecast",
               nullable=False),
    ),
)

def _v1_to_v2(old: pd.DataFrame) -> pd.DataFrame:
    """v1 rows measured neither the band's width nor the pinball loss: both stay null."""
    return old.assign(width_p10_p90=float("nan"), pinball=float("nan"))


BACKTEST_METRICS = Contract(
    name="backtest_metrics",
    version=2,
    primary_key=("run_id", "zone", "model", "horizon_day"),
    event_time="created_at",
    description="Accuracy of each backtest run per model and horizon day (0 = all days): MAE, RMSE, "
    "sMAPE and rMAE against the weekly naive on the same rows, p10-p90 coverage, mean band width and "
    "mean pinball loss, plus the run's settings. v2 added width_p10_p90 and pinball (v1 rows are "
    "copied in with them null).",
    columns=(
        Column("run_id", "string", "backtest run (see backtests)", nullable=False),
        Column("zone", "string", "bidding zone", nullable=False),
        Column("model", "string", "model type", nullable=False),
        Column("horizon_day", "bigint", "1..7, or 0 for all horizon days together", nullable=False),
        Column("n", "bigint", "forecast rows with a known actual", nullable=False),
        Column("mae", "double", "mean absolute error, EUR/MWh"),
        Column("rmse", "double", "root mean squared error, EUR/MWh"),
        Column("smape", "double", "symmetric MAPE, % (mean of 2|p - f| / (|p| + |f|))"),
        Column("rmae", "double", "MAE / MAE of naive-weekly (price_lag_7d) on the same rows"),
        Column("coverage_p10_p90", "double", "share of actuals inside [p10, p90] (0.8 is calibrated)"),
        Column("width_p10_p90", "double", "mean p90 - p10, EUR/MWh: what the coverage costs"),
        Column("pinball", "double", "mean pinball (quantile) loss of p10, p50 and p90, EUR/MWh"),
        Column("beats_naive", "boolean", "rmae < 1 and MAE below naive-daily's on the same rows"),
        Column("period_start", "timestamp", "first origin of the run, UTC", nullable=False),
        Column("period_end", "timestamp", "end of the run's origins (exclusive), UTC", nullable=False),
        Column("recalibrate", "string", "daily | weekly | never | every N days", nullable=False),
        Column("window_days", "bigint", "training window cap in days (null: all history)"),
        Column("created_at", "timestamp", "when the run was written, UTC", nullable=False),
    ),
    upgrade=Upgrade(1, _v1_to_v2, "width_p10_p90 and pinball added, null for v1 rows"),
)


__all__ = ["BACKTESTS", "BACKTEST_METRICS"]
