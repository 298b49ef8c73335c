"""Source plugin ``entsoe``: day-ahead prices and day-ahead load, wind and solar forecasts for
any bidding zone from the ENTSO-E Transparency Platform. Needs a token in ENTSOE_API_KEY,
which is never logged and is redacted from every error.

Requests go through the stage's own HTTP client (retries, bounded concurrency, disk cache,
``--base-url``), one per document type, zone and month. A zone's EIC code and time zone come
from the zone table (:mod:`spotcast_storage.zones`), so every bidding zone there works without
entsoe-py.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import numpy as np
import pandas as pd

from spotcast_ingest import frames, timeutil
from spotcast_ingest.errors import NotPublishedError
from spotcast_ingest.formats.entsoe import PSR_TYPES, NoData, parse_series
from spotcast_ingest.http import Request
from spotcast_ingest.source import FetchRequest, FetchResult, Source
from spotcast_storage.errors import ValidationError
from spotcast_storage.hookspecs import hookimpl
from spotcast_storage.zones import parse_zone


class Entsoe(Source):
    name = "entsoe"
    description = "day-ahead prices + load/wind/solar forecasts, any zone, ENTSO-E (ENTSOE_API_KEY)"
    zones = ()
    writes = ("prices", "exogenous")
    default_base_url = "https://web-api.tp.entsoe.eu/api"
    batch_months = 3
    secret_env = "ENTSOE_API_KEY"

    def validate_options(self) -> None:
        if not os.environ.get(self.secret_env or ""):
            raise ValidationError("source entsoe needs a Transparency Platform token in ENTSOE_API_KEY "
                                  "(free: register at transparency.entsoe.eu and ask for API access)")
        unknown = sorted(set(self.options) - {"tz"})
        if unknown:
            raise ValidationError(f"source entsoe takes option tz only, not {unknown}")

    def _request(self, params: dict[str, str], lo: pd.Timestamp, hi: pd.Timestamp, final: bool, what: str) -> Request:
        token = os.environ.get(self.secret_env or "", "")
        return Request(self.base_url or "", {**params, "securityToken": token, "periodStart": f"{lo:%Y%m%d%H%M}",
                                             "periodEnd": f"{hi:%Y%m%d%H%M}"}, cache=final, what=what)

    def fetch(self, request: FetchRequest) -> FetchResult:
        zone, tz = request.zone, self.tz(request.zone)
        eic = parse_zone(zone).eic
        lo, hi = timeutil.day_bounds(request.start, tz)[0], timeutil.day_bounds(request.end, tz)[1]
        final = request.end < timeutil.local_today(request.now, tz)
        reqs = {
            "prices": self._request({"documentType": "A44", "in_Domain": eic, "out_Domain": eic}, lo, hi, final,
                                    f"{request.label} prices"),
            "load": self._request({"documentType": "A65", "processType": "A01", "outBiddingZone_Domain": eic},
                                  lo, hi, final, f"{request.label} load forecast"),
            "wind_solar": self._request({"documentType": "A69", "processType": "A01", "in_Domain": eic}, lo, hi,
                                        final, f"{request.label} wind/solar forecast"),
        }
        answers = dict(zip(reqs, self.http.get_many(list(reqs.values()), namespace=self.name), strict=True))
        pending: list[str] = []
        out: dict[str, pd.DataFrame] = {}

        where = f"{self.name} {request.label} prices ({answers['prices'].url})"
        try:
            prices = pd.concat([s for _, s in parse_series(answers["prices"].body, "price.amount", where)]).sort_index()
        except NoData as exc:
            prices = pd.Series(dtype="float64", index=pd.DatetimeIndex([], tz="UTC"))
            reason = str(exc)
        else:
            reason = ""
        prices = prices[(prices.index >= lo) & (prices.index < hi)]
        prices = prices[~prices.index.duplicated(keep="last")]
        rows = []
        local_day = prices.index.tz_convert(tz).date
        for day in timeutil.days(request.start, request.end):
            part = prices[local_day == day]
            if part.empty:
                if request.may_be_pending(day):
                    pending.append(f"{zone} {day}")
                    continue
                raise NotPublishedError(f"{where}: no prices for {zone} {day}" + (f" ({reason})" if reason else ""))
            minutes = int(pd.Series(part.index).diff().dropna().min() / pd.Timedelta(minutes=1)) if len(part) > 1 else 60
            frames.check_day(part.index, day, tz, minutes, where)
            rows.append(frames.prices_frame(zone, part.index, part.to_numpy(), None, minutes, self.name, tz))
        if rows:
            out["prices"] = pd.concat(rows, ignore_index=True)

        exo: dict[str, tuple[pd.Series, int]] = {}
        for key, hour in (("load", timeutil.FORECAST_ISSUE_HOUR), ("wind_solar", timeutil.WIND_SOLAR_ISSUE_HOUR)):
            where = f"{self.name} {request.label} {key} ({answers[key].url})"
            try:
                series = parse_series(answers[key].body, "quantity", where)
            except NoData:
                continue  # the zone publishes no such forecast (e.g. no solar): nothing to write
            for psr, s in series:
                name = "load_forecast" if key == "load" else PSR_TYPES.get(psr or "", f"psr_{psr}_forecast")
                s = s[(s.index >= lo) & (s.index < hi)]
                hourly = s.groupby(s.index.floor("h")).mean()  # exogenous series are hourly
                if name in exo:  # onshore + offshore wind
                    hourly = exo[name][0].add(hourly, fill_value=0.0)
                exo[name] = (hourly, hour)
        exo_frames = [
            frames.exogenous_frame(zone, s.index, name, np.round(s.to_numpy(), 1), "MW",
                                   timeutil.publication_times(s.index, tz, hour), self.name)
            for name, (s, hour) in sorted(exo.items()) if len(s)
        ]
        if exo_frames:
            out["exogenous"] = pd.concat(exo_frames, ignore_index=True)
        for resp in answers.values():
            self.http.keep(resp)
        return FetchResult(out, pending)

    def check(self) -> str:
        now = timeutil.to_utc(None)
        day = timeutil.local_today(now, "Europe/Stockholm") - dt.timedelta(days=1)
        got = self.fetch(FetchRequest("SE3", day, day, now))
        return f"SE3 {day}: {len(got.frames.get('prices', ()))} price periods, " \
               f"{len(got.frames.get('exogenous', ()))} forecast values, expected format"


@hookimpl
def register_sources(register: Any) -> None:
    register(Entsoe)
