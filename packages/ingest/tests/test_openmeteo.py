"""open-meteo against a local server answering in the archive, forecast and previous-runs formats (GMT)."""

import datetime as dt
import json

import pandas as pd
import pytest
from werkzeug import Response

from spotcast_ingest import testing
from spotcast_ingest.errors import ParseError, SourceError
from spotcast_ingest.frames import WEATHER_VARIABLES
from spotcast_ingest.ingest import backfill, update

NOW = pd.Timestamp("2025-04-20 09:17", tz="UTC")
VARS = list(WEATHER_VARIABLES)


def answer(first, last, unixtime=True, zone="SE3"):
    return testing.openmeteo(zone, first, last, VARS, unixtime=unixtime)


def previous_runs(request):
    """The Previous Runs API: ``/v1/forecast`` with ``<var>_previous_dayN`` variables and dates."""
    q = request.args
    names = q["hourly"].split(",")
    base = list(dict.fromkeys(n.split("_previous_day")[0] for n in names))
    days = tuple(sorted({int(n.split("_previous_day")[1]) for n in names}))
    body = testing.openmeteo_previous_runs("SE3", dt.date.fromisoformat(q["start_date"]),
                                           dt.date.fromisoformat(q["end_date"]), base, days,
                                           unixtime=q.get("timeformat") == "unixtime")
    return Response(json.dumps(body), content_type="application/json")


def serve_forecasts(httpserver, forecast=None):
    """``/v1/forecast`` answers both the Previous Runs API (archived forecasts) and the live
    forecast API (``forecast``: its answer, when given), told apart by the variables asked."""
    def handler(request):
        if "_previous_day" in request.args.get("hourly", ""):
            return previous_runs(request)
        if forecast is None:
            return Response("unexpected live forecast request", status=500)
        return Response(json.dumps(forecast), content_type="application/json")

    httpserver.expect_request("/v1/forecast").respond_with_handler(handler)


def test_archive_covers_local_days_across_dst_in_utc(project, stored, httpserver, settings):
    # local days 2025-03-29..31 (spring change) span UTC 2025-03-28 23:00 .. 2025-03-31 22:00
    httpserver.expect_request("/v1/archive", query_string={
        "latitude": "59.3290", "longitude": "18.0690", "hourly": ",".join(VARS), "timezone": "GMT",
        "timeformat": "unixtime", "wind_speed_unit": "kmh", "start_date": "2025-03-28", "end_date": "2025-03-31",
    }).respond_with_json(answer(dt.date(2025, 3, 28), dt.date(2025, 3, 31)))
    backfill(project, "open-meteo", ["SE3"], "2025-03-29", "2025-03-31", now=NOW,
             base_url=httpserver.url_for(""), settings=settings, options={"previous_runs_from": "never"})
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
             base_url=httpserver.url_for(""), settings=settings, options={"previous_runs_from": "never"})
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
             base_url=httpserver.url_for(""), settings=settings, options={"previous_runs_from": "never"})
    assert len(stored("weather")) == 48 - 30 + 2  # local days start at 22:00 UTC the day before


def test_an_error_answer_names_the_reason(project, stored, httpserver, settings):
    httpserver.expect_request("/v1/archive").respond_with_json(
        {"error": True, "reason": "Parameter 'start_date' is out of allowed range"}, status=400)
    with pytest.raises(SourceError, match=r"HTTP 400.*out of allowed range"):
        backfill(project, "open-meteo", ["SE3"], "2025-01-10", "2025-01-10", now=NOW,
                 base_url=httpserver.url_for(""), settings=settings)


def test_update_adds_observations_and_the_newest_forecast(project, stored, httpserver, settings):
    httpserver.expect_request("/v1/archive").respond_with_json(answer(dt.date(2025, 4, 16), dt.date(2025, 4, 19)))
    serve_forecasts(httpserver, answer(dt.date(2025, 4, 20), dt.date(2025, 4, 27)))
    report = update(project, ["SE3"], ["open-meteo"], now=NOW, history_days=3, settings=settings,
                    base_urls={"open-meteo": httpserver.url_for("")})
    w = stored("weather")
    obs = w[w.kind == "observed"]
    fc = w[(w.kind == "forecast") & (w["issued_at"] == pd.Timestamp("2025-04-20 09:00", tz="UTC"))]
    archived = w[(w.kind == "forecast") & (w["issued_at"] < pd.Timestamp("2025-04-20 09:00", tz="UTC"))]
    assert obs["ts"].min() == pd.Timestamp("2025-04-16 22:00", tz="UTC")  # local day Apr 17
    assert obs["ts"].max() == pd.Timestamp("2025-04-19 21:00", tz="UTC")  # end of yesterday (local)
    assert len(archived) == 7 * len(obs)  # the same hours as forecast 1..7 days before
    assert fc["ts"].min() == pd.Timestamp("2025-04-20 09:00", tz="UTC")
    # before 13:00 CET the newest origin is today's: targets Apr 21..27 (local), so the forecast
    # runs to the end of Apr 27 local = 21:00 UTC, 8 days from today in GMT
    assert fc["ts"].max() == pd.Timestamp("2025-04-27 23:00", tz="UTC")
    assert len(fc) == 8 * 24 - 9
    forecast_request = next(r for r, _ in httpserver.log
                            if r.path == "/v1/forecast" and "forecast_days" in r.args)
    assert forecast_request.args["forecast_days"] == "8" and forecast_request.args["timezone"] == "GMT"
    assert report.groups["weather"].commits == 2


def test_unknown_zone_and_bad_options_are_refused_before_any_request(project, stored, httpserver, settings):
    from spotcast_storage.errors import ValidationError

    with pytest.raises(ValidationError, match=r"unknown zone 'DE_XX'; known zones: .*DE-LU"):
        backfill(project, "open-meteo", ["DE_XX"], "2025-01-10", "2025-01-10", now=NOW,
                 base_url=httpserver.url_for(""), settings=settings)
    with pytest.raises(ValidationError, match=r"forecast_days must be 1\.\.16"):
        backfill(project, "open-meteo", ["SE3"], "2025-01-10", "2025-01-10", now=NOW,
                 base_url=httpserver.url_for(""), settings=settings, options={"forecast_days": "40"})
    assert len(httpserver.log) == 0


def test_history_is_the_weather_as_it_was_forecast_with_the_issue_time_it_really_had(project, stored, httpserver,
                                                                                     settings):
    """Previous Runs: ``<var>_previous_dayN`` is the forecast that was current N x 24 h before
    its hour, so it is stored as a forecast issued at ``ts - N days``; the observations stay beside it."""
    httpserver.expect_request("/v1/archive").respond_with_json(answer(dt.date(2025, 1, 9), dt.date(2025, 1, 10)))
    serve_forecasts(httpserver)
    backfill(project, "open-meteo", ["SE3"], "2025-01-10", "2025-01-10", now=NOW,
             base_url=httpserver.url_for(""), settings=settings)
    w = stored("weather")
    obs, fc = w[w.kind == "observed"], w[w.kind == "forecast"]
    assert len(obs) == 24 and len(fc) == 7 * 24
    lead = (fc["ts"] - fc["issued_at"]).dt.total_seconds() / 86400
    assert sorted(lead.unique()) == [1, 2, 3, 4, 5, 6, 7]
    req = next(r for r, _ in httpserver.log if r.path == "/v1/forecast")
    names = req.args["hourly"].split(",")
    assert "temperature_2m_previous_day1" in names and "precipitation_previous_day7" in names
    assert req.args["start_date"] == "2025-01-09" and req.args["end_date"] == "2025-01-10"
    # the stored values are the answer's, per lead day
    body = testing.openmeteo_previous_runs("SE3", dt.date(2025, 1, 9), dt.date(2025, 1, 10), VARS)
    times = pd.to_datetime(body["hourly"]["time"], unit="s", utc=True)
    row = fc[(fc["ts"] == pd.Timestamp("2025-01-10 12:00", tz="UTC")) & (lead == 3)].iloc[0]
    assert row["temperature_2m"] == body["hourly"]["temperature_2m_previous_day3"][list(times).index(row["ts"])]


def test_days_before_the_previous_runs_archive_have_observations_only(project, stored, httpserver, settings):
    httpserver.expect_request("/v1/archive").respond_with_json(answer(dt.date(2023, 12, 29), dt.date(2024, 1, 2)))
    serve_forecasts(httpserver)
    backfill(project, "open-meteo", ["SE3"], "2023-12-30", "2024-01-02", now=NOW,
             base_url=httpserver.url_for(""), settings=settings)
    w = stored("weather")
    fc = w[w.kind == "forecast"]
    assert fc["ts"].min() == pd.Timestamp("2024-01-01", tz="UTC")  # the archive's first day
    assert len(w[w.kind == "observed"]) == 4 * 24
    req = next(r for r, _ in httpserver.log if r.path == "/v1/forecast")
    assert req.args["start_date"] == "2024-01-01"


def test_hours_the_previous_runs_archive_has_no_run_for_are_not_stored(project, stored, httpserver, settings):
    """The real API answers null for hours without an archived run: no row, never a zero."""
    def handler(request):
        body = testing.openmeteo_previous_runs("SE3", dt.date(2025, 1, 9), dt.date(2025, 1, 10), VARS,
                                               archived_from=dt.date(2025, 1, 10))
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/v1/archive").respond_with_json(answer(dt.date(2025, 1, 9), dt.date(2025, 1, 10)))
    httpserver.expect_request("/v1/forecast").respond_with_handler(handler)
    backfill(project, "open-meteo", ["SE3"], "2025-01-10", "2025-01-10", now=NOW,
             base_url=httpserver.url_for(""), settings=settings)
    fc = stored("weather").query("kind == 'forecast'")
    assert fc["ts"].min() == pd.Timestamp("2025-01-10", tz="UTC") and len(fc) == 7 * 23  # local day = 23:00 UTC the day before
    assert fc[VARS[0]].notna().all()


@pytest.mark.parametrize(("now", "days", "last_hour"), [
    ("2024-09-20 09:17", 8, "2024-09-27 21:00"),   # before 13:00 CEST: targets 09-21..09-27
    ("2024-09-20 14:00", 9, "2024-09-28 21:00"),   # after: the origin is the next morning, targets 09-22..09-28
    ("2024-12-20 14:00", 9, "2024-12-28 22:00"),   # winter time: local midnight is 23:00 UTC
])
def test_the_forecast_request_covers_the_whole_horizon(project, stored, httpserver, settings, now, days, last_hour):
    from spotcast_ingest.sources.openmeteo import forecast_days_needed

    now = pd.Timestamp(now, tz="UTC")
    assert forecast_days_needed(now, "Europe/Stockholm") == days
    first = now.date()
    httpserver.expect_request("/v1/forecast", query_string={
        "latitude": "59.3290", "longitude": "18.0690", "hourly": ",".join(VARS), "timezone": "GMT",
        "timeformat": "unixtime", "wind_speed_unit": "kmh", "forecast_days": str(days),
    }).respond_with_json(answer(first, first + dt.timedelta(days=days - 1)))
    from spotcast_ingest.http import HttpClient
    from spotcast_ingest.sources.openmeteo import OpenMeteo

    with HttpClient(settings) as http:
        frame = OpenMeteo(http, base_url=httpserver.url_for("")).fetch_latest("SE3", now).frames["weather"]
    assert frame["ts"].max() >= pd.Timestamp(last_hour, tz="UTC")  # the last target hour has a forecast
    assert frame["ts"].min() == now.floor("h")


def test_a_horizon_the_forecast_api_cannot_cover_is_refused_before_any_request(project, httpserver, settings):
    from spotcast_storage.errors import ValidationError

    with pytest.raises(ValidationError, match=r"horizon_days must be 1\.\.14"):
        backfill(project, "open-meteo", ["SE3"], "2025-01-10", "2025-01-10", now=NOW,
                 base_url=httpserver.url_for(""), settings=settings, options={"horizon_days": "15"})
    with pytest.raises(ValidationError, match=r"previous_runs_from must be a date"):
        backfill(project, "open-meteo", ["SE3"], "2025-01-10", "2025-01-10", now=NOW,
                 base_url=httpserver.url_for(""), settings=settings, options={"previous_runs_from": "soon"})
    assert len(httpserver.log) == 0
