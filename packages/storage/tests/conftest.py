from __future__ import annotations

import os
import uuid

import pytest

from spotcast_storage import backends, config, get_storage
from spotcast_storage.hookspecs import hookimpl
from spotcast_storage.local import connection
from spotcast_storage.plugins import get_plugin_manager


class SecondBackend:
    """A test-only second backend, registered like a third-party one: the contract suite runs over
    every registered backend, not over a fixed list. (It is the local store under another mode
    name; a new backend's own classes would go here.)"""

    @hookimpl
    def register_backends(self, register):
        from spotcast_storage.local.project import LocalProject

        register("test-second", lambda path=None, read_only=False, **options: LocalProject(path, read_only=read_only))


if get_plugin_manager().get_plugin("test-second-backend") is None:
    get_plugin_manager().register(SecondBackend(), name="test-second-backend")
BACKENDS = sorted(backends())


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
    return get_storage(mode=request.param, path=store_path)


@pytest.fixture
def local_project(store_path):
    return get_storage(mode="local", path=store_path)


@pytest.fixture
def uid():
    """Unique suffix so runs on a shared Hopsworks project do not collide."""
    return "t" + uuid.uuid4().hex[:8]
