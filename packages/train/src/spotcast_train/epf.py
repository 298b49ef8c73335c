"""The epftoolbox benchmark datasets as spotcast feature frames.

A file in the epftoolbox layout (hourly rows, first column the timestamp, then the price, then
exogenous day-ahead forecasts; 24 rows a day, DST smoothed) becomes a long frame with one
row per day and hour and the *same column names* as the ``price_features`` feature group
(``price_lag_1d``, ``last_day_mean``, ``exo_*`` ...), so the benchmark exercises the model
code that spotcast-train runs on the store, not a separate model.

Day-ahead protocol: the forecast for day ``d`` uses prices up to ``d-1`` and the exogenous
forecasts for ``d`` and earlier days. Each row's ``origin`` is midnight of ``d`` (the
forecast is made before it) and ``known_at`` is the end of ``d``: the row can train a model
only at origins after that.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from spotcast_storage.errors import ValidationError

TARGET = "target_price_eur_mwh"
HOURS = 24


@dataclass(frozen=True)
class EpfData:
    """A dataset as day x hour matrices."""

    days: pd.DatetimeIndex
    prices: np.ndarray            # (days, 24)
    exogenous: dict[str, np.ndarray]  # name -> (days, 24)
    price_name: str

    @property
    def n_days(self) -> int:
        return len(self.days)


def read_epf_csv(path: str | os.PathLike[str]) -> EpfData:
    """Read an epftoolbox CSV; a file that is not hourly with whole days is an error naming the problem."""
    df = pd.read_csv(path)
    if df.shape[1] < 2:
        raise ValidationError(f"{path}: expected a timestamp column, a price column and exogenous columns")
    df.columns = [c.strip() for c in df.columns]
    ts = pd.to_datetime(df.iloc[:, 0], errors="coerce")
    if ts.isna().any():
        bad = df.iloc[int(np.flatnonzero(ts.isna())[0]), 0]
        raise ValidationError(f"{path}: unparsable timestamp {bad!r} in the first column")
    if len(df) % HOURS:
        raise ValidationError(f"{path}: {len(df)} rows is not a whole number of 24-hour days")
    n = len(df) // HOURS
    hours = ts.dt.hour.to_numpy().reshape(n, HOURS)
    if not (hours == np.arange(HOURS)).all():
        raise ValidationError(f"{path}: every day must have 24 rows for hours 0..23 in order (DST smoothed)")
    values = df.iloc[:, 1:].apply(pd.to_numeric, errors="coerce")
    if values.isna().any().any():
        col = values.columns[values.isna().any()][0]
        raise ValidationError(f"{path}: column {col!r} has missing or non-numeric values")
    prices = values.iloc[:, 0].to_numpy(dtype="float64").reshape(n, HOURS)
    exo = {f"exo_{i + 1}": values.iloc[:, i + 1].to_numpy(dtype="float64").reshape(n, HOURS)
           for i in range(values.shape[1] - 1)}
    days = pd.DatetimeIndex(ts.iloc[::HOURS].dt.normalize().to_numpy())
    return EpfData(days=days, prices=prices, exogenous=exo, price_name=values.columns[0])


def lag_days(a: np.ndarray, k: int) -> np.ndarray:
    """Rows shifted down by ``k`` days (row i holds day i-k), NaN where not available."""
    out = np.full_like(a, np.nan, dtype="float64")
    if k < len(a):
        out[k:] = a[: len(a) - k]
    return out


def _rolling_days(a: np.ndarray, window: int, fn: str) -> np.ndarray:
    """Per day i, ``fn`` over all hours of days i-window..i-1 (NaN when fewer days exist)."""
    s = pd.Series(np.nan_to_num(a.mean(axis=1)))
    flat = pd.DataFrame(a)
    if fn == "mean":
        daily = s.rolling(window).mean().shift(1)
        return daily.to_numpy()
    # std over all hours of the window: E[x^2] - E[x]^2 on daily means of x and x^2
    sq = pd.Series((flat ** 2).mean(axis=1))
    m = s.rolling(window).mean().shift(1)
    m2 = sq.rolling(window).mean().shift(1)
    return np.sqrt(np.clip(m2 - m ** 2, 0, None)).to_numpy()


def epf_features(data: EpfData) -> pd.DataFrame:
    """Long frame: one row per day and hour, price_features-style columns plus the target."""
    p = data.prices
    n = data.n_days
    d1 = lag_days(p, 1)
    cols: dict[str, np.ndarray] = {
        "price_lag_1d": d1,
        "price_lag_2d": lag_days(p, 2),
        "price_lag_3d": lag_days(p, 3),
        "price_lag_7d": lag_days(p, 7),
    }
    per_day = {
        "last_day_mean": d1.mean(axis=1),
        "last_day_min": np.min(d1, axis=1),
        "last_day_max": np.max(d1, axis=1),
        "last_day_last": d1[:, -1],
        "roll7_mean": _rolling_days(p, 7, "mean"),
        "roll7_std": _rolling_days(p, 7, "std"),
        "roll28_mean": _rolling_days(p, 28, "mean"),
        "roll28_std": _rolling_days(p, 28, "std"),
    }
    for k, v in per_day.items():
        cols[k] = np.repeat(v[:, None], HOURS, axis=1)
    for name, x in data.exogenous.items():
        cols[name] = x
        cols[f"{name}_lag_1d"] = lag_days(x, 1)
        cols[f"{name}_lag_7d"] = lag_days(x, 7)
        cols[f"{name}_day_mean"] = np.repeat(x.mean(axis=1)[:, None], HOURS, axis=1)
    for h in range(HOURS):
        cols[f"price_lag_1d_h{h:02d}"] = np.repeat(d1[:, h][:, None], HOURS, axis=1)
    ts = (data.days.values[:, None] + (np.arange(HOURS) * np.timedelta64(1, "h"))[None, :]).ravel()
    day = pd.DatetimeIndex(np.repeat(data.days.values, HOURS))
    frame = pd.DataFrame({
        "origin": day,
        "ts": pd.DatetimeIndex(ts),
        "known_at": day + pd.Timedelta(days=1),
        "hour": np.tile(np.arange(HOURS), n),
        "weekday": day.day_of_week.to_numpy(),
        "month": day.month.to_numpy(),
        "day_of_year": day.day_of_year.to_numpy(),
        "horizon_day": 1,
    })
    for k, v in cols.items():
        frame[k] = v.ravel()
    frame[TARGET] = p.ravel()
    return frame


# -- the protocol -------------------------------------------------------------------------------
PUBLISHED = {
    # market: model: (MAE, rMAE, sMAPE %, RMSE), recomputed from the authors' forecast files
    "BE": {"LEAR ensemble": (6.140, 0.604, 14.55, 15.974), "DNN ensemble": (5.821, 0.573, 13.33, 16.127)},
    "PJM": {"LEAR ensemble": (3.013, 0.476, 11.98, 5.127), "DNN ensemble": (2.779, 0.439, 11.22, 4.637)},
}
TEST_DAYS = 728
VALIDATION_DAYS = 364


def epf_feature_names(frame: pd.DataFrame) -> list[str]:
    """Model inputs of an epf frame: the price_features-style columns spotcast-train uses."""
    skip = {"origin", "ts", "known_at", TARGET, "horizon_day"}
    return [c for c in frame.columns if c not in skip]


def evaluate(data: EpfData, fit: Any, *, recalibrate: int = 7, test_days: int = TEST_DAYS,
             validation: bool = False, validation_days: int = VALIDATION_DAYS, max_days: int | None = None,
             progress: Any = None, sample: int | None = None, jobs: int = 1) -> tuple[pd.DataFrame, dict[str, float]]:
    """Run the day-ahead protocol: forecast each test day with a model trained on earlier days.

    ``jobs > 1`` splits the period into that many runs of whole refit blocks
    (:func:`spotcast_train.rolling.refit_blocks`), each in a worker process: every model is fitted
    at the same origin on the same rows as in one run, so the forecasts are the same; ``fit``
    should then use one thread (``progress`` is called as each part finishes).

    ``validation=True`` evaluates instead on the ``validation_days`` before the test period
    (training only on days before each of them): that is where settings are chosen, so the test
    period is never used for tuning. Returns the forecasts and MAE/rMAE/sMAPE/RMSE, rMAE against
    the weekly naive with the first 7 evaluated days dropped from the naive's MAE."""
    from spotcast_train.rolling import rolling_origin

    frame = epf_features(data)
    n = data.n_days
    if n <= test_days + 28:
        raise ValidationError(f"{n} days of data is too short for a {test_days}-day test period")
    first = n - test_days - (validation_days if validation else 0)
    if first < 28:
        raise ValidationError(f"{n} days of data leave fewer than 28 days of history before the evaluated period")
    last = first + (validation_days if validation else test_days)
    if max_days is not None:
        last = min(last, first + max_days)
    origins = period_origins(data, test_days=test_days, validation=validation, validation_days=validation_days,
                             max_days=max_days, sample=sample)
    kw = dict(recalibrate=recalibrate, time_col="origin", known_col="known_at", keep=(TARGET, "price_lag_7d"))
    if jobs <= 1:
        pred = rolling_origin(frame, origins, fit, progress=progress, **kw)
    else:
        pred = _forked(frame, origins, fit, jobs, progress, kw)
    return pred, score(pred)


def _forked(frame: pd.DataFrame, origins: list[pd.Timestamp], fit: Any, jobs: int, progress: Any,
            kw: dict[str, Any]) -> pd.DataFrame:
    """:func:`rolling_origin` over ``origins`` in ``jobs`` worker processes, one run of whole
    refit blocks each (contiguous, about equal numbers of blocks). joblib's loky workers are
    fresh processes (a fork of a process whose OpenMP pool XGBoost already started can hang) and
    take ``fit`` pickled with cloudpickle, so a closure works; loky limits each worker's BLAS and
    OpenMP threads to its share of the cores. The workers' CPU seconds and largest peak RSS are in
    the result's ``attrs`` (``worker_cpu_seconds``, ``worker_peak_rss_mb``): they are not this
    process's, and loky keeps its workers alive after the run."""
    from joblib import Parallel, delayed

    from spotcast_train.rolling import refit_blocks

    blocks = refit_blocks(origins, kw["recalibrate"])
    n = min(jobs, len(blocks))
    bounds = [round(i * len(blocks) / n) for i in range(n + 1)]
    parts = [[o for b in blocks[bounds[i]:bounds[i + 1]] for o in b] for i in range(n)]
    done, total, out, cpu, peak = 0, len(origins), [], 0.0, 0.0
    run = Parallel(n_jobs=n, backend="loky", return_as="generator")
    for i, (pred, c, m) in enumerate(run(delayed(_measured_part)(frame, part, fit, kw) for part in parts)):
        out.append(pred)
        cpu, peak = cpu + c, max(peak, m)
        done += len(parts[i])
        if progress is not None:
            progress(done, total)
    result = pd.concat(out, ignore_index=True)
    result.attrs.update(worker_cpu_seconds=cpu, worker_peak_rss_mb=peak)
    return result


def _measured_part(frame: pd.DataFrame, origins: list[pd.Timestamp], fit: Any,
                   kw: dict[str, Any]) -> tuple[pd.DataFrame, float, float]:
    """One worker's part, with the CPU seconds it took and the worker's peak RSS (MB)."""
    import resource

    from spotcast_train.rolling import rolling_origin

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    c0 = cpu()
    pred = rolling_origin(frame, origins, fit, **kw)
    return pred, cpu() - c0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def period_origins(data: EpfData, *, test_days: int = TEST_DAYS, validation: bool = False,
                   validation_days: int = VALIDATION_DAYS, max_days: int | None = None,
                   sample: int | None = None) -> list[pd.Timestamp]:
    """The origins (days) :func:`evaluate` forecasts."""
    return [data.days[i] for i in period_indices(data, test_days=test_days, validation=validation,
                                                 validation_days=validation_days, max_days=max_days,
                                                 sample=sample)]


def period_indices(data: EpfData, *, test_days: int = TEST_DAYS, validation: bool = False,
                   validation_days: int = VALIDATION_DAYS, max_days: int | None = None,
                   sample: int | None = None) -> list[int]:
    """Day indices of the evaluated period, in order; ``sample=N`` keeps N days evenly spaced over
    it (every ``len // N``-th day from the first), so a short run still spans every season of the
    period, and a sample of N days is part of the sample of 2N (``--resume`` reuses it)."""
    n = data.n_days
    first = n - test_days - (validation_days if validation else 0)
    if first < 14:
        period = f"{validation_days}-day validation period before a " if validation else ""
        raise ValidationError(f"{n} days of data are too few for a {period}{test_days}-day test period "
                              "with two weeks of history before it")
    last = first + (validation_days if validation else test_days)
    if max_days is not None:
        last = min(last, first + max_days)
    idx = list(range(first, last))
    if sample is not None:
        if sample < 1:
            raise ValidationError(f"--days {sample}: a sample needs at least one day")
        if sample < len(idx):
            idx = idx[:: len(idx) // sample][:sample]
    return idx


def forecast_rows(data: EpfData, day: int, forecasts: dict[str, np.ndarray]) -> pd.DataFrame:
    """One forecast day in :func:`evaluate`'s layout (``origin``, ``ts``, target, weekly naive,
    one column per entry of ``forecasts``, e.g. ``p50`` and each member's), for :func:`score`."""
    origin = data.days[day]
    frame = pd.DataFrame({
        "origin": np.repeat(origin, HOURS),
        "ts": origin + pd.to_timedelta(np.arange(HOURS), unit="h"),
        TARGET: data.prices[day],
        "price_lag_7d": data.prices[day - 7] if day >= 7 else np.full(HOURS, np.nan),
    })
    for k, v in forecasts.items():
        frame[k] = np.asarray(v, dtype="float64")
    return frame


def align_members(frames: dict[str, pd.DataFrame], keep: Any = None) -> pd.DataFrame:
    """Saved forecast frames of several members (each with origin, ts, target, ``price_lag_7d``
    and ``p50``) side by side: one column per member named after it, on the hours every member
    forecast (``keep``: only these origins), sorted by origin and ts."""
    base = None
    for name, f in frames.items():
        f = f[["origin", "ts", TARGET, "price_lag_7d", "p50"]].rename(columns={"p50": name})
        if keep is not None:
            f = f[pd.DatetimeIndex(f["origin"]).isin(keep)]
        base = f if base is None else base.merge(f[["origin", "ts", name]], on=["origin", "ts"], how="inner")
    if base is None:
        raise ValidationError("no member forecasts to align")
    return base.sort_values(["origin", "ts"], ignore_index=True)


def score(pred: pd.DataFrame, naive_skip_days: int = 7) -> dict[str, float]:
    """MAE/rMAE/sMAPE/RMSE of a forecast frame sorted by origin and ts (``p50`` against the
    target), rMAE against the weekly naive with the first ``naive_skip_days`` forecast days
    dropped from its MAE (7 on a whole period; on a sample, those of its days in the first week)."""
    from spotcast_train import metrics

    pred = pred.sort_values(["origin", "ts"], ignore_index=True)
    y = pred[TARGET].to_numpy()
    skip = naive_skip_days * HOURS
    naive_mae = metrics.mae(y[skip:], pred["price_lag_7d"].to_numpy()[skip:])
    result = metrics.point_metrics(y, pred["p50"], naive_mae)
    result["naive_weekly_mae"] = naive_mae
    if "p10" in pred and "p90" in pred:
        result["coverage_p10_p90"] = metrics.coverage(y, pred["p10"], pred["p90"])
    result["days"] = pred["origin"].nunique()
    return result
