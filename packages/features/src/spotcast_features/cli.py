"""`spotcast-features`: build leak-free features from the store's prices, weather and exogenous series.

Commands are thin wrappers over :mod:`spotcast_features.build`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from spotcast_storage.cli_common import emit, friendly_errors, open_store, stage_app
from spotcast_storage.cli_common import progress as progress_bar

if TYPE_CHECKING:  # build imports pandas: loaded by the commands, not by `--help`
    from spotcast_features import build as b

app = stage_app(
    "features",
    "Build leak-free price features keyed by forecast origin.\n\nExample: spotcast-features build",
    "spotcast-features",
)

FormatOption = Annotated[str, typer.Option("--format", "-f", help="table | csv | json")]
ZoneOption = Annotated[list[str] | None, typer.Option("--zone", "-z", help="zone to build (repeatable; default: all)")]
VersionOption = Annotated[int | None, typer.Option(
    "--version", help="price_features version to write (default: v1, or the version whose columns the "
    "registered transformations produce)")]
OriginHourOption = Annotated[int | None, typer.Option(
    "--origin-hour", help="local hour of the daily origin, 0-23 (default 10; fixed once a version is written)")]
HorizonOption = Annotated[int | None, typer.Option(
    "--horizon-days", help="local days of targets per origin (default 7; fixed once a version is written)")]


def _report(summary: b.BuildSummary, fmt: str) -> None:
    if fmt == "json":
        import json

        typer.echo(json.dumps(summary.to_dict(), indent=2))
    else:
        typer.echo(summary.line())


@app.command("build")
@friendly_errors
def build_cmd(
    zone: ZoneOption = None,
    version: VersionOption = None,
    origin_hour: OriginHourOption = None,
    horizon_days: HorizonOption = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text | json")] = "text",
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
) -> None:
    """Apply new commits of prices, weather and exogenous: recompute only the origins they
    affect (the first build computes everything).

    Example: spotcast-features build --zone SE3
    """
    from spotcast_features import build as b

    with progress_bar("features", "chunks of origins", progress and fmt != "json") as p:
        summary = b.build(open_store(), zones=zone, version=version, origin_hour=origin_hour,
                          horizon_days=horizon_days, progress=p)
    _report(summary, fmt)


@app.command("rebuild")
@friendly_errors
def rebuild_cmd(
    zone: ZoneOption = None,
    version: VersionOption = None,
    origin_hour: OriginHourOption = None,
    horizon_days: HorizonOption = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text | json")] = "text",
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
) -> None:
    """Recompute prices_hourly and every origin from the current inputs.

    Example: spotcast-features rebuild --version 2 --origin-hour 9
    """
    from spotcast_features import build as b

    with progress_bar("features", "chunks of origins", progress and fmt != "json") as p:
        summary = b.rebuild(open_store(), zones=zone, version=version, origin_hour=origin_hour,
                            horizon_days=horizon_days, progress=p)
    _report(summary, fmt)


@app.command("list")
@friendly_errors
def list_cmd(fmt: FormatOption = "table") -> None:
    """List the registered feature transformations (built-in and plugins) and their columns.

    Example: spotcast-features list --format json
    """
    from spotcast_features import build as b

    emit(b.list_transformations(), fmt, title="feature transformations")


@app.command("show")
@friendly_errors
def show_cmd(
    zone: Annotated[str, typer.Option("--zone", "-z", help="bidding zone, e.g. SE3")],
    origin: Annotated[str, typer.Option("--origin", "-o", help="local date of the origin (2024-05-01) or "
                                        "an ISO time with offset")],
    version: Annotated[int, typer.Option("--version", help="price_features version")] = 1,
    columns: Annotated[str | None, typer.Option("--columns", "-c", help="comma-separated columns to show")] = None,
    fmt: FormatOption = "table",
) -> None:
    """Show the feature rows of one origin.

    Example: spotcast-features show --zone SE3 --origin 2024-05-01 --columns ts,hour,price_lag_1d
    """
    from spotcast_features import build as b

    rows = b.show(open_store(), zone, origin, version)
    if columns:
        wanted = [c.strip() for c in columns.split(",") if c.strip()]
        unknown = [c for c in wanted if c not in rows.columns]
        if unknown:
            from spotcast_storage.cli_common import fail

            fail(f"unknown column(s) {unknown}; columns are {', '.join(rows.columns)}")
        rows = rows[wanted]
    emit(rows, fmt, title=f"{zone.upper()} origin {origin}")


@app.command("version")
def version_cmd() -> None:
    """Print the installed version.

    Example: spotcast-features version
    """
    from spotcast_features import __version__

    typer.echo(__version__)


def main() -> None:
    app()
