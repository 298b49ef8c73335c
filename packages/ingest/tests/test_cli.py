"""`spotcast-ingest`: thin commands over the functions, with summaries and clear errors."""

import json

import pandas as pd
from typer.testing import CliRunner

from spotcast_ingest import testing
from spotcast_ingest.cli import app

runner = CliRunner()


def invoke(*args, env=None):
    return runner.invoke(app, [str(a) for a in args], env=env)


def test_sources_lists_every_plugin_with_its_override():
    r = invoke("sources", "--format", "json")
    assert r.exit_code == 0, r.output
    rows = {row["source"]: row for row in json.loads(r.stdout)}
    assert rows["elprisetjustnu"]["override"] == "SPOTCAST_ELPRISETJUSTNU_BASE_URL"
    assert rows["open-meteo"]["override"] == "SPOTCAST_OPEN_METEO_BASE_URL"
    assert rows["synthetic"]["zones"].startswith("SE1")


def test_backfill_then_update_with_the_synthetic_source(tmp_path, stored):
    store = tmp_path / "store.duckdb"
    r = invoke("--store", store, "backfill", "-s", "synthetic", "-z", "SE3", "--start", "2025-05-01",
               "--end", "2025-05-03", "--now", "2025-06-01T12:00Z", "--format", "json")
    assert r.exit_code == 0, r.output
    table = {row["feature_group"]: row for row in json.loads(r.stdout)}
    assert table["prices"]["rows_inserted"] == 72 and table["prices"]["commits"] == 1
    r = invoke("--store", store, "update", "-z", "SE3", "-s", "synthetic", "--history-days", "5",
               "--now", "2025-05-04T12:00Z", "-o", "synthetic.seed=0")
    assert r.exit_code == 0, r.output
    assert "written" in r.stdout and "prices" in r.stdout
    assert "0 HTTP requests sent" in r.stderr
    assert len(stored("prices")) == 5 * 24  # May 1-5: tomorrow's prices are out at 14:00 CEST


def test_backfill_from_a_local_server_and_a_second_run_sends_nothing(tmp_path, httpserver):
    import datetime as dt

    for d in (dt.date(2025, 1, 1), dt.date(2025, 1, 2)):
        httpserver.expect_request(f"/api/v1/prices/2025/{d:%m-%d}_SE4.json").respond_with_json(
            testing.elprisetjustnu_day("SE4", d))
    args = ["--store", tmp_path / "s.duckdb", "backfill", "-s", "elprisetjustnu", "-z", "SE4", "--start",
            "2025-01-01", "--end", "2025-01-02", "--base-url", httpserver.url_for("")]
    first = invoke(*args)
    assert first.exit_code == 0, first.output
    assert "2 HTTP requests sent, 0 answered from cache" in first.stderr
    second = invoke(*args)
    assert "0 HTTP requests sent, 2 answered from cache" in second.stderr
    assert len(httpserver.log) == 2
    assert (tmp_path / "cache" / "elprisetjustnu").is_dir()  # the cache sits beside the store


def test_errors_are_one_line_without_traceback(tmp_path):
    r = invoke("--store", tmp_path / "s.duckdb", "backfill", "-s", "synthetic", "-z", "BE", "--start", "2025-01-01")
    assert r.exit_code == 1
    assert "error: source synthetic does not serve zone 'BE'" in r.stderr and "Traceback" not in r.output
    r = invoke("--store", tmp_path / "s.duckdb", "backfill", "-s", "nosuch", "-z", "SE3", "--start", "2025-01-01")
    assert r.exit_code == 1 and "unknown source 'nosuch'" in r.stderr
    r = invoke("--store", tmp_path / "s.duckdb", "backfill", "-s", "synthetic", "-z", "SE3", "--start", "2025-01-01",
               "-o", "seed")
    assert r.exit_code == 2 and "is not KEY=VALUE" in r.stderr  # a usage error
    assert not (tmp_path / "s.duckdb").exists()


def test_every_command_shows_an_example():
    for cmd in ("sources", "backfill", "update", "check", "version"):
        r = invoke(cmd, "--help")
        assert r.exit_code == 0 and "Example: spotcast-ingest" in r.stdout, cmd


def test_csv_backfill_with_file_option(tmp_path, stored):
    f = tmp_path / "prices.csv"
    f.write_text("Date,Price\n" + "\n".join(f"2024-02-01 {h:02d}:00:00,{10 + h}" for h in range(24)) + "\n")
    r = invoke("--store", tmp_path / "store.duckdb", "backfill", "-s", "csv", "-z", "SE3", "--file", f)
    assert r.exit_code == 0, r.output
    assert stored("prices")["price_eur_mwh"].tolist() == [float(10 + h) for h in range(24)]
    assert pd.Timestamp(stored("prices")["ts"].iloc[0]) == pd.Timestamp("2024-01-31 23:00", tz="UTC")
