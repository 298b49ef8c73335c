"""Calibrated p10/p90 bands: conformal quantiles of recent scaled residuals (pure maths, no I/O).

Why this shape. A band measured once on a long calibration window is as wide as that window's
errors: too wide in a calm spell, too narrow after a regime change. Here every band comes from
the forecast errors of the *recent* past, each divided by the recent price volatility known at
its own origin (a unit such as ``roll7_std``), and is put back around the point forecast in the
current origin's unit: the band follows the recent error level *and* the recent volatility.
Adaptive conformal inference (Gibbs & Candès, 2021) then moves the quantile levels by the
realised misses, so a band that keeps missing widens itself until coverage is back on target.

Point-in-time: the band of a forecast made at origin ``o`` uses only errors of forecasts whose
actual was published by ``o`` (``known_at <= o``); a test changes every later actual and checks
the bands do not move.

It lives in storage because two stages use it and stages never import each other:

- :func:`offsets` -- residual quantiles of a set of scaled residuals, with the finite-sample
  conformal correction; the train stage stores them in the model artifact at fit time.
- :func:`online_bands` -- a forecast stream (a rolling backtest) gets per-origin bands from the
  stream's own earlier errors (optionally with adaptive conformal updates).
- :func:`offsets_at` -- that band as it stands at one time: serve recalibrates every published
  forecast's p10/p90 with it, from the zone's earlier published forecasts and the promotion
  gate's rolling forecasts of the serving model (``spotcast_serve.service.calibrate``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spotcast_storage.errors import ValidationError


def conformal_quantile(r: np.ndarray, q: float) -> float:
    """Empirical ``q`` quantile of ``r`` with the split-conformal finite-sample correction: the
    upper quantile is taken at level ``q (n + 1) / n`` and the lower one at ``(q (n + 1) - 1) / n``,
    so a band from ``n`` exchangeable residuals covers at least its nominal share of a new one."""
    r = np.asarray(r, dtype="float64")
    r = r[np.isfinite(r)]
    n = len(r)
    if n == 0:
        return float("nan")
    level = q * (n + 1) / n if q >= 0.5 else (q * (n + 1) - 1) / n
    return float(np.quantile(r, min(1.0, max(0.0, level))))


def scaled_residuals(actual: np.ndarray, point: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """``(actual - point) / unit``; NaN where the unit is not a positive finite number."""
    a = np.asarray(actual, dtype="float64")
    p = np.asarray(point, dtype="float64")
    u = np.asarray(unit, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.isfinite(u) & (u > 0), (a - p) / u, np.nan)


def offsets(r: np.ndarray, quantiles: Sequence[float]) -> dict[float, float]:
    """Conformal quantile per level (0.5 maps to 0: the point forecast is the median)."""
    return {q: 0.0 if q == 0.5 else conformal_quantile(r, q) for q in quantiles}


def units(values: np.ndarray, typical: float | None = None) -> np.ndarray:
    """A row's unit: the value where positive and finite, else ``typical`` (median of the good
    values when not given), so a missing volatility never makes a band of width 0 or NaN."""
    v = np.asarray(values, dtype="float64")
    good = np.isfinite(v) & (v > 0)
    if typical is None:
        typical = float(np.median(v[good])) if good.any() else 1.0
    return np.where(good, v, typical)


@dataclass(frozen=True)
class OnlineSettings:
    """How :func:`online_bands` calibrates; defaults chosen in benchmarks/intervals.py."""

    window_days: int = 91
    """Days of origins whose errors make a band: long enough for stable 10% tails per horizon
    day; the adaptive updates, not the window, follow a regime change. 91 beat 28 and 56 days
    on pinball loss and width on BE, PJM and SE4 (benchmarks/README.md, "intervals")."""
    min_residuals: int = 48
    """Fewer known errors than this in a group: the band stays as the model gave it."""
    gamma: float = 0.005
    """Adaptive conformal step per origin; 0 turns the adaptation off."""
    lower: float = 0.1
    upper: float = 0.9


def online_bands(stream: pd.DataFrame, settings: OnlineSettings = OnlineSettings(), *,
                 group: str = "horizon_day", unit: str = "unit", point: str = "p50", actual: str = "actual",
                 origin: str = "origin", known: str = "known_at", as_of: str | None = None) -> pd.DataFrame:
    """Per row of ``stream`` (one forecast per row: origin, group, point, unit, actual, known_at),
    the band ``[lo, hi]`` from errors of earlier forecasts of the same group whose actual was
    known at the row's origin, from the last ``window_days`` days of origins.

    ``as_of`` (a column, e.g. ``fitted_at``): use only what was known at that time instead of at
    the row's origin -- a band frozen when the model was fitted, what a model artifact can carry.

    Returns a frame on ``stream``'s index with ``lo``, ``hi`` (NaN where fewer than
    ``min_residuals`` errors were known), ``q_lo``, ``q_hi`` (the quantile levels used after
    adaptive updates)."""
    missing = [c for c in (group, unit, point, actual, origin, known) if c not in stream.columns]
    if missing:
        raise ValidationError(f"forecast stream lacks column(s) {missing}")
    if not 0 < settings.lower < 0.5 < settings.upper < 1:
        raise ValidationError(f"band levels must satisfy 0 < lower < 0.5 < upper < 1, got "
                              f"{settings.lower}, {settings.upper}")
    o = _ns(stream[origin])
    k = _ns(stream[known])
    cut_all = _ns(stream[as_of]) if as_of is not None else o
    g = stream[group].to_numpy()
    u = stream[unit].to_numpy(dtype="float64", na_value=np.nan)
    u = np.where(np.isfinite(u) & (u > 0), u, np.nan)  # no unit known at the origin: no band
    p = stream[point].to_numpy(dtype="float64", na_value=np.nan)
    y = stream[actual].to_numpy(dtype="float64", na_value=np.nan)
    r = scaled_residuals(y, p, u)
    lo, hi = np.full(len(stream), np.nan), np.full(len(stream), np.nan)
    qlo, qhi = np.full(len(stream), np.nan), np.full(len(stream), np.nan)
    window = pd.Timedelta(days=settings.window_days).value
    miss_lo, miss_hi = settings.lower, 1 - settings.upper  # nominal shares below lo / above hi
    for gv in pd.unique(g):
        rows = np.flatnonzero(g == gv)
        og, kg, rg, cg = o[rows], k[rows], r[rows], cut_all[rows]
        ql, qh = settings.lower, settings.upper
        fed = np.zeros(len(rows), dtype=bool)  # errors already fed back to the levels
        for t in np.unique(og):
            c = cg[og == t][0]  # what this origin's band may know: its origin, or its as-of time
            if settings.gamma > 0:
                # adaptive conformal: every band whose actual became known since the last origin
                # moves the levels by its misses (one step per origin)
                new = (kg <= c) & ~fed & np.isfinite(lo[rows]) & np.isfinite(y[rows])
                if new.any():
                    idx = rows[new]
                    below = float(np.mean(y[idx] < lo[idx]))
                    above = float(np.mean(y[idx] > hi[idx]))
                    ql = float(np.clip(ql + settings.gamma * (miss_lo - below), 0.001, 0.45))
                    qh = float(np.clip(qh + settings.gamma * (above - miss_hi), 0.55, 0.999))
                fed |= (kg <= c) & np.isfinite(lo[rows])
            avail = (kg <= c) & (og > c - window) & np.isfinite(rg)
            if avail.sum() < settings.min_residuals:
                continue
            a, b = conformal_quantile(rg[avail], ql), conformal_quantile(rg[avail], qh)
            idx = rows[og == t]
            lo[idx] = p[idx] + u[idx] * a
            hi[idx] = p[idx] + u[idx] * b
            qlo[idx], qhi[idx] = ql, qh
    lo, hi = np.minimum(lo, p), np.maximum(hi, p)
    return pd.DataFrame({"lo": lo, "hi": hi, "q_lo": qlo, "q_hi": qhi}, index=stream.index)


def _ns(values: pd.Series) -> np.ndarray:
    idx = pd.DatetimeIndex(values)
    if idx.tz is not None:
        idx = idx.tz_convert("UTC")
    return np.asarray(idx.as_unit("ns").asi8)


def offsets_at(history: pd.DataFrame, at: pd.Timestamp, settings: OnlineSettings = OnlineSettings(), *,
               group: str = "horizon_day", unit: str = "unit", point: str = "p50", actual: str = "actual",
               origin: str = "origin", known: str = "known_at") -> dict[str, tuple[float, float]]:
    """The online band of :func:`online_bands` as it stands at ``at``, per group: ``(lo, hi)``
    offsets in units, from ``history`` (earlier forecasts with their actuals) replayed with the
    adaptive updates. What a model fitted at ``at`` can carry in its artifact and apply, times
    each row's unit, until its next fit (benchmarks/intervals.py: "frozen at refit"). Groups with
    fewer than ``min_residuals`` known errors are left out."""
    h = history[pd.DatetimeIndex(history[origin]) < at]
    if h.empty:
        return {}
    groups = pd.unique(h[group])
    probe = pd.DataFrame({group: groups, point: 0.0, unit: 1.0, actual: np.nan, origin: at, known: at})
    probe[origin] = pd.DatetimeIndex(probe[origin])
    probe[known] = pd.DatetimeIndex(probe[known]) + pd.Timedelta(days=36500)
    frame = pd.concat([h[[group, point, unit, actual, origin, known]], probe], ignore_index=True)
    frame[origin] = pd.DatetimeIndex(frame[origin])
    frame[known] = pd.DatetimeIndex(frame[known])
    b = online_bands(frame, settings, group=group, unit=unit, point=point, actual=actual, origin=origin, known=known)
    tail = b.iloc[len(h):]
    return {str(g): (float(lo), float(hi)) for g, lo, hi in zip(groups, tail["lo"], tail["hi"], strict=True)
            if np.isfinite(lo) and np.isfinite(hi)}
