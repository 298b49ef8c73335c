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
