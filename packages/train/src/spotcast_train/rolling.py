"""Rolling-origin evaluation: per origin, train only on what was known then, forecast the horizon.

One loop serves the stage's backtest and the epftoolbox benchmark. Each row has a forecast
origin (``time_col``) and the time its label became known (``known_col``); at origin ``o`` the
model may train on rows with ``known_col <= o`` and forecasts the rows whose origin is ``o``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from spotcast_storage.errors import ValidationError
from spotcast_storage.modelformat import ModelPredictor

RECALIBRATE = {"daily": 1, "weekly": 7, "never": 0}


def parse_recalibrate(value: str | int) -> int:
    """``daily`` -> 1, ``weekly`` -> 7, ``never`` -> 0 (fit once), ``14d`` or ``14`` -> 14."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValidationError(f"recalibration every {value} days is impossible; use 0 for never")
        return value
    s = str(value).strip().lower()
    if s in RECALIBRATE:
        return RECALIBRATE[s]
    m = re.fullmatch(r"(\d+)\s*d?", s)
    if not m:
        raise ValidationError(f"--recalibrate {value!r}: use daily, weekly, never or a number of days like 14d")
    return int(m.group(1))


def parse_days(value: str | int | None, what: str = "--window") -> int | None:
    """``730d``, ``730`` -> 730; ``2y`` -> 730 (365 days a year); None stays None."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        n = value
    else:
        m = re.fullmatch(r"\s*(\d+)\s*([dwy]?)\s*", str(value).lower())
        if not m:
            raise ValidationError(f"{what} {value!r}: give days like 730d, weeks like 8w or years like 2y")
        n = int(m.group(1)) * {"": 1, "d": 1, "w": 7, "y": 365}[m.group(2)]
    if n < 1:
        raise ValidationError(f"{what} must be at least one day, got {value!r}")
    return n


def refit_blocks(origins: Sequence[pd.Timestamp], recalibrate: int) -> list[list[pd.Timestamp]]:
    """The origins (sorted, unique) grouped by the fit that forecasts them: a fit at the first
    origin, then at the first origin ``recalibrate`` days or more after the last fit (0: never
    again). Each block starts at its fit's origin, so a run over any run of whole blocks refits
    exactly as a run over all of them (the benchmark splits its 728 days this way over cores)."""
    order = sorted(pd.Timestamp(o) for o in dict.fromkeys(origins))
    blocks: list[list[pd.Timestamp]] = []
    for o in order:
        if not blocks or (recalibrate > 0 and (o - blocks[-1][0]) >= pd.Timedelta(days=recalibrate)):
            blocks.append([o])
        else:
            blocks[-1].append(o)
    return blocks


def rolling_origin(frame: pd.DataFrame, origins: Sequence[pd.Timestamp],
                   fit: Callable[[pd.DataFrame, pd.Timestamp], ModelPredictor], *,
                   recalibrate: int = 7, window_days: int | None = None, time_col: str = "origin",
                   known_col: str = "label_known_at", keep: Sequence[str] = (),
                   progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Forecasts for every row whose origin is in ``origins``.

    The model is refitted at the first origin and then whenever ``recalibrate`` days have
    passed since the last fit (0: never again; :func:`refit_blocks`). Returns the forecast rows
    with ``time_col``, ``ts``, the ``keep`` columns, the predictor's quantile columns and
    ``fitted_at`` (the origin whose data the model was trained on)."""
    if known_col not in frame.columns:
        raise ValidationError(f"frame lacks {known_col!r}, the time each row's label became known")
    times = pd.DatetimeIndex(frame[time_col])
    known = pd.DatetimeIndex(frame[known_col])
    blocks = refit_blocks(origins, recalibrate)
    if not blocks:
        raise ValidationError("no forecast origins in the requested period")
    total = sum(len(b) for b in blocks)
    by_origin = {o: idx for o, idx in pd.Series(np.arange(len(frame))).groupby(times).groups.items()}
    out = []
    k = 0
    for block in blocks:
        fitted_at = block[0]
        mask = np.asarray(known <= fitted_at)
        if window_days is not None:
            mask &= np.asarray(times >= fitted_at - pd.Timedelta(days=window_days))
        model = fit(frame[mask], fitted_at)
        for o in block:
            rows_idx = by_origin.get(o)
            if rows_idx is not None and len(rows_idx):
                rows = frame.iloc[np.asarray(rows_idx)]
                pred = model.predict(rows)
                part = rows[[c for c in (time_col, "ts", *keep) if c in rows.columns]].copy()
                part[pred.columns] = pred.to_numpy()
                part["fitted_at"] = fitted_at
                out.append(part)
            k += 1
            if progress is not None:
                progress(k, total)
    if not out:
        raise ValidationError("none of the requested origins has feature rows to forecast")
    return pd.concat(out, ignore_index=True)


def describe_recalibrate(days: int) -> str:
    return {0: "never", 1: "daily", 7: "weekly"}.get(days, f"every {days} days")

