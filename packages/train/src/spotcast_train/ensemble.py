"""Ensembles of model families: fixed weights, chosen on validation forecasts only.

Members of different families (trees, LEAR, the DNN) err differently, so an average of them
beats each alone (the published LEAR and DNN ensembles averaged score better than either). The
weights are a point of the simplex (non-negative, summing to one) on a grid, the one with the
lowest MAE on the *validation* forecasts; they are then frozen and applied to the test period,
which never informs them.

Pure: arrays in, weights and arrays out.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np

from spotcast_storage.errors import ValidationError


def _check(forecasts: Mapping[str, np.ndarray], y: np.ndarray | None = None) -> tuple[list[str], np.ndarray]:
    if not forecasts:
        raise ValidationError("an ensemble needs at least one member's forecasts")
    names = list(forecasts)
    F = np.column_stack([np.asarray(forecasts[n], dtype="float64").ravel() for n in names])
    if y is not None and len(np.asarray(y).ravel()) != len(F):
        raise ValidationError(f"{len(F)} forecasts per member for {len(np.asarray(y).ravel())} observed values")
    if not np.isfinite(F).all():
        bad = names[int(np.flatnonzero(~np.isfinite(F).all(axis=0))[0])]
        raise ValidationError(f"member {bad!r} has missing forecasts; align the members on the same days first")
    return names, F


def simplex_grid(k: int, step: float) -> np.ndarray:
    """All weight vectors of ``k`` members on a grid of ``step`` that sum to one."""
    n = round(1 / step)
    if k < 1 or n < 1 or abs(n * step - 1) > 1e-9:
        raise ValidationError(f"weight step {step} must divide 1 (like 0.05 or 0.1)")
    rows = [c for c in itertools.product(range(n + 1), repeat=k - 1) if sum(c) <= n]
    return np.array([[*c, n - sum(c)] for c in rows], dtype="float64") / n


def fit_weights(forecasts: Mapping[str, np.ndarray], y: np.ndarray, step: float = 0.05) -> dict[str, float]:
    """Weights (name -> weight) with the lowest MAE of the weighted average on ``y``.

    Give it validation forecasts; ties go to the most even weights (closest to the plain mean)."""
    return fit_pooled_weights([(forecasts, y, 1.0)], step)


def fit_pooled_weights(markets: Sequence[tuple[Mapping[str, np.ndarray], np.ndarray, float]],
                       step: float = 0.05) -> dict[str, float]:
    """One set of weights for several markets: the lowest mean of each market's MAE divided by its
    ``scale`` (its weekly naive's MAE: the mean rMAE), so a market with high prices does not
    outweigh the others. A stage default serves every zone, so it cannot take one market's
    weights. Each entry: (member forecasts, observed values, scale); the same members in each."""
    if not markets:
        raise ValidationError("pooled ensemble weights need at least one market's validation forecasts")
    names = list(markets[0][0])
    W = simplex_grid(len(names), step)
    total = np.zeros(len(W))
    for forecasts, y, scale in markets:
        got, F = _check(forecasts, y)
        if got != names:
            raise ValidationError(f"every market needs the same members in the same order: {got} vs {names}")
        y = np.asarray(y, dtype="float64").ravel()
        if not np.isfinite(y).all():
            raise ValidationError("observed values for the ensemble weights hold missing values")
        if not (np.isfinite(scale) and scale > 0):
            raise ValidationError(f"a market's scale must be a positive number (its naive MAE), got {scale}")
        total += np.abs(F @ W.T - y[:, None]).mean(axis=0) / scale
    spread = ((W - 1 / len(names)) ** 2).sum(axis=1)
    best = np.lexsort((spread, np.round(total / len(markets), 12)))[0]
    return {n: float(w) for n, w in zip(names, W[best], strict=True)}


def combine(forecasts: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    """The weighted average of the members' forecasts with fixed ``weights``."""
    missing = set(weights) - set(forecasts)
    if missing:
        raise ValidationError(f"no forecasts for ensemble member(s) {sorted(missing)}")
    names, F = _check({n: forecasts[n] for n in weights})
    w = np.array([weights[n] for n in names], dtype="float64")
    if (w < 0).any() or abs(w.sum() - 1) > 1e-9:
        raise ValidationError(f"ensemble weights must be non-negative and sum to 1, got {dict(weights)}")
    return F @ w
