"""Source plugin ``energidataservice``: day-ahead prices for DK1/DK2 (and SE3/SE4) from
Energinet's Energi Data Service, no key. One request per zone, batch and dataset."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd

from spotcast_ingest import timeutil
from spotcast_ingest.errors import NotPublishedError
from spotcast_ingest.formats import decode_json
from spotcast_ingest.formats.energidataservice import (
    DATASETS,
    dataset_for,
    parse_records,
    prices_for_days,
)
from spotcast_ingest.frames import concat
from spotcast_ingest.http import Request
from spotcast_ingest.source import FetchRequest, FetchResult, Source
from spotcast_storage.hookspecs import hookimpl


class EnergiDataService(Source):
    name = "energidataservice"
    description = "DK1/DK2/SE3/SE4 day-ahead prices (EUR), api.energidataservice.dk, no key"
    zones = ("DK1", "DK2", "SE3", "SE4")
    writes = ("prices",)
    default_base_url = "https://api.energidataservice.dk"
    batch_months = 3

    def request_for(self, dataset: str, zone: str, first: dt.date, last: dt.date, now: pd.Timestamp) -> Request:
        # start/end are Danish local times; the datasets' time column decides the sort
        params = {
            "start": f"{first:%Y-%m-%d}T00:00", "end": f"{last + dt.timedelta(days=1):%Y-%m-%d}T00:00",
            "filter": json.dumps({"PriceArea": [zone]}, separators=(",", ":")),
            "sort": f"{DATASETS[dataset][0]} asc", "limit": "0",
        }
        final = last < timeutil.local_today(now, self.tz(zone))
        return Request(f"{self.base_url}/dataset/{dataset}", params, cache=final, what=f"{zone} {first}..{last}")

    def fetch(self, request: FetchRequest) -> FetchResult:
        tz = self.tz(request.zone)
        days = list(timeutil.days(request.start, request.end))
        groups: dict[str, list[dt.date]] = {}
        for d in days:
            groups.setdefault(dataset_for(d), []).append(d)
        out, pending = [], []
        for dataset, ds_days in groups.items():
            req = self.request_for(dataset, request.zone, ds_days[0], ds_days[-1], request.now)
            resp = self.http.get(req, namespace=self.name)
            where = f"{self.name} {dataset} ({resp.url})"
            if resp.not_found:
                raise NotPublishedError(f"{where}: HTTP 404; is the dataset name right?")
            records = parse_records(decode_json(resp.body, where), dataset, request.zone, where)
            frame, empty = prices_for_days(records, request.zone, ds_days, tz, DATASETS[dataset][2], where,
                                           self.name)
            for day in empty:
                if request.may_be_pending(day):
                    pending.append(f"{request.zone} {day}")
                else:
                    raise NotPublishedError(f"{where}: no prices for {request.zone} {day}")
            self.http.keep(resp)
            out.append(frame)
        frame = concat(out)
        return FetchResult({"prices": frame} if frame is not None else {}, pending)

    def check(self) -> str:
        now = timeutil.to_utc(None)
        day = timeutil.local_today(now, "Europe/Copenhagen") - dt.timedelta(days=1)
        got = self.fetch(FetchRequest("DK1", day, day, now)).frames["prices"]
        return f"DK1 {day}: {len(got)} periods ({dataset_for(day)}), expected format"


@hookimpl
def register_sources(register: Any) -> None:
    register(EnergiDataService)
