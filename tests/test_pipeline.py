"""The whole chain through the umbrella `spotcast` command: synthetic source, a local server
answering like the real APIs, idempotence, and real SIGKILLs at several points."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline_state import assert_same, snapshot
from spotcast_storage import get_storage
from spotcast_storage.local import connection
from spotcast_storage.modelformat import METADATA_FILE

NOW = "2025-03-12T14:00Z"  # after the 13:00 CET auction: prices for 13 March are out
HISTORY = "40"
KILLER = str(Path(__file__).with_name("killer.py"))


def umbrella():
    from spotcast_storage.umbrella import app, mount_stage_apps

    if not getattr(app, "_spotcast_mounted", False):
        mount_stage_apps(app)
        app._spotcast_mounted = True
    return app


def run_cli(store, *args: str):
    r = CliRunner().invoke(umbrella(), ["--store", str(store), *args])
    connection.release(store)
    return r


def synthetic_args(outputs: Path, now: str = NOW) -> list[str]:
    return ["run", "--zone", "SE3", "--source", "synthetic", "--history-days", HISTORY, "--now", now,
            "--outputs", str(outputs)]


@pytest.mark.slow
def test_the_chain_publishes_quarter_hours_once_the_zone_clears_in_15_minutes(store_path, tmp_path, fast_train):
    """Issue 15 end to end: the synthetic source clears SE3 in 15 minutes from 2025-10-01 (as the
    Nordic market does); `spotcast run` then publishes the forecast at 15 minutes as well -- a
    file, the store's forecasts_15min view, and accuracy at 15 minutes once actuals arrive."""
    out = tmp_path / "outputs"
    for now in ("2025-10-20T14:00Z", "2025-10-23T14:00Z"):
        r = run_cli(store_path, *synthetic_args(out, now=now))
        assert r.exit_code == 0, r.output
    quarter_files = sorted(out.glob("forecast_SE3_*_15min.csv"))
    assert quarter_files, sorted(p.name for p in out.iterdir())
    q = pd.read_csv(quarter_files[-1])
    fc = q[q["p50"].notna()]
    hourly = pd.read_csv(str(quarter_files[-1]).replace("_15min.csv", ".csv"))
    hours = hourly["p50"].notna().sum()
    assert hours == 169  # the newest origin's week holds 2025-10-26, a 25-hour day: 100 quarters
    assert (fc["resolution_minutes"] == 15).all() and len(fc) == 4 * hours
    assert (pd.to_datetime(fc["ts"], utc=True).diff().dropna() == pd.Timedelta(minutes=15)).all()
    project = get_storage(mode="local", path=store_path)
    view = project.sql("select count(*) as n, count(distinct origin) as origins from forecasts_15min where zone = 'SE3'")
    assert view["n"].iloc[0] >= 2 * 4 * 168
    from spotcast_serve import service

    report = service.accuracy(project, "SE3", days=30)
    assert report.by_horizon_15min is not None and not report.by_horizon_15min.empty
    connection.release(store_path)


def test_the_chain_from_an_empty_store_and_a_second_run_that_does_nothing(store_path, tmp_path):
    """The README's main job offline, with the stage's true default model (every other chain test
    trains smaller boosting: tests/fast_train.py)."""
    out = tmp_path / "outputs"
    r = run_cli(store_path, *synthetic_args(out))
    assert r.exit_code == 0, r.output
    text = r.stdout
    for stage in ("ingest:", "features:", "train:", "serve:"):
        assert stage in text, text
    project = get_storage(mode="local", path=store_path)
    fs = project.get_feature_store()
    fc = fs.get_feature_group("forecasts").read()
    assert set(fc.zone) == {"SE3"}
    newest = fc.origin.max()
    # The newest origin is 13 March 10:00 Stockholm: 13 March's prices were out at `now`.
    assert newest == pd.Timestamp("2025-03-13 10:00", tz="Europe/Stockholm")
    rows = fc[fc.origin == newest]
    assert len(rows) == 168 and (rows.p10 <= rows.p50).all() and (rows.p50 <= rows.p90).all()
    assert rows.ts.min() == pd.Timestamp("2025-03-14 00:00", tz="Europe/Stockholm")
    models = project.get_model_registry().get_models("price_xgboost_se3")
    assert models
    # the default model is the ensemble of families: trees, LEAR (per-hour LASSO) and DNN members
    meta = json.loads((Path(models[-1].download()) / METADATA_FILE).read_text())
    assert meta["linear"]["solver"] == "lear" and meta["linear"]["weight"] == 0.35, meta["linear"]
    assert meta["dnn"]["weight"] == 0.2 and len(meta["dnn"]["members"][0]["nets"]) == 4, meta["dnn"]
    assert list(out.glob("forecast_SE3_*.csv")) and list(out.glob("forecast_SE3_*.png"))
    connection.release(store_path)

    before, writes = snapshot(store_path), commits_and_events(store_path)
    r = run_cli(store_path, *synthetic_args(out))
    assert r.exit_code == 0, r.output
    assert "nothing new" in r.stdout
    assert_same(snapshot(store_path), before)
    assert commits_and_events(store_path) == writes  # idle is idle: not even an empty commit

    # One day later: only the new day flows through; the fresh model is kept.
    r = run_cli(store_path, *synthetic_args(out, now="2025-03-13T14:00Z"))
    assert r.exit_code == 0, r.output
    fc = get_storage(mode="local", path=store_path).get_feature_store().get_feature_group("forecasts").read()
    assert fc.origin.max() == pd.Timestamp("2025-03-14 10:00", tz="Europe/Stockholm")
    assert "retrained" not in r.stdout
    r = run_cli(store_path, "status", "--format", "json")
    assert r.exit_code == 0 and '"pending_events": 0' in r.stdout


def test_a_malformed_base_url_is_a_usage_error_before_any_work(store_path):
    r = run_cli(store_path, "run", "--zone", "SE3", "--base-url", "elprisetjustnu")
    assert r.exit_code == 2 and "is not KEY=VALUE (e.g. --base-url elprisetjustnu=" in r.output
    assert not store_path.exists()


def test_the_chain_against_a_local_server_answering_like_the_real_apis(store_path, tmp_path, monkeypatch,
                                                                       fast_train):
    from spotcast_ingest.testing import FakeApis

    with FakeApis(now=pd.Timestamp(NOW)) as api:
        # one source through the environment, the other through `spotcast run --base-url`
        monkeypatch.setenv("SPOTCAST_OPEN_METEO_BASE_URL", api.url)
        monkeypatch.delenv("SPOTCAST_ELPRISETJUSTNU_BASE_URL", raising=False)
        r = run_cli(store_path, "run", "--zone", "SE3", "--history-days", HISTORY, "--now", NOW,
                    "--outputs", str(tmp_path / "out"), "--base-url", f"elprisetjustnu={api.url}")
        assert r.exit_code == 0, r.output
        assert api.requests > 40
    fs = get_storage(mode="local", path=store_path).get_feature_store()
    prices = fs.get_feature_group("prices").read()
    assert set(prices.source) == {"elprisetjustnu"}
    assert fs.get_feature_group("weather").count() > 0
    assert len(fs.get_feature_group("forecasts").read()) == 168
    # weather as it was known: the newest origin (the next morning, after the auction) draws a
    # forecast for every target hour -- the request covered the horizon, 8 days out --, and
    # history rows draw archived forecasts (Previous Runs) wherever the archive's 7-day lead reaches
    rows = fs.get_feature_group("price_features").read()
    newest = rows[rows["origin"] == rows["origin"].max()]
    assert len(newest) == 168 and (newest["wx_is_observed"] == 0).all()
    history = rows[(rows["origin"] < rows["origin"].max() - pd.Timedelta(days=8)) & (rows["horizon_hours"] <= 168)]
    assert len(history) > 1000 and (history["wx_is_observed"] == 0).all()


def commits_and_events(store) -> tuple[int, int, int]:
    """How many commits, events and model versions the store holds."""
    import duckdb

    con = duckdb.connect(str(store), read_only=True)
    try:
        return tuple(con.execute(f"select count(*) from _spotcast.{t}").fetchone()[0]
                     for t in ("commits", "events", "models"))
    finally:
        con.close()


def spotcast_child(store, kill_at: str | None, outputs: Path, kill_after_s: float | None = None,
                   extra: tuple[str, ...] = (), start: bool = False):
    """Run `spotcast run` in a child; it SIGKILLs itself after the commit named by ``kill_at``,
    or the parent kills it after ``kill_after_s`` seconds (wherever it is then). ``start``:
    return the running process instead of waiting for it. Every child trains the smaller
    boosting of tests/fast_train.py (the same in each, so their end states compare)."""
    args = ["--store", str(store), *synthetic_args(outputs), *extra]
    cmd = [sys.executable, KILLER, "--fast-train", kill_at or "never:1", *args]
    if start:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if kill_after_s is None:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=900, env={**os.environ})
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = child.communicate(timeout=kill_after_s)
    except subprocess.TimeoutExpired:
        child.send_signal(signal.SIGKILL)
        out, err = child.communicate()
    return subprocess.CompletedProcess(cmd, child.returncode, out, err)


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    """One uninterrupted `spotcast run` in a child: its final state, write counts and duration."""
    reference = tmp_path_factory.mktemp("reference") / "store.duckdb"
    t = time.monotonic()
    done = spotcast_child(reference, None, reference.parent / "out")
    took = time.monotonic() - t
    assert done.returncode == 0, done.stderr
    return snapshot(reference), commits_and_events(reference), took


@pytest.mark.slow
def test_two_concurrent_runs_end_as_one_run_would(tmp_path, reference_run):
    """The second `spotcast run` waits for the first (it says so), then finds nothing new: one
    model version, one forecast, as many commits as a single run makes."""
    expected, writes, _ = reference_run
    store = tmp_path / "store.duckdb"
    first = spotcast_child(store, None, tmp_path / "out", start=True)
    second = spotcast_child(store, None, tmp_path / "out", start=True)
    out1, err1 = first.communicate(timeout=900)
    out2, err2 = second.communicate(timeout=900)
    assert first.returncode == 0 and second.returncode == 0, err1 + err2
    assert "waiting for it to finish" in out1 + out2
    assert "nothing new" in out1 + out2
    assert_same(snapshot(store), expected)
    assert commits_and_events(store) == writes


@pytest.mark.slow
def test_sigkill_at_several_points_ends_in_the_same_state_as_an_uninterrupted_run(tmp_path, reference_run):
    expected, _, took = reference_run

    store = tmp_path / "killed" / "store.duckdb"
    # Each run is killed further along: mid-ingest, between features and train, right after
    # the model was registered (before serve ran), and in the middle of serving.
    for point in ("prices:1", "price_features:1", "price_xgboost:1", "forecasts:1"):
        p = spotcast_child(store, point, tmp_path / "out")
        assert p.returncode == -signal.SIGKILL, f"{point}: {p.stdout}\n{p.stderr}"
        assert "killer: SIGKILL" in p.stdout
    # And once wherever the process happens to be at 60% of an uninterrupted run's time. On a
    # loaded machine (other test workers) the reference may have been slow and this run fast, so
    # it can finish before the kill: then retry earlier, on a fresh store, until a kill lands.
    killed = False
    for attempt, share in enumerate((0.6, 0.3, 0.15)):
        store2 = tmp_path / f"timer{attempt}" / "store.duckdb"
        p = spotcast_child(store2, None, tmp_path / "out2", kill_after_s=share * took)
        assert p.returncode in (0, -signal.SIGKILL), p.stdout + p.stderr
        if p.returncode == -signal.SIGKILL:
            killed = True
            assert spotcast_child(store2, None, tmp_path / "out2").returncode == 0
            assert_same(snapshot(store2), expected)
            break
    assert killed, f"every timed run finished before its kill ({took:.1f} s reference)"
    # The last two runs are children too: in-process, plugins and caches other test modules left
    # in this worker's interpreter made the run differ from the uninterrupted child's (CI, xdist).
    final = spotcast_child(store, None, tmp_path / "out", extra=("--no-wait",))  # the killed runs left no lock
    assert final.returncode == 0, final.stderr
    assert_same(snapshot(store), expected)
    again = spotcast_child(store, None, tmp_path / "out")
    assert again.returncode == 0 and "nothing new" in again.stdout, again.stdout + again.stderr
