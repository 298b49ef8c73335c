"""When to retrain: the `spotcast run` handler reacting to new price_features commits.

A zone's model is retrained when (1) none is registered, (2) the newest is older than
``max_age_days`` -- counted from the end of its training window (the newest origin it learnt
from), not from when it was registered, so that `spotcast run --now` replaying the past ages
models in the replayed time --, or (3) the tracked accuracy of the model that serves the zone
-- its stored forecasts against actual prices over the last ``accuracy_days`` -- is worse than
the weekly naive's on the same hours, measured over at least ``MIN_TRACKED_DAYS`` days of
tracked forecasts (fewer hours are noise: issue 12 saw a retrain on 15 tracked hours). Only
forecasts for origins after the newest fit count: the promotion gate already scored everything
before it, so a rejected challenger is not refitted every day on the same evidence. A retrained
model serves only if it passes the promotion gate (:mod:`spotcast_train.gate`). Otherwise the
handler recalibrates the serving model's cheap members (the default ensemble's LEAR) on the new
labelled origins (:func:`spotcast_train.service.recalibrate`; ``RunOptions.recalibrate``) and says
so, with the zone's serving status. A recalibration is the same gated fit, not a new one: the
model's age and the forecasts tracked since its fit count from the gated fit it recalibrates.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from spotcast_storage import promotion
from spotcast_storage.contracts.features import PRICES_HOURLY
from spotcast_storage.contracts.forecasts import FORECASTS, published, read_source
from spotcast_storage.errors import NotFoundError
from spotcast_storage.pipeline import RunOptions
from spotcast_storage.text import plural
from spotcast_train import metrics
from spotcast_train.models import DEFAULT_MODEL

if TYPE_CHECKING:
    from spotcast_storage.protocols import Project

CONSUMER = "train"
INPUT_NAMES = ("price_features",)
MAX_AGE_DAYS = RunOptions.retrain_max_age_days
ACCURACY_DAYS = RunOptions.retrain_accuracy_days
MIN_TRACKED_DAYS = RunOptions.retrain_min_tracked_days


@dataclass(frozen=True)
class Decision:
    retrain: bool
    reason: str


@dataclass(frozen=True)
class Tracked:
    mae: float
    naive_mae: float
    hours: int
    days: int
    """Distinct UTC days with at least one tracked hour."""


def tracked_accuracy(project: Project, zone: str, model: str, now: pd.Timestamp, days: int = ACCURACY_DAYS,
                     version: int | Collection[int] | None = None, after: pd.Timestamp | None = None) -> Tracked:
    """Model and naive-weekly MAE over the published forecasts of ``model`` (``version`` when given,
    or any of several: a gated fit and its recalibrations, for
    origins after ``after`` when given) whose target hour lies in the last ``days`` days and
    whose actual price is known. Hourly forecast rows only: a zone's stored quarter-hours (the
    same forecast at 15 minutes) would count every hour five times."""
    none = Tracked(float("nan"), float("nan"), 0, 0)
    fs = project.get_feature_store()
    src = FORECASTS.source(fs)  # the current version, or an older one not migrated yet
    try:
        hourly = PRICES_HOURLY.get(fs)
    except NotFoundError:
        return none
    if src is None:
        return none
    fc = src[0]
    since = now - pd.Timedelta(days=days)
    cond = (fc.zone == zone) & (fc.ts >= since) & (fc.ts < now)
    # the published vintage of each origin (what a trader saw) at 60 minutes, then only this model's
    f = published(read_source(src, cond, resolution=60), resolution=60)
    f = f[f["model"] == model]
    if version is not None:
        f = f[f["model_version"].isin([version] if isinstance(version, int) else list(version))]
    if after is not None:
        f = f[f["origin"] > after]
    if f.empty:
        return none
    p = hourly.filter((hourly.zone == zone) & (hourly.ts >= since - pd.Timedelta(days=7)) & (hourly.ts < now)).read()
    p = p[p["known_at"] <= now][["ts", "price_eur_mwh"]]
    actual = f.merge(p, on="ts", how="inner")
    naive = p.assign(ts=p["ts"] + pd.Timedelta(days=7)).rename(columns={"price_eur_mwh": "naive"})
    both = actual.merge(naive, on="ts", how="inner")
    both = both[np.isfinite(both["naive"]) & np.isfinite(both["price_eur_mwh"])]
    if both.empty:
        return none
    return Tracked(metrics.mae(both["price_eur_mwh"], both["p50"]), metrics.mae(both["price_eur_mwh"], both["naive"]),
                   len(both), int(both["ts"].dt.floor("D").nunique()))


def trained_until(model: Any) -> pd.Timestamp:
    """The newest origin a registered model learnt from (its training window's end, UTC); the
    registration time for models registered without a training window."""
    window = (getattr(model, "extra", None) or {}).get("training_window") or {}
    end = window.get("end")
    ts = pd.Timestamp(end if end else model.created)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def decide(project: Project, zone: str, now: pd.Timestamp, model: str = DEFAULT_MODEL,
           max_age_days: int = MAX_AGE_DAYS, accuracy_days: int = ACCURACY_DAYS,
           min_tracked_days: int = MIN_TRACKED_DAYS) -> Decision:
    from spotcast_train.service import model_name

    name = model_name(model, zone)
    versions = project.get_model_registry().get_models(name)
    if not versions:
        return Decision(True, f"no {name} model yet")
    # recalibrations refit the cheap members only: the whole model's age counts from its gated fit
    newest = max([m for m in versions if not promotion.is_recalibration(m)] or versions, key=lambda m: m.version)
    age = now - trained_until(newest)
    if age > pd.Timedelta(days=max_age_days):
        return Decision(True, f"{name} v{newest.version} is {plural(age.days, 'day')} old (> {max_age_days})")
    serving = promotion.serving_status(project, zone).serving
    if serving is None or promotion.model_type(
            project.get_model_registry().get_model(serving.name, serving.version)).startswith("naive"):
        return Decision(False, f"{name} v{newest.version} is {plural(age.days, 'day')} old; "
                               + ("the weekly naive serves" if serving is not None else "nothing serves yet"))
    fit_versions = same_fit(project, serving)
    t = tracked_accuracy(project, zone, serving.name, now, accuracy_days, version=fit_versions,
                         after=trained_until(newest))
    who = serving.label()
    if t.hours and t.days < min_tracked_days:
        return Decision(False, f"{name} v{newest.version} is {plural(age.days, 'day')} old; {who} tracked MAE {t.mae:.2f} vs "
                               f"naive-weekly {t.naive_mae:.2f} over only {plural(t.days, 'day')} of tracked forecasts "
                               f"(a retrain on accuracy needs {min_tracked_days})")
    if t.hours and t.mae > t.naive_mae:
        return Decision(True, f"{who} tracked MAE {t.mae:.2f} over {plural(t.days, 'day')} ({plural(t.hours, 'hour')}) is worse "
                              f"than naive-weekly's {t.naive_mae:.2f}")
    detail = (f"; {who} tracked MAE {t.mae:.2f} vs naive-weekly {t.naive_mae:.2f} over {plural(t.days, 'day')}" if t.hours
              else "; no tracked forecasts since the last fit yet")
    return Decision(False, f"{name} v{newest.version} is {plural(age.days, 'day')} old{detail}")


def same_fit(project: Project, key: promotion.ModelKey) -> set[int]:
    """Versions of ``key``'s name that stand for the same gated fit as ``key`` (it and its
    recalibrations): their published forecasts are one model's track record."""
    mr = project.get_model_registry()
    root = promotion.root_of(mr.get_model(key.name, key.version))
    return {int(m.version) for m in mr.get_models(key.name) if promotion.root_of(m) == root}


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


def quarter_steps(log: Any, what: str) -> Any:
    """A progress callback for a log (``spotcast run`` prints lines, not bars): one line each time
    another quarter of the work is done, with the fits done and the time taken."""
    import time

    start = time.monotonic()
    said = [0]

    def step(done: int, total: int) -> None:
        quarter = 4 * done // max(total, 1)
        if quarter > said[0]:
            said[0] = quarter
            log(f"{what}: {done}/{total} rolling forecasts (every model, every origin) ({25 * quarter}%, "
                f"{time.monotonic() - start:.0f} s)")

    return step


def handle_events(events: list[Any], ctx: Any) -> str | None:
    """`spotcast run` handler: apply the retrain policy to every zone the new features touch, and
    recalibrate the cheap members of the models it keeps."""
    from spotcast_train.service import fit, recalibrate

    changed = [e for e in events if e.changed]
    if not changed:
        return None
    opts = ctx.options
    max_age, acc_days = opts.retrain_max_age_days, opts.retrain_accuracy_days
    min_days = opts.retrain_min_tracked_days
    lines = []
    for zone in zones_in(changed, list(ctx.zones)):
        d = decide(ctx.project, zone, ctx.now, max_age_days=max_age, accuracy_days=acc_days,
                   min_tracked_days=min_days)
        if not d.retrain:
            r = recalibrate(ctx.project, zone, now=ctx.now) if opts.recalibrate else None
            if r is not None and r.recalibrated:
                lines.append(f"{zone}: kept ({d.reason}); {r.message.removeprefix(f'{zone}: ')}")
                continue
            status = promotion.serving_status(ctx.project, zone).message.removeprefix(f"{zone}: ")
            lines.append(f"{zone}: kept ({d.reason}); newest gate decision: {status}")
            continue
        ctx.log(f"train: {zone}: retraining ({d.reason}); the promotion gate's rolling backtest comes first")
        r = fit(ctx.project, zone, now=ctx.now, options=opts.train_model_options,
                progress=quarter_steps(ctx.log, f"train: {zone}: promotion gate"))
        lines.append(f"{zone}: retrained because {d.reason} -> {r.name} v{r.version}; "
                     f"{r.status.removeprefix(f'{zone}: ')}" + "".join(f"; note: {n}" for n in r.notes))
    return "; ".join(lines) if lines else None
