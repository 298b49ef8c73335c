"""elprisetjustnu against a local server answering in the real format."""

import datetime as dt
import json

import pandas as pd
import pytest

from spotcast_ingest import testing, timeutil
from spotcast_ingest.errors import NotPublishedError, ParseError, SourceError
from spotcast_ingest.ingest import backfill, update
from spotcast_storage.errors import SpotcastError

D = dt.date
NOW = pd.Timestamp("2026-01-10 12:00", tz="UTC")


def path(zone: str, day: dt.date) -> str:
    return f"/api/v1/prices/{day:%Y}/{day:%m-%d}_{zone}.json"


def serve(httpserver, zone: str, *days: dt.date) -> None:
    for d in days:
        httpserver.expect_request(path(zone, d)).respond_with_json(testing.elprisetjustnu_day(zone, d))


def run(project, httpserver, settings, zone="SE3", start=None, end=None, **kw):
    return backfill(project, "elprisetjustnu", [zone], start, end, now=kw.pop("now", NOW),
                    base_url=httpserver.url_for(""), settings=settings, **kw)


def n_requests(httpserver) -> int:
    return len(httpserver.log)


@pytest.mark.parametrize(("day", "n", "minutes"), [
    (D(2025, 3, 30), 23, 60),   # DST spring
    (D(2024, 10, 27), 25, 60),  # DST autumn
    (D(2025, 10, 1), 96, 15),   # first 15-minute day
    (D(2025, 10, 26), 100, 15),  # DST autumn in quarter-hours
])
def test_dst_and_quarter_hour_days(project, stored, httpserver, settings, day, n, minutes):
    serve(httpserver, "SE3", day)
    run(project, httpserver, settings, start=day, end=day)
    prices = stored("prices")
    assert len(prices) == n
    assert set(prices["resolution_minutes"]) == {minutes}
    assert prices["ts"].is_monotonic_increasing and not prices["ts"].duplicated().any()
    assert prices["ts"].iloc[0] == timeutil.day_bounds(day, "Europe/Stockholm")[0]
    assert (prices["known_at"] == timeutil.publication_time(day)).all()
    payload = testing.elprisetjustnu_day("SE3", day)
    assert prices["price_eur_mwh"].tolist() == pytest.approx([p["EUR_per_kWh"] * 1000 for p in payload])
    assert prices["price_sek_kwh"].tolist() == pytest.approx([p["SEK_per_kWh"] for p in payload])
    assert set(prices["source"]) == {"elprisetjustnu"}


def test_404_inside_a_backfill_fails_naming_day_and_url_and_a_rerun_resumes(project, stored, httpserver, settings):
    # batches are calendar quarters: Mar 30-31 is one, Apr 1-2 the next
    serve(httpserver, "SE3", D(2025, 3, 30), D(2025, 3, 31), D(2025, 4, 2))
    httpserver.expect_request(path("SE3", D(2025, 4, 1))).respond_with_data("Not Found", status=404)
    with pytest.raises(NotPublishedError) as err:
        run(project, httpserver, settings, start="2025-03-30", end="2025-04-02")
    msg = str(err.value)
    assert "SE3 2025-04-01" in msg and path("SE3", D(2025, 4, 1)) in msg
    assert "1 earlier batch(es) are committed" in msg and "nothing of it was written" in msg
    # March (the earlier batch) is in, nothing of April
    days = set(stored("prices")["ts"].dt.tz_convert("Europe/Stockholm").dt.date)
    assert days == {D(2025, 3, 30), D(2025, 3, 31)}
    # the day is published later: the rerun asks only for what is not cached
    httpserver.clear()
    serve(httpserver, "SE3", D(2025, 4, 1), D(2025, 4, 2))
    report = run(project, httpserver, settings, start="2025-03-30", end="2025-04-02")
    assert report.cache_hits == 3 and report.requests_sent == 1
    assert n_requests(httpserver) == 1
    assert len(stored("prices")) == 4 * 24 - 1  # Mar 30 has 23 hours


def test_404_for_tomorrow_during_update_is_normal(project, stored, httpserver, settings):
    now = pd.Timestamp("2025-01-14 12:30", tz="UTC")  # 13:30 CET, auction result late
    serve(httpserver, "SE3", D(2025, 1, 13), D(2025, 1, 14))
    run(project, httpserver, settings, start="2025-01-13", end="2025-01-13", now=now)
    httpserver.expect_request(path("SE3", D(2025, 1, 15))).respond_with_data("", status=404)
    logged = []
    report = update(project, ["SE3"], ["elprisetjustnu"], now=now, settings=settings, log=logged.append,
                    base_urls={"elprisetjustnu": httpserver.url_for("")})
    assert report.pending == ["SE3 2025-01-15"]
    assert "not published yet" in logged[0]
    assert report.groups["prices"].rows_inserted == 24  # Jan 14
    assert stored("prices")["ts"].max() == pd.Timestamp("2025-01-14 22:00", tz="UTC")


def test_500_then_200_is_retried(project, stored, httpserver, settings):
    day = D(2025, 1, 10)
    httpserver.expect_oneshot_request(path("SE3", day)).respond_with_data("busy", status=503)
    serve(httpserver, "SE3", day)
    report = run(project, httpserver, settings, start=day, end=day)
    assert report.retries == 1 and report.requests_sent == 2
    assert len(stored("prices")) == 24


def test_500_beyond_the_retries_fails_and_writes_nothing(project, stored, httpserver, settings):
    day = D(2025, 1, 10)
    httpserver.expect_request(path("SE3", day)).respond_with_data("down", status=500)
    with pytest.raises(SourceError, match=r"failed after 3 attempt\(s\): HTTP 500: down") as err:
        run(project, httpserver, settings, start=day, end=day)
    assert "SE3 2025-01-10" in str(err.value) and path("SE3", day) in str(err.value)
    assert n_requests(httpserver) == 3
    assert stored("prices").empty


@pytest.mark.parametrize(("body", "message"), [
    (b"[{\"SEK_per_kWh\": 0.1, ", "not valid JSON"),
    (b"<html>maintenance</html>", "not valid JSON"),
    (json.dumps({"error": "nope"}).encode(), "expected a JSON array"),
    (b"[]", "got an empty array"),
    (json.dumps([{"SEK_per_kWh": 0.1, "EUR_per_kWh": 0.01, "time_start": "2025-01-10T00:00:00+01:00"}]).encode(),
     r"lacks field\(s\) \['time_end'\]"),
])
def test_malformed_answers_fail_naming_day_and_url(project, stored, httpserver, settings, body, message):
    day = D(2025, 1, 10)
    httpserver.expect_request(path("SE3", day)).respond_with_data(body, content_type="application/json")
    with pytest.raises(ParseError, match=message) as err:
        run(project, httpserver, settings, start=day, end=day)
    assert "SE3 2025-01-10" in str(err.value) and httpserver.url_for(path("SE3", day)) in str(err.value)
    assert stored("prices").empty
    # a bad answer is not cached: once the server is fixed, the rerun asks again and succeeds
    httpserver.clear()
    serve(httpserver, "SE3", day)
    run(project, httpserver, settings, start=day, end=day)
    assert n_requests(httpserver) == 1 and len(stored("prices")) == 24


def test_a_day_with_missing_periods_is_refused(project, stored, httpserver, settings):
    day = D(2025, 1, 10)
    payload = testing.elprisetjustnu_day("SE3", day)
    del payload[5]
    httpserver.expect_request(path("SE3", day)).respond_with_json(payload)
    with pytest.raises(ParseError, match=r"incomplete day 2025-01-10: expected 24 periods of 60 min, got 23"):
        run(project, httpserver, settings, start=day, end=day)
    assert stored("prices").empty


def test_a_slow_answer_times_out(project, stored, threaded_server, settings):
    import time

    day = D(2025, 1, 10)

    def slow(request):
        time.sleep(0.6)
        from werkzeug import Response
        return Response(json.dumps(testing.elprisetjustnu_day("SE3", day)), content_type="application/json")

    threaded_server.expect_request(path("SE3", day)).respond_with_handler(slow)
    fast = settings.__class__(**{**settings.__dict__, "timeout": 0.2, "retries": 1})
    with pytest.raises(SourceError, match=r"no answer within the 0.2s timeout") as err:
        run(project, threaded_server, fast, start=day, end=day)
    assert "failed after 2 attempt(s)" in str(err.value)
    assert stored("prices").empty


def test_a_repeated_backfill_sends_no_request(project, stored, httpserver, settings):
    days = [D(2025, 1, 1) + dt.timedelta(days=i) for i in range(5)]
    serve(httpserver, "SE4", *days)
    first = run(project, httpserver, settings, zone="SE4", start=days[0], end=days[-1])
    assert first.requests_sent == 5 and n_requests(httpserver) == 5
    before = stored("prices")
    second = run(project, httpserver, settings, zone="SE4", start=days[0], end=days[-1])
    assert second.requests_sent == 0 and second.cache_hits == 5 and n_requests(httpserver) == 5
    assert second.groups["prices"].rows_inserted == 0 and second.groups["prices"].rows_updated == 0
    pd.testing.assert_frame_equal(stored("prices"), before)


def test_today_and_tomorrow_are_not_cached(project, httpserver, settings):
    now = pd.Timestamp("2025-01-14 12:30", tz="UTC")
    serve(httpserver, "SE3", D(2025, 1, 13), D(2025, 1, 14), D(2025, 1, 15))
    run(project, httpserver, settings, start="2025-01-13", now=now)
    run(project, httpserver, settings, start="2025-01-13", now=now)
    asked = [r.path for r, _ in httpserver.log]
    assert asked.count(path("SE3", D(2025, 1, 13))) == 1
    assert asked.count(path("SE3", D(2025, 1, 14))) == 2 and asked.count(path("SE3", D(2025, 1, 15))) == 2


def test_user_agent_names_spotcast_and_base_url_comes_from_the_environment(project, httpserver, settings,
                                                                           monkeypatch):
    day = D(2025, 1, 10)
    serve(httpserver, "SE3", day)
    monkeypatch.setenv("SPOTCAST_ELPRISETJUSTNU_BASE_URL", httpserver.url_for(""))
    backfill(project, "elprisetjustnu", ["SE3"], day, day, now=NOW, settings=settings)
    request = httpserver.log[0][0]
    assert request.headers["User-Agent"].startswith("spotcast/")


def test_requests_in_flight_are_bounded(project, stored, threaded_server, settings):
    import threading
    import time

    from werkzeug import Response

    lock, state = threading.Lock(), {"now": 0, "max": 0}

    def handler(request):
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.2)  # long enough to overlap even on a loaded machine
        with lock:
            state["now"] -= 1
        y, md = request.path.split("/")[-2:]
        day = D(int(y), int(md[:2]), int(md[3:5]))
        return Response(json.dumps(testing.elprisetjustnu_day("SE3", day)), content_type="application/json")

    import re
    threaded_server.expect_request(re.compile(r"/api/v1/prices/.*")).respond_with_handler(handler)
    three = settings.__class__(**{**settings.__dict__, "concurrency": 3})
    run(project, threaded_server, three, start="2025-01-01", end="2025-01-20")
    assert 1 < state["max"] <= 3
    assert len(stored("prices")) == 20 * 24


def test_start_before_the_apis_history_is_refused(project, stored, httpserver, settings):
    with pytest.raises(SpotcastError, match="before the first day elprisetjustnu has"):
        run(project, httpserver, settings, start="2020-01-01", end="2020-01-02")
    assert n_requests(httpserver) == 0 and stored() == []
