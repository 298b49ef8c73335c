"""Fixtures for the Hopsworks backend tests: an autospec'd cluster (see ``_cluster.py``)."""

from __future__ import annotations

import pytest

API_KEY = "hwkey.SECRET-9f8e7d6c5b4a-DO-NOT-PRINT"


@pytest.fixture
def cluster(tmp_path, monkeypatch):
    import hopsworks

    from ._cluster import Cluster

    c = Cluster(tmp_path)
    monkeypatch.setattr(hopsworks, "login", c.login)
    monkeypatch.setattr(hopsworks, "logout", c.logout)
    monkeypatch.setenv("HOPSWORKS_API_KEY", API_KEY)
    monkeypatch.setenv("HOPSWORKS_HOST", "hopsworks.example.internal")
    monkeypatch.setenv("HOPSWORKS_PROJECT", "spotcast_prod")
    monkeypatch.delenv("HOPSWORKS_PORT", raising=False)
    return c


@pytest.fixture
def hw(cluster):
    from spotcast_storage import get_storage

    return get_storage(mode="hopsworks")
