"""Source plugin ``csv``: prices (and optional exogenous columns) from a local CSV or Parquet
file, e.g. an epftoolbox dataset. Offline; works for any zone of the zone table
(:mod:`spotcast_storage.zones`), whose time zone reads the file's naive times.

Options: ``path`` (the file; ``--file`` on the CLI), ``tz`` (time zone of naive times and of
delivery days, when not the zone's own), ``time_column``, ``price_column`` (found by name when not given). Prices are
taken as EUR/MWh. ``known_at`` follows the day-ahead rule (13:00 CET the day before) and
exogenous columns are dated as day-ahead forecasts (10:00 CET the day before).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from spotcast_ingest.formats.pricefile import read_table, to_frames
from spotcast_ingest.source import FetchRequest, FetchResult, Source
from spotcast_storage.errors import ValidationError
from spotcast_storage.hookspecs import hookimpl

OPTIONS = ("path", "tz", "time_column", "price_column")


class CsvFile(Source):
    name = "csv"
    description = "prices (+ exogenous columns) from a CSV/Parquet file, incl. epftoolbox datasets"
    zones = ()
    writes = ("prices", "exogenous")
    network = False
    batch_months = 12
    last_day_hint = "the file ends there"

    confirm_large = False  # the file bounds the work

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._frames: dict[str, tuple[pd.DataFrame, pd.DataFrame | None]] = {}
        self._notes: dict[str, list[str]] = {}

    @property
    def path(self) -> Path:
        return Path(str(self.options["path"])).expanduser()

    def validate_options(self) -> None:
        unknown = sorted(set(self.options) - set(OPTIONS))
        if unknown:
            raise ValidationError(f"source csv takes options {', '.join(OPTIONS)}; unknown: {unknown}")
        if not self.options.get("path"):
            raise ValidationError("source csv needs the file: --file PATH (or -o path=PATH)")
        if not self.path.is_file():
            raise ValidationError(f"price file {self.path} does not exist")

    def _load(self, zone: str) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        if zone not in self._frames:
            where = f"csv {self.path}"
            prices, exo, notes = to_frames(read_table(self.path), zone, self.tz(zone), where, self.name,
                                           self.options.get("time_column"), self.options.get("price_column"))
            self._frames[zone], self._notes[zone] = (prices, exo), notes
        return self._frames[zone]

    def _days(self, zone: str) -> pd.Series:
        return self._load(zone)[0]["ts"].dt.tz_convert(self.tz(zone)).dt.date

    def first_day(self, zone: str) -> dt.date:
        return self._days(zone).min()

    def last_day(self, zone: str, now: pd.Timestamp) -> dt.date:
        return self._days(zone).max()

    def fetch(self, request: FetchRequest) -> FetchResult:
        prices, exo = self._load(request.zone)
        tz = self.tz(request.zone)
        out = {}
        for name, df in (("prices", prices), ("exogenous", exo)):
            if df is None:
                continue
            day = df["ts"].dt.tz_convert(tz).dt.date
            part = df[(day >= request.start) & (day <= request.end)]
            if len(part):
                out[name] = part.reset_index(drop=True)
        # the file's notes once, with its first batch
        notes = self._notes.get(request.zone, []) if request.start <= self.first_day(request.zone) else []
        return FetchResult(out, notes=notes)


@hookimpl
def register_sources(register: Any) -> None:
    register(CsvFile)
