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

MADE = pd.Timestamp("2024-03-22T15:00Z")


@pytest.fixture
def forecasted(ready, project):
    service.predict(project, "SE3", outputs=None, now=MADE)
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
    assert body["title"] == "SE3 2024-03-23..29, made 2024-03-22 16:00 CET" and body["fallback_reason"] is None
    assert (body["vintage"], body["vintages"], body["on_time"]) == (1, 1, False) and body["unit"] == "eur_mwh"
    stored = service.read_forecast(project, "SE3").sort_values("ts")
    fcst = [row for row in body["forecast"] if row["p50"] is not None]
    assert [row["p50"] for row in fcst] == stored["p50"].round(2).tolist()  # EUR/MWh: 2 decimals, as published
    # The origin day's prices, published before the forecast was made, come first as actuals.
    lead = body["forecast"][:24]
    assert all(r["horizon_day"] == 0 and r["actual"] is not None for r in lead) and len(body["forecast"]) == 192
    assert len(body["daily"]) == 7 and body["daily"][0]["date"] == "2024-03-23"

    c = client.get("/forecast", params={"zone": "SE3", "format": "csv"})
    assert c.status_code == 200 and c.headers["content-type"].startswith("text/csv")
    df = pd.read_csv(io.StringIO(c.text), float_precision="round_trip")
    assert len(df) == 192 and df["p50"].dropna().tolist() == stored["p50"].tolist()

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
    assert fast.index[("/forecast", b"zone=SE3")] == ("forecast", "SE3", None, None)
    hits = client.app.state.cache.hits
    second = client.get("/forecast", params={"zone": "SE3"})
    assert second.content == first.content and second.headers["content-type"] == "application/json"
    assert client.app.state.cache.hits == hits + 1
    data.naive_model(spread=1.0)
    service.predict(project, "SE3", outputs=None, now=MADE + pd.Timedelta(hours=1))  # a later vintage
    assert client.get("/forecast", params={"zone": "SE3"}).json()["vintages"] == 2


def test_not_found_answers(forecasted, client):
    r = client.get("/forecast", params={"zone": "XX9"})
    assert r.status_code == 404 and "unknown zone 'XX9'" in r.json()["detail"]
    r = client.get("/forecast", params={"zone": "de_lu"})  # a zone of the table, without forecasts here
    assert r.status_code == 404
    assert r.json()["detail"].startswith("no forecasts stored for zone DE-LU yet; DE-LU was never ingested; "
                                         "ingest it first: `spotcast-ingest update --zone DE-LU")
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
    {"zone": "SE3", "unit": "usd_mwh"},          # unknown unit
])
def test_bad_parameters_are_422(forecasted, client, params):
    r = client.get("/forecast", params=params)
    assert r.status_code == 422, r.text


def test_unknown_unit_says_which_units_exist(forecasted, client):
    for fmt in ("json", "csv"):
        r = client.get("/forecast", params={"zone": "SE3", "unit": "kr", "format": fmt})
        assert r.status_code == 422
        assert r.json()["detail"] == "unknown unit 'kr'; use one of eur_mwh, sek_kwh, ore_kwh (EUR/MWh, SEK/kWh, öre/kWh)"


def test_units_convert_at_the_source_rate_and_say_which(forecasted, data, client):
    data.write_prices(data.actuals(zones=("SE3",), days=29), rate=11.25)
    eur = client.get("/forecast", params={"zone": "SE3"}).json()
    ore = client.get("/forecast", params={"zone": "SE3", "unit": "ore_kwh"}).json()
    assert ore["unit_label"] == "öre/kWh" and "(rate of 2024-03-23)" in ore["rates_used"]
    # Each day's own rate where its prices were out when the forecast was made, else the newest day's.
    used = {r["date"]: r["rate_date"] for r in ore["rates"]}
    assert used == {"2024-03-22": "2024-03-22", **{f"2024-03-{d}": "2024-03-23" for d in range(23, 30)}}
    for a, b in zip(eur["forecast"], ore["forecast"], strict=True):
        if a["p50"] is not None:
            # both rounded as published: EUR/MWh to 0.005, öre/kWh to 0.0005
            assert b["p50"] == pytest.approx(a["p50"] * 11.25 / 10, abs=0.005 * 1.125 + 0.0005)
    sek = client.get("/forecast", params={"zone": "SE3", "unit": "sek_kwh", "format": "csv"})
    df = pd.read_csv(io.StringIO(sek.text))
    assert set(df["unit"]) == {"SEK/kWh"} and df["rate_eur_sek"].round(4).eq(11.25).all()


def test_vintages_endpoint(forecasted, project, data, client):
    data.naive_model(spread=2.0)
    service.predict(project, "SE3", outputs=None, now=MADE + pd.Timedelta(hours=2))
    v = client.get("/vintages", params={"zone": "SE3"}).json()["vintages"]
    assert [(x["vintage"], x["published"], x["model_version"]) for x in v] == [(1, True, 1), (2, False, 2)]


def test_bad_accuracy_days_is_422(forecasted, client):
    assert client.get("/accuracy", params={"zone": "SE3", "days": 0}).status_code == 422
    assert client.get("/accuracy", params={"zone": "SE3", "days": "many"}).status_code == 422


def test_accuracy_endpoint_matches_service(forecasted, project, client):
    r = client.get("/accuracy", params={"zone": "SE3", "days": 30})
    assert r.status_code == 200
    body = r.json()
    rep = service.accuracy(project, "SE3", 30)
    assert body["overall"]["mae"] == round(float(rep.overall["mae"].iloc[0]), 2)  # EUR/MWh as published
    assert [h["horizon_day"] for h in body["by_horizon"]] == list(range(1, 8))
    assert "weekly naive" in body["naive"] and body["reason"] is None


def test_accuracy_over_time_by_week_and_per_origin(history, project, client):
    """Issue 17: MAE and coverage by horizon day per week over the newest N weeks (`days`
    still narrows the rest), and one origin's forecast against the actual prices."""
    body = client.get("/accuracy", params={"zone": "SE3", "weeks": 2, "days": 3}).json()
    rep = service.accuracy(project, "SE3", 3, 2)
    assert body["weeks"] == 2 and sorted({r["week_start"] for r in body["by_week"]}) == ["2024-03-18", "2024-03-25"]
    assert [(r["week_start"], r["horizon_day"], r["hours"], r["mae"], r["coverage_p10_p90"]) for r in body["by_week"]] \
        == [(w, h, n, round(m, 2), round(c, 4)) for w, h, n, m, c in
            rep.by_week[["week_start", "horizon_day", "hours", "mae", "coverage_p10_p90"]].itertuples(index=False)]
    assert [r["origin_date"] for r in body["by_origin"]] == ["2024-03-25", "2024-03-26", "2024-03-27"]
    assert len({r["week_start"] for r in client.get("/accuracy", params={"zone": "SE3"}).json()["by_week"]}) == 4
    assert client.get("/accuracy", params={"zone": "SE3", "weeks": 0}).status_code == 422

    o = client.get("/accuracy/origin", params={"zone": "se4", "origin": "2024-03-20"})
    assert o.status_code == 200, o.text
    one = o.json()
    assert one["origin"] == "2024-03-20T09:00:00+00:00" and one["hours"] == 168 and len(one["forecast"]) == 168
    assert one["forecast"][0]["ts"] == "2024-03-20T23:00:00+00:00"  # one time format across the API
    fc = service.read_forecast(project, "SE4", "2024-03-20")
    assert [r["p50"] for r in one["forecast"]] == fc["p50"].round(2).tolist()
    assert client.get("/accuracy/origin", params={"zone": "SE4"}).json()["origin_date"] == "2024-03-27"
    r = client.get("/accuracy/origin", params={"zone": "SE4", "origin": "2023-01-01"})
    assert r.status_code == 404 and "newest origins" in r.json()["detail"]
    assert client.get("/accuracy/origin", params={"zone": "SE4", "origin": "soon"}).status_code == 422


def test_accuracy_before_any_actuals_says_why(data, project, client):
    """Issue 17: `"overall": null` alone said nothing; the answer now carries the reason."""
    data.write_features()
    data.write_actuals(data.actuals(days=20))
    data.naive_model()
    service.predict(project, "SE3", outputs=None)
    connection.release(project.path)
    body = client.get("/accuracy", params={"zone": "SE3"}).json()
    assert body["overall"] is None and body["by_week"] == [] and body["by_horizon"] == []
    assert body["reason"].startswith("no published forecast of SE3 has an actual price yet")
    assert "--now <YYYY-MM-DD>T14:00Z" in body["reason"]
    one = client.get("/accuracy/origin", params={"zone": "SE3"}).json()
    assert one["origin"] is None and one["forecast"] == [] and one["reason"] == body["reason"]


def test_docs_and_openapi(client):
    assert client.get("/docs").status_code == 200
    assert client.get("/redoc").status_code == 200
    spec = client.get("/openapi.json").json()
    assert {"/health", "/zones", "/forecast", "/vintages", "/accuracy", "/models", "/"} <= set(spec["paths"])


def test_api_sees_new_commits_and_never_writes(forecasted, project, data, client, store_path):
    first = client.get("/forecast", params={"zone": "SE3"}).json()
    assert client.get("/forecast", params={"zone": "SE3"}).json() == first  # cached
    events = project.get_event_log().latest_event_id()
    data.write_features(zones=("SE3",), origins=["2024-03-23"])
    data.naive_model(spread=3.0)
    service.predict(project, "SE3", outputs=None, now=MADE + pd.Timedelta(days=1))  # a writer commits a new origin
    again = client.get("/forecast", params={"zone": "SE3"}).json()
    first_hour = next(r for r in again["forecast"] if r["p50"] is not None)
    assert again["model_version"] == 2 and first_hour["p90"] - first_hour["p50"] == pytest.approx(3)
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


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_local_files(client, page):
    """Issue 17: Swagger UI and ReDoc were blank offline (CDN scripts, Google fonts). Every URL the
    page loads is on this server, and each answers."""
    import re

    html = client.get(page).text
    urls = re.findall(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']""", html)
    urls += re.findall(r"""\burl\s*:\s*['"]([^'"]+)['"]""", html)  # Swagger UI's spec URL
    assert urls, html
    assert not [u for u in urls if "//" in u], urls  # no scheme or host: nothing from elsewhere
    assert "googleapis" not in html and "cdn" not in html.lower()
    for url in urls:
        r = client.get(url)
        assert r.status_code == 200 and len(r.content) > 0, url


@pytest.mark.parametrize("unit, decimals", [("eur_mwh", 2), ("sek_kwh", 5), ("ore_kwh", 3)])
def test_prices_are_rounded_to_the_units_precision(forecasted, data, client, unit, decimals):
    """Issue 17: answers came with 10 decimals. Prices carry the precision the sources publish."""
    data.write_prices(data.actuals(zones=("SE3",), days=29), rate=11.2537)  # EUR/SEK rates for SEK units
    body = client.get("/forecast", params={"zone": "SE3", "unit": unit}).json()
    values = [r[c] for rows in (body["forecast"], body["daily"]) for r in rows for c in ("p10", "p50", "p90")
              if r.get(c) is not None]
    assert values and all(round(v, decimals) == v for v in values)
    assert any(round(v, decimals - 1) != v for v in values)  # rounded, not truncated to fewer digits


def test_openapi_has_response_models_that_real_answers_match(forecasted, data, client):
    """Issue 17: openapi.json had no response schemas. Each main endpoint names its model, and
    the real answers validate against it (strict models: an unlisted field fails)."""
    from spotcast_serve import schemas

    spec = client.get("/openapi.json").json()
    cases = {"/health": ({}, schemas.Health), "/zones": ({}, schemas.Zones),
             "/forecast": ({"zone": "SE3"}, schemas.Forecast), "/vintages": ({"zone": "SE3"}, schemas.Vintages),
             "/accuracy": ({"zone": "SE3"}, schemas.Accuracy), "/models": ({}, schemas.Models),
             "/accuracy/origin": ({"zone": "SE3"}, schemas.OriginAccuracy)}
    for path, (params, model) in cases.items():
        ok = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": f"#/components/schemas/{model.__name__}"}, path
        model.model_validate(client.get(path, params=params).json())
    assert "Detail" in spec["components"]["schemas"]
