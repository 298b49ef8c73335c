"""HTTP API through FastAPI's TestClient over a real store."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from spotcast_serve import service
from spotcast_serve.api import create_app
from spotcast_storage import get_storage
from spotcast_storage.errors import ReadOnlyError
from spotcast_storage.local import connection


@pytest.fixture
def forecasted(ready, project):
    service.predict(project, "SE3", outputs=None)
    return ready


@pytest.fixture
def client(store_path):
    # The API opens its own project on the store file, as `spotcast-serve api` does.
    app = create_app(project=get_storage(mode="local", path=store_path))
    with TestClient(app) as c:
        yield c


def test_health_zones_models(forecasted, client):
    h = client.get("/health")
    assert h.status_code == 200 and h.json()["status"] == "ok" and h.json()["zones_with_forecasts"] == ["SE3"]
    z = client.get("/zones").json()
    by_zone = {r["zone"]: r for r in z["zones"]}
    assert by_zone["SE3"]["forecast_origins"] == 1 and by_zone["SE4"]["forecast_origins"] == 0
    assert by_zone["SE4"]["features_origins"] == 3 and "FI" in z["known_zones"]
    m = client.get("/models").json()["models"]
    assert [(x["name"], x["version"]) for x in m] == [("price_naive", 1)] and m[0]["metrics"] == {"mae": 8.0}


def test_forecast_json_and_csv(forecasted, project, client):
    r = client.get("/forecast", params={"zone": "se3"})
    assert r.status_code == 200
    body = r.json()
    assert body["zone"] == "SE3" and body["hours"] == 168 and body["model"] == "price_naive"
    assert body["origin"] == "2024-03-22T09:00:00+00:00" and body["origin_local"].startswith("2024-03-22T10:00")
    stored = service.read_forecast(project, "SE3").sort_values("ts")
    assert [row["p50"] for row in body["forecast"]] == pytest.approx(stored["p50"].tolist())
    assert len(body["daily"]) == 7 and body["daily"][0]["date"] == "2024-03-23"

    c = client.get("/forecast", params={"zone": "SE3", "format": "csv"})
    assert c.status_code == 200 and c.headers["content-type"].startswith("text/csv")
    df = pd.read_csv(io.StringIO(c.text))
    assert len(df) == 168 and df["p50"].to_numpy() == pytest.approx(stored["p50"].to_numpy(), abs=1e-4)

    by_date = client.get("/forecast", params={"zone": "SE3", "origin": "2024-03-22"})
    by_time = client.get("/forecast", params={"zone": "SE3", "origin": "2024-03-22T09:00:00Z"})
    assert by_date.json() == body == by_time.json()


def test_repeated_requests_take_the_fast_path_and_stay_fresh(forecasted, project, data, client):
    # the first answer of a freshly written store may see its write-ahead log checkpointed right
    # after (the token changes once): two requests prime the cache, the third must hit it
    first = client.get("/forecast", params={"zone": "SE3"})
    assert first.status_code == 200, first.text
    first = client.get("/forecast", params={"zone": "SE3"})
    fast = client.app.state.fast
    assert fast.index[("/forecast", b"zone=SE3")] == ("forecast", "SE3", None)
    hits = client.app.state.cache.hits
    second = client.get("/forecast", params={"zone": "SE3"})
    assert second.content == first.content and second.headers["content-type"] == "application/json"
    assert client.app.state.cache.hits == hits + 1
    data.naive_model(spread=1.0)
    service.predict(project, "SE3", outputs=None)
    assert client.get("/forecast", params={"zone": "SE3"}).json()["model_version"] == 2


def test_not_found_answers(forecasted, client):
    r = client.get("/forecast", params={"zone": "XX9"})
    assert r.status_code == 404 and "unknown zone 'XX9'" in r.json()["detail"]
    r = client.get("/forecast", params={"zone": "de-lu"})  # a well-formed ENTSO-E code, not in this store
    assert r.status_code == 404 and "unknown zone 'DE-LU'" in r.json()["detail"]
    r = client.get("/forecast", params={"zone": "SE4"})  # features, but no forecast
    assert r.status_code == 404
    assert r.json()["detail"] == "no forecasts stored for zone SE4 yet; run `spotcast-serve predict --zone SE4`"
    r = client.get("/forecast", params={"zone": "SE3", "origin": "2023-01-01"})
    assert r.status_code == 404 and "newest origins" in r.json()["detail"]
    r = client.get("/accuracy", params={"zone": "SE1"})
    assert r.status_code == 404 and "no forecasts stored for zone SE1" in r.json()["detail"]


@pytest.mark.parametrize("params", [
    {},                                          # zone missing
    {"zone": "SE3", "format": "xml"},            # unknown format
    {"zone": "S E3"},                            # not a zone code
    {"zone": "SE3", "origin": "yesterday-ish"},  # unparsable origin
    {"zone": "SE3", "origin": "2024-02-30"},     # impossible date
])
def test_bad_parameters_are_422(forecasted, client, params):
    r = client.get("/forecast", params=params)
    assert r.status_code == 422, r.text


def test_bad_accuracy_days_is_422(forecasted, client):
    assert client.get("/accuracy", params={"zone": "SE3", "days": 0}).status_code == 422
    assert client.get("/accuracy", params={"zone": "SE3", "days": "many"}).status_code == 422


def test_accuracy_endpoint_matches_service(forecasted, project, client):
    r = client.get("/accuracy", params={"zone": "SE3", "days": 30})
    assert r.status_code == 200
    body = r.json()
    rep = service.accuracy(project, "SE3", 30)
    assert body["overall"]["mae"] == pytest.approx(float(rep.overall["mae"].iloc[0]))
    assert [h["horizon_day"] for h in body["by_horizon"]] == list(range(1, 8))
    assert "weekly naive" in body["naive"]


def test_docs_and_openapi(client):
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert {"/health", "/zones", "/forecast", "/accuracy", "/models", "/"} <= set(spec["paths"])


def test_api_sees_new_commits_and_never_writes(forecasted, project, data, client, store_path):
    first = client.get("/forecast", params={"zone": "SE3"}).json()
    assert client.get("/forecast", params={"zone": "SE3"}).json() == first  # cached
    events = project.get_event_log().latest_event_id()
    data.naive_model(spread=3.0)
    service.predict(project, "SE3", outputs=None)  # a writer in this process commits a new version
    again = client.get("/forecast", params={"zone": "SE3"}).json()
    assert again["model_version"] == 2 and again["forecast"][0]["p90"] - again["forecast"][0]["p50"] == pytest.approx(3)
    # The API's own project refuses writes, and serving requests left no event behind.
    after = project.get_event_log().latest_event_id()
    for path in ("/health", "/zones", "/models", "/", "/api/dashboard"):
        assert client.get(path).status_code == 200
    assert project.get_event_log().latest_event_id() == after > events
    with pytest.raises(ReadOnlyError), client.app.state.project.write():
        pass


def test_empty_store_still_answers(store_path):
    app = create_app(project=get_storage(mode="local", path=store_path))
    with TestClient(app) as c:
        assert c.get("/health").status_code == 200
        assert c.get("/").status_code == 200 and "No forecasts in the store yet" in c.get("/").text
        r = c.get("/forecast", params={"zone": "SE3"})
        assert r.status_code == 404 and "no forecasts stored for zone SE3" in r.json()["detail"]
    assert not os.path.exists(store_path)  # reading did not create a store


def test_store_held_too_long_is_503_and_not_cached(forecasted, store_path, monkeypatch):
    """A writer holding the file past the lock timeout: 503 with Retry-After, and the next
    request tries again instead of getting the cached failure."""
    app = create_app(project=get_storage(mode="local", path=store_path))
    connection.release(store_path)
    monkeypatch.setenv("SPOTCAST_LOCK_TIMEOUT", "0.3")
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; "
                               "c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(30)",
                               str(store_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with TestClient(app) as c:
            r = c.get("/forecast", params={"zone": "SE3"})
            assert r.status_code == 503 and r.headers["retry-after"] == "1"
            assert "is held by process" in r.json()["detail"]
            holder.kill()
            holder.wait()
            assert c.get("/forecast", params={"zone": "SE3"}).status_code == 200
    finally:
        if holder.poll() is None:
            holder.kill()
