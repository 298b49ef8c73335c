"""Words and numbers in output people read (issue 17, polish): plurals, metrics, one time format."""

from __future__ import annotations

import re

import pandas as pd
from typer.testing import CliRunner

from spotcast_storage import get_storage
from spotcast_storage.text import format_metrics, iso, plural


def test_plural() -> None:
    assert [plural(n, "commit") for n in (0, 1, 3)] == ["0 commits", "1 commit", "3 commits"]
    assert plural(1, "day") + " old" == "1 day old" and plural(2, "batch", "batches") == "2 batches"
    assert plural(48459, "row") == "48,459 rows"


def test_format_metrics_reads_like_text() -> None:
    assert format_metrics({"mae": 11.779778953606021, "rmae": 0.8312, "origins": 28, "note": "x"}) == (
        "mae 11.78, rmae 0.83, origins 28")
    assert format_metrics(None) == "" and format_metrics({"ok": True}) == ""


def test_iso_one_format() -> None:
    want = "2026-12-02T19:19:07+00:00"
    assert iso(pd.Timestamp("2026-12-02T19:19:07.598284+00:00")) == want
    assert iso("2026-12-02T19:19:07.598284+00:00") == want and iso("2026-12-02T19:19:07Z") == want
    assert iso(None) is None


def test_status_and_store_tables_show_readable_metrics_and_times(store_path, tmp_path) -> None:
    from spotcast_storage.cli import app as store_app
    from spotcast_storage.umbrella import app, mount_stage_apps

    project = get_storage(mode="local", path=store_path)
    fg = project.get_feature_store().get_or_create_feature_group(
        "prices", version=1, primary_key=["zone", "ts"], event_time="ts")
    fg.insert(pd.DataFrame({"zone": "SE3", "ts": pd.date_range("2024-01-01", periods=3, freq="h", tz="UTC"),
                            "price": 1.5}))
    art = tmp_path / "m.json"
    art.write_text("{}")
    project.get_model_registry().python.create_model(
        "price_model", metrics={"mae": 11.779778953606021, "rmae": 0.8312}).save(art)

    mount_stage_apps(app)
    for application, args in ((app, ["status"]), (store_app, ["models"]), (store_app, ["log", "prices"])):
        r = CliRunner().invoke(application, ["--store", str(store_path), *args], terminal_width=250)
        assert r.exit_code == 0, r.output
        if args[0] != "log":
            assert "mae 11.78, rmae 0.83" in r.stdout and "{'mae'" not in r.stdout and '{"mae"' not in r.stdout
        times = re.findall(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[^\s│]*", r.stdout)
        assert times and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", t) for t in times), times


def test_iso_frame_writes_the_same_offset_form_for_utc_local_and_missing_times() -> None:
    from spotcast_storage.text import iso_frame

    df = pd.DataFrame({"ts": pd.to_datetime(["2024-10-27T00:00Z", None], utc=True),
                       "local": pd.to_datetime(["2024-10-27T00:00Z", "2024-10-27T01:00Z"], utc=True)
                       .tz_convert("Europe/Stockholm"),
                       "naive": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 11:00"]), "x": [1.5, 2.0]})
    out = iso_frame(df)
    assert out["ts"].iloc[0] == "2024-10-27T00:00:00+00:00" and pd.isna(out["ts"].iloc[1])
    assert list(out["local"]) == ["2024-10-27T02:00:00+02:00", "2024-10-27T02:00:00+01:00"]  # the two 02:00s
    assert list(out["naive"]) == ["2024-01-01T10:00:00", "2024-01-01T11:00:00"]
    assert df["ts"].dtype != object  # a copy: the caller's frame keeps its times


def test_sql_csv_and_json_times_match_the_table_format(store_path) -> None:
    """`+0000` (CSV) and `Z` (JSON) were two more spellings of the time a table prints."""
    from spotcast_storage.cli import app as store_app

    project = get_storage(mode="local", path=store_path)
    fg = project.get_feature_store().get_or_create_feature_group(
        "prices", version=1, primary_key=["zone", "ts"], event_time="ts")
    fg.insert(pd.DataFrame({"zone": "SE3", "ts": pd.date_range("2024-01-01", periods=2, freq="h", tz="UTC"),
                            "price": 1.5}))
    project.close()
    for fmt in ("csv", "json"):
        r = CliRunner().invoke(store_app, ["--store", str(store_path), "sql", "select ts from prices order by ts",
                                           "--format", fmt])
        assert r.exit_code == 0, r.output
        assert "2024-01-01T00:00:00+00:00" in r.stdout and "+0000" not in r.stdout and "00Z" not in r.stdout
