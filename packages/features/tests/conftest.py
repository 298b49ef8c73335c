"""Fixtures: a real local store in tmp_path, and small input frames in the contracts' shapes."""

from __future__ import annotations

import os

os.environ.setdefault("SPOTCAST_LOAD_PLUGINS", "")  # keep third-party plugins out of the tests

import pandas as pd
import pytest

from spotcast_features import synthetic
from spotcast_storage import get_storage
from spotcast_storage.config import reset_defaults


@pytest.fixture
def project(tmp_path):
    p = get_storage(mode="local", path=tmp_path / "store.duckdb")
    yield p
    p.close()
    reset_defaults()


def _hourly_frame(zone: str, start: str, days: int, price=None, tz: str = "Europe/Stockholm") -> pd.DataFrame:
    """prices_hourly-shaped rows for local days [start, start+days): price(ts_local) or a ramp,
    known at 13:00 local the day before delivery."""
    from spotcast_features.inputs import hourly_prices

    raw = synthetic.prices([zone], start, days)
    if price is not None:
        loc = raw["ts"].dt.tz_convert(tz)
        raw["price_eur_mwh"] = [float(price(t)) for t in loc]
    return hourly_prices(raw)


@pytest.fixture
def hourly_frame():
    return _hourly_frame


@pytest.fixture
def inputs_60d():
    """Two zones, 60 days of prices, weather and exogenous series (spring, across the March DST change)."""
    zones, start, days = ["SE3", "SE4"], "2024-03-01", 60
    return {
        "prices": synthetic.prices(zones, start, days),
        "weather": synthetic.weather(zones, start, days, forecasts_from="2024-03-20"),
        "exogenous": synthetic.exogenous(zones, start, days),
    }
