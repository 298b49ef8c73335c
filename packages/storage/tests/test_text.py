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
