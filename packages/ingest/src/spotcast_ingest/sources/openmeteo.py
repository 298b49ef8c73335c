"""Source plugin ``open-meteo``: hourly weather per zone from Open-Meteo, no key.

History comes from the archive API (``kind=observed``), the newest forecast from the forecast
API (``kind=forecast``, issued at the request time floored to the hour; ``update`` fetches
it). Each zone's weather is taken at one reference location (see :mod:`spotcast_ingest.zones`),
overridable with an option ``<ZONE>=<lat>,<lon>``. A ``--base-url`` replaces both hosts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from spotcast_ingest import timeutil
from spotcast_ingest.errors import SourceError
from spotcast_ingest.formats import decode_json
from spotcast_ingest.formats.openmeteo import weather_rows
from spotcast_ingest.frames import WEATHER_VARIABLES
from spotcast_ingest.http import Request
from spotcast_ingest.source import FetchRequest, FetchResult, Source
from spotcast_ingest.zones import ZONE_LOCATIONS
from spotcast_storage.errors import ValidationError
from spotcast_storage.hookspecs import hookimpl

ARCHIVE = "https://archive-api.open-meteo.com"
FORECAST = "https://api.open-meteo.com"
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
    last_day_hint = "the archive has past days only; `spotcast-ingest update` adds the newest forecast"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        overridden = self.base_url != FORECAST
        self.archive_url = self.base_url if overridden else ARCHIVE

    def validate_options(self) -> None:
        for key, value in self.options.items():
            if key == "tz":
                continue
            if key == "forecast_days":
                if not str(value).isdigit() or not 1 <= int(value) <= 16:
                    raise ValidationError(f"open-meteo forecast_days must be 1..16, got {value!r}")
                continue
            try:
                lat, lon = (float(x) for x in str(value).split(","))
            except ValueError:
                raise ValidationError(
                    f"open-meteo option {key}={value!r}: give a zone's location as <ZONE>=<lat>,<lon>, "
                    "e.g. -o SE3=59.33,18.07 (or forecast_days=1..16)") from None
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValidationError(f"open-meteo location {key}={value!r} is not a latitude,longitude")

    def location(self, zone: str) -> tuple[float, float]:
        if zone in self.options:
            lat, lon = (float(x) for x in str(self.options[zone]).split(","))
            return lat, lon
        return ZONE_LOCATIONS[zone][1], ZONE_LOCATIONS[zone][2]

    def check_zone(self, zone: str) -> None:
        if zone not in ZONE_LOCATIONS and zone not in self.options:
            raise ValidationError(
                f"source open-meteo has no location for zone {zone!r}; it knows {', '.join(ZONE_LOCATIONS)}. "
                f"Give one with -o {zone}=<lat>,<lon>")

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
        return FetchResult({"weather": frame} if len(frame) else {})

    def fetch_latest(self, zone: str, now: pd.Timestamp) -> FetchResult:
        issued = now.floor("h")
        days = str(self.options.get("forecast_days", 7))
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


@hookimpl
def register_sources(register: Any) -> None:
    register(OpenMeteo)
