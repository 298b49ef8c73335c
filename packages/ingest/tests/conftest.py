from __future__ import annotations

import pandas as pd
import pytest

from spotcast_ingest.http import HttpSettings
from spotcast_storage import config, get_storage

ENV = ("SPOTCAST_CACHE_DIR", "SPOTCAST_HTTP_TIMEOUT", "SPOTCAST_HTTP_RETRIES", "SPOTCAST_HTTP_BACKOFF",
       "SPOTCAST_HTTP_CONCURRENCY", "SPOTCAST_ELPRISETJUSTNU_BASE_URL", "SPOTCAST_OPEN_METEO_BASE_URL",
       "SPOTCAST_ENERGIDATASERVICE_BASE_URL", "SPOTCAST_ENTSOE_BASE_URL", "SPOTCAST_STORE", "SPOTCAST_MODE",
       "ENTSOE_API_KEY", "HOPSWORKS_API_KEY")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    yield
    config.reset_defaults()


@pytest.fixture
def project(tmp_path):
    p = get_storage(mode="local", path=tmp_path / "store.duckdb")
    yield p
    p.close()


@pytest.fixture
def settings(tmp_path) -> HttpSettings:
    """Fast retries and a short timeout, cache in tmp_path."""
    return HttpSettings(timeout=2.0, retries=2, backoff_initial=0.01, backoff_max=0.05, concurrency=4,
                        cache_dir=tmp_path / "cache")


@pytest.fixture
def stored(project):
    """``stored(name)``: rows of a contract's group (empty frame if never written); ``stored()``:
    names of the groups that exist."""

    def read(name: str | None = None) -> pd.DataFrame | list[str]:
        fs = project.get_feature_store()
        groups = fs.get_feature_groups()
        if name is None:
            return sorted({g.name for g in groups})
        if name not in {g.name for g in groups}:
            return pd.DataFrame()
        df = fs.get_feature_group(name, 1).read()
        keys = [c for c in ("zone", "ts", "kind", "series", "issued_at") if c in df.columns]
        return df.sort_values(keys).reset_index(drop=True)

    return read


@pytest.fixture
def threaded_server():
    """A pytest-httpserver that answers requests concurrently (for slow and concurrent answers)."""
    from pytest_httpserver import HTTPServer

    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()
