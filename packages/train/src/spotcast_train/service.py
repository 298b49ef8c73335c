"""What the CLI commands and the `spotcast run` handler do: fit and register, backtest, list.

I/O goes through the storage API only; the work itself is in the pure modules (rolling,
xgbmodel, naive, evaluate, report)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from spotcast_storage import promotion
from spotcast_storage.contracts.backtests import BACKTEST_METRICS, BACKTESTS
from spotcast_storage.contracts.features import LABEL
from spotcast_storage.errors import NotFoundError, ValidationError
from spotcast_storage.lineage import Lineage
from spotcast_storage.modelformat import ModelPredictor
from spotcast_storage.query import to_utc_timestamp
from spotcast_storage.zones import parse_zone
from spotcast_train import evaluate, gate
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

if TYPE_CHECKING:
    from spotcast_storage.protocols import Project

DEFAULT_WINDOW_DAYS = 730
Progress = Callable[[int, int], None]


def model_name(model: str, zone: str) -> str:
    """Registry name of a model type for a zone, e.g. ``price_xgboost_se3`` (one model per zone)."""
    return f"price_{model.replace('-', '_')}_{zone.lower()}"


def _fit(mt: ModelType, frame: pd.DataFrame, origin: pd.Timestamp, features: list[str],
         options: dict[str, Any]) -> ModelPredictor:
    return mt.fit(FitRequest(frame=frame, features=features, target=LABEL, time_col=TIME_COL,
                             until=origin, options=options))


def _fitter(mt: ModelType, features: list[str], options: dict[str, Any]) -> gate.Fitter:
    """``mt`` fitted on a frame up to an origin, for the gate and rolling backtests: one closure
    per model type (a lambda in a loop would see only the loop's last type)."""
    return lambda frame, origin: _fit(mt, frame, origin, features, options)


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
    predictor: ModelPredictor = field(repr=False)
    decision: dict[str, Any] | None = None
    """The promotion gate's decision record (see spotcast_storage.promotion), None for baselines."""
    status: str = ""
    """The zone's serving status after the fit, in words."""
    fallback: tuple[str, int] | None = None
    """The weekly naive registered to serve because nothing beat the naive baselines."""
    notes: list[str] = field(default_factory=list)
    """What the fitted model says about itself that the user asked for otherwise (e.g. "no DNN
    members: 12 complete days < 20"): the model's ``spec.info["notes"]``."""

    def summary(self) -> str:
        m = self.metrics
        naive = ", ".join(f"{k} MAE {v['mae']:.2f}" for k, v in self.baseline_metrics.items())
        what = "registered" if self.version is not None else "fitted (not registered)"
        scored = (f"rolling MAE {m['mae']:.2f} over {self.training_window.get('gate_origins')} origins"
                  if "gate_origins" in self.training_window else f"MAE {m['mae']:.2f}")
        line = (f"{what} {self.name}" + (f" v{self.version}" if self.version is not None else "")
                + f": {scored}, rMAE {m.get('rmae', float('nan')):.3f} ({naive}); trained on "
                f"{self.training_window['rows']} rows {self.training_window['start'][:10]}..{self.training_window['end'][:10]}")
        return line + "".join(f"\nnote: {n}" for n in self.notes) + (f"\n{self.status}" if self.status else "")


def fit(project: Project, zone: str, model: str = DEFAULT_MODEL, window: str | int | None = DEFAULT_WINDOW_DAYS,
        origins: int = gate.GATE_ORIGINS, refit: str | int = "weekly", options: dict[str, Any] | None = None,
        register: bool = True, now: Any = None, progress: Progress | None = None,
        features_version: int | None = None) -> FitResult:
    """Fit ``model`` for ``zone`` on the newest ``window`` of labelled training rows and put it
    through the promotion gate (:mod:`spotcast_train.gate`): a rolling backtest over the newest
    ``origins`` origins, refitted every ``refit`` days, against the serving model's recipe and
    both naive baselines on the same rows. Then refit on everything and register it with the
    decision; a losing model is registered as a rejected challenger and the serving model (or,
    when nothing beats the naive baselines, the weekly naive) keeps serving. The registered
    metrics are the gate's rolling scores. Naive baselines themselves are registered ungated."""
    zone = parse_zone(zone).code
    mt = get_model_type(model)
    window_days = parse_days(window, "--window")
    refit_days = parse_recalibrate(refit)
    if refit_days < 1:
        raise ValidationError(f"--refit {refit!r}: the gate refits on a schedule of at least one day (daily, weekly, 14d)")
    if not isinstance(origins, int) or isinstance(origins, bool) or origins < gate.GATE_ORIGINS:
        raise ValidationError(f"--origins {origins!r}: the promotion gate scores at least {gate.GATE_ORIGINS} origins")
    options = dict(options or {})
    if mt.check is not None:
        mt.check(options)
    now_ts = to_utc_timestamp(now if now is not None else pd.Timestamp.now(tz="UTC"), name="now")
    frame, lineage = load_training_frame(project, zone, features_version=features_version)
    labelled = known_at(frame, now_ts)
    if labelled.empty:
        raise NotFoundError(f"zone {zone} has feature rows but no labelled ones yet (no actual prices "
                            "known for their target hours); load prices and build features")
    last_origin = pd.Timestamp(labelled[TIME_COL].max())
    # the gate sees every labelled row: each recipe's own window is applied at each of its refits
    # (a challenger's short window must not shorten the serving recipe's training)
    history = labelled
    if window_days is not None:
        labelled = labelled[labelled[TIME_COL] >= last_origin - pd.Timedelta(days=window_days)]
    features = candidate_features(frame.columns)
    recipe = gate.Recipe.make(model, mt.recipe_options(options) if mt.recipe_options else options, window_days,
                              features)
    gate.decode_options(recipe.options)  # options that cannot be rebuilt fail now, not in a later gate

    gated = not mt.baseline
    scores = None
    before: promotion.ServingStatus | None = None  # the zone's serving model, for a gated fit
    serving_model = serving_recipe = None
    if gated:
        before = promotion.serving_status(project, zone)
        origin_list = gate.gate_origins(history, origins)
        if known_at(history, origin_list[0]).empty:
            span = (last_origin - pd.Timestamp(history[TIME_COL].min())).days
            raise ValidationError(
                f"{span} days of labelled origins for {zone} is too little for a {origins}-origin promotion gate "
                "(no training rows are known at its first origin); load more history")
        fitters: dict[str, gate.Fitter] = {gate.CHALLENGER: _fitter(mt, features, options)}
        windows: dict[str, int | None] = {gate.CHALLENGER: window_days}
        serving_model, serving_recipe, how = _serving_recipe(project, before, recipe)
        if how == "refit" and serving_recipe is not None:  # "refit" always comes with the recipe
            sfeat = [c for c in serving_recipe.features if c in frame.columns] or features
            fitters[gate.SERVING] = _fitter(get_model_type(serving_recipe.model_type), sfeat,
                                            _recorded_options(serving_recipe))
            windows[gate.SERVING] = serving_recipe.window_days
        for b in gate.NAIVE:
            fitters[b] = _fitter(get_model_type(b), features, {})
        scores = gate.score(history, origin_list, fitters, target=LABEL, refit_days=refit_days,
                            window_days=windows, time_col=TIME_COL, known_col=LABEL_KNOWN, progress=progress)
        mae = dict(scores.mae)
        if how == "same":
            mae[gate.SERVING] = mae[gate.CHALLENGER]
        elif how == "baseline":
            mae[gate.SERVING] = mae[promotion.model_type(serving_model)]
        table = scores.table()
        overall = table[(table["horizon_day"] == 0) & (table["model"] != gate.SERVING)].set_index("model")
        report_as = gate.CHALLENGER
    else:
        # a naive baseline: scored (ungated) on the newest origins the same way, for its metrics
        origin_list = gate.gate_origins(history, origins)
        fitters = {b: _fitter(get_model_type(b), features, options if b == model else {}) for b in gate.NAIVE}
        scores = gate.score(history, origin_list, fitters, target=LABEL, refit_days=refit_days,
                            window_days={model: window_days}, time_col=TIME_COL, known_col=LABEL_KNOWN,
                            progress=progress)
        table = scores.table()
        overall = table[table["horizon_day"] == 0].set_index("model")
        report_as = model
        how = None
        mae = dict(scores.mae)
    metrics = {k: float(overall.loc[report_as, k])
               for k in ("mae", "rmse", "smape", "rmae", "coverage_p10_p90", "width_p10_p90", "pinball")}
    base = {m: {k: float(overall.loc[m, k]) for k in ("mae", "rmse", "smape")}
            for m in overall.index if m != report_as and m in gate.NAIVE}
    for m, v in base.items():
        metrics[f"{m.replace('-', '_')}_mae"] = v["mae"]
    metrics = {k: v for k, v in metrics.items() if pd.notna(v)}

    # the final refit is the gate's refit at the newest labelled origin (not at the wall clock: a store
    # whose history ended long ago would leave every training window empty)
    final = _fit(mt, labelled, min(now_ts, last_origin), features, options)
    times = pd.DatetimeIndex(labelled[TIME_COL])
    training_window = {"start": times.min().isoformat(), "end": times.max().isoformat(),
                       "days": window_days, "rows": len(labelled), "gate_origins": len(origin_list),
                       "gate_start": origin_list[0].isoformat(), "gate_refit_days": refit_days}
    lineage = lineage.with_model(model, final.features)
    final = final.with_info(lineage=lineage.to_dict(), training_window=training_window)
    name = model_name(model, zone)
    result = FitResult(zone, model, name, None, metrics, base, training_window, None, final, notes=_notes(final))
    description = f"{model} for {zone}: {mt.description}"
    if before is None:  # not gated: a naive baseline
        if register:
            m = _register(project, name, final, metrics, description + " (a naive baseline, ungated)",
                          training_window, model, recipe, None)
            result.version, result.artifact = int(m.version), m.download()
        return result

    verdict = gate.decide(mae, has_serving=before.serving is not None, serving_is_naive=how == "baseline")
    record_args = dict(
        zone=zone, scores={gate.CHALLENGER: mae[gate.CHALLENGER], "serving": mae.get(gate.SERVING),
                           **{b: mae[b] for b in gate.NAIVE}},
        origins=len(origin_list), first_origin=origin_list[0].isoformat(), last_origin=origin_list[-1].isoformat(),
        rows=scores.rows, refit_days=refit_days, decided_at=now_ts.isoformat(), serving_before=before.serving,
        serving_recipe=how, challenger=name)
    serves = None
    if verdict.decision == "rejected":
        serves = before.serving
    elif verdict.decision == "fallback":
        serves = before.serving if how == "baseline" else None
        if serves is None and register:
            serves = _register_fallback(project, zone, labelled, now_ts, features, lineage, training_window, record_args)
            result.fallback = (serves.name, serves.version)
    record = promotion.make_record(decision=verdict.decision, serves=serves, **record_args) \
        if (serves is not None or verdict.decision == "promoted") else None
    result.decision = record
    if register:
        if record is None:  # a fallback without a registered naive (not reachable with register=True)
            raise RuntimeError("the gate chose the weekly naive but registered none")
        run = write_gate_stream(project, zone, promotion.gate_run_id(name, now_ts, recipe.to_dict()), scores,
                                window_days)
        m = _register(project, name, final, metrics, description, training_window, model, recipe, record,
                      gate_run=run)
        result.version, result.artifact = int(m.version), m.download()
        result.status = promotion.serving_status(project, zone).message
    else:
        key = promotion.ModelKey(name, 0)
        result.status = (promotion.describe(record, key) if record is not None else
                         f"{zone}: the challenger would lose to the naive baselines ({verdict.why}); not registered")
    return result


# -- recalibrate --------------------------------------------------------------------------------
@dataclass
class RecalibrateResult:
    zone: str
    recalibrated: bool
    message: str
    """What happened in words: the new version and what was refitted, or why nothing was."""
    name: str | None = None
    version: int | None = None
    parts: list[str] = field(default_factory=list)


def recalibrate(project: Project, zone: str, now: Any = None) -> RecalibrateResult:
    """Refit the cheap members of the model that serves ``zone`` (the default ensemble's LEAR)
    on the origins labelled since it was fitted, keep its expensive ones (trees, DNN), and
    register the result as a new version that serves in its place, with a ``recalibrated``
    decision record (:func:`spotcast_storage.promotion.recalibration_record`). Not gated again:
    its recipe is the one the gate promoted, refitted as that recipe refits every member, only
    sooner; the weekly retrain (:mod:`spotcast_train.policy`) still refits and gates the whole
    model, its clock counted from the gated fit, not from recalibrations.

    Nothing happens (``recalibrated`` False, with the reason) when no promoted model serves,
    its model type cannot recalibrate, or no origin was labelled since its last fit: a second
    call with the same data writes nothing."""
    from spotcast_storage.modelformat import load_predictor
    from spotcast_train.policy import trained_until

    zone = parse_zone(zone).code
    now_ts = to_utc_timestamp(now if now is not None else pd.Timestamp.now(tz="UTC"), name="now")
    status = promotion.serving_status(project, zone)
    if status.serving is None or status.state != "promoted":
        what = "nothing serves yet" if status.serving is None else f"{status.serving.label()} serves ({status.state})"
        return RecalibrateResult(zone, False, f"{zone}: no promoted model to recalibrate: {what}")
    key = status.serving
    mr = project.get_model_registry()
    m = mr.get_model(key.name, key.version)
    recipe = gate.Recipe.of_model(m)
    mtype = promotion.model_type(m)
    try:
        mt = get_model_type(mtype)
    except NotFoundError:
        return RecalibrateResult(zone, False, f"{zone}: {key.label()} is a {mtype!r} model, which is not installed")
    if mt.recalibrate is None or recipe is None:
        return RecalibrateResult(zone, False, f"{zone}: {key.label()} ({mtype}) has no members refitted between retrains")
    recalibrated_until = ((promotion.record_of(m) or {}).get(promotion.RECALIBRATION_KEY) or {}).get("until")
    since = to_utc_timestamp(recalibrated_until, name="until") if recalibrated_until else trained_until(m)
    frame, lineage = load_training_frame(project, zone, features_version=Lineage.of(m).features_version())
    labelled = known_at(frame, now_ts)
    last_origin = pd.Timestamp(labelled[TIME_COL].max()) if len(labelled) else None
    if last_origin is None or last_origin <= since:
        return RecalibrateResult(zone, False, f"{zone}: {key.label()} is up to date (no origin labelled after "
                                              f"{since:%Y-%m-%d %H:%M} UTC)")
    if recipe.window_days is not None:
        labelled = labelled[labelled[TIME_COL] >= last_origin - pd.Timedelta(days=recipe.window_days)]
    predictor = load_predictor(m.download())
    until = min(now_ts, last_origin)
    out = mt.recalibrate(predictor, FitRequest(frame=labelled, features=predictor.features, target=LABEL,
                                               time_col=TIME_COL, until=until, options=_recorded_options(recipe)))
    if out is None:
        return RecalibrateResult(zone, False, f"{zone}: {key.label()}: nothing to recalibrate (no cheap members, or "
                                              "too few complete days for them)")
    fitted, parts = out
    root = promotion.root_of(m)
    root_model = mr.get_model(root.name, root.version) if root != key else m
    root_rec = promotion.record_of(root_model)
    if root_rec is None:
        return RecalibrateResult(zone, False, f"{zone}: {key.label()}'s gate decision is missing")
    # the gated fit's window, not the recalibration's: the retrain clock counts from it
    window = dict((getattr(m, "extra", None) or {}).get("training_window") or {})
    window["recalibrated_until"] = last_origin.isoformat()
    fitted = fitted.with_info(lineage=lineage.with_model(mtype, fitted.features).to_dict(), training_window=window)
    record = promotion.recalibration_record(root_rec, root=root, parent=key, until=last_origin.isoformat(),
                                            parts=parts, decided_at=now_ts.isoformat())
    what = ", ".join(parts)
    description = (f"{mtype} for {zone}: {key.label()} recalibrated ({what} refitted on origins to "
                   f"{last_origin:%Y-%m-%d}; the rest of {root.label()} kept)")
    new = _register(project, key.name, fitted, dict(m.training_metrics or {}), description, window, mtype, recipe,
                    record, gate_run=promotion.gate_run_of(m))
    new_key = promotion.ModelKey.of(new)
    return RecalibrateResult(zone, True, promotion.describe(record, new_key), new_key.name, new_key.version, parts)


def _notes(model: ModelPredictor) -> list[str]:
    info = getattr(getattr(model, "spec", None), "info", None)
    notes = info.get("notes") if isinstance(info, dict) else None
    return [str(n) for n in notes] if isinstance(notes, list) else []


def write_gate_stream(project: Project, zone: str, run_id: str, scores: gate.GateScores,
                      window_days: int | None) -> str:
    """The gate's rolling forecasts and scores as the ``backtests`` / ``backtest_metrics`` run
    ``run_id`` (:func:`spotcast_storage.promotion.gate_run_id`): out-of-sample errors of the
    model's own recipe, which serve calibrates its p10/p90 on before the model has a published
    history. Returns ``run_id``."""
    f = scores.forecasts
    origins = pd.DatetimeIndex(f[TIME_COL])
    result = BacktestResult(
        run_id, zone, promotion.GATE_STREAM_MODEL, origins.min(), origins.max() + pd.Timedelta(days=1),
        describe_recalibrate(scores.refit_days), window_days, f, scores.table(), "")
    write_backtest(project, result)
    return run_id


def _serving_recipe(project: Project, before: promotion.ServingStatus, recipe: gate.Recipe
                    ) -> tuple[Any, gate.Recipe | None, str | None]:
    """The serving model, its recipe and how the gate scores it: ``same`` (the challenger's
    recipe: its backtest), ``refit``, ``baseline`` (a naive serves: its score is the baseline's)
    or ``unavailable`` (recipe unknown or its model type not installed); None without one."""
    if before.serving is None:
        return None, None, None
    m = project.get_model_registry().get_model(before.serving.name, before.serving.version)
    if promotion.model_type(m) in gate.NAIVE:
        return m, None, "baseline"
    r = gate.Recipe.of_model(m)
    if r is None:
        return m, None, "unavailable"
    if r.same_as(recipe):
        return m, r, "same"
    try:
        _recorded_options(r)
    except (NotFoundError, ValidationError):
        return m, r, "unavailable"
    return m, r, "refit"


def _recorded_options(r: gate.Recipe) -> dict[str, Any]:
    """The options a recorded recipe fits with, as the release that recorded it meant them."""
    mt = get_model_type(r.model_type)
    options = r.decoded_options()
    return mt.recorded_options(options) if mt.recorded_options else options


def _register(project: Project, name: str, predictor: ModelPredictor, metrics: dict[str, float], description: str,
              training_window: dict[str, Any], model: str, recipe: gate.Recipe,
              record: dict[str, Any] | None, gate_run: str | None = None) -> Any:
    extra: dict[str, Any] = {"training_window": training_window, "features": predictor.features,
                             "quantiles": predictor.quantiles, "model_type": model, "recipe": recipe.to_dict()}
    if gate_run is not None:
        extra[promotion.GATE_RUN_KEY] = gate_run
    if record is not None:
        extra[promotion.RECORD_KEY] = record
    mr = project.get_model_registry()
    with tempfile.TemporaryDirectory() as tmp:
        predictor.save(Path(tmp) / "artifact")
        return mr.python.create_model(name, metrics=metrics, description=description, lineage=predictor.lineage,
                                      **extra).save(Path(tmp) / "artifact")


def _register_fallback(project: Project, zone: str, labelled: pd.DataFrame, now_ts: pd.Timestamp,
                       features: list[str], lineage: Lineage, training_window: dict[str, Any],
                       record_args: dict[str, Any]) -> promotion.ModelKey:
    """Register the weekly naive, fitted on the same rows, as the zone's serving fallback."""
    fallback = promotion.FALLBACK_MODEL_TYPE
    mt = get_model_type(fallback)
    naive = _fit(mt, labelled, now_ts, features, {})
    naive = naive.with_info(lineage=lineage.with_model(fallback, naive.features).to_dict(),
                            training_window=training_window)
    record = promotion.make_record(decision="fallback", role="fallback", **record_args)
    m = _register(project, model_name(fallback, zone), naive, {}, f"{fallback} for {zone}: {mt.description} "
                  "(serving because no model beats both naive baselines)", training_window, fallback,
                  gate.Recipe.make(fallback, {}, None, features), record)
    return promotion.ModelKey(m.name, int(m.version))


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
    table_15min: pd.DataFrame | None = None
    """For a zone with 15-minute prices in the period: :func:`evaluate.score_quarters` (None: hourly)."""


def run_id(zone: str, model: str, start: pd.Timestamp, end: pd.Timestamp, recalibrate: str,
           window_days: int | None) -> str:
    return (f"{zone.lower()}_{model.replace('-', '_')}_{start:%Y%m%d}_{end:%Y%m%d}_"
            f"{recalibrate.replace(' ', '_')}_{window_days or 'all'}")


def backtest(project: Project, zone: str, start: Any, end: Any, model: str = DEFAULT_MODEL,
             recalibrate: str | int = "weekly", window: str | int | None = None,
             options: dict[str, Any] | None = None, report_dir: Path | None = None, write: bool = True,
             progress: Progress | None = None, features_version: int | None = None) -> BacktestResult:
    """Rolling-origin backtest of ``model`` and the naive baselines over origins in ``[start, end)``."""
    zone = parse_zone(zone).code
    mt = get_model_type(model)
    start_ts, end_ts = to_utc_timestamp(start, name="--start"), to_utc_timestamp(end, name="--end")
    if end_ts <= start_ts:
        raise ValidationError(f"--end {end} must be after --start {start}")
    every = parse_recalibrate(recalibrate)
    window_days = parse_days(window, "--window")
    options = dict(options or {})
    if mt.check is not None:
        mt.check(options)
    frame, lineage = load_training_frame(project, zone, end=end_ts, features_version=features_version)
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
            frame, origins, _fitter(t, features, options), recalibrate=every,
            window_days=window_days, time_col=TIME_COL, known_col=LABEL_KNOWN, keep=keep, progress=step)
        pred["model"] = t.name
        parts.append(pred)
    forecasts = pd.concat(parts, ignore_index=True).rename(columns={LABEL: "actual"})
    table = evaluate.score(forecasts)
    recal = describe_recalibrate(every)
    rid = run_id(zone, model, start_ts, end_ts, recal, window_days)
    if options.get("linear"):  # a different model than the same type without linear members
        rid += "_linear"
        if getattr(options["linear"], "solver", "gblinear") != "gblinear":  # ... or with gblinear ones
            rid += f"_{options['linear'].solver}"
    if options.get("dnn"):  # ... and one with DNN members
        rid += "_dnn"
    result = BacktestResult(rid, zone, model, start_ts, end_ts, recal, window_days, forecasts, table,
                            evaluate.verdict(table, model))
    q_prices = quarter_prices(project, zone, start_ts, pd.Timestamp(forecasts["ts"].max()) + pd.Timedelta(hours=1))
    if not q_prices.empty:
        result.table_15min = evaluate.score_quarters(forecasts, q_prices, parse_zone(zone).tz)
    if write:
        result.commit_ids = write_backtest(project, result)
    if report_dir is not None:
        from spotcast_train.report import write_report

        result.report = write_report(result, Path(report_dir), lineage)
    return result


def quarter_prices(project: Project, zone: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """The 15-minute prices of ``zone`` in ``[start, end)`` (``ts``, ``price_eur_mwh``); empty for
    an hourly zone or period."""
    from spotcast_storage.contracts.market import PRICES

    try:
        fg = project.get_feature_store().get_feature_group(PRICES.name, PRICES.version)
    except NotFoundError:
        return pd.DataFrame(columns=["ts", "price_eur_mwh"])
    return fg.select(["ts", "price_eur_mwh"]).filter(
        (fg["zone"] == zone) & (fg["resolution_minutes"] == 15) & (fg["ts"] >= start) & (fg["ts"] < end)).read()


def _offset_progress(progress: Progress, part: int, parts: int) -> Progress:
    """Progress of part ``part`` of ``parts`` equal loops as one bar."""
    def step(k: int, n: int) -> None:
        progress(part * n + k, parts * n)

    return step


def write_backtest(project: Project, r: BacktestResult) -> dict[str, int]:
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
    c2 = BACKTEST_METRICS.get_or_create(fs).insert(BACKTEST_METRICS.conform(m[BACKTEST_METRICS.column_names]))
    return {BACKTESTS.name: c1.commit_id, BACKTEST_METRICS.name: c2.commit_id}


# -- listing ------------------------------------------------------------------------------------
