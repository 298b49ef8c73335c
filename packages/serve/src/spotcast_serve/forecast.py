"""Pure transformations from feature rows and model output to published forecasts.

No I/O here: :mod:`spotcast_serve.service` reads the store and writes the results.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from spotcast_storage.contracts import ZONE_TIMEZONES
from spotcast_storage.contracts.forecasts import FORECASTS
from spotcast_storage.errors import ValidationError

QUANTILES = ("p10", "p50", "p90")
KEY = list(FORECASTS.primary_key)
FALLBACK_TZ = "UTC"


def zone_timezone(zone: str) -> str:
    """The zone's civil time zone; UTC for zones spotcast has no calendar for yet (a day
    boundary in UTC is still a stable, documented choice for horizon days and file names)."""
    return ZONE_TIMEZONES.get(zone, FALLBACK_TZ)


def horizon_days(origin: pd.Series, ts: pd.Series, tz: str) -> pd.Series:
    """Days between the origin's local date and the target hour's local date (D+1 = 1).

    Counted on local calendar dates, not 24-hour blocks, so a 23- or 25-hour DST day is
    still exactly one horizon day.
    """
    o = pd.to_datetime(origin, utc=True).dt.tz_convert(tz).dt.normalize().dt.tz_localize(None)
    t = pd.to_datetime(ts, utc=True).dt.tz_convert(tz).dt.normalize().dt.tz_localize(None)
    return ((t - o) / pd.Timedelta(days=1)).round().astype("int64")


def local_date(ts: pd.Timestamp, tz: str) -> str:
    """ISO date of ``ts`` in ``tz`` (used in output file names: the origin's local day)."""
    return pd.Timestamp(ts).tz_convert(tz).date().isoformat()


def newest_origin_rows(features: pd.DataFrame) -> pd.DataFrame:
    """The rows of the newest origin in ``features`` (one zone's price_features rows)."""
    if features.empty:
        return features
    newest = features["origin"].max()
    return features[features["origin"] == newest].sort_values("ts", ignore_index=True)


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
                    created_at: pd.Timestamp) -> pd.DataFrame:
    """Rows of the ``forecasts`` contract from one origin's feature rows and their predictions.

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
    out = pd.DataFrame({
        "zone": rows["zone"].reset_index(drop=True),
        "origin": pd.to_datetime(rows["origin"], utc=True).reset_index(drop=True),
        "ts": pd.to_datetime(rows["ts"], utc=True).reset_index(drop=True),
    })
    for c in QUANTILES:
        out[c] = q[c].to_numpy()
    out["model"] = model
    out["model_version"] = np.int64(model_version)
    out["created_at"] = pd.Timestamp(created_at).tz_convert("UTC")
    return FORECASTS.conform(out[ok].reset_index(drop=True))


def same_forecast(new: pd.DataFrame, old: pd.DataFrame, atol: float = 1e-9) -> bool:
    """True when ``old`` already holds exactly ``new``'s hours, values and model version
    (``created_at`` aside), so re-running a forecast can write nothing."""
    if len(new) != len(old):
        return False
    a = new.sort_values(KEY, ignore_index=True)
    b = old.sort_values(KEY, ignore_index=True)
    for k in KEY:
        if not (a[k].to_numpy() == b[k].to_numpy()).all():
            return False
    if not ((a["model"].to_numpy() == b["model"].to_numpy()).all()
            and (a["model_version"].to_numpy() == b["model_version"].to_numpy()).all()):
        return False
    x = a[list(QUANTILES)].to_numpy(dtype="float64")
    y = b[list(QUANTILES)].to_numpy(dtype="float64")
    return bool(np.allclose(x, y, rtol=0, atol=atol, equal_nan=True))


def daily_means(fc: pd.DataFrame, tz: str) -> pd.DataFrame:
    """Mean p10/p50/p90 per local delivery day, with the day's number of hours (23/24/25)."""
    local = pd.to_datetime(fc["ts"], utc=True).dt.tz_convert(tz)
    frame = pd.DataFrame({
        "date": local.dt.date.astype("str"),
        "horizon_day": horizon_days(fc["origin"], fc["ts"], tz),
        "p10": fc["p10"].to_numpy(), "p50": fc["p50"].to_numpy(), "p90": fc["p90"].to_numpy(),
    })
    out = frame.groupby(["date", "horizon_day"], as_index=False, sort=True).agg(
        hours=("p50", "size"), p10=("p10", "mean"), p50=("p50", "mean"), p90=("p90", "mean"))
    return out


def forecast_table(fc: pd.DataFrame, tz: str) -> pd.DataFrame:
    """The hourly forecast as people and spreadsheets read it: UTC and local time side by side."""
    ts = pd.to_datetime(fc["ts"], utc=True)
    out = pd.DataFrame({
        "zone": fc["zone"].to_numpy(),
        "origin": pd.to_datetime(fc["origin"], utc=True).to_numpy(),
        "ts": ts.to_numpy(),
        "ts_local": ts.dt.tz_convert(tz).map(lambda t: t.isoformat()).to_numpy(),
        "horizon_day": horizon_days(fc["origin"], fc["ts"], tz).to_numpy(),
        "p10": fc["p10"].to_numpy(), "p50": fc["p50"].to_numpy(), "p90": fc["p90"].to_numpy(),
        "model": fc["model"].to_numpy(), "model_version": fc["model_version"].to_numpy(),
    })
    for c in ("origin", "ts"):
        out[c] = pd.to_datetime(out[c], utc=True)
    return out.sort_values("ts", ignore_index=True)
