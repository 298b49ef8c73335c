"""energidataservice against a local server answering in the real `records` format."""

import datetime as dt

import pandas as pd
import pytest

from spotcast_ingest import testing
from spotcast_ingest.errors import NotPublishedError, ParseError
from spotcast_ingest.ingest import backfill, update

D = dt.date
NOW = pd.Timestamp("2025-11-20 12:00", tz="UTC")


def run(project, httpserver, settings, first, last, zone="DK1", **kw):
    return backfill(project, "energidataservice", [zone], first, last, now=kw.pop("now", NOW),
                    base_url=httpserver.url_for(""), settings=settings, **kw)


def test_hourly_dataset_until_september_and_quarter_hours_from_october(project, stored, httpserver, settings):
    httpserver.expect_request("/dataset/Elspotprices", query_string={
        "start": "2025-09-29T00:00", "end": "2025-10-01T00:00", "filter": '{"PriceArea":["DK1"]}',
        "sort": "HourUTC asc", "limit": "0",
    }).respond_with_json(testing.energidataservice("Elspotprices", "DK1", D(2025, 9, 29), D(2025, 9, 30)))
    httpserver.expect_request("/dataset/DayAheadPrices").respond_with_json(
        testing.energidataservice("DayAheadPrices", "DK1", D(2025, 10, 1), D(2025, 10, 1)))
    run(project, httpserver, settings, "2025-09-29", "2025-10-01")
    p = stored("prices")
    day = p["ts"].dt.tz_convert("Europe/Copenhagen").dt.date
    assert p.groupby(day).size().tolist() == [24, 24, 96]
    assert p.groupby(day)["resolution_minutes"].first().tolist() == [60, 60, 15]
    assert p["price_sek_kwh"].isna().all() and set(p["source"]) == {"energidataservice"}


def test_dst_autumn_day_in_quarter_hours(project, stored, httpserver, settings):
    httpserver.expect_request("/dataset/DayAheadPrices").respond_with_json(
        testing.energidataservice("DayAheadPrices", "DK2", D(2025, 10, 26), D(2025, 10, 26)))
    run(project, httpserver, settings, "2025-10-26", "2025-10-26", zone="DK2")
    assert len(stored("prices")) == 100


def test_dst_spring_day_hourly(project, stored, httpserver, settings):
    httpserver.expect_request("/dataset/Elspotprices").respond_with_json(
        testing.energidataservice("Elspotprices", "DK1", D(2025, 3, 30), D(2025, 3, 30)))
    run(project, httpserver, settings, "2025-03-30", "2025-03-30")
    assert len(stored("prices")) == 23


def test_a_missing_day_is_an_error_in_a_backfill_and_pending_in_an_update(project, stored, httpserver, settings):
    httpserver.expect_request("/dataset/DayAheadPrices").respond_with_json(
        testing.energidataservice("DayAheadPrices", "DK1", D(2025, 11, 19), D(2025, 11, 20)))
    with pytest.raises(NotPublishedError, match="no prices for DK1 2025-11-21"):
        run(project, httpserver, settings, "2025-11-19", "2025-11-21")
    assert stored("prices").empty
    report = update(project, ["DK1"], ["energidataservice"], now=NOW, history_days=1, settings=settings,
                    base_urls={"energidataservice": httpserver.url_for("")})
    assert report.pending == ["DK1 2025-11-21"]
    assert len(stored("prices")) == 2 * 96


def test_truncated_or_foreign_answers_are_refused(project, stored, httpserver, settings):
    body = testing.energidataservice("Elspotprices", "DK1", D(2025, 1, 10), D(2025, 1, 10))
    body["total"] = 100
    httpserver.expect_request("/dataset/Elspotprices").respond_with_json(body)
    with pytest.raises(ParseError, match="holds 24 of 100 records"):
        run(project, httpserver, settings, "2025-01-10", "2025-01-10")
    httpserver.clear()
    body = testing.energidataservice("Elspotprices", "DK1", D(2025, 1, 10), D(2025, 1, 10))
    body["records"][0]["PriceArea"] = "DK2"
    httpserver.expect_request("/dataset/Elspotprices").respond_with_json(body)
    with pytest.raises(ParseError, match=r"also has \['DK2'\]"):
        run(project, httpserver, settings, "2025-01-10", "2025-01-10")
    httpserver.clear()
    httpserver.expect_request("/dataset/Elspotprices").respond_with_json({"records": [{"HourUTC": "x"}]})
    with pytest.raises(ParseError, match="lacks field"):
        run(project, httpserver, settings, "2025-01-10", "2025-01-10")
    assert stored("prices").empty
