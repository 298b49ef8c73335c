"""`spotcast-train` commands through Typer's CliRunner on a real store."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from spotcast_train.cli import app


def run(args):
    return CliRunner().invoke(app, args, catch_exceptions=False)


def test_fit_models_backtest_commands(fresh_store, tmp_path, monkeypatch):
    store = str(fresh_store.project.path)
    monkeypatch.chdir(tmp_path)
    r = run(["--store", store, "fit", "--zone", "SE3", "--model", "naive-weekly", "--format", "json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output[r.output.index("{"):])
    assert out["name"] == "price_naive_weekly_se3" and out["version"] == 1 and "mae" in out["metrics"]
    assert out["decision"] is None and out["training_window"]["gate_origins"] == 28  # a baseline: ungated
    # --now: fitted as at an earlier time, only the labels published by then train
    early = fresh_store.origin(60)
    r = run(["--store", store, "fit", "--zone", "SE3", "--model", "naive-weekly", "--format", "json",
             "--now", early.isoformat()])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output[r.output.index("{"):])["training_window"]["end"] < early.isoformat()

    r = run(["--store", store, "models", "--format", "json"])
    rows = json.loads(r.output[r.output.index("["):])
    assert rows[0]["name"] == "price_naive_weekly_se3" and "price_features v1@" in rows[0]["trained_on"]

    r = run(["--store", store, "backtest", "--zone", "SE3", "--start", "2024-03-01", "--end", "2024-03-04",
             "--model", "naive-daily", "--recalibrate", "never", "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "naive-daily" in r.output and "report:" in r.output
    assert list((fresh_store.project.outputs_dir / "backtests").glob("*.md"))  # beside the store


def test_long_steps_write_progress_lines_to_a_log(fresh_store):
    """Not a terminal (a scheduled run's log): the backtest says how far it is, in named units."""
    store = str(fresh_store.project.path)
    r = run(["--store", store, "backtest", "--zone", "SE3", "--start", "2024-03-01", "--end", "2024-03-04",
             "--model", "naive-daily", "--recalibrate", "never", "--no-write"])
    assert r.exit_code == 0, r.output
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("backtest: ")]
    assert lines and lines[-1].startswith("backtest: 6/6 origin forecasts (")  # 3 origins x (model, naive) and lines[-1].endswith(" s)")
    r = run(["--store", store, "backtest", "--zone", "SE3", "--start", "2024-03-01", "--end", "2024-03-04",
             "--model", "naive-daily", "--recalibrate", "never", "--no-write", "--no-progress"])
    assert "origin forecasts" not in r.stderr


def test_bad_input_is_one_line_without_traceback(fresh_store):
    store = str(fresh_store.project.path)
    r = run(["--store", store, "backtest", "--zone", "SE3", "--start", "2024-03-05", "--end", "2024-03-01"])
    assert r.exit_code == 1 and "error: --end 2024-03-01 must be after --start" in r.output
    assert "Traceback" not in r.output
    r = run(["--store", store, "fit", "--zone", "Mars"])
    assert r.exit_code == 1 and "unknown zone 'Mars'" in r.output
    r = run(["--store", store, "fit", "--zone", "SE3", "--origins", "14"])
    assert r.exit_code == 1 and "error: --origins 14: the promotion gate scores at least 28 origins" in r.output
    r = run(["--store", store, "fit", "--zone", "SE3", "--now", "yesterday-ish"])
    assert r.exit_code == 1 and "now" in r.output and "yesterday-ish" in r.output
    assert "Traceback" not in r.output
    r = run(["--store", store, "fit", "--zone", "SE3", "--format", "yaml"])
    assert r.exit_code == 1 and "error: --format 'yaml': use text or json" in r.output
    r = run(["--store", store, "recalibrate", "--zone", "SE3", "--format", "xml"])
    assert r.exit_code == 1 and "error: --format 'xml': use text or json" in r.output
    r = run(["--store", store, "recalibrate", "--zone", "Mars"])
    assert r.exit_code == 1 and "unknown zone 'Mars'" in r.output and "Traceback" not in r.output
    r = run(["--store", store, "recalibrate", "--zone", "SE3"])  # nothing serves: says so, writes nothing
    assert r.exit_code == 0 and "SE3: no promoted model to recalibrate: nothing serves yet" in r.output
    assert not fresh_store.project.get_model_registry().get_models()


def test_every_command_has_an_example_in_its_help():
    for cmd in ("fit", "recalibrate", "backtest", "models", "plugins", "version"):
        r = run([cmd, "--help"])
        assert r.exit_code == 0 and "Example: spotcast-train" in r.output, cmd


def test_plugins_lists_model_types():
    r = run(["plugins", "--format", "json"])
    names = {row["model"] for row in json.loads(r.output[r.output.index("["):])}
    assert {"xgboost", "naive-daily", "naive-weekly"} <= names


def test_the_store_flag_beats_the_environment(fresh_store, tmp_path):
    from spotcast_storage.config import reset_defaults

    store = fresh_store.project.path
    reset_defaults()
    r = CliRunner().invoke(app, ["--store", str(store), "models", "--format", "json"],
                           env={"SPOTCAST_STORE": str(tmp_path / "other.duckdb")})
    assert r.exit_code == 0, r.output
    assert f"local store {store}" in r.stderr and not (tmp_path / "other.duckdb").exists()
    reset_defaults()
    r = CliRunner().invoke(app, ["--store", str(tmp_path / "missing.duckdb"), "models"])
    assert r.exit_code == 2 and "no spotcast store" in r.stderr  # a read on a missing store fails
