"""Source plugin ``elprisetjustnu``: SE1-SE4 day-ahead prices from elprisetjustnu.se, one
request per zone and day, no key."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from spotcast_ingest import timeutil
from spotcast_ingest.errors import NotPublishedError, SourceError
from spotcast_ingest.formats import decode_json
from spotcast_ingest.formats.elprisetjustnu import parse_day, to_prices
from spotcast_ingest.http import Request
from spotcast_ingest.source import FetchRequest, FetchResult, Source
from spotcast_storage.contracts import ZONES_SE
from spotcast_storage.hookspecs import hookimpl


class ElprisetJustNu(Source):
    name = "elprisetjustnu"
    description = "SE1-SE4 day-ahead prices (SEK and EUR), elprisetjustnu.se, no key"
    zones = ZONES_SE
    writes = ("prices",)
    default_base_url = "https://www.elprisetjustnu.se"
    batch_months = 3

    def first_day(self, zone: str) -> dt.date:
        return dt.date(2022, 11, 1)  # the API's history starts here

    def day_request(self, zone: str, day: dt.date, now: pd.Timestamp) -> Request:
        return Request(
            url=f"{self.base_url}/api/v1/prices/{day:%Y}/{day:%m-%d}_{zone}.json",
            cache=day < timeutil.local_today(now, self.tz(zone)),
            what=f"{zone} {day}",
        )

    def fetch(self, request: FetchRequest) -> FetchResult:
        days = list(timeutil.days(request.start, request.end))
        reqs = [self.day_request(request.zone, d, request.now) for d in days]
        responses = self.http.get_many(reqs, namespace=self.name)
        out, pending = [], []
        first_error: SourceError | None = None
        for day, resp in zip(days, responses, strict=True):
            where = f"{self.name} {request.zone} {day} ({resp.url}"
            where += f", cached in {resp.cache_path})" if resp.from_cache else ")"
            try:
                if resp.not_found:
                    if request.may_be_pending(day):
                        pending.append(f"{request.zone} {day}")
                        continue
                    raise NotPublishedError(
                        f"{self.name}: no prices for {request.zone} {day} (HTTP 404 from {resp.url}); "
                        "prices for a day are published about 13:00 CET the day before, and this API's "
                        f"history starts {self.first_day(request.zone)}")
                out.append(parse_day(decode_json(resp.body, where), request.zone, day, where))
            except SourceError as exc:
                first_error = first_error or exc  # raised below, once the good days are cached
                continue
            self.http.keep(resp)
        if first_error is not None:
            raise first_error
        frame = to_prices(out, request.zone, self.name)
        return FetchResult({"prices": frame} if frame is not None else {}, pending)

    def check(self) -> str:
        now = timeutil.to_utc(None)
        day = timeutil.local_today(now, "Europe/Stockholm")
        req = FetchRequest("SE3", day, day, now)
        result = self.fetch(req)
        n = len(result.frames.get("prices", ()))
        if not n:
            raise SourceError(f"{self.name}: no prices for SE3 today")
        return f"SE3 {day}: {n} periods, answer in the expected format"


@hookimpl
def register_sources(register: Any) -> None:
    register(ElprisetJustNu)
