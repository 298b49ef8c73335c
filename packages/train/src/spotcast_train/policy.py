"""When to retrain: the `spotcast run` handler reacting to new price_features commits.

A zone's model is retrained when (1) none is registered, (2) the newest is older than
``max_age_days`` -- counted from the end of its training window (the newest origin it learnt
from), not from when it was registered, so that `spotcast run --now` replaying the past ages
models in the replayed time --, or (3) its tracked accuracy -- the stored ``forecasts`` v1 of that model
against actual prices over the last ``accuracy_days`` -- is worse than the weekly naive's on
the same hours. Otherwise new features change nothing and the handler says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from spotcast_storage.contracts.features import PRICES_HOURLY
from spotcast_storage.contracts.forecasts import FORECASTS
from spotcast_storage.errors import NotFoundError
from spotcast_train import metrics
from spotcast_train.models import DEFAULT_MODEL

CONSUMER = "train"
INPUT_NAMES = ("price_features",)
MAX_AGE_DAYS = 7
ACCURACY_DAYS = 14


@dataclass(frozen=True)
class Decision:
    retrain: bool
    reason: str


def tracked_accuracy(project: Any, zone: str, model: str, now: pd.Timestamp,
                     days: int = ACCURACY_DAYS) -> tuple[float, float, int]:
    """(model MAE, naive-weekly MAE, rows) over stored forecasts of ``model`` whose target hour
    lies in the last ``days`` days and whose actual price is known."""
    fs = project.get_feature_store()
    try:
        fc = FORECASTS.get(fs)
        hourly = PRICES_HOURLY.get(fs)
    except NotFoundError:
        return float("nan"), float("nan"), 0
    since = now - pd.Timedelta(days=days)
    f = fc.filter((fc.zone == zone) & (fc.model == model) & (fc.ts >= since) & (fc.ts < now)).read()
    if f.empty:
        return float("nan"), float("nan"), 0
    p = hourly.filter((hourly.zone == zone) & (hourly.ts >= since - pd.Timedelta(days=7)) & (hourly.ts < now)).read()
    p = p[p["known_at"] <= now][["ts", "price_eur_mwh"]]
    actual = f.merge(p, on="ts", how="inner")
    naive = p.assign(ts=p["ts"] + pd.Timedelta(days=7)).rename(columns={"price_eur_mwh": "naive"})
    both = actual.merge(naive, on="ts", how="inner")
    both = both[np.isfinite(both["naive"]) & np.isfinite(both["price_eur_mwh"])]
    if both.empty:
        return float("nan"), float("nan"), 0
    return (metrics.mae(both["price_eur_mwh"], both["p50"]), metrics.mae(both["price_eur_mwh"], both["naive"]),
            len(both))


def trained_until(model: Any) -> pd.Timestamp:
    """The newest origin a registered model learnt from (its training window's end, UTC); the
    registration time for models registered without a training window."""
    window = (getattr(model, "extra", None) or {}).get("training_window") or {}
    end = window.get("end")
    ts = pd.Timestamp(end if end else model.created)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def decide(project: Any, zone: str, now: pd.Timestamp, model: str = DEFAULT_MODEL,
           max_age_days: int = MAX_AGE_DAYS, accuracy_days: int = ACCURACY_DAYS) -> Decision:
    from spotcast_train.service import model_name

    name = model_name(model, zone)
    versions = project.get_model_registry().get_models(name)
    if not versions:
        return Decision(True, f"no {name} model yet")
    newest = max(versions, key=lambda m: m.version)
    age = now - trained_until(newest)
    if age > pd.Timedelta(days=max_age_days):
        return Decision(True, f"{name} v{newest.version} is {age.days} days old (> {max_age_days})")
    m_mae, n_mae, n = tracked_accuracy(project, zone, name, now, accuracy_days)
    if n and m_mae > n_mae:
        return Decision(True, f"{name} tracked MAE {m_mae:.2f} over the last {accuracy_days} days is worse "
                              f"than naive-weekly's {n_mae:.2f} ({n} hours)")
    detail = f"; tracked MAE {m_mae:.2f} vs naive-weekly {n_mae:.2f}" if n else "; no tracked forecasts yet"
    return Decision(False, f"{name} v{newest.version} is {age.days} days old{detail}")


def zones_in(events: list[Any], fallback: list[str]) -> list[str]:
    """Zones the events touched (an event with too many zones to list means all of ``fallback``)."""
    zones: set[str] = set()
    for e in events:
        touched = (e.payload.get("keys") or {}).get("zone")
        if touched:
            zones.update(touched)
        elif e.changed:
            zones.update(fallback)
    return sorted(zones)


def handle_events(events: list[Any], ctx: Any) -> str | None:
    """`spotcast run` handler: apply the retrain policy to every zone the new features touch."""
    from spotcast_train.service import fit

    changed = [e for e in events if e.changed]
    if not changed:
        return None
    opts = ctx.options or {}
    max_age = int(opts.get("retrain_max_age_days", MAX_AGE_DAYS))
    acc_days = int(opts.get("retrain_accuracy_days", ACCURACY_DAYS))
    lines = []
    for zone in zones_in(changed, list(ctx.zones)):
        d = decide(ctx.project, zone, ctx.now, max_age_days=max_age, accuracy_days=acc_days)
        if not d.retrain:
            lines.append(f"{zone}: kept ({d.reason})")
            continue
        r = fit(ctx.project, zone, now=ctx.now, options=opts.get("train_model_options"))
        lines.append(f"{zone}: retrained because {d.reason} -> {r.name} v{r.version}")
    return "; ".join(lines) if lines else None
