"""Bad data never reaches the store unflagged, and every failure says what happened: the
data-quality gate, idle runs, the CSV source's edge cases, secrets, unreachable hosts, `--now`
and the size of a backfill, and which store a command writes to."""

import datetime as dt
import json
import socket

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from spotcast_ingest import quality
from spotcast_ingest.cli import app
from spotcast_ingest.errors import ParseError, SourceError
from spotcast_ingest.http import HttpClient, HttpSettings, Request
from spotcast_ingest.ingest import backfill, update
from spotcast_storage import config, get_storage
from spotcast_storage.errors import UsageError, ValidationError

NOW = pd.Timestamp("2026-01-01", tz="UTC")
runner = CliRunner()


def invoke(*args, env=None):
    config.reset_defaults()
    return runner.invoke(app, [str(a) for a in args], env=env)


def csv_file(path, values, first="2024-02-01 00:00", freq="h"):
    stamps = pd.date_range(first, periods=len(values), freq=freq)
    path.write_text("Date,Price\n" + "\n".join(f"{t:%Y-%m-%d %H:%M:%S},{v}" for t, v in zip(stamps, values, strict=True)) + "\n")
    return path


def flags(project) -> pd.DataFrame:
    fg = project.get_feature_store().get_feature_group("data_quality", 1)
    return fg.read().sort_values(["zone", "day", "check_name"], ignore_index=True)


# -- refusals: nothing non-finite or outside the market's limits is written ---------------------------
@pytest.mark.parametrize(("bad", "words"), [
    (["inf", "-inf"], "non-finite values (-inf, inf) in 2 row(s)"),
    (["1e308"], "outside the market's limits -500..4000 EUR/MWh"),
    (["-501"], "outside the market's limits"),
])
def test_non_finite_and_out_of_range_prices_are_refused_naming_rows(project, stored, tmp_path, bad, words):
    values = [str(40 + h) for h in range(24)]
    values[5:5 + len(bad)] = bad
    f = csv_file(tmp_path / "p.csv", values)
    with pytest.raises(ValidationError) as err:
        backfill(project, "csv", ["SE3"], None, None, now=NOW, options={"path": str(f)})
    msg = str(err.value)
    assert words in msg and "2024-02-01T04:00:00+00:00" in msg  # 05:00 local = 04:00 UTC names the row
    assert "nothing of it was written" in msg
    assert stored("prices").empty


# -- day flags ----------------------------------------------------------------------------------------------
def test_every_synthetic_day_passes_including_dst_days_and_quarter_hours(project):
    report = backfill(project, "synthetic", ["SE3"], "2025-03-29", "2025-03-31", now=NOW)
    report2 = backfill(project, "synthetic", ["SE3"], "2025-10-25", "2025-10-27", now=NOW)
    f = flags(project)
    assert len(f) == 6 * 4 and f.passed.all(), f[~f.passed]
    complete = f[f.check_name == "completeness"].set_index("local_date").detail
    assert complete["2025-03-30"] == "all 23 periods of 60 min"
    assert complete["2025-10-26"] == "all 100 periods of 15 min"
    assert report.days_checked == 3 and report.quality_failures == [] and report2.days_checked == 3
    assert "all passed" in report.quality_line()


def test_a_missing_hour_and_a_flat_stretch_are_flagged_reported_and_stored(project, tmp_path):
    values = [f"{40 + (h * 7) % 11}.5" for h in range(72)]
    values[30:40] = ["55.5"] * 10  # day 2: one price for 10 hours, local 06:00-15:00
    values[60] = ""  # day 3: a blank price -> a missing hour
    f = csv_file(tmp_path / "p.csv", values)
    report = backfill(project, "csv", ["SE3"], None, None, now=NOW, options={"path": str(f)})
    fl = flags(project)
    failed = fl[~fl.passed][["local_date", "check_name", "value"]].values.tolist()
    assert failed == [["2024-02-02", "flatliner", 10.0], ["2024-02-03", "completeness", 1.0]]
    assert fl[fl.local_date == "2024-02-03"].query("check_name == 'completeness'").detail.item() == \
        "23 of 24 periods of 60 min; missing 12:00"
    assert len(report.quality_failures) == 2 and "2024-02-02 flatliner" in report.quality_line()
    assert any("blank price" in n and "2024-02-03 12:00:00" in n for n in report.notes)


def test_the_flatliner_threshold_is_configurable(project, tmp_path, monkeypatch):
    values = [f"{40 + h % 9}" for h in range(24)]
    values[3:8] = ["70"] * 5
    f = csv_file(tmp_path / "p.csv", values)
    monkeypatch.setenv("SPOTCAST_FLATLINER_HOURS", "5")
    report = backfill(project, "csv", ["SE3"], None, None, now=NOW, options={"path": str(f)})
    assert [x.split(":")[0] for x in report.quality_failures] == ["SE3 2024-02-01 flatliner"]
    with pytest.raises(ValidationError, match="at least 2 hours"):
        quality.flatliner_hours(1)


def test_day_flags_are_pure_and_count_dst_days():
    tz = "Europe/Stockholm"
    autumn = dt.date(2024, 10, 27)
    ts = pd.date_range(pd.Timestamp(autumn).tz_localize(tz), periods=25, freq="h").tz_convert("UTC")
    prices = pd.DataFrame({"ts": ts, "price_eur_mwh": np.arange(25.0), "resolution_minutes": 60})
    f = quality.day_flags(prices, "SE3", [autumn, autumn + dt.timedelta(days=1)], tz)
    by = f.set_index(["local_date", "check_name"])
    assert by.loc[("2024-10-27", "completeness"), "passed"]
    assert not by.loc[("2024-10-28", "completeness"), "passed"]
    assert by.loc[("2024-10-28", "completeness"), "detail"].startswith("no prices for the day (24 periods")


# -- idle is idle ---------------------------------------------------------------------------------------------
def test_a_repeated_backfill_commits_nothing_and_says_so(project):
    backfill(project, "synthetic", ["SE3"], "2025-01-01", "2025-01-10", now=NOW)
    fs = project.get_feature_store()
    commits = {g.name: len(g.commit_details()) for g in fs.get_feature_groups()}
    events = project.get_event_log().latest_event_id()
    again = backfill(project, "synthetic", ["SE3"], "2025-01-01", "2025-01-10", now=NOW)
    assert {g: t.commits for g, t in again.groups.items()} == dict.fromkeys(again.groups, 0)
    assert all(t.unchanged_batches == 1 for t in again.groups.values())
    assert {g.name: len(g.commit_details()) for g in fs.get_feature_groups()} == commits
    assert project.get_event_log().latest_event_id() == events
    assert again.one_line().startswith("nothing new")


# -- the csv source says what it leaves out -----------------------------------------------------------------------
def test_csv_refuses_30_minute_rows(project, tmp_path):
    f = csv_file(tmp_path / "p.csv", [str(40 + i) for i in range(48)], freq="30min")
    with pytest.raises(ParseError, match="30 minutes apart; prices are stored in periods of 60 or 15"):
        backfill(project, "csv", ["SE3"], None, None, now=NOW, options={"path": str(f)})


def test_csv_says_it_dropped_the_spring_gap_hour(project, tmp_path):
    f = csv_file(tmp_path / "p.csv", [str(30 + i % 24) for i in range(72)], first="2016-03-26 00:00")
    report = backfill(project, "csv", ["BE"], None, None, now=NOW, options={"path": str(f), "tz": "Europe/Brussels"})
    assert any("does not exist in Europe/Brussels" in n and "2016-03-27 02:00:00" in n for n in report.notes)


def test_three_2am_rows_on_the_autumn_day_are_a_one_line_error(tmp_path):
    rows = ["2024-10-27 00:00:00,1", "2024-10-27 01:00:00,2"] + ["2024-10-27 02:00:00,3"] * 3 + \
        [f"2024-10-27 {h:02d}:00:00,{h}" for h in range(3, 24)]
    f = tmp_path / "p.csv"
    f.write_text("Date,Price\n" + "\n".join(rows) + "\n")
    r = invoke("--store", tmp_path / "s.duckdb", "backfill", "-s", "csv", "-z", "SE3", "--file", f)
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "2024-10-27 02:00 appears 3 times" in r.stderr


# -- secrets ---------------------------------------------------------------------------------------------------------
SECRET = "tok/en+with=odd&chars-0123456789abcdef"


def test_a_secret_across_the_excerpt_cut_does_not_leak_its_start(httpserver):
    httpserver.expect_request("/x").respond_with_data("e" * 190 + "key=" + SECRET + " is invalid", status=400)
    with HttpClient(HttpSettings(retries=0), secrets=[SECRET]) as http, pytest.raises(SourceError) as err:
        http.get(Request(httpserver.url_for("/x")))
    assert SECRET[:6] not in str(err.value) and "***" in str(err.value)


def test_percent_encoded_secrets_are_masked_and_answers_echoing_them_are_not_cached(httpserver, tmp_path):
    import urllib.parse

    encoded = urllib.parse.quote(SECRET, safe="")
    httpserver.expect_request("/echo").respond_with_data(f"<ok>you sent securityToken={encoded}</ok>")
    httpserver.expect_request("/fail").respond_with_data(f"bad token {encoded.lower()}", status=401)
    settings = HttpSettings(retries=0, cache_dir=tmp_path / "cache")
    with HttpClient(settings, secrets=[SECRET]) as http:
        r = http.get(Request(httpserver.url_for("/echo"), {"securityToken": SECRET}, cache=True))
        assert SECRET not in r.url and encoded not in r.url and "***" in r.url
        http.keep(r)
        with pytest.raises(SourceError) as err:
            http.get(Request(httpserver.url_for("/fail"), {"securityToken": SECRET}))
        assert encoded.lower() not in str(err.value) and encoded not in str(err.value)
        http.get(Request(httpserver.url_for("/echo"), {"securityToken": SECRET}, cache=True))
        assert http.cache_hits == 0 and http.sent == 3  # the echoing answer was asked for again
    cached = [p.read_bytes() for p in (tmp_path / "cache").rglob("*.body")]
    assert cached == []


# -- errors retrying cannot fix fail fast -------------------------------------------------------------------------------
def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ids: the closed port differs per process, and xdist workers must collect the same test names.
@pytest.mark.parametrize("url", [f"http://127.0.0.1:{closed_port()}/x", "http://nonexistent.invalid/x"],
                         ids=["closed-port", "unresolvable-host"])
def test_an_unreachable_host_fails_at_once_with_the_offline_hint(url, caplog):
    settings = HttpSettings(retries=4, backoff_initial=0.5, concurrency=4)
    with HttpClient(settings) as http, pytest.raises(SourceError) as err:
        http.get_many([Request(url + str(i)) for i in range(20)])
    msg = str(err.value)
    assert "retrying cannot help" in msg and "--source synthetic" in msg
    assert ("refuses connections" in msg) or ("does not resolve" in msg)
    assert http.retried == 0 and http.sent <= settings.concurrency  # not 20 x 5 attempts
    assert not [r for r in caplog.records if "retry" in r.getMessage()]


def test_update_offline_says_how_to_run_offline(tmp_path, monkeypatch):
    port = closed_port()
    monkeypatch.setenv("SPOTCAST_ELPRISETJUSTNU_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("SPOTCAST_OPEN_METEO_BASE_URL", f"http://127.0.0.1:{port}")
    r = invoke("--store", tmp_path / "s.duckdb", "update", "-z", "SE3", "--history-days", "30")
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "--source synthetic" in r.stderr and "retry" not in r.stderr.lower().replace("retrying cannot", "")


# -- bounded work --------------------------------------------------------------------------------------------------------
def test_a_now_far_in_the_future_is_refused_for_real_sources(tmp_path):
    r = invoke("--store", tmp_path / "s.duckdb", "update", "-z", "SE3", "--now", "2099-01-01T00:00Z")
    assert r.exit_code == 2 and "cannot have data from the future" in r.stderr
    r = invoke("--store", tmp_path / "s.duckdb", "update", "-z", "SE3", "--now", "2024-02-30T00:00Z")
    assert r.exit_code == 2 and "'2024-02-30T00:00Z' is not a valid time" in r.stderr
    assert not (tmp_path / "s.duckdb").exists()


def test_synthetic_futures_are_bounded_and_a_large_backfill_asks_for_yes(project, stored, tmp_path):
    update(project, ["SE3"], ["synthetic"], now="2099-01-01T14:00Z", history_days=3)  # an empty store: 3 days back
    assert stored("prices")["ts"].dt.tz_convert("Europe/Stockholm").dt.date.nunique() == 5  # ... to tomorrow
    store = tmp_path / "s.duckdb"
    assert invoke("--store", store, "backfill", "-s", "synthetic", "-z", "SE3", "--start", "2025-01-01",
                  "--end", "2025-01-02", "--now", "2025-06-01T12:00Z").exit_code == 0
    r = invoke("--store", store, "update", "-z", "SE3", "-s", "synthetic", "--now", "2099-01-01T00:00Z")
    assert r.exit_code == 2 and "27,027 days of SE3 from synthetic" in r.stderr and "--yes" in r.stderr
    with pytest.raises(UsageError, match="more than 1,100 days"):
        backfill(project, "synthetic", ["SE4"], "2020-01-01", "2024-01-01", now=NOW)


# -- the right store --------------------------------------------------------------------------------------------------------
def test_the_store_flag_beats_the_environment_for_spotcast_ingest_and_the_umbrella(tmp_path):
    from spotcast_storage.umbrella import app as umbrella
    from spotcast_storage.umbrella import mount_stage_apps

    if not getattr(umbrella, "_spotcast_mounted", False):
        mount_stage_apps(umbrella)
        umbrella._spotcast_mounted = True
    a, b, c = tmp_path / "a.duckdb", tmp_path / "b.duckdb", tmp_path / "c.duckdb"
    args = ["backfill", "-s", "synthetic", "-z", "SE3", "--start", "2025-01-01", "--end", "2025-01-01",
            "--now", "2025-06-01T12:00Z", "--format", "json"]
    r = invoke("--store", b, *args, env={"SPOTCAST_STORE": str(a)})
    assert r.exit_code == 0, r.output
    config.reset_defaults()
    r = runner.invoke(umbrella, ["--store", str(c), "ingest", *args], env={"SPOTCAST_STORE": str(a)})
    assert r.exit_code == 0, r.output
    assert f"local store {c}" in r.stderr
    assert not a.exists()
    for path in (b, c):
        assert len(get_storage(mode="local", path=path).get_feature_store().get_feature_group("prices").read()) == 24
    json.loads(r.stdout)

