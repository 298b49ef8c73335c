"""`spotcast-ingest` (also `spotcast ingest`): bring prices and weather into the store.

Every command is a thin wrapper over :mod:`spotcast_ingest.ingest`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from spotcast_storage.cli_common import (
    emit,
    fail,
    friendly_errors,
    key_values,
    open_store,
    parse_now,
    stage_app,
)
from spotcast_storage.cli_common import progress as progress_bar
from spotcast_storage.errors import UsageError, ValidationError
from spotcast_storage.text import plural

app = stage_app(
    "ingest",
    "Bring day-ahead prices, weather and known-in-advance series into the store.\n\n"
         "Example: spotcast-ingest backfill --source elprisetjustnu --zone SE3 --start 2024-01-01",
    "spotcast-ingest",
)

SourceOpt = Annotated[str, typer.Option("--source", "-s", help="source plugin (see `spotcast-ingest sources`)")]
ZonesOpt = Annotated[list[str], typer.Option("--zone", "-z", help="bidding zone; repeat for several")]
OptionOpt = Annotated[list[str] | None, typer.Option(
    "--option", "-o", help="source option KEY=VALUE, repeatable (e.g. -o seed=3, -o tz=Europe/Brussels)")]
NowOpt = Annotated[str | None, typer.Option(
    "--now", help="pretend it is this time (ISO 8601, UTC if no offset); for demos with --source synthetic")]
ConcurrencyOpt = Annotated[int | None, typer.Option(
    "--concurrency", help="HTTP requests in flight at once [default: 8, or SPOTCAST_HTTP_CONCURRENCY]",
    show_default=False)]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="summary as table | csv | json")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="go ahead with more than 1,100 days for a zone "
                                      "(without it, such a backfill stops and says its size)")]
FlatOpt = Annotated[int | None, typer.Option(
    "--flatliner-hours", help="flag a day whose price repeats this many hours in a row [default: 8, or "
    "SPOTCAST_FLATLINER_HOURS]", show_default=False)]


def _options(pairs: list[str] | None) -> dict[str, str]:
    return key_values(pairs, "-o seed=3")


def _settings(concurrency: int | None) -> Any:
    from spotcast_ingest.http import HttpSettings

    return HttpSettings.from_env(concurrency=concurrency)


def _summary(report: Any, fmt: str) -> None:
    if fmt == "table":
        emit(report.table(), fmt, title="written")
        typer.echo(f"{plural(report.batches, 'batch', 'batches')}; {plural(report.requests_sent, 'HTTP request')} "
                   f"sent, {report.cache_hits} answered from cache, {report.retries} retried", err=True)
        if report.pending:
            typer.echo(f"not published yet: {', '.join(report.pending)}", err=True)
    else:
        emit(report.table(), fmt)
    for note in report.notes:
        typer.echo(f"note: {note}", err=True)
    if report.days_checked:
        typer.echo(report.quality_line(), err=True)


@app.command("sources")
@friendly_errors
def sources_cmd(fmt: FormatOpt = "table") -> None:
    """List the source plugins: zones, what they write, base URL and how to override it.

    Example: spotcast-ingest sources
    """
    import pandas as pd

    from spotcast_ingest.registry import source_classes

    rows = [{
        "source": c.name, "zones": ", ".join(c.zones) or "any", "writes": ", ".join(c.writes),
        "base_url": c.default_base_url or ("(offline)" if not c.network else ""),
        "override": c.base_url_env() if c.network else "", "description": c.description,
    } for c in source_classes().values()]
    emit(pd.DataFrame(rows), fmt, title="sources")


@app.command("backfill")
@friendly_errors
def backfill_cmd(
    source: SourceOpt,
    zone: ZonesOpt,
    start: Annotated[str | None, typer.Option(help="first delivery day, YYYY-MM-DD (local day of the zone)")] = None,
    end: Annotated[str | None, typer.Option(help="last delivery day, inclusive [default: newest published]",
                                            show_default=False)] = None,
    base_url: Annotated[str | None, typer.Option(help="use this server instead of the source's (tests, mirrors)")] = None,
    option: OptionOpt = None,
    file: Annotated[Path | None, typer.Option(help="for --source csv: the CSV or Parquet file")] = None,
    now: NowOpt = None,
    concurrency: ConcurrencyOpt = None,
    fmt: FormatOpt = "table",
    yes: YesOpt = False,
    flatliner_hours: FlatOpt = None,
) -> None:
    """Fetch a range of days for one or more zones and commit it (one commit per zone, month
    and feature group). Running it again changes nothing; overlapping ranges are fine. Every
    day's prices are checked (completeness, flatliners, market limits) and the flags stored in
    data_quality.

    Example: spotcast-ingest backfill --source elprisetjustnu --zone SE3 --zone SE4 --start 2024-01-01 --end 2024-12-31
    """
    from spotcast_ingest.ingest import backfill

    opts = _options(option)
    if file is not None:
        opts["path"] = str(file)
    when = parse_now(now)
    project = open_store()
    with progress_bar(f"backfill {source}", "zone-days") as progress:
        report = backfill(project, source, zone, start, end, now=when, base_url=base_url, options=opts,
                          settings=_settings(concurrency), progress=progress, yes=yes,
                          flatliner_hours=flatliner_hours)
    _summary(report, fmt)


@app.command("update")
@friendly_errors
def update_cmd(
    zone: ZonesOpt,
    source: Annotated[list[str] | None, typer.Option(
        "--source", "-s", help="source(s) to use for every zone [default: elprisetjustnu + open-meteo "
        "for SE1-SE4, energidataservice + open-meteo for DK1/DK2]", show_default=False)] = None,
    history_days: Annotated[int, typer.Option(help="days to backfill for a zone with nothing stored yet")] = 730,
    base_url: Annotated[list[str] | None, typer.Option(
        help="SOURCE=URL: use this server for a source; repeatable")] = None,
    option: Annotated[list[str] | None, typer.Option(
        "--option", "-o", help="SOURCE.KEY=VALUE option for a source, repeatable (e.g. -o synthetic.seed=3)")] = None,
    now: NowOpt = None,
    concurrency: ConcurrencyOpt = None,
    fmt: FormatOpt = "table",
    yes: YesOpt = False,
    flatliner_hours: FlatOpt = None,
) -> None:
    """Bring zones up to date: from the newest stored time to the newest published day
    (tomorrow's prices once the auction is out, about 13:00 CET), plus the newest weather
    forecast. A zone with nothing stored gets the last --history-days days.

    Example: spotcast-ingest update --zone SE3 --zone SE4
    """
    from spotcast_ingest.ingest import update

    urls = _options(base_url)
    per_source: dict[str, dict[str, str]] = {}
    for key, value in _options(option).items():
        src, dot, name = key.partition(".")
        if not dot or not name:
            raise UsageError(f"update options are SOURCE.KEY=VALUE, got {key}={value}")
        per_source.setdefault(src, {})[name] = value
    if history_days < 1:
        raise UsageError(f"--history-days must be at least 1, got {history_days}")
    when = parse_now(now)
    project = open_store()
    with progress_bar("update", "zone-days") as progress:
        report = update(project, zone, source or None, now=when, history_days=history_days, base_urls=urls,
                        options=per_source, settings=_settings(concurrency), progress=progress,
                        log=lambda m: typer.echo(m, err=True), yes=yes, flatliner_hours=flatliner_hours)
    _summary(report, fmt)


@app.command("check")
def check_cmd(
    source: Annotated[list[str] | None, typer.Option("--source", "-s", help="check only these sources")] = None,
    base_url: Annotated[str | None, typer.Option(help="check this server instead (with one --source)")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Make one small live request to each real API and say whether it answers in the
    expected format. Needs the internet (never run by the test suite).

    Example: spotcast-ingest check --source elprisetjustnu
    """
    from spotcast_ingest.ingest import check

    try:
        results = check(source or None, base_url=base_url)
    except ValidationError as exc:
        fail(str(exc))
    emit(results, fmt, title="live check")
    if (results["status"] == "failed").any():
        raise typer.Exit(1)


@app.command()
def version() -> None:
    """Print the installed version.

    Example: spotcast-ingest version
    """
    from spotcast_ingest import __version__

    typer.echo(__version__)


def main() -> None:
    app()
