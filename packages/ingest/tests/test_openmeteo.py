"""open-meteo against a local server answering in the archive/forecast format (GMT)."""

import datetime as dt

import pandas as pd
import pytest

from spotcast_ingest import testing
from spotcast_ingest.errors import ParseError, SourceError
from spotcast_ingest.frames import WEATHER_VARIABLES
from spotcast_ingest.ingest import backfill, update

NOW = pd.Timestamp("2025-04-20 09:17", tz="UTC")
VARS = list(WEATHER_VARIABLES)


def answer(first, last, unixtime=True, zone="SE3"):
    return testing.openmeteo(zone, first, last, VARS, unixtime=unixtime)


def test_archive_covers_local_days_across_dst_in_utc(project, stored, httpserver, settings):
    # local days 2025-03-29..31 (spring change) span UTC 2025-03-28 23:00 .. 2025-03-31 22:00
    httpserver.expect_request("/v1/archive", query_string={
        "latitude": "59.3290", "longitude": "18.0690", "hourly": ",".join(VARS), "timezone": "GMT",
        "timeformat": "unixtime", "wind_speed_unit": "kmh", "start_date": "2025-03-28", "end_date": "2025-03-31",
    }).respond_with_json(answer(dt.date(2025, 3, 28), dt.date(2025, 3, 31)))
    backfill(project, "open-meteo", ["SE3"], "2025-03-29", "2025-03-31", now=NOW,
             base_url=httpserver.url_for(""), settings=settings)
    w = stored("weather")
    assert len(w) == 24 + 23 + 24
    assert w["ts"].min() == pd.Timestamp("2025-03-28 23:00", tz="UTC")
    assert w["ts"].max() == pd.Timestamp("2025-03-31 21:00", tz="UTC")
    assert set(w["kind"]) == {"observed"} and (w["issued_at"] == w["ts"]).all()
    assert w[VARS].notna().all().all()


def test_iso_times_in_gmt_are_read_too(project, stored, httpserver, settings):
    httpserver.expect_request("/v1/archive").respond_with_json(answer(dt.date(2025, 1, 9), dt.date(2025, 1, 10),
                                                                      unixtime=False))
    backfill(project, "open-meteo", ["SE3"], "2025-01-10", "2025-01-10", now=NOW,
             base_url=httpserver.url_for(""), settings=settings)
    assert len(stored("weather")) == 24


def test_local_time_answers_are_refused(project, stored, httpserver, settings):
    body = answer(dt.date(2025, 1, 9), dt.date(2025, 1, 10))
    body["utc_offset_seconds"] = 3600
    httpserver.expect_request("/v1/archive").respond_with_json(body)
    with pytest.raises(ParseError, match="utc_offset_seconds=3600"):
        backfill(project, "open-meteo", ["SE3"], "2025-01-10", "2025-01-10", now=NOW,
                 base_url=httpserver.url_for(""), settings=settings)
    assert stored("weather").empty


def test_hours_the_archive_does_not_have_yet_are_not_stored(project, stored, httpserver, settings):
    body = answer(dt.date(2025, 4, 17), dt.date(2025, 4, 19))
    for v in VARS:
        body["hourly"][v][-30:] = [None] * 30
    httpserver.expect_request("/v1/archive").respond_with_json(body)
    backfill(project, "open-meteo", ["SE3"], "2025-04-18", "2025-04-19", now=NOW,
             base_url=httpserver.url_for(""), settings=settings)
    assert len(stored("weather")) == 48 - 30 + 2  # local days start at 22:00 UTC the day before


def test_an_error_answer_names_the_reason(project, stored, httpserver, settings):
    httpserver.expect_request("/v1/archive").respond_with_json(
        {"error": True, "reason": "Parameter 'start_date' is out of allowed range"}, status=400)
    with pytest.raises(SourceError, match=r"HTTP 400.*out of allowed range"):
        backfill(project, "open-meteo", ["SE3"], "2025-01-10", "2025-01-10", now=NOW,
                 base_url=httpserver.url_for(""), settings=settings)


def test_update_adds_observations_and_the_newest_forecast(project, stored, httpserver, settings):
    httpserver.expect_request("/v1/archive").respond_with_json(answer(dt.date(2025, 4, 16), dt.date(2025, 4, 19)))
    httpserver.expect_request("/v1/forecast").respond_with_json(answer(dt.date(2025, 4, 20), dt.date(2025, 4, 26)))
    report = update(project, ["SE3"], ["open-meteo"], now=NOW, history_days=3, settings=settings,
                    base_urls={"open-meteo": httpserver.url_for("")})
    w = stored("weather")
    obs, fc = w[w.kind == "observed"], w[w.kind == "forecast"]
    assert obs["ts"].min() == pd.Timestamp("2025-04-16 22:00", tz="UTC")  # local day Apr 17
    assert obs["ts"].max() == pd.Timestamp("2025-04-19 21:00", tz="UTC")  # end of yesterday (local)
    assert (fc["issued_at"] == pd.Timestamp("2025-04-20 09:00", tz="UTC")).all()
    assert fc["ts"].min() == pd.Timestamp("2025-04-20 09:00", tz="UTC")
    assert len(fc) == 7 * 24 - 9
    forecast_request = next(r for r, _ in httpserver.log if r.path == "/v1/forecast")
    assert forecast_request.args["forecast_days"] == "7" and forecast_request.args["timezone"] == "GMT"
    assert report.groups["weather"].commits == 2


def test_zone_without_location_needs_one(project, stored, httpserver, settings):
    from spotcast_storage.errors import ValidationError

    with pytest.raises(ValidationError, match=r"no location for zone 'DE_LU'.*-o DE_LU=<lat>,<lon>"):
        backfill(project, "open-meteo", ["DE_LU"], "2025-01-10", "2025-01-10", now=NOW,
                 base_url=httpserver.url_for(""), settings=settings)
    with pytest.raises(ValidationError, match=r"forecast_days must be 1\.\.16"):
        backfill(project, "open-meteo", ["SE3"], "2025-01-10", "2025-01-10", now=NOW,
                 base_url=httpserver.url_for(""), settings=settings, options={"forecast_days": "40"})
    assert len(httpserver.log) == 0
