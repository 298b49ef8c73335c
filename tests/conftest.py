"""Cross-stage tests: the whole chain through the umbrella CLI."""

from __future__ import annotations

import pytest

from spotcast_storage import config
from spotcast_storage.local import connection


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    for var in ("SPOTCAST_STORE", "SPOTCAST_MODE", "HOPSWORKS_API_KEY", "ENTSOE_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SPOTCAST_CACHE_DIR", str(tmp_path / "http-cache"))
    config.reset_defaults()
    yield
    config.reset_defaults()


@pytest.fixture
def fast_train(monkeypatch):
    """Default fits in this test train tests/fast_train.py's smaller boosting (the chain, not
    accuracy, is what these tests check); the stage default is back after the test."""
    import fast_train as fast
    from spotcast_train.builtins import xgboost as builtin

    monkeypatch.setattr(builtin, "STAGE_SETTINGS", fast.SETTINGS)
    return fast.SETTINGS


@pytest.fixture
def store_path(tmp_path):
    path = tmp_path / "store.duckdb"
    yield path
    connection.release(path)


SYNTHETIC_START, SYNTHETIC_DAYS = "2024-01-01", 90


@pytest.fixture
def project(store_path):
    """A store with 90 days of synthetic SE3 prices and price_features (28 target days per origin)."""
    from spotcast_storage import get_storage
    from spotcast_storage.contracts.features import PRICE_FEATURES, PRICES_HOURLY
    from spotcast_train.synthetic import features_frame, hourly_frame, price_matrix

    p = get_storage(mode="local", path=store_path)
    fs = p.get_feature_store()
    P = price_matrix(SYNTHETIC_DAYS)
    PRICES_HOURLY.get_or_create(fs).insert(PRICES_HOURLY.conform(hourly_frame("SE3", SYNTHETIC_START, P)))
    PRICE_FEATURES.get_or_create(fs).insert(PRICE_FEATURES.conform(
        features_frame("SE3", SYNTHETIC_START, P, 28, last_origin_day=SYNTHETIC_DAYS - 1)))
    yield p
    p.close()
