"""`spotcast-train`: fit and register models, backtest them honestly, list what is registered.

Commands are thin wrappers over :mod:`spotcast_train.service`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from spotcast_storage.cli_common import emit, friendly_errors, open_store, stage_app
from spotcast_storage.cli_common import progress as progress_bar
from spotcast_storage.errors import ValidationError

app = stage_app(
    "train",
    "Fit XGBoost price models (p10/p50/p90) on price_features, backtest them against naive baselines, "
    "register them with lineage.\n\nExample: spotcast-train fit --zone SE3",
    "spotcast-train",
)

FormatOption = Annotated[str, typer.Option("--format", "-f", help="table | csv | json")]
ZoneOption = Annotated[str, typer.Option("--zone", "-z", help="bidding zone, e.g. SE3")]
ModelOption = Annotated[str, typer.Option("--model", "-m", help="model type (see `spotcast-train plugins`)")]
LinearOption = Annotated[bool | None, typer.Option(
    "--linear/--no-linear", help="xgboost only: the linear members of the default ensemble (horizon day 1) or "
    "not [default: with them]")]
LinearSolverOption = Annotated[str | None, typer.Option(
    "--linear-solver", help="xgboost only: how the linear members are fitted: lear (LEAR as published: per-hour "
    "LassoLarsIC with AIC, then a Lasso) or gblinear (XGBoost gblinear, fixed L1; faster) [default: lear]",
    show_default=False)]
DnnOption = Annotated[bool | None, typer.Option(
    "--dnn/--no-dnn", help="xgboost only: the DNN members of the default ensemble (horizon day 1, the epftoolbox "
    "network) or not (--no-dnn: a faster fit) [default: with them]", show_default=False)]
DnnWeightOption = Annotated[float | None, typer.Option(
    "--dnn-weight", help="the DNN's weight in the blend, 0 to 1, at most 1 minus the linear weight "
    "(0.35) [default: 0.2]", show_default=False)]
DnnSeedsOption = Annotated[str | None, typer.Option(
    "--dnn-seeds", help="the networks' seeds, averaged, e.g. 0,1 [default: 0,1,2,3]", show_default=False)]
FeaturesVersionOption = Annotated[int | None, typer.Option(
    "--features-version", help="price_features version to train on (a feature plugin's columns live in a later "
    "version) [default: the newest in the store]", show_default=False)]


def _options(linear: bool | None, solver: str | None = None, dnn: bool | None = None,
             dnn_weight: float | None = None, dnn_seeds: str | None = None, model: str = "xgboost") -> dict:
    """Model options of ``--linear/--no-linear``, ``--linear-solver`` and ``--dnn*``, each changing
    one part of the default ensemble (checked before anything runs; these are the xgboost model's
    options, so with another ``--model`` an error)."""
    flag = {True: "--{}", False: "--no-{}"}
    given = [n for n, v in ((flag.get(linear, "").format("linear"), linear), ("--linear-solver", solver),
                            (flag.get(dnn, "").format("dnn"), dnn), ("--dnn-weight", dnn_weight),
                            ("--dnn-seeds", dnn_seeds)) if v is not None]
    if given and model != "xgboost":
        raise ValidationError(f"{', '.join(given)}: linear and DNN members are part of the xgboost model, not of "
                              f"--model {model}; drop {'it' if len(given) == 1 else 'them'} or use --model xgboost")
    from spotcast_train.builtins import xgboost as builtin

    opts: dict = {}
    if linear is not None or solver is not None:
        from spotcast_train.linear import linear_options

        opts = linear_options(linear, solver, base=builtin.STAGE_SETTINGS.linear)
    if dnn is not None or dnn_weight is not None or dnn_seeds is not None:
        from spotcast_train.dnnpart import dnn_options

        lin = builtin.settings_of(opts).linear  # the linear part these options give the model, as the fit will
        opts.update(dnn_options(dnn, dnn_weight, dnn_seeds, linear_weight=lin.weight if lin is not None else None,
                                base=builtin.STAGE_SETTINGS.dnn))
    return opts


def _text_or_json(fmt: str) -> None:
    """``--format`` of fit and recalibrate, checked before any work."""
    if fmt not in ("text", "json"):
        raise ValidationError(f"--format {fmt!r}: use text or json")


@app.command("fit")
@friendly_errors
def fit_cmd(
    zone: ZoneOption,
    model: ModelOption = "xgboost",
    window: Annotated[str, typer.Option("--window", "-w", help="training history, e.g. 730d, 104w, 2y, or 'all'")] = "730d",
    origins: Annotated[int, typer.Option("--origins", help="newest origins the promotion gate's rolling "
                                         "backtest scores (at least 28)")] = 28,
    refit: Annotated[str, typer.Option("--refit", help="refit schedule inside the gate's backtest: daily | "
                                       "weekly | Nd")] = "weekly",
    linear: LinearOption = None,
    linear_solver: LinearSolverOption = None,
    dnn: DnnOption = None,
    dnn_weight: DnnWeightOption = None,
    dnn_seeds: DnnSeedsOption = None,
    features_version: FeaturesVersionOption = None,
    now: Annotated[str | None, typer.Option("--now", help="fit as at this time (UTC; replays): only labels "
                                            "published by then train, and the decision is dated then")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text | json")] = "text",
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
) -> None:
    """Fit a model on the zone's training view and put it through the promotion gate: a rolling
    backtest over the newest --origins origins against the serving model's recipe and both naive
    baselines. Then refit on all rows and register it (XGBoost UBJ + JSON metadata) as promoted, or
    as a rejected challenger while the serving model (or the weekly naive) keeps serving.

    Example: spotcast-train fit --zone SE3 --model xgboost --window 730d --no-dnn
    """
    from spotcast_train import service

    _text_or_json(fmt)
    with progress_bar("promotion gate", "origin forecasts", progress and fmt == "text") as p:
        r = service.fit(open_store(), zone, model=model, window=None if window == "all" else window,
                        origins=origins, refit=refit, options=_options(linear, linear_solver, dnn, dnn_weight, dnn_seeds, model), now=now,
                        progress=p,
                        features_version=features_version)
    if fmt == "json":
        typer.echo(json.dumps({"name": r.name, "version": r.version, "metrics": r.metrics,
                               "baselines": r.baseline_metrics, "training_window": r.training_window,
                               "artifact": r.artifact, "decision": r.decision, "status": r.status,
                               "fallback": None if r.fallback is None else
                               {"name": r.fallback[0], "version": r.fallback[1]}, "notes": r.notes},
                              indent=2, default=str))
    else:
        typer.echo(r.summary())


@app.command("recalibrate")
@friendly_errors
def recalibrate_cmd(
    zone: ZoneOption,
    now: Annotated[str | None, typer.Option("--now", help="recalibrate as at this time (UTC; replays): only "
                                            "labels published by then train")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text | json")] = "text",
) -> None:
    """Refit the serving model's cheap members (the default ensemble's LEAR, seconds) on the days
    labelled since its fit, keep the trees and DNN members, and register it as the version that
    serves (decision ``recalibrated``; `spotcast run` does this daily between weekly retrains).
    With nothing new it writes nothing.

    Example: spotcast-train recalibrate --zone SE3
    """
    from spotcast_train import service

    _text_or_json(fmt)
    r = service.recalibrate(open_store(), zone, now=now)
    if fmt == "json":
        typer.echo(json.dumps({"zone": r.zone, "recalibrated": r.recalibrated, "name": r.name,
                               "version": r.version, "parts": r.parts, "message": r.message}, indent=2))
    else:
        typer.echo(r.message)


@app.command("backtest")
@friendly_errors
def backtest_cmd(
    zone: ZoneOption,
    start: Annotated[str, typer.Option("--start", help="first origin date, e.g. 2024-01-01")],
    end: Annotated[str, typer.Option("--end", help="end of origins (exclusive), e.g. 2024-04-01")],
    model: ModelOption = "xgboost",
    recalibrate: Annotated[str, typer.Option("--recalibrate", "-r", help="daily | weekly | never | Nd")] = "weekly",
    window: Annotated[str | None, typer.Option("--window", "-w", help="cap training history, e.g. 730d (default: all)")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="folder for the Markdown report and PNGs "
                                                 "[default: beside the store, <store name>-outputs/backtests/]",
                                                 show_default=False)] = None,
    no_write: Annotated[bool, typer.Option("--no-write", help="do not store forecasts and metrics")] = False,
    linear: LinearOption = None,
    linear_solver: LinearSolverOption = None,
    dnn: DnnOption = None,
    dnn_weight: DnnWeightOption = None,
    dnn_seeds: DnnSeedsOption = None,
    features_version: FeaturesVersionOption = None,
    fmt: FormatOption = "table",
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
) -> None:
    """Rolling-origin backtest: per origin, train only on data known then and forecast the
    horizon; score MAE, RMSE, sMAPE, rMAE per horizon day next to naive-daily and naive-weekly.
    Stores rows in the backtests / backtest_metrics feature groups and writes a report.

    Example: spotcast-train backtest --zone SE3 --start 2024-01-01 --end 2024-04-01 --recalibrate weekly
    """
    from spotcast_storage.config import outputs_dir
    from spotcast_train import service

    project = open_store()
    with progress_bar("backtest", "origin forecasts", progress and fmt == "table") as p:
        r = service.backtest(project, zone, start, end, model=model, recalibrate=recalibrate,
                             window=window, options=_options(linear, linear_solver, dnn, dnn_weight, dnn_seeds, model),
                             report_dir=report or outputs_dir(project) / "backtests", write=not no_write, progress=p,
                             features_version=features_version)
    table = r.table.copy()
    if fmt != "table":  # programs get the key on every row; people read it once, in the title
        table.insert(0, "run_id", r.run_id)
    emit(table, fmt, title=f"backtest {r.run_id}")
    if fmt == "table" and r.table_15min is not None and not r.table_15min.empty:
        emit(r.table_15min, fmt, title="at 15 minutes: the forecasts as quarter-hours vs the hourly forecast "
             "repeated (EUR/MWh)")
    if fmt == "table":
        typer.echo(r.verdict)
        if r.report:
            typer.echo(f"report: {r.report}")


@app.command("models")
@friendly_errors
def models_cmd(
    zone: Annotated[str | None, typer.Option("--zone", "-z", help="only models for this zone")] = None,
    fmt: FormatOption = "table",
) -> None:
    """List registered models, newest first: zones, type, gate decision, metrics, what they were
    trained on (the same listing as `spotcast-store models` and `spotcast-serve models`).

    Example: spotcast-train models --zone SE3
    """
    from spotcast_storage.modellist import models_table

    emit(models_table(open_store(must_exist=True), zone=zone, for_people=fmt == "table"), fmt, title="models")


@app.command("plugins")
@friendly_errors
def plugins_cmd(fmt: FormatOption = "table") -> None:
    """List the model types that registered through the register_models hook.

    Example: spotcast-train plugins
    """
    import pandas as pd

    from spotcast_train.models import model_types

    rows = [{"model": m.name, "baseline": m.baseline, "description": m.description}
            for m in model_types().values()]
    emit(pd.DataFrame(rows), fmt, title="model types")


@app.command()
def version() -> None:
    """Print the installed version.

    Example: spotcast-train version
    """
    from spotcast_train import __version__

    typer.echo(__version__)


def main() -> None:
    app()
