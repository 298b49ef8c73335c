"""Fixtures: a real local store in tmp_path holding small prices_hourly and price_features
frames in the contracts' shapes, built here (the train stage cannot import the features stage)."""

from __future__ import annotations

import os

os.environ.setdefault("SPOTCAST_LOAD_PLUGINS", "")  # keep third-party plugins out of the tests

import pandas as pd
import pytest

from spotcast_storage import get_storage
from spotcast_storage.config import reset_defaults
from spotcast_storage.contracts.features import PRICE_FEATURES, PRICES_HOURLY
from spotcast_train.synthetic import features_frame, hourly_frame, price_matrix
from spotcast_train.xgbmodel import XGBSettings

FAST = XGBSettings(windows_days=(21, 10_000), num_boost_round=25, eta=0.2, max_depth=4, max_bin=32)
"""Small enough for tests to fit in well under a second, real enough to beat the naive forecasts."""


class Store:
    def __init__(self, project, start: str = "2024-01-01", days: int = 100) -> None:
        self.project, self.start, self.days = project, start, days
        self.P = price_matrix(days)

    def load(self, zones: tuple[str, ...] = ("SE3",), first_origin_day: int = 28) -> None:
        fs = self.project.get_feature_store()
        hourly = pd.concat([hourly_frame(z, self.start, self.P + 3 * n) for n, z in enumerate(zones)])
        feats = pd.concat([features_frame(z, self.start, self.P + 3 * n, first_origin_day,
                                          last_origin_day=self.days - 1) for n, z in enumerate(zones)])
        PRICES_HOURLY.get_or_create(fs).insert(PRICES_HOURLY.conform(hourly))
        PRICE_FEATURES.get_or_create(fs).insert(PRICE_FEATURES.conform(feats))

    def origin(self, day: int) -> pd.Timestamp:
        return pd.Timestamp(self.start, tz="UTC") + pd.Timedelta(days=day, hours=9)


@pytest.fixture
def project(tmp_path):
    p = get_storage(mode="local", path=tmp_path / "store.duckdb")
    yield p
    p.close()
    reset_defaults()


@pytest.fixture(scope="session")
def shared_store(tmp_path_factory) -> Store:
    """One loaded store for the tests that only read it (building it is the slow part)."""
    p = get_storage(mode="local", path=tmp_path_factory.mktemp("shared") / "store.duckdb")
    s = Store(p)
    s.load()
    yield s
    p.close()


@pytest.fixture
def store(shared_store) -> Store:
    """Read-only: tests that write (fit, backtest) use ``fresh_store``."""
    return shared_store


@pytest.fixture
def fresh_store(project) -> Store:
    s = Store(project)
    s.load()
    return s


@pytest.fixture
def fast() -> dict:
    return {"settings": FAST}
