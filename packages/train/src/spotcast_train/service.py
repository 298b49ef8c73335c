"""What the CLI commands and the `spotcast run` handler do: fit and register, backtest, list.

I/O goes through the storage API only; the work itself is in the pure modules (rolling,
xgbmodel, naive, evaluate, report)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from spotcast_storage.contracts import ZONE_TIMEZONES
from spotcast_storage.contracts.backtests import BACKTEST_METRICS, BACKTESTS, backtest_metrics_group
from spotcast_storage.contracts.features import LABEL
from spotcast_storage.errors import NotFoundError, ValidationError
from spotcast_storage.modelformat import Predictor
from spotcast_storage.query import to_utc_timestamp
from spotcast_train import evaluate
from spotcast_train.data import (
    LABEL_KNOWN,
    TIME_COL,
    candidate_features,
    known_at,
    load_training_frame,
)
from spotcast_train.models import DEFAULT_MODEL, FitRequest, ModelType, baselines, get_model_type
from spotcast_train.rolling import (
    describe_recalibrate,
    parse_days,
    parse_recalibrate,
    rolling_origin,
)

DEFAULT_WINDOW_DAYS = 730
DEFAULT_HOLDOUT_DAYS = 28
Progress = Callable[[int, int], None]


def check_zone(zone: str) -> str:
    z = zone.strip().upper()
    if z not in ZONE_TIMEZONES:
        raise ValidationError(f"unknown zone {zone!r}; known zones: {', '.join(ZONE_TIMEZONES)}")
    return z


def model_name(model: str, zone: str) -> str:
    """Registry name of a model type for a zone, e.g. ``price_xgboost_se3`` (one model per zone)."""
    return f"price_{model.replace('-', '_')}_{zone.lower()}"


def _fit(mt: ModelType, frame: pd.DataFrame, origin: pd.Timestamp, features: list[str],
         options: dict[str, Any]) -> Predictor:
    return mt.fit(FitRequest(frame=frame, features=features, target=LABEL, time_col=TIME_COL,
                             until=origin, options=options))


# -- fit ----------------------------------------------------------------------------------------
@dataclass
class FitResult:
    zone: str
    model: str
    name: str
    version: int | None
    metrics: dict[str, float]
    baseline_metrics: dict[str, dict[str, float]]
    training_window: dict[str, Any]
    artifact: str | None
    predictor: Predictor = field(repr=False)

    def summary(self) -> str:
        m = self.metrics
        naive = ", ".join(f"{k} MAE {v['mae']:.2f}" for k, v in self.baseline_metrics.items())
        return (f"registered {self.name} v{self.version}: holdout MAE {m['mae']:.2f}, rMAE {m.get('rmae', float('nan')):.3f} "
                f"({naive}); trained on {self.training_window['rows']} rows "
                f"{self.training_window['start'][:10]}..{self.training_window['end'][:10]}")


def fit(project: Any, zone: str, model: str = DEFAULT_MODEL, window: str | int | None = DEFAULT_WINDOW_DAYS,
        holdout: str | int = DEFAULT_HOLDOUT_DAYS, options: dict[str, Any] | None = None,
        register: bool = True, now: Any = None) -> FitResult:
    """Fit ``model`` for ``zone`` on the newest ``window`` of labelled training rows, score it
    on a time-ordered holdout (the last ``holdout`` days of origins, trained only on what was
    known before them), refit on everything and register it with metrics and lineage."""
    zone = check_zone(zone)
    mt = get_model_type(model)
    window_days = parse_days(window, "--window")
    holdout_days = parse_days(holdout, "--holdout")
    options = dict(options or {})
    now_ts = to_utc_timestamp(now if now is not None else pd.Timestamp.now(tz="UTC"), name="now")
    frame, lineage = load_training_frame(project, zone)
    labelled = known_at(frame, now_ts)
    if labelled.empty:
        raise NotFoundError(f"zone {zone} has feature rows but no labelled ones yet (no actual prices "
                            "known for their target hours); load prices and build features")
    last_origin = pd.Timestamp(labelled[TIME_COL].max())
    if window_days is not None:
        labelled = labelled[labelled[TIME_COL] >= last_origin - pd.Timedelta(days=window_days)]
    features = candidate_features(frame.columns)

    cut = last_origin - pd.Timedelta(days=holdout_days)
    train_part = known_at(labelled, cut)
    test_part = labelled[labelled[TIME_COL] > cut]
    if train_part.empty or test_part.empty:
        span = (last_origin - pd.Timestamp(labelled[TIME_COL].min())).days
        raise ValidationError(
            f"{span} days of labelled origins for {zone} is too little for a {holdout_days}-day holdout; "
            "load more history or pass a shorter --holdout")
    holdout_model = _fit(mt, train_part, cut, features, options)
    scored = _score_holdout(holdout_model, test_part, model)
    table = evaluate.score(scored)
    overall = table[table["horizon_day"] == 0].set_index("model")
    metrics = {k: float(overall.loc[model, k])
               for k in ("mae", "rmse", "smape", "rmae", "coverage_p10_p90", "width_p10_p90", "pinball")}
    base = {m: {k: float(overall.loc[m, k]) for k in ("mae", "rmse", "smape")}
            for m in overall.index if m != model}
    for m, v in base.items():
        metrics[f"{m.replace('-', '_')}_mae"] = v["mae"]
    metrics = {k: v for k, v in metrics.items() if pd.notna(v)}

    final = _fit(mt, labelled, now_ts, features, options)
    times = pd.DatetimeIndex(labelled[TIME_COL])
    training_window = {"start": times.min().isoformat(), "end": times.max().isoformat(),
                       "days": window_days, "rows": len(labelled), "holdout_days": holdout_days,
                       "holdout_start": cut.isoformat()}
    spec = replace(final.spec, lineage={**lineage, "model_type": model}, training_window=training_window)
    final = Predictor(spec, final.boosters, final.linear_boosters)
    result = FitResult(zone, model, model_name(model, zone), None, metrics, base, training_window, None, final)
    if register:
        mr = project.get_model_registry()
        with tempfile.TemporaryDirectory() as tmp:
            final.save(Path(tmp) / "artifact")
            m = mr.python.create_model(
                result.name, metrics=metrics,
                description=f"{model} for {zone}: {mt.description}; holdout = last {holdout_days} days of origins",
                lineage=spec.lineage, training_window=training_window, features=spec.features,
                quantiles=spec.quantiles, model_type=model,
            ).save(Path(tmp) / "artifact")
        result.version = int(m.version)
        result.artifact = m.download()
    return result


def _score_holdout(model: Predictor, rows: pd.DataFrame, name: str) -> pd.DataFrame:
    """Long frame of the model's and the naive baselines' holdout forecasts."""
    parts = []
    pred = model.predict(rows)
    parts.append(_long(rows, pred, name))
    for b in baselines():
        col = {"naive-daily": "price_lag_1d", "naive-weekly": "price_lag_7d"}.get(b.name)
        if col and col in rows:
            parts.append(_long(rows, pd.DataFrame({"p50": rows[col]}, index=rows.index), b.name))
    return pd.concat(parts, ignore_index=True)


def _long(rows: pd.DataFrame, pred: pd.DataFrame, name: str) -> pd.DataFrame:
    out = rows[[TIME_COL, "ts", "horizon_day"]].copy()
    out["model"] = name
    out["actual"] = rows[LABEL].to_numpy()
    for c in ("p10", "p50", "p90"):
        out[c] = pred[c].to_numpy() if c in pred else float("nan")
    return out


# -- backtest -----------------------------------------------------------------------------------
@dataclass
class BacktestResult:
    run_id: str
    zone: str
    model: str
    start: pd.Timestamp
    end: pd.Timestamp
    recalibrate: str
    window_days: int | None
    forecasts: pd.DataFrame
    table: pd.DataFrame
    verdict: str
    report: Path | None = None
    commit_ids: dict[str, int] = field(default_factory=dict)


def run_id(zone: str, model: str, start: pd.Timestamp, end: pd.Timestamp, recalibrate: str,
           window_days: int | None) -> str:
    return (f"{zone.lower()}_{model.replace('-', '_')}_{start:%Y%m%d}_{end:%Y%m%d}_"
            f"{recalibrate.replace(' ', '_')}_{window_days or 'all'}")


def backtest(project: Any, zone: str, start: Any, end: Any, model: str = DEFAULT_MODEL,
             recalibrate: str | int = "weekly", window: str | int | None = None,
             options: dict[str, Any] | None = None, report_dir: Path | None = None, write: bool = True,
             progress: Progress | None = None) -> BacktestResult:
    """Rolling-origin backtest of ``model`` and the naive baselines over origins in ``[start, end)``."""
    zone = check_zone(zone)
    mt = get_model_type(model)
    start_ts, end_ts = to_utc_timestamp(start, name="--start"), to_utc_timestamp(end, name="--end")
    if end_ts <= start_ts:
        raise ValidationError(f"--end {end} must be after --start {start}")
    every = parse_recalibrate(recalibrate)
    window_days = parse_days(window, "--window")
    options = dict(options or {})
    frame, lineage = load_training_frame(project, zone, end=end_ts)
    origins = sorted(pd.DatetimeIndex(frame.loc[frame[TIME_COL] >= start_ts, TIME_COL]).unique())
    if not origins:
        raise NotFoundError(f"zone {zone} has no feature rows with origins in [{start_ts:%Y-%m-%d}, {end_ts:%Y-%m-%d})")
    features = candidate_features(frame.columns)
    if known_at(frame, origins[0]).empty:
        raise ValidationError(
            f"no labelled rows are known at the first origin {origins[0]:%Y-%m-%d}: start the backtest later "
            "or load more history")
    keep = ("horizon_day", LABEL)
    types = [mt, *[b for b in baselines() if b.name != mt.name]]
    parts = []
    for i, t in enumerate(types):
        step = None if progress is None else _offset_progress(progress, i, len(types))
        pred = rolling_origin(
            frame, origins, lambda f, o, t=t: _fit(t, f, o, features, options), recalibrate=every,
            window_days=window_days, time_col=TIME_COL, known_col=LABEL_KNOWN, keep=keep, progress=step)
        pred["model"] = t.name
        parts.append(pred)
    forecasts = pd.concat(parts, ignore_index=True).rename(columns={LABEL: "actual"})
    table = evaluate.score(forecasts)
    recal = describe_recalibrate(every)
    rid = run_id(zone, model, start_ts, end_ts, recal, window_days)
    if options.get("linear"):  # a different model than the same type without linear members
        rid += "_linear"
    result = BacktestResult(rid, zone, model, start_ts, end_ts, recal, window_days, forecasts, table,
                            evaluate.verdict(table, model))
    if write:
        result.commit_ids = write_backtest(project, result)
    if report_dir is not None:
        from spotcast_train.report import write_report

        result.report = write_report(result, Path(report_dir), lineage)
    return result


def _offset_progress(progress: Progress, part: int, parts: int) -> Progress:
    """Progress of part ``part`` of ``parts`` equal loops as one bar."""
    def step(k: int, n: int) -> None:
        progress(part * n + k, parts * n)

    return step


def write_backtest(project: Any, r: BacktestResult) -> dict[str, int]:
    fs = project.get_feature_store()
    f = r.forecasts.assign(run_id=r.run_id, zone=r.zone)
    for c in ("p10", "p90"):
        if c not in f:
            f[c] = float("nan")
    f = f[f["p50"].notna()]
    rows = BACKTESTS.conform(f[BACKTESTS.column_names].astype({"horizon_day": "int64"}))
    c1 = BACKTESTS.get_or_create(fs).insert(rows)
    now = pd.Timestamp.now(tz="UTC").floor("us")
    m = r.table.assign(run_id=r.run_id, zone=r.zone, period_start=r.start, period_end=r.end,
                       recalibrate=r.recalibrate, window_days=r.window_days, created_at=now)
    m["window_days"] = m["window_days"].astype("Int64")
    c2 = backtest_metrics_group(fs).insert(BACKTEST_METRICS.conform(m[BACKTEST_METRICS.column_names]))
    return {BACKTESTS.name: c1.commit_id, BACKTEST_METRICS.name: c2.commit_id}


# -- listing ------------------------------------------------------------------------------------
def list_models(project: Any, zone: str | None = None) -> pd.DataFrame:
    """Registered models with their holdout metrics and lineage, newest first."""
    rows = []
    for m in project.get_model_registry().get_models():
        lin = m.lineage or {}
        zones = lin.get("zones") or []
        if zone is not None and zone.upper() not in zones:
            continue
        groups = ", ".join(f"{g['name']} v{g['version']}@{g.get('commit_id')}" for g in lin.get("feature_groups", []))
        met = m.training_metrics or {}
        rows.append({
            "name": m.name, "version": m.version, "created": m.created, "zones": ",".join(zones),
            "model_type": lin.get("model_type", ""), "mae": met.get("mae"), "rmae": met.get("rmae"),
            "naive_weekly_mae": met.get("naive_weekly_mae"), "coverage": met.get("coverage_p10_p90"),
            "lineage": groups,
        })
    df = pd.DataFrame(rows, columns=["name", "version", "created", "zones", "model_type", "mae", "rmae",
                                     "naive_weekly_mae", "coverage", "lineage"])
    return df.sort_values(["created", "name"], ascending=[False, True], ignore_index=True)
