"""Source plugin ``synthetic``: an offline, seeded, deterministic market for demos and tests.

Prices, weather (observations and forecasts) and day-ahead load/wind/solar forecasts from
:mod:`spotcast_ingest.simulate`, published as a real market would be at ``now``: prices for
a day appear at 13:00 CET the day before, observations once their hour is over, forecasts at
their issue time. Option ``seed`` (integer, default 0) picks another market.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from spotcast_ingest import simulate, timeutil
from spotcast_ingest.source import FetchRequest, FetchResult, Source
from spotcast_storage.errors import ValidationError
from spotcast_storage.hookspecs import hookimpl


class Synthetic(Source):
    name = "synthetic"
    description = "offline seeded market: prices, weather + forecasts, load/wind/solar forecasts"
    zones = simulate.ZONES
    writes = ("prices", "weather", "exogenous")
    network = False
    resume_on = (("prices", {}), ("weather", {"kind": "observed"}))
    batch_months = 12

    @property
    def seed(self) -> int:
        return int(self.options.get("seed", 0))

    def validate_options(self) -> None:
        unknown = sorted(set(self.options) - {"seed"})
        if unknown:
            raise ValidationError(f"source synthetic takes option seed=<integer>, not {unknown}")
        try:
            int(self.options.get("seed", 0))
        except (TypeError, ValueError):
            raise ValidationError(f"synthetic seed must be an integer, got {self.options['seed']!r}") from None

    def fetch(self, request: FetchRequest) -> FetchResult:
        frames = simulate.generate(request.zone, request.start, request.end, request.now, self.seed)
        return FetchResult(frames)

    def fetch_latest(self, zone: str, now: pd.Timestamp) -> FetchResult:
        """Tomorrow's day-ahead load/wind/solar forecasts (out at 10:00 CET, before the auction),
        so a forecast made before the prices are published can use them."""
        tomorrow = timeutil.local_today(now, self.tz(zone)) + dt.timedelta(days=1)
        frames = simulate.generate(zone, tomorrow, tomorrow, now, self.seed, forecasts=False)
        return FetchResult({k: v for k, v in frames.items() if k == "exogenous"})

    def check(self) -> str:
        now = timeutil.to_utc(None)
        today = timeutil.local_today(now, "Europe/Stockholm")
        got = simulate.generate("SE3", today, today, now, self.seed)
        return f"offline; {len(got.get('prices', ()))} SE3 periods today"


@hookimpl
def register_sources(register: Any) -> None:
    register(Synthetic)
