"""From hourly forecasts to quarter-hour forecasts: intra-hour shapes.

Since 2025-10-01 the Nordic day-ahead market clears 96 quarter-hours a day, while almost all
history (and every hourly-only zone) is hourly. These functions turn an hourly forecast into
quarter-hours without losing the hourly mean: a flat repeat (what an hourly product implies),
a mean-preserving linear ramp through the neighbouring hours, and the features a learned shape
model uses on top of the ramp. They work on day matrices (``days x 24`` hourly values,
``days x 96`` quarter-hour values in local delivery-day slots); DST days are the caller's
concern (92/100 slots are handled where the pipeline lays out a day).

Measured on real SE4 data in benchmarks/quarter.py (results in benchmarks/README.md).
"""

from __future__ import annotations

import numpy as np

QUARTERS = 4
OFFSETS = np.array([-0.375, -0.125, 0.125, 0.375])
"""Centre of each quarter relative to the hour's centre, in hours: the ramp's lever arm."""


def _check_hourly(hourly: np.ndarray) -> np.ndarray:
    a = np.asarray(hourly, dtype=float)
    if a.ndim != 2 or a.shape[1] != 24:
        raise ValueError(f"hourly forecasts must be a days x 24 matrix, got shape {a.shape}")
    return a


def repeat_quarters(hourly: np.ndarray) -> np.ndarray:
    """Each hour's value in its four quarters (the hourly product read at 15 minutes)."""
    return np.repeat(_check_hourly(hourly), QUARTERS, axis=1)


def hourly_means(quarters: np.ndarray) -> np.ndarray:
    q = np.asarray(quarters, dtype=float)
    if q.ndim != 2 or q.shape[1] != 96:
        raise ValueError(f"quarter-hour values must be a days x 96 matrix, got shape {q.shape}")
    return q.reshape(len(q), 24, QUARTERS).mean(axis=2)


def neighbour_slopes(hourly: np.ndarray) -> np.ndarray:
    """Per hour, the price change per hour through it: the centred difference of the neighbouring
    hours, continued across midnight from the previous and next day where they exist."""
    h = _check_hourly(hourly)
    flat = h.reshape(-1)
    prev = np.concatenate([flat[:1], flat[:-1]])
    nxt = np.concatenate([flat[1:], flat[-1:]])
    slope = (nxt - prev) / 2.0
    # at the ends of the series (or next to a missing hour) fall back to the one-sided difference
    one_sided_prev = flat - prev
    one_sided_next = nxt - flat
    slope = np.where(np.isnan(slope), np.where(np.isnan(one_sided_prev), one_sided_next, one_sided_prev), slope)
    return np.nan_to_num(slope).reshape(h.shape)


def linear_ramp(hourly: np.ndarray, damping: float = 1.0) -> np.ndarray:
    """Quarters on a straight line through each hour with the slope of its neighbours, so the mean
    of the four quarters is the hour's value exactly (the offsets sum to zero). ``damping`` scales
    the slope (1: the full line; chosen by measurement, see benchmarks/quarter.py)."""
    h = _check_hourly(hourly)
    slope = neighbour_slopes(h) * damping
    out = h[:, :, None] + slope[:, :, None] * OFFSETS[None, None, :]
    return out.reshape(len(h), 96)


def shape_features(hourly: np.ndarray, weekday: np.ndarray) -> dict[str, np.ndarray]:
    """Per quarter-hour slot (flattened ``days x 96``): what a learned shape model may look at,
    all computed from the hourly *forecast* (never from the day's actuals)."""
    h = _check_hourly(hourly)
    n = len(h)
    slope = neighbour_slopes(h)
    flat = h.reshape(-1)
    prev = np.concatenate([flat[:1], flat[:-1]]).reshape(h.shape)
    nxt = np.concatenate([flat[1:], flat[-1:]]).reshape(h.shape)
    per_hour = {
        "level": h, "slope": slope, "step_in": h - prev, "step_out": nxt - h,
        "day_mean": np.repeat(np.nanmean(h, axis=1, keepdims=True), 24, axis=1),
    }
    out = {k: np.repeat(v, QUARTERS, axis=1).reshape(-1) for k, v in per_hour.items()}
    out["quarter"] = np.tile(np.arange(QUARTERS), n * 24).astype(float)
    out["hour"] = np.tile(np.repeat(np.arange(24), QUARTERS), n).astype(float)
    out["weekday"] = np.repeat(np.asarray(weekday, dtype=float), 96)
    out["ramp"] = np.repeat(slope, QUARTERS, axis=1).reshape(-1) * np.tile(OFFSETS, n * 24)
    return out
