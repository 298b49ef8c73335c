"""entsoe against a local server answering Transparency Platform XML; the token stays secret."""

import datetime as dt
import logging

import pandas as pd
import pytest

from spotcast_ingest import testing
from spotcast_ingest.errors import NotPublishedError, SourceError
from spotcast_ingest.ingest import backfill, check, update
from spotcast_storage.errors import ValidationError

D = dt.date
NOW = pd.Timestamp("2025-11-20 12:00", tz="UTC")
TOKEN = "tok-3f9a-SECRET-77"


def serve(httpserver, zone, first, last):
    httpserver.expect_request("/api", query_string={"documentType": "A44"}, method="GET").respond_with_data(
        testing.entsoe_prices_xml(zone, first, last), content_type="text/xml")


def serve_all(httpserver, zone, first, last):
    from werkzeug import Response

    def handler(request):
        doc = request.args["documentType"]
        if doc == "A44":
            return Response(testing.entsoe_prices_xml(zone, first, last), content_type="text/xml")
        kind = "load" if doc == "A65" else "wind_solar"
        return Response(testing.entsoe_forecast_xml(zone, first, last, kind), content_type="text/xml")

    httpserver.expect_request("/api").respond_with_handler(handler)


def run(project, httpserver, settings, first, last, zone="SE3"):
    return backfill(project, "entsoe", [zone], first, last, now=NOW, base_url=httpserver.url_for("/api"),
                    settings=settings)


def test_prices_and_forecasts_with_dst_and_quarter_hours(project, stored, httpserver, settings, monkeypatch):
    monkeypatch.setenv("ENTSOE_API_KEY", TOKEN)
    serve_all(httpserver, "SE3", D(2025, 10, 25), D(2025, 10, 26))
    run(project, httpserver, settings, "2025-10-25", "2025-10-26")
    p = stored("prices")
    day = p["ts"].dt.tz_convert("Europe/Stockholm").dt.date
    assert p.groupby(day).size().tolist() == [96, 100]
    expected = testing._prices("SE3", D(2025, 10, 25), D(2025, 10, 26), 0, None)["price_eur_mwh"].to_numpy().copy()
    # each day's second point is left out of the document (curve type A03): it repeats the first
    expected[[1, 97]] = expected[[0, 96]]
    assert p["price_eur_mwh"].tolist() == pytest.approx(expected.tolist(), abs=0.006)
    x = stored("exogenous")
    assert set(x["series"]) == {"load_forecast", "wind_forecast", "solar_forecast"}
    assert x.groupby("series").size().tolist() == [49, 49, 49]  # hourly, 24 + 25 hours
    wind = x[x.series == "wind_forecast"].set_index("ts")["value"]
    assert (wind >= 0).all()
    issued = x[x.series == "wind_forecast"]["issued_at"].dt.tz_convert("Europe/Stockholm")
    assert set(issued.dt.hour) == {18}
    requests = [r for r, _ in httpserver.log]
    assert {r.args["documentType"] for r in requests} == {"A44", "A65", "A69"}
    assert all(r.args["securityToken"] == TOKEN for r in requests)
    assert requests[0].args["periodStart"] == "202510242200"


def test_no_data_for_a_day_is_an_error_in_a_backfill(project, stored, httpserver, settings, monkeypatch):
    monkeypatch.setenv("ENTSOE_API_KEY", TOKEN)
    httpserver.expect_request("/api").respond_with_data(testing.ENTSOE_NO_DATA, content_type="text/xml")
    with pytest.raises(NotPublishedError, match=r"no prices for SE3 2025-11-01.*No matching data found"):
        run(project, httpserver, settings, "2025-11-01", "2025-11-01")
    assert stored("prices").empty


def test_the_token_is_never_in_errors_or_logs(project, stored, httpserver, settings, monkeypatch, caplog):
    monkeypatch.setenv("ENTSOE_API_KEY", TOKEN)
    httpserver.expect_request("/api").respond_with_data(
        f"<html>Unauthorized: securityToken {TOKEN} is not valid</html>", status=401)
    caplog.set_level(logging.DEBUG, logger="spotcast_ingest")

    def ours() -> str:  # the test server logs its request lines too; only spotcast's own count
        return "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("spotcast"))

    with pytest.raises(SourceError) as err:
        run(project, httpserver, settings, "2025-11-01", "2025-11-01")
    assert "HTTP 401" in str(err.value) and "securityToken=***" in str(err.value)
    assert TOKEN not in str(err.value) and TOKEN not in repr(err.value)
    assert "GET" in ours() and TOKEN not in ours()
    # retries of a 5xx log their URL too: still redacted
    httpserver.clear()
    httpserver.expect_request("/api").respond_with_data(f"busy {TOKEN}", status=503)
    with pytest.raises(SourceError) as err:
        run(project, httpserver, settings, "2025-11-02", "2025-11-02")
    assert "retry" in ours() and TOKEN not in ours() and TOKEN not in str(err.value)
    # and `check` (which reports failures instead of raising) redacts as well
    table = check(["entsoe"], base_url=httpserver.url_for("/api"), settings=settings)
    assert table["status"].tolist() == ["failed"] and TOKEN not in table.to_string()


def test_without_a_token_nothing_is_requested(project, stored, httpserver, settings):
    with pytest.raises(ValidationError, match="ENTSOE_API_KEY"):
        run(project, httpserver, settings, "2025-11-01", "2025-11-01")
    assert len(httpserver.log) == 0 and stored() == []


def test_update_treats_tomorrow_without_data_as_pending(project, stored, httpserver, settings, monkeypatch):
    monkeypatch.setenv("ENTSOE_API_KEY", TOKEN)
    serve_all(httpserver, "FI", D(2025, 11, 19), D(2025, 11, 20))  # the auction for Nov 21 is late
    report = update(project, ["FI"], ["entsoe"], now=NOW, history_days=1, settings=settings,
                    base_urls={"entsoe": httpserver.url_for("/api")})
    assert report.pending == ["FI 2025-11-21"]
    days = stored("prices")["ts"].dt.tz_convert("Europe/Helsinki").dt.date
    assert sorted(set(days)) == [D(2025, 11, 19), D(2025, 11, 20)]


def test_an_unknown_zone_is_refused_before_any_request(project, stored, httpserver, settings, monkeypatch):
    monkeypatch.setenv("ENTSOE_API_KEY", TOKEN)
    with pytest.raises(ValidationError, match=r"unknown zone 'ZZ_9'; known zones: SE1, .*BE"):
        run(project, httpserver, settings, "2025-11-01", "2025-11-01", zone="ZZ_9")
    assert len(httpserver.log) == 0


def test_any_zone_of_the_table_is_asked_for_by_its_eic_code(project, stored, httpserver, settings, monkeypatch):
    """BE needs no entsoe-py: its EIC code and time zone come from the zone table."""
    from werkzeug import Response

    monkeypatch.setenv("ENTSOE_API_KEY", TOKEN)
    domains = []

    def handler(request):
        domains.append(request.args.get("in_Domain") or request.args.get("outBiddingZone_Domain"))
        if request.args["documentType"] != "A44":
            return Response("<Acknowledgement_MarketDocument><Reason><code>999</code><text>No matching data"
                            "</text></Reason></Acknowledgement_MarketDocument>", content_type="text/xml")
        # Brussels and Stockholm share CET, so a simulated SE3 document covers the same UTC hours
        return Response(testing.entsoe_prices_xml("SE3", D(2025, 11, 18), D(2025, 11, 18)), content_type="text/xml")

    httpserver.expect_request("/api").respond_with_handler(handler)
    run(project, httpserver, settings, "2025-11-18", "2025-11-18", zone="be")
    assert set(domains) == {"10YBE----------2"}
    p = stored("prices")
    assert set(p["zone"]) == {"BE"} and len(p) == 96  # quarter-hours of one Brussels day
    assert p["ts"].min() == pd.Timestamp("2025-11-17 23:00", tz="UTC")
