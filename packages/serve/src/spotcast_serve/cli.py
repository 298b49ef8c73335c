"""`spotcast-serve` command line: thin wrappers over :mod:`spotcast_serve.service`."""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from spotcast_serve.defaults import DEFAULT_DAYS
from spotcast_storage.cli_common import (
    collector_paused,
    emit,
    fail,
    friendly_errors,
    open_store,
    stage_app,
)

app = stage_app(
    "serve",
    "spotcast serve stage: forecasts into the store, CSV/PNG files, accuracy, HTTP API and dashboard."
    "\n\nExample: spotcast-serve predict --zone SE3",
    "spotcast-serve",
)

ZonesOpt = Annotated[list[str], typer.Option("--zone", "-z", help="bidding zone; repeat for several")]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="table | csv | json")]
UnitOpt = Annotated[str, typer.Option("--unit", "-u", help="eur_mwh | sek_kwh | ore_kwh (SEK units use the "
                                      "source's EUR/SEK rate of each delivery day)")]
OutputsOpt = Annotated[Path | None, typer.Option(
    "--outputs", "-o", help="folder for CSV/PNG files, or 'none' for no files (as `spotcast run --outputs none`) "
    "[default: beside the store, <store name>-outputs/]",
    show_default=False)]


def _no_files(outputs: Path | None) -> bool:
    """``--outputs none`` means no files, in every command, as it does for `spotcast run`."""
    return outputs is not None and str(outputs).lower() == "none"


def _check_format(fmt: str) -> None:
    if fmt not in ("table", "csv", "json"):
        fail(f"unknown --format {fmt!r}; use table, csv or json")


@app.command()
@friendly_errors
def predict(
    zone: ZonesOpt,
    days: Annotated[int, typer.Option(help="horizon in local days after the origin's day (1-7 with default features)")] = DEFAULT_DAYS,
    model: Annotated[str | None, typer.Option(help="pin a model: NAME or NAME:VERSION [default: newest model for the zone]")] = None,
    outputs: OutputsOpt = None,
    formats: Annotated[str | None, typer.Option(help="comma-separated output writers [default: all, see `formats`]")] = None,
    no_files: Annotated[bool, typer.Option("--no-files", help="store the forecast but write no CSV/PNG")] = False,
    unit: UnitOpt = "eur_mwh",
    now: Annotated[str | None, typer.Option(help="when the forecast is made, ISO time (replays) [default: the clock]")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Forecast the newest origin of each zone into the store, CSV and PNG.

    Uses the newest model trained on price_features for the zone (or the one pinned with
    --model); when the inputs failed the data-quality gate, the weekly naive instead, flagged
    with the reason. Stores the forecast as a vintage in `forecasts` v3, writes the origin's
    published vintage to <outputs>/forecast_<zone>_<first day>_<last day>_made_<local time>.csv
    and .png (in --unit) and prints its daily means. The files go beside the store
    (<store name>-outputs/) unless --outputs names a folder, so two stores never share files. Re-running with the same inputs and model
    changes nothing.

    Example: spotcast-serve predict --zone SE3 --zone SE4 --days 7 --unit ore_kwh
    """
    _check_format(fmt)
    if _no_files(outputs):
        no_files, outputs = True, None
    from spotcast_serve.chartproc import offloaded

    # PNGs are drawn by a second process, started first so that it imports matplotlib while this
    # one imports the rest and forecasts. The first zone imports the heavy libraries: no GC passes
    # over them, and xgboost without scikit-learn (this command only predicts with boosters).
    names = None if formats is None else [s.strip() for s in formats.split(",") if s.strip()]
    with offloaded(not no_files and (names is None or "png" in names)) as charts:
        from spotcast_storage.boosted import xgboost_core_only

        with collector_paused() as warm, xgboost_core_only():
            _predict(zone, days, model, outputs, names, no_files, unit, now, fmt, warm)
    if charts is not None and charts.problem:
        typer.echo(f"note: the PNGs were drawn in this process instead: {charts.problem}", err=True)


def _predict(zone: list[str], days: int, model: str | None, outputs: Path | None, names: list[str] | None,
             no_files: bool, unit: str, now: str | None, fmt: str, warm: Callable[[], None]) -> None:
    import pandas as pd

    from spotcast_serve import service, units
    from spotcast_storage.config import outputs_dir
    from spotcast_storage.query import to_utc_timestamp

    u = units.parse_unit(unit)
    made = None if now is None else to_utc_timestamp(now, name="--now")
    project = open_store()
    folder = None if no_files else outputs_dir(project, outputs)
    frames = []
    from rich.progress import Progress

    with Progress(transient=True, disable=len(zone) < 2) as progress:
        task = progress.add_task("forecasting", total=len(zone))
        for z in zone:
            r = service.predict(project, z, days=days, model=model, outputs=folder,
                                formats=names, unit=u.code, now=made)
            typer.echo(r.summary(), err=True)
            if r.fallback_reason:
                typer.echo(f"  WARNING {r.zone}: the inputs failed the data-quality gate, so the weekly naive "
                           f"was stored in place of the model's forecast: {r.fallback_reason}", err=True)
            for f in r.files:
                typer.echo(f"  kept {f} (written before for the published vintage)" if f in r.files_kept
                           else f"  wrote {f}", err=True)
            d = service.published_daily(project, r, u)
            d.insert(0, "zone", r.zone)
            frames.append(d)
            progress.advance(task)
            warm()
    emit(pd.concat(frames, ignore_index=True), fmt, title=f"daily mean of the published forecast, {u.label}")


BY = ("horizon", "origin", "week", "overall", "pairs", "15min")


@app.command()
@friendly_errors
def accuracy(
    zone: ZonesOpt,
    days: Annotated[int, typer.Option(help="newest N origin days that have actual prices")] = 30,
    weeks: Annotated[int, typer.Option(help="--by week: the newest N weeks of origins that have actual prices")] = 8,
    origin: Annotated[str | None, typer.Option(
        help="one origin's forecast against the actual prices, hour by hour: ISO time or local date "
             "YYYY-MM-DD, or 'newest' (the newest origin that has actual prices)")] = None,
    outputs: OutputsOpt = None,
    chart: Annotated[bool, typer.Option(help="write <outputs>/accuracy_<zone>_<date>.png")] = True,
    by: Annotated[str, typer.Option(help="horizon | origin | week | overall | pairs | 15min (by horizon day at "
                                          "15 minutes, beside the hourly forecast repeated: quarter-hour zones)")] = "horizon",
    fmt: FormatOpt = "table",
) -> None:
    """Accuracy of published forecasts against the actual prices known so far (EUR/MWh).

    MAE, RMSE, rMAE against the weekly naive and p10–p90 coverage, by horizon day, by
    origin day, by week and horizon day (accuracy over time), or overall, plus a
    predicted-vs-actual chart; --origin shows one origin hour by hour. The per-hour rows are
    the SQL view `forecast_accuracy` in the store. --format json prints, per zone, what
    GET /accuracy (or, with --origin, /accuracy/origin) answers: every part, whatever --by.
    When nothing can be scored yet, each format says why and what to do.

    Example: spotcast-serve accuracy --zone SE3 --by week --weeks 4
    """
    _check_format(fmt)
    if _no_files(outputs):
        chart, outputs = False, None
    if by not in BY:
        fail(f"unknown --by {by!r}; use {', '.join(BY[:-1])} or {BY[-1]}")
    import json

    import pandas as pd

    from spotcast_serve import accuracy as acc
    from spotcast_serve import service
    from spotcast_storage.config import outputs_dir

    project = open_store()
    service.ensure_accuracy_view(project)
    docs, frames = [], []
    for z in zone:
        if origin is not None:
            one = service.accuracy_of_origin(project, z, None if origin.strip().lower() == "newest" else origin)
            docs.append(one.to_dict())
            if one.reason:
                typer.echo(f"{one.zone}: {one.reason}", err=True)
            else:
                frames.append(one.hours[["zone", "origin_date", "ts", "horizon_day", "p10", "p50", "p90", "actual",
                                         "error", "in_band"]])
            continue
        report = service.accuracy(project, z, days, weeks)
        docs.append(report.to_dict())
        if report.empty:
            typer.echo(f"{report.zone}: {report.reason}", err=True)
            continue
        if chart:
            path = service.accuracy_chart(report, outputs_dir(project, outputs))
            typer.echo(f"  wrote {path}", err=True)
        if by == "15min" and report.by_horizon_15min is None:
            typer.echo(f"{report.zone}: no quarter-hour prices stored, so its forecasts are scored hourly only "
                       "(use --by horizon)", err=True)
            continue
        frames.append({"horizon": report.by_horizon, "origin": report.by_origin, "week": report.by_week,
                       "overall": report.overall, "pairs": report.pairs, "15min": report.by_horizon_15min}[by])
    if fmt == "json":
        typer.echo(json.dumps(docs, indent=2))
    elif frames:
        what = f"origin {origin}" if origin is not None else f"by {by}"
        emit(acc.rounded(pd.concat(frames, ignore_index=True)), fmt, title=f"forecast accuracy {what} (EUR/MWh)")


@app.command("forecast")
@friendly_errors
def show_forecast(
    zone: Annotated[str, typer.Option("--zone", "-z", help="bidding zone")],
    origin: Annotated[str | None, typer.Option(help="ISO time or local date YYYY-MM-DD [default: newest]")] = None,
    daily: Annotated[bool, typer.Option(help="daily means instead of hours")] = False,
    vintages: Annotated[bool, typer.Option(help="list the origin's vintages (when made, by what, which is published)")] = False,
    unit: UnitOpt = "eur_mwh",
    fmt: FormatOpt = "table",
) -> None:
    """Show the published vintage of a stored forecast (no model run), with the actual prices
    already published when it was made.

    Example: spotcast-serve forecast --zone SE3 --daily --unit sek_kwh
    """
    _check_format(fmt)
    from spotcast_serve import forecast as fc
    from spotcast_serve import labels, service, units

    u = units.parse_unit(unit)
    project = open_store()
    if vintages:
        emit(service.read_vintages(project, zone, origin), fmt)
        return
    df = service.read_forecast(project, zone, origin)
    z = str(df["zone"].iloc[0])
    tz = fc.zone_timezone(z)
    table, rates = service.published_table(project, z, df, u)
    typer.echo(labels.title(z, df["ts"], df["made_at"].iloc[0], tz), err=True)
    if df["fallback_reason"].notna().iloc[0]:
        typer.echo(f"  the weekly naive, published in place of the model's forecast: {df['fallback_reason'].iloc[0]}",
                   err=True)
    if rates is not None:
        typer.echo(f"  {units.describe_rates(rates)}", err=True)
    emit(units.convert_daily(fc.daily_means(df, tz), u, rates) if daily else table, fmt)


@app.command()
@friendly_errors
def zones(fmt: FormatOpt = "table") -> None:
    """Zones with features or forecasts, with their newest origins.

    Example: spotcast-serve zones --format json
    """
    _check_format(fmt)
    from spotcast_serve import service

    emit(service.zones_overview(open_store(must_exist=True)), fmt)


@app.command()
@friendly_errors
def models(fmt: FormatOpt = "table") -> None:
    """Registered models, newest first: zones, type, gate decision, metrics, what they were trained
    on (the same listing as `spotcast-store models` and `spotcast-train models`).

    Example: spotcast-serve models
    """
    _check_format(fmt)
    from spotcast_storage.modellist import models_table

    emit(models_table(open_store(must_exist=True), for_people=fmt == "table"), fmt, title="models")


@app.command()
def formats() -> None:
    """List the output writers `predict` can use (built-in csv and png, plus plugins).

    Example: spotcast-serve formats
    """
    from spotcast_serve.outputs import collect_writers

    for w in collect_writers().values():
        typer.echo(f"{w.name:<10} {w.description}")


@app.command()
@friendly_errors
def api(
    host: Annotated[str, typer.Option(help="interface to bind; 127.0.0.1 keeps it on this machine")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    cache_seconds: Annotated[float, typer.Option(help="longest time an answer is reused while the store is unchanged")] = 5.0,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "warning",
) -> None:
    """Serve the HTTP API and dashboard, reading the store only.

    Runs beside `spotcast run`. Endpoints: / (dashboard), /health, /zones, /forecast,
    /accuracy, /models, /api/dashboard, /docs.

    Example: spotcast-serve --store .spotcast/store.duckdb api --port 8000
    """
    import uvicorn

    from spotcast_serve.api import create_app

    application = create_app(project=open_store(), cache_max_age=cache_seconds)
    typer.echo(f"spotcast API on http://{host}:{port}/ (docs at /docs)", err=True)
    # Everything imported so far lives as long as the server: keep it out of the cyclic
    # garbage collector, whose full passes over pandas/matplotlib objects stall requests.
    gc.collect()
    gc.freeze()
    uvicorn.run(application, host=host, port=port, log_level=log_level)


@app.command()
def version() -> None:
    """Print the installed version.

    Example: spotcast-serve version
    """
    from spotcast_serve import __version__

    typer.echo(__version__)


def main() -> None:
    app()
