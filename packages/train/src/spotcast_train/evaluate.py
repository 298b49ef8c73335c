"""Scoring backtest forecasts: per model and horizon day, next to the naive baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd

from spotcast_train import metrics

RMAE_REFERENCE = "naive-weekly"
"""rMAE divides by the weekly naive's MAE on the same rows (the epftoolbox convention)."""


def score(forecasts: pd.DataFrame, reference: str = RMAE_REFERENCE) -> pd.DataFrame:
    """One row per model and horizon day (0 = all days) with n, MAE, RMSE, sMAPE, rMAE,
    p10-p90 coverage, the band's mean width, the mean pinball loss of p10/p50/p90 and whether
    the model beats every naive baseline on those rows.

    ``forecasts`` is long: columns model, horizon_day, actual, p50 (p10/p90 optional), with the
    same (origin, ts) rows for every model, so every model is scored on the same hours."""
    rows = []
    scored = forecasts[forecasts["actual"].notna()]
    naive_models = sorted(m for m in scored["model"].unique() if str(m).startswith("naive"))
    for hd, part in [(0, scored), *sorted(scored.groupby("horizon_day"), key=lambda kv: kv[0])]:
        ref = part[part["model"] == reference]
        ref_mae = metrics.mae(ref["actual"], ref["p50"]) if len(ref) else float("nan")
        naive_best = min((metrics.mae(g["actual"], g["p50"]) for m, g in part.groupby("model")
                          if m in naive_models), default=float("nan"))
        for model, g in part.groupby("model", sort=True):
            m = metrics.point_metrics(g["actual"], g["p50"], ref_mae)
            band = {"p10", "p90"} <= set(g)
            cov = metrics.coverage(g["actual"], g["p10"], g["p90"]) if band else float("nan")
            width = metrics.band_width(g["p10"], g["p90"]) if band else float("nan")
            loss = metrics.quantile_loss(g["actual"], {0.1: g["p10"], 0.5: g["p50"], 0.9: g["p90"]}) if band \
                else float("nan")
            rows.append({
                "model": model, "horizon_day": int(hd), "n": len(g), **m, "coverage_p10_p90": cov,
                "width_p10_p90": width, "pinball": loss,
                "beats_naive": bool(np.isfinite(naive_best) and m["mae"] < naive_best) if model not in naive_models
                else False,
            })
    return pd.DataFrame(rows)


def verdict(table: pd.DataFrame, model: str) -> str:
    """One sentence saying whether ``model`` beat the naive baselines overall."""
    overall = table[(table["horizon_day"] == 0)].set_index("model")
    if model not in overall.index:
        return f"{model} produced no scored forecasts"
    m = overall.loc[model]
    naive = overall[overall.index.str.startswith("naive")]
    if naive.empty:
        return f"{model}: MAE {m['mae']:.2f} (no naive baseline scored)"
    best = naive["mae"].idxmin()
    if m["mae"] < naive.loc[best, "mae"]:
        return (f"{model} beats the naive baselines: MAE {m['mae']:.2f} vs {naive.loc[best, 'mae']:.2f} "
                f"({best}), rMAE {m['rmae']:.3f}")
    return (f"{model} does NOT beat the naive baseline: MAE {m['mae']:.2f} vs {naive.loc[best, 'mae']:.2f} "
            f"({best}), rMAE {m['rmae']:.3f}; do not use it over {best}")


def score_quarters(forecasts: pd.DataFrame, prices: pd.DataFrame, tz: str) -> pd.DataFrame:
    """Backtest forecasts at 15 minutes: each model's hourly forecasts as quarter-hours (the ramp
    serve publishes, :mod:`spotcast_storage.quarters`) against the 15-minute ``prices`` (``ts``,
    ``price_eur_mwh``), beside the same hourly forecast repeated in its quarters. One row per
    model and horizon day (0 = all), ``quarters`` scored; empty when no quarter has a price."""
    from spotcast_storage import quarters

    cols = ["model", "horizon_day", "quarters", "mae", "hourly_mae", "gain_vs_hourly"]
    if prices.empty or forecasts.empty:
        return pd.DataFrame(columns=cols)
    f = forecasts.assign(zone="_", made_at=forecasts["origin"], model_version=0, fallback_reason=None)
    for c in ("p10", "p90"):
        if c not in f:
            f[c] = np.nan
    q = quarters.to_quarters(f, pd.Timestamp(prices["ts"].min()))
    price = prices.assign(ts=pd.to_datetime(prices["ts"], utc=True))[["ts", "price_eur_mwh"]]
    q = q.merge(price, on="ts", how="inner")
    if q.empty:
        return pd.DataFrame(columns=cols)
    local = q["ts"].dt.tz_convert(tz).dt.normalize()
    q["horizon_day"] = (local - q["origin"].dt.tz_convert(tz).dt.normalize()).dt.days
    q["err"] = (q["p50"] - q["price_eur_mwh"]).abs()
    q["hourly_err"] = (q["p50_hourly"] - q["price_eur_mwh"]).abs()
    rows = []
    for hd, part in [(0, q), *sorted(q.groupby("horizon_day"), key=lambda kv: kv[0])]:
        for model, g in part.groupby("model", sort=True):
            mae, hourly = float(g["err"].mean()), float(g["hourly_err"].mean())
            rows.append({"model": model, "horizon_day": int(hd), "quarters": len(g), "mae": mae,
                         "hourly_mae": hourly, "gain_vs_hourly": 1 - mae / hourly if hourly else float("nan")})
    return pd.DataFrame(rows, columns=cols)
