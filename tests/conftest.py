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
def store_path(tmp_path):
    path = tmp_path / "store.duckdb"
    yield path
    connection.release(path)
