"""Forecast files: the writer type and the built-in CSV and PNG writers (a plugin module,
registered through the same hook a third-party writer uses)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from spotcast_storage.errors import ValidationError
from spotcast_storage.hookspecs import hookimpl


@dataclass(frozen=True)
class ForecastOutput:
    """One origin's published forecast vintage for one zone, as the writers get it."""

    zone: str
    origin: pd.Timestamp
    tz: str
    table: pd.DataFrame  # forecast.forecast_table() in `unit`: ts, ts_local, horizon_day, actual, p10, p50, p90, ...
    daily: pd.DataFrame  # forecast.daily_means() in `unit`
    model: str
    model_version: int
    outputs_dir: Path
    made_at: pd.Timestamp
    stem: str  # labels.file_stem(): forecast_<zone>_<first day>_<last day>_made_<local time>[_<unit>]
    title: str  # labels.title(): "SE3 2024-09-22..28, made 2024-09-20 16:00 CEST"
    unit: str = "eur_mwh"
    unit_label: str = "EUR/MWh"
    fallback_reason: str | None = None
    rates: pd.DataFrame | None = None  # units.rates_for_days() for SEK units


@dataclass(frozen=True)
class OutputWriter:
    """``write(output, path)`` writes one file at ``path`` = ``<outputs_dir>/<output.stem>.<suffix>``."""

    name: str
    suffix: str
    write: Callable[[ForecastOutput, Path], None]
    description: str = ""

    def path(self, output: ForecastOutput) -> Path:
        return output.outputs_dir / f"{output.stem}.{self.suffix}"


def csv_text(table: pd.DataFrame) -> str:
    """The forecast CSV (also what ``GET /forecast?format=csv`` returns). Numbers are written in
    full (shortest round-trip form), so the file holds exactly the stored values."""
    from spotcast_storage.text import iso_frame

    return iso_frame(table).to_csv(index=False, float_format=_shortest)


def _shortest(x: float) -> str:
    """The shortest text that reads back as exactly ``x`` (Python's float repr)."""
    return repr(float(x))


def write_csv(output: ForecastOutput, path: Path) -> None:
    path.write_text(csv_text(output.table))


def write_png(output: ForecastOutput, path: Path) -> None:
    """Drawn in `spotcast-serve predict`'s chart process when one runs (:mod:`spotcast_serve.chartproc`)."""
    from spotcast_serve.chartproc import render
    from spotcast_serve.charts import forecast_chart

    by = (f"weekly naive instead of the model: {output.fallback_reason}" if output.fallback_reason
          else f"{output.model} v{output.model_version}")
    render(forecast_chart(output.table, output.daily, output.tz, output.title, subtitle=by, unit=output.unit_label),
           path)


@hookimpl
def register_forecast_outputs(register: Callable[[OutputWriter], None]) -> None:
    register(OutputWriter("csv", "csv", write_csv, "actual and p10/p50/p90 per hour (and per quarter-hour in "
                          "*_15min.csv) with UTC and local time"))
    register(OutputWriter("png", "png", write_png, "median with p10–p90 band, daily means, actuals, hourly "
                          "(and in 15-minute steps in *_15min.png)"))


def collect_writers() -> dict[str, OutputWriter]:
    """Every registered writer by name. pluggy calls the newest plugin first, so a plugin
    registering a name that a built-in uses (``csv``, ``png``) replaces the built-in."""
    from spotcast_serve.plugin import plugin_manager

    found: dict[str, OutputWriter] = {}
    plugin_manager().hook.register_forecast_outputs(register=lambda w: found.setdefault(w.name, w))
    return found


def select_writers(names: Sequence[str] | None) -> list[OutputWriter]:
    """The writers named (all when ``names`` is None); an unknown name is an error naming the known ones."""
    writers = collect_writers()
    if names is None:
        return list(writers.values())
    unknown = [n for n in names if n not in writers]
    if unknown:
        raise ValidationError(f"unknown output format(s) {unknown}; available: {', '.join(sorted(writers))}")
    return [writers[n] for n in names]


def write_outputs(output: ForecastOutput, writers: Sequence[OutputWriter],
                  keep_existing: bool = False) -> tuple[list[Path], list[Path]]:
    """Write each file; with ``keep_existing`` (the published vintage is not the one just made) a
    file that is already there is left alone, since it was written from the same vintage.
    Returns every file's path and, separately, those left alone, so a caller does not claim to
    have written a file it kept."""
    paths, kept = [], []
    for w in writers:
        path = w.path(output)
        if keep_existing and path.exists():
            kept.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            w.write(output, path)
        paths.append(path)
    return paths, kept
