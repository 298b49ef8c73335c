"""Pure transformations from feature rows and model output to published forecasts.

No I/O here: :mod:`spotcast_serve.service` reads the store and writes the results.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from spotcast_storage.contracts.forecasts import FORECASTS
from spotcast_storage.errors import ValidationError
from spotcast_storage.intervals import OnlineSettings, offsets_at
from spotcast_storage.zones import parse_zone

QUANTILES = ("p10", "p50", "p90")
KEY = ["zone", "origin", "ts"]  # one vintage's rows; the contract's key adds made_at


def zone_timezone(zone: str) -> str:
    """The zone's civil time zone, from the zone table (an unknown zone is an error, as in
    every stage: a forecast on UTC days would silently shift every horizon day)."""
    return parse_zone(zone).tz


def _local_day_numbers(values: pd.Series, tz: str) -> np.ndarray:
    """Local calendar day of each instant as days since 1970-01-01 (int64), by NumPy.

    One vectorised time-zone conversion, then the wall time truncated to its day: no
    ``.dt`` chains or per-row date objects, which cost a command like ``predict`` more than
    its model did."""
    idx = pd.DatetimeIndex(values if isinstance(getattr(values, "dtype", None), pd.DatetimeTZDtype)
                           else pd.to_datetime(values, utc=True))
    return idx.tz_convert(tz).tz_localize(None).to_numpy().astype("datetime64[D]").astype("int64")


def horizon_days(origin: pd.Series, ts: pd.Series, tz: str) -> pd.Series:
    """Days between the origin's local date and the target hour's local date (D+1 = 1).

    Counted on local calendar dates, not 24-hour blocks, so a 23- or 25-hour DST day is
    still exactly one horizon day.
    """
    days = _local_day_numbers(ts, tz) - _local_day_numbers(origin, tz)
    return pd.Series(days, index=ts.index if isinstance(ts, pd.Series) else None, dtype="int64")


def local_date(ts: pd.Timestamp, tz: str) -> str:
    """ISO date of ``ts`` in ``tz`` (used in output file names: the origin's local day)."""
    return pd.Timestamp(ts).tz_convert(tz).date().isoformat()


def limit_horizon(rows: pd.DataFrame, days: int, tz: str) -> pd.DataFrame:
    """Keep target hours up to ``days`` local days after the origin's day."""
    if days < 1:
        raise ValidationError(f"--days must be at least 1, got {days}")
    h = horizon_days(rows["origin"], rows["ts"], tz)
    return rows[h.to_numpy() <= days].reset_index(drop=True)


def sort_quantiles(pred: pd.DataFrame) -> pd.DataFrame:
    """p10 <= p50 <= p90 in every row.

    Separately fitted quantile models can cross; sorting each row's quantiles (monotone
    rearrangement) never makes the interval's coverage or the median's error worse.
    """
    missing = [c for c in QUANTILES if c not in pred.columns]
    if missing:
        raise ValidationError(
            f"the model's predictions lack column(s) {missing}; a spotcast predictor returns p10, p50, p90"
        )
    values = pred[list(QUANTILES)].to_numpy(dtype="float64", copy=True)
    # Only complete rows are rearranged: sorting would move a NaN to p90 and shift the median.
    complete = np.isfinite(values).all(axis=1)
    values[complete] = np.sort(values[complete], axis=1)
    return pd.DataFrame(values, columns=list(QUANTILES), index=pred.index)


def build_forecasts(rows: pd.DataFrame, pred: pd.DataFrame, *, model: str, model_version: int,
                    made_at: pd.Timestamp, fallback_reason: str | None = None,
                    created_at: pd.Timestamp | None = None) -> pd.DataFrame:
    """Rows of the ``forecasts`` contract (one vintage, made at ``made_at``) from one origin's
    feature rows and their predictions.

    Hours whose median came back missing (a model returns NaN rather than guess when an input
    such as the price level is unknown) are left out, so one hole does not void the forecast;
    a forecast without any finite median is an error.
    """
    if len(rows) != len(pred):
        raise ValidationError(
            f"the model returned {len(pred)} predictions for {len(rows)} feature rows; "
            "a predictor must return one row per input row"
        )
    raw = pred.reset_index(drop=True)
    q = sort_quantiles(raw)
    p50 = raw["p50"].to_numpy(dtype="float64")
    ok = np.isfinite(p50)
    if not ok.any():
        raise ValidationError(
            f"the model predicted no finite median (p50) for any of the {len(rows)} hours; check the "
            "newest origin's features for missing inputs. Nothing was written"
        )
    made = pd.Timestamp(made_at).tz_convert("UTC")
    out = pd.DataFrame({
        "zone": rows["zone"].reset_index(drop=True),
        "origin": pd.to_datetime(rows["origin"], utc=True).reset_index(drop=True),
        "ts": pd.to_datetime(rows["ts"], utc=True).reset_index(drop=True),
    })
    out["resolution_minutes"] = np.int64(60)  # the model forecasts hours; quarters come from them
    out["made_at"] = made
    for c in QUANTILES:
        out[c] = q[c].to_numpy()
    out["model"] = model
    out["model_version"] = np.int64(model_version)
    out["fallback_reason"] = pd.Series([fallback_reason] * len(out), dtype=object)
    out["created_at"] = made if created_at is None else pd.Timestamp(created_at).tz_convert("UTC")
    return FORECASTS.conform(out[ok].reset_index(drop=True))


BAND = OnlineSettings(gamma=0.02)
"""How published p10/p90 are calibrated: 91 days of earlier forecasts' errors, adaptive conformal
steps of 0.02 per origin. Steps of 0.005 (the storage default, the best pinball loss on the long
backtests of benchmarks/intervals.py) under-covered days 3-7 of a 183-origin replay of real SE4
data (0.74-0.76, benchmarks/README.md, "replay"): serve publishes, and a published band is held
to its 80%, so serve takes the faster step that held 80% +- 3 on every horizon day there and
over the SE4 year, at a wider band."""


def error_history(forecasts: pd.DataFrame, features: pd.DataFrame, actuals: pd.DataFrame,
                  unit_column: str) -> pd.DataFrame:
    """Earlier forecasts (``origin``, ``ts``, ``p50``) with what a band is measured on: the horizon
    day and the interval unit from their origin's feature rows (as known then), the actual price
    and when it was published (``known_at``; null while unknown)."""
    cols = ["origin", "ts", "horizon_day", "unit", "p50", "actual", "known_at"]
    if forecasts.empty or features.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in cols})
    f = forecasts[["origin", "ts", "p50"]].assign(origin=lambda d: pd.to_datetime(d["origin"], utc=True),
                                                  ts=lambda d: pd.to_datetime(d["ts"], utc=True))
    x = features[["origin", "ts", "horizon_day", unit_column]].rename(columns={unit_column: "unit"})
    x = x.assign(origin=pd.to_datetime(x["origin"], utc=True), ts=pd.to_datetime(x["ts"], utc=True))
    a = actuals[["ts", "price_eur_mwh", "known_at"]].rename(columns={"price_eur_mwh": "actual"})
    a = a.assign(ts=pd.to_datetime(a["ts"], utc=True), known_at=pd.to_datetime(a["known_at"], utc=True))
    h = f.merge(x, on=["origin", "ts"], how="inner").merge(a, on="ts", how="left")
    h["known_at"] = h["known_at"].fillna(pd.Timestamp.max.tz_localize("UTC").floor("s"))
    h["horizon_day"] = h["horizon_day"].astype("int64")
    return h[cols].sort_values(["origin", "ts"], ignore_index=True)


def calibrated_band(rows: pd.DataFrame, pred: pd.DataFrame, history: pd.DataFrame, unit: np.ndarray,
                    at: pd.Timestamp, settings: OnlineSettings = BAND) -> tuple[pd.DataFrame, set[int]]:
    """``pred`` with p10/p90 replaced, per horizon day, by the online conformal band as it stands
    at ``at`` (:func:`spotcast_storage.intervals.offsets_at`): the quantiles of earlier forecasts'
    errors known by then, in units of each one's interval unit, moved by the adaptive conformal
    steps of their misses, times this row's ``unit``, around its p50.

    Why here and not in the artifact: a band frozen at the weekly fit cannot follow a regime
    change inside the week, and the forecasts' own errors are known only after they are
    published. Horizon days with fewer known errors than ``settings.min_residuals`` keep the
    model's band. Returns the new predictions and the horizon days recalibrated."""
    if history.empty or "horizon_day" not in rows.columns:
        return pred, set()
    got = offsets_at(history, at, settings)
    if not got:
        return pred, set()
    out = pred.copy()
    day = rows["horizon_day"].to_numpy(dtype="int64")
    lo = np.array([got.get(str(d), (np.nan, np.nan))[0] for d in day], dtype="float64")
    hi = np.array([got.get(str(d), (np.nan, np.nan))[1] for d in day], dtype="float64")
    p50 = out["p50"].to_numpy(dtype="float64")
    ok = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(p50)
    out.loc[ok, "p10"] = p50[ok] + unit[ok] * lo[ok]
    out.loc[ok, "p90"] = p50[ok] + unit[ok] * hi[ok]
    return out, {int(d) for d in day[ok]}


NAIVE_MODEL = "naive-weekly"
NAIVE_COLUMN = "price_lag_7d"


def naive_forecast(rows: pd.DataFrame, *, reason: str, made_at: pd.Timestamp,
                   band: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> pd.DataFrame:
    """The weekly naive forecast (the same hour one week before, as known at the origin: the
    features' ``price_lag_7d``) as a flagged vintage: ``fallback_reason`` says why it replaced
    the model's. ``band`` (serve's calibration on the naive's own earlier errors) sets p10/p90
    where it can; otherwise they are null rather than a band nobody calibrated."""
    if NAIVE_COLUMN not in rows.columns:
        raise ValidationError(f"the feature rows have no {NAIVE_COLUMN} column, so no naive forecast can be "
                              f"published in place of the model's ({reason}). Nothing was written")
    lag = rows[NAIVE_COLUMN].to_numpy(dtype="float64")
    pred = pd.DataFrame({"p10": np.nan, "p50": lag, "p90": np.nan})
    if not np.isfinite(lag).any():
        raise ValidationError(f"the weekly naive has no value for any hour ({NAIVE_COLUMN} is empty) and the "
                              f"model may not be used ({reason}). Nothing was written")
    if band is not None:
        pred = band(pred)
    return build_forecasts(rows, pred, model=NAIVE_MODEL, model_version=0, made_at=made_at,
                           fallback_reason=reason)


def same_forecast(new: pd.DataFrame, old: pd.DataFrame, atol: float = 1e-9) -> bool:
    """True when ``old`` (a stored vintage) holds exactly ``new``'s hours, values, model version
    and fallback reason (``made_at`` and ``created_at`` aside), so re-running a forecast can
    write nothing."""
    if len(new) != len(old):
        return False
    a = new.sort_values(KEY, ignore_index=True)
    b = old.sort_values(KEY, ignore_index=True)
    for k in KEY:
        if not (a[k].to_numpy() == b[k].to_numpy()).all():
            return False
    if not ((a["model"].to_numpy() == b["model"].to_numpy()).all()
            and (a["model_version"].to_numpy() == b["model_version"].to_numpy()).all()
            and (a["fallback_reason"].fillna("").to_numpy() == b["fallback_reason"].fillna("").to_numpy()).all()):
        return False
    x = a[list(QUANTILES)].to_numpy(dtype="float64")
    y = b[list(QUANTILES)].to_numpy(dtype="float64")
    return bool(np.allclose(x, y, rtol=0, atol=atol, equal_nan=True))


def daily_means(fc: pd.DataFrame, tz: str) -> pd.DataFrame:
    """Mean p10/p50/p90 per local delivery day, with the day's number of hours (23/24/25).

    Grouped by NumPy on integer (day, horizon day) codes rather than a pandas groupby: this runs
    several times per zone in ``predict``, and the groupby's overhead was most of its cost."""
    columns = ["date", "horizon_day", "hours", "p10", "p50", "p90"]
    if not len(fc):
        return pd.DataFrame({"date": pd.Series(dtype="str"), "horizon_day": pd.Series(dtype="int64"),
                             "hours": pd.Series(dtype="int64"), "p10": pd.Series(dtype="float64"),
                             "p50": pd.Series(dtype="float64"), "p90": pd.Series(dtype="float64")})[columns]
    day = _local_day_numbers(fc["ts"], tz)
    horizon = day - _local_day_numbers(fc["origin"], tz)
    keys, group = np.unique(np.stack([day, horizon], axis=1), axis=0, return_inverse=True)
    group = group.reshape(-1)
    out = {"date": keys[:, 0].astype("datetime64[D]").astype("str"), "horizon_day": keys[:, 1],
           "hours": np.bincount(group, minlength=len(keys)).astype("int64")}
    for q in QUANTILES:
        v = fc[q].to_numpy(dtype="float64", na_value=np.nan)
        ok = ~np.isnan(v)  # pandas' mean skips missing values; a day of only NaN stays NaN
        total = np.bincount(group[ok], weights=v[ok], minlength=len(keys))
        count = np.bincount(group[ok], minlength=len(keys))
        with np.errstate(invalid="ignore", divide="ignore"):
            out[q] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return pd.DataFrame(out)[columns]


TABLE_COLUMNS = ["zone", "origin", "made_at", "ts", "ts_local", "horizon_day", "actual", "p10", "p50", "p90",
                 "model", "model_version", "fallback_reason"]


def forecast_table(fc: pd.DataFrame, tz: str, actuals: pd.DataFrame | None = None) -> pd.DataFrame:
    """One vintage as people and spreadsheets read it: UTC and local time side by side, and the
    ``actual`` prices that were already published when it was made (``actuals``: ``ts``,
    ``price_eur_mwh``) -- the hours between the origin's local day and the first target hour as
    rows of their own (no forecast, horizon day 0), and on forecast hours when known."""
    ts = pd.to_datetime(fc["ts"], utc=True)
    out = pd.DataFrame({
        "zone": fc["zone"].to_numpy(),
        "origin": pd.to_datetime(fc["origin"], utc=True).to_numpy(),
        "made_at": pd.to_datetime(fc["made_at"], utc=True).to_numpy(),
        "ts": ts.to_numpy(),
        "p10": fc["p10"].to_numpy(dtype="float64"), "p50": fc["p50"].to_numpy(dtype="float64"),
        "p90": fc["p90"].to_numpy(dtype="float64"),
        "model": fc["model"].to_numpy(), "model_version": fc["model_version"].to_numpy(),
        "fallback_reason": fc["fallback_reason"].to_numpy(),
    })
    for c in ("origin", "made_at", "ts"):
        out[c] = pd.to_datetime(out[c], utc=True)
    if actuals is not None and len(actuals) and len(out):
        a = actuals[["ts", "price_eur_mwh"]].rename(columns={"price_eur_mwh": "actual"})
        a = a.assign(ts=pd.to_datetime(a["ts"], utc=True))
        origin = out["origin"].iloc[0]
        day_start = origin.tz_convert(tz).normalize().tz_convert("UTC")
        before = a[(a["ts"] >= day_start) & (a["ts"] < out["ts"].min())]
        lead = pd.DataFrame({"ts": before["ts"].to_numpy(), "actual": before["actual"].to_numpy()})
        for c in ("zone", "origin", "made_at", "model", "model_version", "fallback_reason"):
            lead[c] = out[c].iloc[0]
        for c in QUANTILES:
            lead[c] = np.nan
        out = out.merge(a, on="ts", how="left")
        out = pd.concat([lead, out], ignore_index=True) if len(lead) else out
        out["ts"] = pd.to_datetime(out["ts"], utc=True)
    else:
        out["actual"] = np.nan
    out["ts_local"] = out["ts"].dt.tz_convert(tz).map(lambda t: t.isoformat()).to_numpy()
    out["horizon_day"] = horizon_days(out["origin"], out["ts"], tz).to_numpy()
    out["actual"] = out["actual"].astype("float64")
    return out[TABLE_COLUMNS].sort_values("ts", ignore_index=True)
