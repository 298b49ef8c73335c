"""`spotcast-store` through Typer's CliRunner, on a real store."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from spotcast_storage import get_storage
from spotcast_storage.cli import app

runner = CliRunner()


@pytest.fixture
def filled(store_path, tmp_path):
    project = get_storage(mode="local", path=store_path)
    fg = project.get_feature_store().get_or_create_feature_group(
        "prices", version=1, primary_key=["zone", "ts"], event_time="ts", description="test prices")
    ts = pd.date_range("2024-01-01", periods=48, freq="h", tz="UTC")
    fg.insert(pd.DataFrame({"zone": "SE3", "ts": ts, "price": 1.5}))
    fg.insert(pd.DataFrame({"zone": "SE4", "ts": ts, "price": 2.5}))
    art = tmp_path / "m.json"
    art.write_text("{}")
    project.get_model_registry().python.create_model(
        "price_model", metrics={"mae": 3.25}, lineage={"price_features": {"version": 1, "commit_id": 2}}).save(art)
    project.get_event_log().ack("features", 1)
    return store_path


def run(store, *args):
    result = runner.invoke(app, ["--store", str(store), *args])
    return result


def test_ls_show_log(filled):
    r = run(filled, "ls", "--format", "json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert rows[0]["name"] == "prices" and rows[0]["rows"] == 96 and rows[0]["newest"] is True
    r = run(filled, "show", "prices", "--limit", "3")
    assert r.exit_code == 0 and "test prices" in r.stdout and "SE3" in r.stdout
    r = run(filled, "log", "prices", "--format", "csv")
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith("commit_id,committedOn,rowsInserted") and len(lines) == 3


def test_events_show_cursors_and_lag(filled):
    r = run(filled, "events")
    assert r.exit_code == 0, r.output
    assert "features" in r.stdout and "price_model" in r.stdout
    r = run(filled, "events", "--consumer", "features", "--format", "json")
    pending = [e["event_id"] for e in json.loads(r.stdout)]
    from spotcast_storage.pipeline import collect_handlers

    if any(h.consumer == "features" for h in collect_handlers()):
        assert pending == [2]  # SE4's prices; event 3 (price_model registered) is no input of features
    else:  # no such consumer installed: every event after its cursor
        assert pending == [2, 3]


def test_models_lists_metrics_and_lineage(filled):
    r = run(filled, "models", "--format", "json")
    m = json.loads(r.stdout)[0]
    assert m["name"] == "price_model" and m["metrics"] == {"mae": 3.25}
    assert m["lineage"]["price_features"]["commit_id"] == 2 and m["trained_on"].startswith("price_features v")


def test_sql_formats(filled, tmp_path):
    r = run(filled, "sql", "select zone, count(*) as n from prices group by zone order by zone", "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == [{"zone": "SE3", "n": 48}, {"zone": "SE4", "n": 48}]
    r = run(filled, "sql", "select zone, ts from prices order by ts limit 1", "--format", "csv")
    assert r.stdout.splitlines()[1] == "SE3,2024-01-01T00:00:00+00:00"
    out = tmp_path / "p.parquet"
    r = run(filled, "sql", "select * from prices", "--format", "parquet", "--output", str(out))
    assert r.exit_code == 0 and len(pd.read_parquet(out)) == 96


def test_sql_refuses_writes_with_a_clear_message(filled):
    r = run(filled, "sql", "delete from prices_v1")
    assert r.exit_code == 1
    assert "refused" in r.stderr and "read-only" in r.stderr
    assert json.loads(run(filled, "sql", "select count(*) as n from prices", "-f", "json").stdout) == [{"n": 96}]


def test_unknown_names_and_missing_store_are_clear(filled, tmp_path):
    r = run(filled, "show", "nope")
    assert r.exit_code == 1 and "does not exist" in r.stderr and "prices" in r.stderr
    r = run(tmp_path / "none.duckdb", "sql", "select 1")
    assert r.exit_code == 2 and "no spotcast store" in r.stderr
    r = runner.invoke(app, ["--mode", "cloud", "ls"])
    assert r.exit_code == 2 and "unknown mode" in r.stderr


def test_plugins_and_contracts_list(filled):
    r = run(filled, "plugins")
    assert r.exit_code == 0 and "register_backends" in r.stdout
    r = run(filled, "contracts")
    assert "prices v1" in r.stdout and "known_at" in r.stdout


def test_every_command_has_help_with_an_example():
    for cmd in ["ls", "show", "log", "events", "models", "plugins", "contracts", "sql"]:
        r = runner.invoke(app, [cmd, "--help"])
        assert r.exit_code == 0 and "Example:" in r.stdout, cmd


def test_the_umbrella_mounts_exactly_the_installed_stages():
    """In CI this also runs where only spotcast-storage is installed: then only `store` is there."""
    import importlib.util
    from importlib.metadata import entry_points

    import typer

    from spotcast_storage.umbrella import mount_stage_apps

    mounted = mount_stage_apps(typer.Typer())
    assert set(mounted) == {ep.name for ep in entry_points(group="spotcast.cli")}
    assert "store" in mounted
    for stage in ("ingest", "features", "train", "serve"):
        assert (stage in mounted) == (importlib.util.find_spec(f"spotcast_{stage}") is not None)


def test_progress_in_a_log_is_one_line_per_tenth_and_per_new_detail(capsys):
    from spotcast_storage.cli_common import progress

    with progress("gate", "origin forecasts") as step:
        for k in range(1, 101):
            step(k, 100, "SE3" if k <= 50 else "SE4")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 12 and all(ln.startswith("gate: ") for ln in lines)  # the first, 10 tenths, the new detail
    assert lines[0].startswith("gate: 1/100 origin forecasts, SE3 (") and lines[-1].startswith("gate: 100/100 origin")
    assert any(ln.startswith("gate: 51/100 origin forecasts, SE4") for ln in lines)
    with progress("gate", "origin forecasts", enabled=False) as step:
        assert step is None


def test_collector_paused_freezes_the_warm_objects_and_hands_everything_back():
    """No GC pass during the first item; after warm() the collector runs again over new objects
    only; on leaving nothing stays frozen, so garbage made before warm() can still be freed."""
    import gc

    from spotcast_storage.cli_common import collector_paused

    assert gc.isenabled() and gc.get_freeze_count() == 0
    passes = []

    def count(phase, info):
        if phase == "start":
            passes.append(info["generation"])

    gc.callbacks.append(count)
    try:
        with collector_paused() as warm:
            assert not gc.isenabled()
            junk = [[] for _ in range(50_000)]  # would trigger many young passes
            for item in junk:
                item.append(item)  # cycles: only the collector frees them
            del junk, item
            assert passes == []
            warm()
            assert gc.isenabled() and gc.get_freeze_count() > 0
            warm()  # a second call changes nothing
        assert gc.isenabled() and gc.get_freeze_count() == 0
        assert gc.collect() >= 50_000  # the cycles made while paused are garbage again
        with pytest.raises(RuntimeError), collector_paused():
            raise RuntimeError("the first item failed")
        assert gc.isenabled() and gc.get_freeze_count() == 0
    finally:
        gc.callbacks.remove(count)


def test_collector_paused_freezes_what_is_alive_at_exit():
    """The interpreter's shutdown collection does not walk (nor finalize) a cycle still alive at
    exit once collector_paused was used; without it, it does: the probe can tell the two apart."""
    import subprocess
    import sys

    probe = """
import sys
class Noisy:
    def __del__(self):
        sys.__stderr__.write("collected at exit\\n")
if sys.argv[1] == "paused":
    from spotcast_storage.cli_common import collector_paused
    with collector_paused() as warm:
        warm()
a = Noisy(); a.me = a  # a cycle: only the collector could free it
"""
    runs = {m: subprocess.run([sys.executable, "-c", probe, m], capture_output=True, text=True, timeout=60)
            for m in ("plain", "paused")}
    assert all(r.returncode == 0 for r in runs.values()), {m: r.stderr for m, r in runs.items()}
    assert "collected at exit" in runs["plain"].stderr
    assert "collected at exit" not in runs["paused"].stderr
