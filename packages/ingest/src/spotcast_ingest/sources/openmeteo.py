"""Source plugin ``open-meteo``: hourly weather per zone from Open-Meteo, no key.

History is the weather *as it was known*: the Previous Runs API's archived forecasts (what the
models predicted 1-7 days before each hour; Open-Meteo archives most models from January 2024)
stored as ``kind=forecast`` with ``issued_at = ts - N days`` for ``_previous_dayN`` (see
:func:`spotcast_ingest.formats.openmeteo.previous_runs_rows`), plus the archive API's
observations (``kind=observed``), which the features stage uses only where no archived forecast
issued by the origin exists (and flags). The newest forecast comes from the forecast API
(``kind=forecast``, issued at the request time floored to the hour; ``update`` fetches it) and
covers the whole forecast horizon: ``forecast_days`` is derived from the horizon and the time of
the request (:func:`forecast_days_needed`). Each zone's weather is taken at one reference
location (the zone table's, :mod:`spotcast_storage.zones`), overridable with an option ``<ZONE>=<lat>,<lon>``.
A ``--base-url`` replaces every host (the previous-runs and forecast requests then differ by
their ``hourly`` variables).

Open-Meteo's Historical Forecast API (archived forecasts from 2021/2022) is not used: it stitches
together the *first hours* of every model run, so none of its values was issued 14 hours or more
before its hour, the shortest lead a day-ahead origin needs; under the point-in-time rule it
could only stand in where the observations already do.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from spotcast_ingest import timeutil
from spotcast_ingest.errors import SourceError
from spotcast_ingest.formats import decode_json
from spotcast_ingest.formats.openmeteo import (
    previous_day_variable,
    previous_runs_rows,
    weather_rows,
)
from spotcast_ingest.frames import WEATHER_VARIABLES
from spotcast_ingest.http import Request
from spotcast_ingest.source import FetchRequest, FetchResult, Source
from spotcast_storage.errors import ValidationError
from spotcast_storage.hookspecs import hookimpl
from spotcast_storage.zones import parse_zone

ARCHIVE = "https://archive-api.open-meteo.com"
FORECAST = "https://api.open-meteo.com"
PREVIOUS_RUNS = "https://previous-runs-api.open-meteo.com"
PREVIOUS_RUNS_FROM = dt.date(2024, 1, 1)
"""First day of the Previous Runs archive for most models (Open-Meteo's documentation); earlier
days get observations only. Option ``previous_runs_from=YYYY-MM-DD`` (or ``never``) changes it."""
PREVIOUS_DAYS = tuple(range(1, 8))
"""Lead days the Previous Runs API offers (``_previous_day1`` .. ``_previous_day7``)."""
HORIZON_DAYS = 7
"""Forecast horizon in local days (the features stage's default); option ``horizon_days``."""
MAX_FORECAST_DAYS = 16
FINAL_AFTER_DAYS = 7
"""Archive days older than this are cached as final (the archive fills in with a few days' delay)."""


class OpenMeteo(Source):
    name = "open-meteo"
    description = "hourly weather per zone: archive (observed) + newest forecast, open-meteo.com, no key"
    zones = ()
    writes = ("weather",)
    resume_on = (("weather", {"kind": "observed"}),)
    default_base_url = FORECAST
    batch_months = 3
    last_day_hint = ("the archive has past days only; `spotcast-ingest update --zone {zone} --source {source}` "
                     "adds the newest forecast")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        overridden = self.base_url != FORECAST
        self.archive_url = self.base_url if overridden else ARCHIVE
        self.previous_runs_url = self.base_url if overridden else PREVIOUS_RUNS

    def validate_options(self) -> None:
        for key, value in self.options.items():
            if key == "tz":
                continue
            if key == "forecast_days":
                if not str(value).isdigit() or not 1 <= int(value) <= MAX_FORECAST_DAYS:
                    raise ValidationError(f"open-meteo forecast_days must be 1..16, got {value!r}")
                continue
            if key == "horizon_days":
                if not str(value).isdigit() or not 1 <= int(value) <= MAX_FORECAST_DAYS - 2:
                    raise ValidationError(f"open-meteo horizon_days must be 1..14 (the forecast API gives 16 "
                                          f"days), got {value!r}")
                continue
            if key == "previous_runs_from":
                if str(value) != "never":
                    try:
                        dt.date.fromisoformat(str(value))
                    except ValueError:
                        raise ValidationError(f"open-meteo previous_runs_from must be a date like 2024-01-01 "
                                              f"or 'never', got {value!r}") from None
                continue
            try:
                lat, lon = (float(x) for x in str(value).split(","))
            except ValueError:
                raise ValidationError(
                    f"open-meteo option {key}={value!r}: give a zone's location as <ZONE>=<lat>,<lon>, "
                    "e.g. -o SE3=59.33,18.07 (or forecast_days=1..16, horizon_days=1..14, "
                    "previous_runs_from=YYYY-MM-DD|never)") from None
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValidationError(f"open-meteo location {key}={value!r} is not a latitude,longitude")

    def location(self, zone: str) -> tuple[float, float]:
        if zone in self.options:
            lat, lon = (float(x) for x in str(self.options[zone]).split(","))
            return lat, lon
        where = parse_zone(zone).location
        return where.lat, where.lon

    def first_day(self, zone: str) -> dt.date:
        return dt.date(1940, 1, 1)

    def last_day(self, zone: str, now: pd.Timestamp) -> dt.date:
        return timeutil.local_today(now, self.tz(zone)) - dt.timedelta(days=1)

    def _params(self, zone: str) -> dict[str, str]:
        lat, lon = self.location(zone)
        return {"latitude": f"{lat:.4f}", "longitude": f"{lon:.4f}", "hourly": ",".join(WEATHER_VARIABLES),
                "timezone": "GMT", "timeformat": "unixtime", "wind_speed_unit": "kmh"}

    def fetch(self, request: FetchRequest) -> FetchResult:
        tz = self.tz(request.zone)
        lo, hi = timeutil.day_bounds(request.start, tz)[0], timeutil.day_bounds(request.end, tz)[1]
        # the archive takes UTC dates: cover the local days' UTC span
        params = {**self._params(request.zone), "start_date": lo.date().isoformat(),
                  "end_date": (hi - pd.Timedelta(microseconds=1)).date().isoformat()}
        final = request.end < timeutil.local_today(request.now, tz) - dt.timedelta(days=FINAL_AFTER_DAYS)
        req = Request(f"{self.archive_url}/v1/archive", params, cache=final, what=request.label)
        resp = self.http.get(req, namespace=self.name)
        where = f"{self.name} {request.label} ({resp.url})"
        frame = weather_rows(decode_json(resp.body, where), request.zone, WEATHER_VARIABLES, "observed", None,
                             where, self.name, lo, hi)
        self.http.keep(resp)
        parts = [frame, self._previous_runs(request, lo, hi, final)]
        frame = pd.concat([p for p in parts if p is not None and len(p)], ignore_index=True) \
            if any(p is not None and len(p) for p in parts) else frame
        return FetchResult({"weather": frame} if len(frame) else {})

    def previous_runs_start(self) -> dt.date | None:
        value = self.options.get("previous_runs_from")
        if value is None:
            return PREVIOUS_RUNS_FROM
        return None if str(value) == "never" else dt.date.fromisoformat(str(value))

    def _previous_runs(self, request: FetchRequest, lo: pd.Timestamp, hi: pd.Timestamp,
                       final: bool) -> pd.DataFrame | None:
        """Archived forecasts of the batch's days from the Previous Runs API (None before its start)."""
        first = self.previous_runs_start()
        if first is None or request.end < first:
            return None
        lo = max(lo, pd.Timestamp(first, tz="UTC"))
        params = {**self._params(request.zone),
                  "hourly": ",".join(previous_day_variable(v, d) for d in PREVIOUS_DAYS for v in WEATHER_VARIABLES),
                  "start_date": lo.date().isoformat(),
                  "end_date": (hi - pd.Timedelta(microseconds=1)).date().isoformat()}
        req = Request(f"{self.previous_runs_url}/v1/forecast", params, cache=final,
                      what=f"{request.label} previous runs")
        resp = self.http.get(req, namespace=self.name)
        where = f"{self.name} {request.label} previous runs ({resp.url})"
        frame = previous_runs_rows(decode_json(resp.body, where), request.zone, WEATHER_VARIABLES, PREVIOUS_DAYS,
                                   where, self.name, lo, hi)
        self.http.keep(resp)
        return frame

    def forecast_days(self, zone: str, now: pd.Timestamp) -> int:
        """Days the forecast request must cover for the zone's horizon at ``now``: an explicit
        ``forecast_days`` option when it is longer, else :func:`forecast_days_needed`."""
        need = forecast_days_needed(now, self.tz(zone), int(self.options.get("horizon_days", HORIZON_DAYS)))
        given = int(self.options.get("forecast_days", 0))
        return max(need, given)

    def fetch_latest(self, zone: str, now: pd.Timestamp) -> FetchResult:
        issued = now.floor("h")
        days = str(self.forecast_days(zone, now))
        req = Request(f"{self.base_url}/v1/forecast", {**self._params(zone), "forecast_days": days},
                      what=f"{zone} forecast")
        resp = self.http.get(req, namespace=self.name)
        where = f"{self.name} {zone} forecast ({resp.url})"
        frame = weather_rows(decode_json(resp.body, where), zone, WEATHER_VARIABLES, "forecast", issued,
                             where, self.name, start=issued)
        return FetchResult({"weather": frame} if len(frame) else {})

    def check(self) -> str:
        now = timeutil.to_utc(None)
        got = self.fetch_latest("SE3", now).frames.get("weather")
        if got is None or got.empty:
            raise SourceError("open-meteo answered without forecast hours for SE3")
        return f"SE3 forecast: {len(got)} hours from {got['ts'].min():%Y-%m-%d %H:%M}Z, expected format"


def forecast_days_needed(now: pd.Timestamp, tz: str, horizon_days: int = HORIZON_DAYS) -> int:
    """How many days (``forecast_days``: today in GMT and the days after) a forecast requested at
    ``now`` must cover so that every target hour of the newest origin has a forecast.

    The newest origin's targets start the day after the newest published prices: tomorrow
    before the day-ahead publication (13:00 CET), the day after tomorrow after it (the origin is
    then the next morning), and run for ``horizon_days`` local days; so after 13:00 the last
    target hour is 8 days out with the default 7-day horizon."""
    now = timeutil.to_utc(now)
    first_target = timeutil.newest_published_day(now, tz) + dt.timedelta(days=1)
    end = timeutil.day_bounds(first_target + dt.timedelta(days=horizon_days - 1), tz)[1]
    start = now.normalize()  # the forecast API's first day, in GMT
    days = -(-(end - start) // pd.Timedelta(days=1))
    if days > MAX_FORECAST_DAYS:
        raise ValidationError(f"a {horizon_days}-day horizon needs {days} forecast days; Open-Meteo gives at most "
                              f"{MAX_FORECAST_DAYS}")
    return int(days)


@hookimpl
def register_sources(register: Any) -> None:
    register(OpenMeteo)
