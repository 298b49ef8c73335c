"""Quarter-hour day-ahead forecasts on real SE4 data: which method, measured (issue 15).

    uv run python benchmarks/quarter.py [--data ../shared/data/nordic] [--json]

Data: SE4 hourly prices 2023-2024 (Energi Data Service) and 2025-01-24..2026-08-21 (EPEX, from
2025-10-01 each hour is the mean of its quarters), SE4 quarter-hour prices 2025-10-01..2026-08-21
(EPEX). Days are laid out in local delivery-day slots (24 hourly, 96 quarter-hour); the two DST
days inside the quarter-hour period (2025-10-26, 2026-03-29), whose EPEX rows are padded to 24/96
slots, are left out of every score (the pipeline handles 92/100-slot days; this script compares
methods).

Protocol: every day d of the quarter-hour period is forecast from prices up to d-1 (the
day-ahead product, D+1), with weekly recalibration. One hourly model (XGBoost with the median
objective on price lags d-1, d-2, d-7, yesterday's mean/min/max/last hour, hour, weekday and
Swedish holidays, trained on all hourly history before the week) gives the hourly forecast every
method starts from, so the methods differ only in how they get to quarter-hours:

- ``repeat``: the hourly forecast repeated in its four quarters (today's hourly product);
- ``naive-week``: the same quarter of the day a week earlier;
- ``ramp``: the mean-preserving linear ramp through the neighbouring hours
  (``spotcast_train.intrahour.linear_ramp``), damping chosen on the selection window;
- ``shape``: the ramp plus a learned intra-hour shape: an XGBoost model of the quarter's
  deviation from its hour's mean, trained on the quarter-hour days before the week (features from
  the hourly forecast: quarter, hour, weekday, level, slope, steps into and out of the hour, and
  the realised deviations of the same slot a day and a week earlier).

History before 2025-10-01 is hourly: it trains the hourly model; only the quarter-hour days train
the shape. Settings are chosen on the first 91 days (the selection window); scores are printed
for the selection window, for the days after it (the honest test), and for all.

p10/p90 for quarter-hours: the p50 plus the 10th/90th percentiles of the last 56 days' quarter
residuals, in units of the recent price volatility (the geometric mean of the 7- and 28-day
standard deviations of hourly prices known at the origin). What serve publishes is measured too:
the ramp with the *hourly* band (the same recipe on hourly residuals) moved by the ramp.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import holidays
import numpy as np
import pandas as pd
import xgboost as xgb

from _common import machine
from spotcast_train.intrahour import hourly_means, linear_ramp, repeat_quarters, shape_features

warnings.filterwarnings("ignore", "Mean of empty slice")  # days without yesterday's prices: NaN is right
ROOT = Path(__file__).resolve().parent.parent
TZ = "Europe/Stockholm"
QSTART = dt.date(2025, 10, 1)
DST_DAYS = {dt.date(2025, 10, 26), dt.date(2026, 3, 29)}
SELECTION_DAYS = 91


def local_hourly_from_utc(path: Path) -> pd.DataFrame:
    """Energi Data Service hourly CSV (UTC) -> days x 24 local slots (a 23-hour day's missing
    02:00 is the mean of its neighbours, a 25-hour day's two 02:00 hours are averaged)."""
    df = pd.read_csv(path, sep=";", decimal=",")
    ts = pd.to_datetime(df["HourUTC"]).dt.tz_localize("UTC").dt.tz_convert(TZ)
    frame = pd.DataFrame({"day": ts.dt.date, "hour": ts.dt.hour, "p": df["SpotPriceEUR"].astype(float)})
    wide = frame.groupby(["day", "hour"])["p"].mean().unstack("hour").reindex(columns=range(24))
    return wide.interpolate(axis=1, limit_area="inside")


def epex_wide(path: Path, slots: int) -> pd.DataFrame:
    df = pd.read_csv(path)
    df["day"] = pd.to_datetime(df["Date"]).dt.date
    vals = df.iloc[:, 1:1 + slots].astype(float)
    vals.index = df["day"]
    vals.columns = range(slots)
    return vals


def load(data: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    old = local_hourly_from_utc(data / "Elspotprices_SE4_2023-2024.csv")
    new = epex_wide(data / "epex_SE4_hourly_2025-01_2026-08.csv", 24)
    hourly = pd.concat([old[old.index < min(new.index)], new])
    days = pd.date_range(min(hourly.index), max(hourly.index), freq="D").date
    hourly = hourly.reindex(days)
    quarters = epex_wide(data / "epex_SE4_15min_2025-10_2026-08.csv", 96)
    quarters = quarters.reindex([d for d in days if d >= QSTART])
    return hourly, quarters


def hourly_design(hourly: pd.DataFrame) -> pd.DataFrame:
    """One row per (day, hour): features known at the day-ahead origin (prices up to d-1)."""
    a = hourly.to_numpy()
    n = len(a)

    def lag(k: int) -> np.ndarray:
        out = np.full_like(a, np.nan)
        out[k:] = a[:-k]
        return out

    d1 = lag(1)
    se = holidays.country_holidays("SE", years=range(2022, 2027))
    days = list(hourly.index)
    cols = {
        "lag1": d1, "lag2": lag(2), "lag7": lag(7),
        "d1_mean": np.repeat(np.nanmean(d1, axis=1, keepdims=True), 24, axis=1),
        "d1_min": np.repeat(np.nanmin(np.where(np.isnan(d1), np.inf, d1), axis=1, keepdims=True), 24, axis=1),
        "d1_max": np.repeat(np.nanmax(np.where(np.isnan(d1), -np.inf, d1), axis=1, keepdims=True), 24, axis=1),
        "d1_last": np.repeat(d1[:, 23:24], 24, axis=1),
        "hour": np.tile(np.arange(24), (n, 1)).astype(float),
        "weekday": np.repeat(np.array([d.weekday() for d in days], dtype=float)[:, None], 24, axis=1),
        "holiday": np.repeat(np.array([d in se for d in days], dtype=float)[:, None], 24, axis=1),
    }
    frame = pd.DataFrame({k: np.where(np.isinf(v), np.nan, v).reshape(-1) for k, v in cols.items()})
    frame["day"] = np.repeat(np.arange(n), 24)
    frame["y"] = a.reshape(-1)
    return frame


def fit_predict_hourly(design: pd.DataFrame, train_days: np.ndarray, pred_days: np.ndarray) -> np.ndarray:
    feats = [c for c in design.columns if c not in ("day", "y")]
    tr = design[design["day"].isin(train_days) & design["y"].notna() & design["lag7"].notna()]
    booster = xgb.train({"objective": "reg:absoluteerror", "eta": 0.05, "max_depth": 6, "subsample": 0.8,
                         "min_child_weight": 5, "nthread": 2, "seed": 0},
                        xgb.DMatrix(tr[feats], tr["y"]), num_boost_round=400)
    te = design[design["day"].isin(pred_days)]
    return booster.predict(xgb.DMatrix(te[feats])).reshape(len(pred_days), 24)


def shape_rows(fc: np.ndarray, actual_q: np.ndarray | None, qhist: np.ndarray, rows: np.ndarray,
               weekdays: np.ndarray, damping: float) -> tuple[pd.DataFrame, np.ndarray | None]:
    """Features (and the target, when actuals are given) for the shape model on days ``rows``
    (indices into the quarter-hour period); ``qhist`` holds realised quarter values (NaN where
    unknown) for the lag deviations."""
    f = pd.DataFrame(shape_features(fc, weekdays))
    dev = qhist - np.repeat(hourly_means(qhist), 4, axis=1)
    for k, name in ((1, "dev_d1"), (7, "dev_d7")):
        src = rows - k
        lagged = np.full((len(rows), 96), np.nan)
        ok = src >= 0
        lagged[ok] = dev[src[ok]]
        f[name] = lagged.reshape(-1)
    target = None
    if actual_q is not None:  # the intra-hour deviation itself: the hour's level is not the shape's job
        target = (actual_q - np.repeat(hourly_means(actual_q), 4, axis=1)).reshape(-1)
    return f, target


def interval_unit(hourly: pd.DataFrame, day_index: int) -> float:
    """Recent volatility known at the origin of day ``day_index`` (prices up to d-1)."""
    a = hourly.to_numpy()
    s7 = np.nanstd(a[max(0, day_index - 7):day_index])
    s28 = np.nanstd(a[max(0, day_index - 28):day_index])
    return float(np.sqrt(max(s7, 1e-6) * max(s28, 1e-6)))


def scores(pred: np.ndarray, actual: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    e = np.abs(pred - actual)[mask]
    e = e[~np.isnan(e)]
    return {"MAE": float(e.mean()), "n": int(e.size)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "nordic")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    t0, c0 = time.perf_counter(), time.process_time()

    hourly, quarters = load(args.data)
    design = hourly_design(hourly)
    all_days = list(hourly.index)
    qdays = list(quarters.index)
    qidx = np.array([all_days.index(d) for d in qdays])
    qvals = quarters.to_numpy()
    weekdays = np.array([d.weekday() for d in qdays])

    # hourly forecasts, weekly recalibration
    fc = np.full((len(qdays), 24), np.nan)
    hourly_fit_s = []
    for start in range(0, len(qdays), 7):
        block = qidx[start:start + 7]
        t = time.process_time()
        fc[start:start + 7] = fit_predict_hourly(design, np.arange(block[0]), block)
        hourly_fit_s.append(time.process_time() - t)

    score_mask = np.array([d not in DST_DAYS for d in qdays])
    sel = np.arange(len(qdays)) < SELECTION_DAYS
    periods = {"selection (first 91 days)": sel, "test (after selection)": ~sel, "all": np.ones(len(qdays), bool)}

    # ramp damping chosen on the selection window
    dampings = [0.0, 0.5, 0.75, 1.0, 1.25]
    sel_rows = np.repeat((sel & score_mask)[:, None], 96, axis=1)
    damp_mae = {k: scores(linear_ramp(fc, k), qvals, sel_rows)["MAE"] for k in dampings}
    damping = min(damp_mae, key=damp_mae.get)

    # learned shape, weekly recalibration on the quarter-hour days before the week
    shape = linear_ramp(fc, damping).copy()  # the first two weeks have too few quarter-hour days
    feats_cols: list[str] = []
    shape_fit_s = []
    for start in range(14, len(qdays), 7):
        train_rows = np.arange(start)
        known = qvals.copy()
        known[start:] = np.nan  # nothing of the week ahead (or later) is known
        Xtr, ytr = shape_rows(fc[train_rows], qvals[train_rows], known, train_rows, weekdays[train_rows], damping)
        ok = ~np.isnan(ytr)
        feats_cols = list(Xtr.columns)
        t = time.process_time()
        booster = xgb.train({"objective": "reg:absoluteerror", "eta": 0.05, "max_depth": 5, "subsample": 0.8,
                             "min_child_weight": 20, "nthread": 2, "seed": 0},
                            xgb.DMatrix(Xtr[ok], ytr[ok]), num_boost_round=300)
        shape_fit_s.append(time.process_time() - t)
        rows = np.arange(start, min(start + 7, len(qdays)))
        for r in rows:  # each day sees realised quarters up to d-1 only
            known_r = qvals.copy()
            known_r[r:] = np.nan
            Xte, _ = shape_rows(fc[r:r + 1], None, known_r, np.array([r]), weekdays[r:r + 1], damping)
            dev = booster.predict(xgb.DMatrix(Xte[feats_cols])).reshape(24, 4)
            shape[r] = (fc[r][:, None] + dev - dev.mean(axis=1, keepdims=True)).reshape(96)  # keeps the hour's mean

    naive = np.full_like(qvals, np.nan)
    naive[7:] = qvals[:-7]
    true_dev = qvals - np.repeat(hourly_means(qvals), 4, axis=1)
    methods = {"repeat": repeat_quarters(fc), "naive-week": naive, "ramp": linear_ramp(fc, damping), "shape": shape,
               "oracle-shape": repeat_quarters(fc) + true_dev}  # a bound, not a method: the real deviations

    # p10/p90 from recent residuals in volatility units (shared by every method's p50)
    results: dict[str, dict[str, dict[str, float]]] = {}
    for name, pred in methods.items():
        results[name] = {}
        for pname, pmask in periods.items():
            m = np.repeat((pmask & score_mask)[:, None], 96, axis=1)
            results[name][pname] = scores(pred, qvals, m)
    hourly_actual = hourly_means(qvals)
    hourly_mae = {p: scores(fc, hourly_actual, np.repeat((m & score_mask)[:, None], 24, axis=1))["MAE"]
                  for p, m in periods.items()}

    chosen = min(("ramp", "shape"), key=lambda k: results[k]["selection (first 91 days)"]["MAE"])
    p50 = methods[chosen]
    lo, hi = np.full_like(p50, np.nan), np.full_like(p50, np.nan)
    units = np.array([interval_unit(hourly, int(i)) for i in qidx])
    resid = (qvals - p50) / units[:, None]
    for r in range(28, len(qdays)):
        past = resid[max(0, r - 56):r].reshape(-1)
        past = past[~np.isnan(past)]
        q10, q90 = np.quantile(past, [0.1, 0.9])
        lo[r], hi[r] = p50[r] + q10 * units[r], p50[r] + q90 * units[r]
    cover = {}
    for pname, pmask in periods.items():
        m = np.repeat((pmask & score_mask & (np.arange(len(qdays)) >= 28))[:, None], 96, axis=1) & ~np.isnan(qvals)
        inside = (qvals >= lo) & (qvals <= hi)
        cover[pname] = {"coverage": float(inside[m].mean()), "width": float((hi - lo)[m].mean())}

    # What serve publishes: the ramp, with the *hourly* band moved by the ramp (every quarter of an
    # hour keeps the hour's p10/p90 distance from the median). The hourly band here is the same
    # recipe at hourly resolution: the last 56 days' hourly residual percentiles in volatility units.
    ramp = methods["ramp"]
    resid_h = (hourly_actual - fc) / units[:, None]
    band_h = np.full((len(qdays), 2), np.nan)
    for r in range(28, len(qdays)):
        past = resid_h[max(0, r - 56):r].reshape(-1)
        band_h[r] = np.quantile(past[~np.isnan(past)], [0.1, 0.9])
    lo_h, hi_h = ramp + (band_h[:, :1] * units[:, None]), ramp + (band_h[:, 1:] * units[:, None])
    cover_published, cover_hourly = {}, {}
    for pname, pmask in periods.items():
        days_ok = pmask & score_mask & (np.arange(len(qdays)) >= 28)
        m = np.repeat(days_ok[:, None], 96, axis=1) & ~np.isnan(qvals)
        cover_published[pname] = {"coverage": float(((qvals >= lo_h) & (qvals <= hi_h))[m].mean()),
                                  "width": float((hi_h - lo_h)[m].mean())}
        mh = np.repeat(days_ok[:, None], 24, axis=1) & ~np.isnan(hourly_actual)
        fc_lo, fc_hi = fc + band_h[:, :1] * units[:, None], fc + band_h[:, 1:] * units[:, None]
        cover_hourly[pname] = {"coverage": float(((hourly_actual >= fc_lo) & (hourly_actual <= fc_hi))[mh].mean())}
    out_extra = {"intervals_published_ramp_hourly_band": cover_published, "intervals_hourly_band_hourly": cover_hourly}

    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    out = {"machine": machine(), "date": dt.date.today().isoformat(), "days": len(qdays),
           "scored_days": int(score_mask.sum()), "damping": damping, "damping_mae_selection": damp_mae,
           "hourly_mae_hourly_resolution": hourly_mae, "mae_15min": results, "chosen": chosen,
           "intervals_chosen": cover, "hourly_fit_cpu_s_median": float(np.median(hourly_fit_s)),
           "shape_fit_cpu_s_median": float(np.median(shape_fit_s)), "wall_s": wall, "cpu_s": cpu, **out_extra}
    print(f"machine: {out['machine']}; date: {out['date']}")
    print(f"quarter-hour days: {len(qdays)} ({int(score_mask.sum())} scored; DST days left out); "
          f"ramp damping chosen on the selection window: {damping} ({', '.join(f'{k}: {v:.3f}' for k, v in damp_mae.items())})")
    print("hourly forecast, MAE at hourly resolution: " + ", ".join(f"{k} {v:.3f}" for k, v in hourly_mae.items()))
    print("\nMAE at 15-minute resolution (EUR/MWh)")
    header = f"{'method':<12}" + "".join(f"{p:>30}" for p in periods)
    print(header)
    for name in methods:
        print(f"{name:<12}" + "".join(f"{results[name][p]['MAE']:>30.3f}" for p in periods))
    for name in ("ramp", "shape", "oracle-shape"):
        print(f"{name} vs repeat: " + ", ".join(
            f"{p} {1 - results[name][p]['MAE'] / results['repeat'][p]['MAE']:+.1%}" for p in periods))
    print(f"\nchosen on the selection window: {chosen}; its p10-p90 at 15 minutes: " + ", ".join(
        f"{p} coverage {v['coverage']:.3f} width {v['width']:.1f}" for p, v in cover.items()))
    print("published (ramp p50, the hourly band moved by the ramp), p10-p90 at 15 minutes: " + ", ".join(
        f"{p} coverage {v['coverage']:.3f} width {v['width']:.1f}" for p, v in cover_published.items()))
    print("the same hourly band at hourly resolution: " + ", ".join(
        f"{p} coverage {v['coverage']:.3f}" for p, v in cover_hourly.items()))
    print(f"CPU: hourly fit median {out['hourly_fit_cpu_s_median']:.1f} s, shape fit median "
          f"{out['shape_fit_cpu_s_median']:.1f} s per weekly refit; run {wall:.0f} s wall, {cpu:.0f} s CPU")
    if args.json:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
