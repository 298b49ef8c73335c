from __future__ import annotations

import os
import uuid

import pytest

from spotcast_storage import config, get_storage
from spotcast_storage.local import connection

BACKENDS = ["local", "hopsworks"]


@pytest.fixture(autouse=True)
def _isolated_config(monkeypatch):
    """No test sees the developer's SPOTCAST_* settings or a previous test's CLI defaults."""
    for var in ("SPOTCAST_STORE", "SPOTCAST_MODE", "HOPSWORKS_API_KEY_FOR_TESTS"):
        monkeypatch.delenv(var, raising=False)
    config.reset_defaults()
    yield
    config.reset_defaults()


@pytest.fixture
def store_path(tmp_path):
    path = tmp_path / "store.duckdb"
    yield path
    connection.release(path)


@pytest.fixture(params=BACKENDS)
def project(request, store_path):
    """The same public API on every backend; Hopsworks only with a real cluster."""
    if request.param == "hopsworks":
        if not os.environ.get("HOPSWORKS_API_KEY"):
            pytest.skip("contract suite on Hopsworks needs a real cluster: set HOPSWORKS_API_KEY (and HOPSWORKS_HOST, HOPSWORKS_PROJECT)")
        return get_storage(mode="hopsworks")
    return get_storage(mode="local", path=store_path)


@pytest.fixture
def local_project(store_path):
    return get_storage(mode="local", path=store_path)


@pytest.fixture
def uid():
    """Unique suffix so runs on a shared Hopsworks project do not collide."""
    return "t" + uuid.uuid4().hex[:8]
