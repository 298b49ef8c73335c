"""Accuracy measures as the electricity-price-forecasting literature defines them.

sMAPE = mean(2|p - p̂| / (|p| + |p̂|)) x 100 (a pair of zeros counts as zero error).
rMAE = MAE of the model / MAE of a naive forecast on the same period; the epftoolbox
convention uses the weekly naive and, on a test period, drops the first 7 days from the
naive's MAE (the naive of those days would need prices from before the test period).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _pair(y: np.ndarray | pd.Series, yhat: np.ndarray | pd.Series) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(y, dtype="float64")
    b = np.asarray(yhat, dtype="float64")
    ok = np.isfinite(a) & np.isfinite(b)
    return a[ok], b[ok]


def mae(y: np.ndarray | pd.Series, yhat: np.ndarray | pd.Series) -> float:
    a, b = _pair(y, yhat)
    return float(np.mean(np.abs(a - b))) if len(a) else float("nan")


def rmse(y: np.ndarray | pd.Series, yhat: np.ndarray | pd.Series) -> float:
    a, b = _pair(y, yhat)
    return float(np.sqrt(np.mean((a - b) ** 2))) if len(a) else float("nan")


def smape(y: np.ndarray | pd.Series, yhat: np.ndarray | pd.Series) -> float:
    a, b = _pair(y, yhat)
    if not len(a):
        return float("nan")
    den = np.abs(a) + np.abs(b)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(den > 0, 2 * np.abs(a - b) / den, 0.0)
    return float(np.mean(r) * 100)


def pinball(y: np.ndarray | pd.Series, yq: np.ndarray | pd.Series, q: float) -> float:
    a, b = _pair(y, yq)
    d = a - b
    return float(np.mean(np.maximum(q * d, (q - 1) * d))) if len(a) else float("nan")


def coverage(y: np.ndarray | pd.Series, lo: np.ndarray | pd.Series, hi: np.ndarray | pd.Series) -> float:
    a = np.asarray(y, dtype="float64")
    lo_, hi_ = np.asarray(lo, dtype="float64"), np.asarray(hi, dtype="float64")
    ok = np.isfinite(a) & np.isfinite(lo_) & np.isfinite(hi_)
    return float(np.mean((a[ok] >= lo_[ok]) & (a[ok] <= hi_[ok]))) if ok.any() else float("nan")


def band_width(lo: np.ndarray | pd.Series, hi: np.ndarray | pd.Series) -> float:
    """Mean width of a band where both ends exist: the price of a band's coverage."""
    lo_, hi_ = np.asarray(lo, dtype="float64"), np.asarray(hi, dtype="float64")
    ok = np.isfinite(lo_) & np.isfinite(hi_)
    return float(np.mean(hi_[ok] - lo_[ok])) if ok.any() else float("nan")


def quantile_loss(y: np.ndarray | pd.Series, forecasts: dict[float, np.ndarray | pd.Series]) -> float:
    """Mean pinball loss over the given quantiles (e.g. p10, p50, p90), on the rows where all of
    them and the actual exist: one number that rewards both coverage and sharpness."""
    a = np.asarray(y, dtype="float64")
    cols = {q: np.asarray(v, dtype="float64") for q, v in forecasts.items()}
    ok = np.isfinite(a)
    for v in cols.values():
        ok &= np.isfinite(v)
    if not ok.any() or not cols:
        return float("nan")
    return float(np.mean([pinball(a[ok], v[ok], q) for q, v in cols.items()]))


def point_metrics(y: np.ndarray | pd.Series, yhat: np.ndarray | pd.Series, naive_mae: float | None = None) -> dict[str, float]:
    m = mae(y, yhat)
    out = {"mae": m, "rmse": rmse(y, yhat), "smape": smape(y, yhat)}
    if naive_mae is not None:
        out["rmae"] = m / naive_mae if naive_mae and np.isfinite(naive_mae) else float("nan")
    return out
