"""`spotcast-serve` command line: thin wrappers over :mod:`spotcast_serve.service`."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from spotcast_serve import service
from spotcast_storage.cli_common import add_store_options, emit, fail, friendly_errors, open_store

app = typer.Typer(
    name="serve",
    help="spotcast serve stage: forecasts into the store, CSV/PNG files, accuracy, HTTP API and dashboard.",
    no_args_is_help=True,
)
add_store_options(app)

ZonesOpt = Annotated[list[str], typer.Option("--zone", "-z", help="bidding zone; repeat for several")]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="table | csv | json")]
OutputsOpt = Annotated[Path, typer.Option("--outputs", "-o", help="folder for CSV/PNG files")]


def _check_format(fmt: str) -> None:
    if fmt not in ("table", "csv", "json"):
        fail(f"unknown --format {fmt!r}; use table, csv or json")


@app.command()
@friendly_errors
def predict(
    zone: ZonesOpt,
    days: Annotated[int, typer.Option(help="horizon in local days after the origin's day (1-7 with default features)")] = service.DEFAULT_DAYS,
    model: Annotated[str | None, typer.Option(help="pin a model: NAME or NAME:VERSION [default: newest model for the zone]")] = None,
    outputs: OutputsOpt = Path("outputs"),
    formats: Annotated[str | None, typer.Option(help="comma-separated output writers [default: all, see `formats`]")] = None,
    no_files: Annotated[bool, typer.Option("--no-files", help="store the forecast but write no CSV/PNG")] = False,
    fmt: FormatOpt = "table",
) -> None:
    """Forecast the newest origin of each zone into the store, CSV and PNG.

    Uses the newest model trained on price_features for the zone (or the one pinned with
    --model), stores the forecast in `forecasts` v1, writes
    outputs/forecast_<zone>_<origin date>.csv and .png and prints the daily means.
    Re-running for the same origin and model changes nothing.

    Example: spotcast-serve predict --zone SE3 --zone SE4 --days 7 --outputs outputs
    """
    _check_format(fmt)
    project = open_store()
    names = None if formats is None else [s.strip() for s in formats.split(",") if s.strip()]
    frames = []
    from rich.progress import Progress

    with Progress(transient=True, disable=len(zone) < 2) as progress:
        task = progress.add_task("forecasting", total=len(zone))
        for z in zone:
            r = service.predict(project, z, days=days, model=model, outputs=None if no_files else outputs,
                                formats=names)
            typer.echo(r.summary(), err=True)
            for f in r.files:
                typer.echo(f"  wrote {f}", err=True)
            d = r.daily.copy()
            d.insert(0, "zone", r.zone)
            frames.append(d)
            progress.advance(task)
    emit(pd.concat(frames, ignore_index=True), fmt, title="daily mean forecast, EUR/MWh")


@app.command()
@friendly_errors
def accuracy(
    zone: ZonesOpt,
    days: Annotated[int, typer.Option(help="newest N origin days that have actual prices")] = 30,
    outputs: OutputsOpt = Path("outputs"),
    chart: Annotated[bool, typer.Option(help="write outputs/accuracy_<zone>_<date>.png")] = True,
    by: Annotated[str, typer.Option(help="horizon | origin | overall | pairs")] = "horizon",
    fmt: FormatOpt = "table",
) -> None:
    """Accuracy of stored forecasts against the actual prices known so far.

    MAE, RMSE, rMAE against the weekly naive and p10–p90 coverage, by horizon day, by
    origin day (over time) or overall, plus a predicted-vs-actual chart. The per-hour rows
    are the SQL view `forecast_accuracy` in the store.

    Example: spotcast-serve accuracy --zone SE3 --days 30 --by origin
    """
    _check_format(fmt)
    if by not in ("horizon", "origin", "overall", "pairs"):
        fail(f"unknown --by {by!r}; use horizon, origin, overall or pairs")
    project = open_store()
    service.ensure_accuracy_view(project)
    frames = []
    for z in zone:
        report = service.accuracy(project, z, days)
        if report.empty:
            typer.echo(f"{report.zone}: no actual prices for the stored forecast hours yet", err=True)
            continue
        if chart:
            path = service.accuracy_chart(report, outputs)
            typer.echo(f"  wrote {path}", err=True)
        frames.append({"horizon": report.by_horizon, "origin": report.by_origin,
                       "overall": report.overall, "pairs": report.pairs}[by])
    if frames:
        emit(pd.concat(frames, ignore_index=True), fmt, title=f"forecast accuracy by {by} (EUR/MWh)")


@app.command("forecast")
@friendly_errors
def show_forecast(
    zone: Annotated[str, typer.Option("--zone", "-z", help="bidding zone")],
    origin: Annotated[str | None, typer.Option(help="ISO time or local date YYYY-MM-DD [default: newest]")] = None,
    daily: Annotated[bool, typer.Option(help="daily means instead of hours")] = False,
    fmt: FormatOpt = "table",
) -> None:
    """Show a stored forecast (no model run).

    Example: spotcast-serve forecast --zone SE3 --daily
    """
    _check_format(fmt)
    from spotcast_serve import forecast as fc

    project = open_store()
    df = service.read_forecast(project, zone, origin)
    tz = fc.zone_timezone(str(df["zone"].iloc[0]))
    emit(fc.daily_means(df, tz) if daily else fc.forecast_table(df, tz), fmt)


@app.command()
@friendly_errors
def zones(fmt: FormatOpt = "table") -> None:
    """Zones with features or forecasts, with their newest origins.

    Example: spotcast-serve zones --format json
    """
    _check_format(fmt)
    emit(service.zones_overview(open_store(must_exist=True)), fmt)


@app.command()
@friendly_errors
def models(fmt: FormatOpt = "table") -> None:
    """Registered models, newest first, and whether `predict` would consider them.

    Example: spotcast-serve models
    """
    _check_format(fmt)
    rows = service.models_overview(open_store(must_exist=True))
    df = pd.DataFrame([{"name": m["name"], "version": m["version"], "created": m.get("created"),
                        "zones": ",".join(m["zones"]) or "any",
                        "on_price_features": m["trained_on_price_features"],
                        "metrics": ", ".join(f"{k}={v:.4g}" for k, v in (m.get("metrics") or {}).items()
                                             if isinstance(v, (int, float)))} for m in rows],
                      columns=["name", "version", "created", "zones", "on_price_features", "metrics"])
    emit(df, fmt)


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
