"""`spotcast-serve` commands through Typer's CliRunner on a real store."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from spotcast_serve import service


def test_every_command_help_shows_an_example(cli):
    # the root README promises an example in every command's help, the CLI's own included
    for args in ([], ["predict"], ["accuracy"], ["forecast"], ["zones"], ["models"], ["formats"], ["api"],
                 ["version"]):
        r = cli([*args, "--help"])
        cmd = " ".join(args) or "spotcast-serve"
        assert r.exit_code == 0 and "Example: spotcast-serve" in r.output, cmd


def test_predict_prints_daily_means_and_writes_files(ready, store_path, tmp_path, cli):
    out = tmp_path / "out"
    r = cli(["--store", str(store_path), "predict", "--zone", "SE3", "--zone", "SE4", "--outputs", str(out),
             "--format", "json", "--now", "2024-03-22T15:00Z"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [(x["zone"], x["horizon_day"]) for x in rows][:2] == [("SE3", 1), ("SE3", 2)] and len(rows) == 14
    assert rows[0]["unit"] == "EUR/MWh"
    assert sorted(p.name for p in out.iterdir()) == [
        "forecast_SE3_2024-03-23_2024-03-29_made_2024-03-22T1600CET.csv",
        "forecast_SE3_2024-03-23_2024-03-29_made_2024-03-22T1600CET.png",
        "forecast_SE4_2024-03-23_2024-03-29_made_2024-03-22T1600CET.csv",
        "forecast_SE4_2024-03-23_2024-03-29_made_2024-03-22T1600CET.png"]
    assert "published: SE3 2024-03-23..29, made 2024-03-22 16:00 CET (vintage 1 of 1, after the gate closure)" in r.output
    again = cli(["--store", str(store_path), "predict", "--zone", "SE3", "--outputs", str(out), "--no-files"])
    assert again.exit_code == 0 and "unchanged" in again.output
    # files already written for the published vintage are left alone, and the output says so
    kept = cli(["--store", str(store_path), "predict", "--zone", "SE3", "--outputs", str(out),
                "--now", "2024-03-22T15:00Z"])
    assert kept.exit_code == 0 and "unchanged" in kept.output and "  wrote " not in kept.output
    assert "  kept " in kept.output and "forecast_SE3_2024-03-23_2024-03-29_made_2024-03-22T1600CET.csv" in kept.output
    table = cli(["--store", str(store_path), "predict", "--zone", "SE3", "--days", "2", "--no-files"])
    assert "2024-03-24" in table.stdout and "2024-03-25" not in table.stdout


def test_predict_outputs_none_writes_no_files_as_spotcast_run_does(ready, store_path, tmp_path, cli, monkeypatch):
    # `spotcast run --outputs none` means no files; predict used to write into a folder named none/
    monkeypatch.chdir(tmp_path)
    r = cli(["--store", str(store_path), "predict", "--zone", "SE3", "--outputs", "none", "--now", "2024-03-22T15:00Z"])
    assert r.exit_code == 0, r.output
    assert "wrote 168 forecast rows" in r.output and "  wrote " not in r.output and ".csv" not in r.output
    assert not (tmp_path / "none").exists() and not (store_path.parent / "store-outputs").exists()


def test_predict_errors_are_one_line_and_write_nothing(ready, store_path, tmp_path, cli):
    r = cli(["--store", str(store_path), "predict", "--zone", "SE1", "--outputs", str(tmp_path / "o")])
    assert r.exit_code == 1 and "error: price_features has no rows for zone SE1" in r.output
    assert "Traceback" not in r.output and not (tmp_path / "o").exists()
    r = cli(["--store", str(store_path), "predict", "--zone", "SE3", "--model", "nope", "--no-files"])
    assert r.exit_code == 1 and "model nope is not registered; registered models: price_naive" in r.output
    r = cli(["--store", str(store_path), "predict", "--zone", "SE3", "--format", "xml", "--no-files"])
    assert r.exit_code == 1 and "unknown --format 'xml'" in r.output


def test_accuracy_forecast_zones_models(ready, store_path, tmp_path, cli, monkeypatch):
    assert cli(["--store", str(store_path), "predict", "--zone", "SE3", "--no-files"]).exit_code == 0
    r = cli(["--store", str(store_path), "accuracy", "--zone", "SE3", "--outputs", str(tmp_path / "o"),
             "--format", "csv"])
    assert r.exit_code == 0, r.output
    import io

    df = pd.read_csv(io.StringIO(r.stdout))
    assert df["horizon_day"].tolist() == list(range(1, 8)) and (df["mae"] > 0).all()
    assert (tmp_path / "o" / "accuracy_SE3_2024-03-22.png").exists()
    monkeypatch.chdir(tmp_path)
    none = cli(["--store", str(store_path), "accuracy", "--zone", "SE3", "--outputs", "none"])
    assert none.exit_code == 0 and "  wrote " not in none.output  # no chart, and no folder named none/
    assert not (tmp_path / "none").exists() and not (store_path.parent / "store-outputs").exists()
    by_origin = cli(["--store", str(store_path), "accuracy", "--zone", "SE3", "--by", "origin", "--no-chart"])
    assert "2024-03-22" in by_origin.stdout
    bad = cli(["--store", str(store_path), "accuracy", "--zone", "SE3", "--by", "month"])
    assert bad.exit_code == 1 and "unknown --by 'month'; use horizon, origin, week, overall, pairs or 15min" in bad.output

    f = cli(["--store", str(store_path), "forecast", "--zone", "SE3", "--daily", "--format", "json"])
    assert len(json.loads(f.stdout)) == 7
    z = json.loads(cli(["--store", str(store_path), "zones", "--format", "json"]).stdout)
    assert {x["zone"]: x["forecast_origins"] for x in z} == {"SE3": 1, "SE4": 0}
    m = cli(["--store", str(store_path), "models"])
    assert "price_naive" in m.stdout and "mae 8.00" in m.stdout
    assert "csv" in cli(["formats"]).stdout


def test_accuracy_over_time_by_week_and_per_origin(history, project, store_path, cli):
    """`--by week --weeks N` and `--origin` print the same numbers as the API, from the same SQL."""
    import io

    r = cli(["--store", str(store_path), "accuracy", "--zone", "SE3", "--by", "week", "--weeks", "2",
             "--no-chart", "--format", "csv"])
    assert r.exit_code == 0, r.output
    got = pd.read_csv(io.StringIO(r.stdout))
    rep = service.accuracy(project, "SE3", 30, 2).by_week
    assert sorted(set(got["week_start"])) == ["2024-03-18", "2024-03-25"] and len(got) == len(rep)
    assert got["mae"].tolist() == rep["mae"].round(2).tolist()
    one = cli(["--store", str(store_path), "accuracy", "--zone", "SE4", "--origin", "2024-03-21", "--format", "csv"])
    hours = pd.read_csv(io.StringIO(one.stdout))
    assert len(hours) == 168 and set(hours["origin_date"]) == {"2024-03-21"} and hours["actual"].notna().all()
    newest = json.loads(cli(["--store", str(store_path), "accuracy", "--zone", "SE4", "--origin", "newest",
                             "--format", "json"]).stdout)
    assert [d["origin_date"] for d in newest] == ["2024-03-27"] and newest[0]["hours"] == 167  # 2024-03-31: 23 h
    docs = json.loads(cli(["--store", str(store_path), "accuracy", "--zone", "SE3", "--zone", "SE4", "--no-chart",
                           "--format", "json"]).stdout)
    assert [d["zone"] for d in docs] == ["SE3", "SE4"] and all(len(d["by_week"]) == 4 * 7 for d in docs)


def test_accuracy_before_any_actuals_says_why_in_every_format(data, project, store_path, cli):
    """Issue 17: `--format json` printed nothing when there was nothing to score, and the table
    did not say what to do. Now JSON is a document with `"overall": null` and the reason, and the
    table format prints the same reason."""
    data.write_features()
    data.write_actuals(data.actuals(days=20))
    data.naive_model()
    service.predict(project, "SE3", outputs=None)
    j = cli(["--store", str(store_path), "accuracy", "--zone", "SE3", "--format", "json"])
    assert j.exit_code == 0, j.output
    doc = json.loads(j.stdout)
    assert doc[0]["overall"] is None and doc[0]["reason"].startswith("no published forecast of SE3 has an actual")
    t = cli(["--store", str(store_path), "accuracy", "--zone", "SE3"])
    assert t.exit_code == 0 and f"SE3: {doc[0]['reason']}" in " ".join(t.output.split())


@pytest.mark.parametrize("args", [["forecast", "--zone", "XX9"], ["accuracy", "--zone", "SE4"]])
def test_not_found_messages(ready, store_path, cli, args):
    r = cli(["--store", str(store_path), *args])
    assert r.exit_code == 1 and r.output.startswith("error: ")


def test_the_store_flag_beats_the_environment(ready, store_path, tmp_path):
    from typer.testing import CliRunner

    from spotcast_serve.cli import app
    from spotcast_storage import config

    config.reset_defaults()
    r = CliRunner().invoke(app, ["--store", str(store_path), "zones", "--format", "json"],
                           env={"SPOTCAST_STORE": str(tmp_path / "other.duckdb")})
    assert r.exit_code == 0, r.output
    assert f"local store {store_path}" in r.stderr and {z["zone"] for z in json.loads(r.stdout)} >= {"SE3"}
    assert not (tmp_path / "other.duckdb").exists()
    config.reset_defaults()
    r = CliRunner().invoke(app, ["--store", str(tmp_path / "missing.duckdb"), "zones"])
    assert r.exit_code == 2 and "no spotcast store" in r.stderr


def test_predict_in_ore_names_the_rate_and_a_missing_rate_writes_nothing(ready, data, project, store_path, tmp_path, cli):
    base = ["--store", str(store_path), "predict", "--zone", "SE3", "--now", "2024-03-22T15:00Z"]
    before = project.get_event_log().latest_event_id()
    r = cli([*base, "--unit", "ore_kwh", "--outputs", str(tmp_path / "o")])
    assert r.exit_code == 1 and "no EUR/SEK rate is known for SE3 2024-03-23" in r.output and "Traceback" not in r.output
    assert project.get_event_log().latest_event_id() == before and not (tmp_path / "o").exists()
    bad = cli([*base, "--unit", "dollars"])
    assert bad.exit_code == 1 and "unknown unit 'dollars'; use one of eur_mwh, sek_kwh, ore_kwh" in bad.output

    data.write_prices(data.actuals(zones=("SE3",), days=29), rate=11.25)
    r = cli([*base, "--unit", "ore_kwh", "--outputs", str(tmp_path / "o"), "--format", "json"])
    assert r.exit_code == 0, r.output
    assert "EUR/SEK 11.2500 (rate of 2024-03-23) for 2024-03-23..29" in r.output
    eur = service.read_forecast(project, "SE3")
    rows = json.loads(r.stdout)
    assert rows[0]["unit"] == "öre/kWh"
    assert rows[0]["p50"] == pytest.approx(eur["p50"].iloc[:24].mean() * 1.125, rel=1e-5)
    files = sorted(p.name for p in (tmp_path / "o").iterdir())
    assert files == ["forecast_SE3_2024-03-23_2024-03-29_made_2024-03-22T1600CET_ore_kwh.csv",
                     "forecast_SE3_2024-03-23_2024-03-29_made_2024-03-22T1600CET_ore_kwh.png"]
    csv = pd.read_csv(tmp_path / "o" / files[0])
    assert set(csv["unit"]) == {"öre/kWh"} and set(csv.loc[csv["horizon_day"] > 0, "rate_date"]) == {"2024-03-23"}
    # The store keeps EUR/MWh.
    stored = project.get_feature_store().get_feature_group("forecasts", 3).read()
    assert stored["p50"].mean() == pytest.approx(eur["p50"].mean())


def test_two_stores_write_their_files_beside_themselves(ready, store_path, tmp_path, cli, monkeypatch):
    """Issue 17: without --outputs, each store's forecast files go beside it (<name>-outputs/), so a
    second store's forecast of the same zone and origin no longer overwrites the first one's."""
    from spotcast_storage import get_storage

    other_path = tmp_path / "elsewhere" / "store.duckdb"
    other = type(ready)(get_storage(mode="local", path=other_path), tmp_path / "elsewhere")
    other.write_features(zones=("SE3",), origins=["2024-03-20", "2024-03-21", "2024-03-22"])
    other.naive_model(spread=20.0)  # another model: another p10/p90
    monkeypatch.chdir(tmp_path)
    written = []
    for path in (store_path, other_path):
        r = cli(["--store", str(path), "predict", "--zone", "SE3", "--now", "2024-03-22T15:00Z"])
        assert r.exit_code == 0, r.output
        csv = path.parent / "store-outputs" / "forecast_SE3_2024-03-23_2024-03-29_made_2024-03-22T1600CET.csv"
        assert f"wrote {csv}" in r.output and csv.with_suffix(".png").exists()
        written.append(csv.read_text())
    assert written[0] != written[1]
    assert not (tmp_path / "outputs").exists()  # nothing in the working directory any more
    from spotcast_storage.local import connection

    connection.release(other_path)


PREDICT_PROBE = """
import json, sys, importlib.metadata as md
ep = next(e for e in md.entry_points(group="console_scripts") if e.name == "spotcast-serve")
sys.argv = ["spotcast-serve", *sys.argv[1:]]
code = 0
try:
    ep.load()()
except SystemExit as exc:
    code = exc.code
loaded = sorted(sys.modules)
import importlib.util
from xgboost.sklearn import XGBRegressor  # still importable after the command
assert XGBRegressor.__name__ == "XGBRegressor"
sklearn_after = None
if importlib.util.find_spec("sklearn") is not None:  # still importable, and whole, after the command
    from sklearn.linear_model import LinearRegression
    sklearn_after = round(float(LinearRegression().fit([[0.0], [1.0]], [0.0, 2.0]).coef_[0]), 6)
print(json.dumps({"code": code, "modules": loaded, "sklearn_after": sklearn_after}), file=sys.__stderr__)
"""

NOT_FOR_PREDICT = ("httpx", "tenacity", "holidays", "sklearn", "scipy.stats", "scipy.special", "xgboost.sklearn",
                   "xgboost.plotting", "pyarrow.acero", "fastapi", "starlette", "pydantic", "uvicorn")
"""What `predict` imported without needing it (issue 17: the command's start-up time): HTTP for
sources, the calendar, xgboost's scikit-learn wrappers and plotting, Arrow's query engine, the
API server."""


def test_predict_as_a_command_imports_only_what_it_needs(data, store_path, tmp_path):
    """A real predict with a real XGBoost model in a fresh interpreter (the console script, as a
    user runs it); ``sys.modules`` at exit must hold none of :data:`NOT_FOR_PREDICT`."""
    import subprocess
    import sys

    from spotcast_storage.local import connection

    data.write_features(zones=("SE3",), origins=["2024-03-20", "2024-03-21"])
    data.xgboost_model()
    connection.release(store_path)
    p = subprocess.run([sys.executable, "-c", PREDICT_PROBE, "--store", str(store_path), "predict",
                        "--zone", "SE3", "--outputs", str(tmp_path / "out")],
                       capture_output=True, text=True, timeout=300)
    report = json.loads(p.stderr.strip().splitlines()[-1])
    assert report["code"] == 0, p.stderr
    assert "with price_xgb v1: wrote 168 forecast rows" in p.stderr
    top = {m.split(".")[0] for m in report["modules"]}
    assert {"xgboost", "pandas", "duckdb"} <= top
    assert "matplotlib" not in top  # the PNG was drawn by the chart process (spotcast_serve.chartproc)
    loaded = set(report["modules"])
    assert not loaded & set(NOT_FOR_PREDICT), sorted(loaded & set(NOT_FOR_PREDICT))
    assert report["sklearn_after"] in (None, 2.0)
    assert len(list((tmp_path / "out").glob("forecast_SE3_*.png"))) == 1


LEAR_PROBE = """
import sys
sys.modules["sklearn"] = None  # importing scikit-learn fails in this process ...
sys.modules["xgboost"] = None  # ... and so does xgboost: a LEAR-coefficient model needs NumPy alone
import importlib.metadata as md
ep = next(e for e in md.entry_points(group="console_scripts") if e.name == "spotcast-serve")
sys.argv = ["spotcast-serve", *sys.argv[1:]]
try:
    ep.load()()
except SystemExit as exc:
    sys.exit(exc.code)
"""


def test_predict_with_lear_coefficient_members_needs_neither_scikit_learn_nor_xgboost(data, project, store_path,
                                                                                      tmp_path):
    """Issue 14: linear members fitted as the published LEAR are stored as coefficients (``.npy``,
    format version 3); `spotcast-serve predict`, in a process where importing scikit-learn and
    xgboost fails, stores the same numbers as the storage package's Predictor computes."""
    import subprocess
    import sys

    import numpy as np

    from spotcast_storage.boosted import (
        LinearCoefficients,
        LinearMember,
        LinearPart,
        ModelSpec,
        load_spotcast_model,
        save_artifact,
    )
    from spotcast_storage.local import connection

    from .conftest import FIRST_DAY, TZ, hourly_prices, price_features

    feats = price_features(hourly_prices("SE3", FIRST_DAY, 30), ["2024-03-20", "2024-03-21"])
    local_ts, local_origin = feats["ts"].dt.tz_convert(TZ), feats["origin"].dt.tz_convert(TZ)
    feats["horizon_day"] = (local_ts.dt.normalize() - local_origin.dt.normalize()).dt.days.astype("int64")
    feats["weekday"] = local_ts.dt.weekday.astype("int64")
    fg = project.get_feature_store().get_or_create_feature_group(
        "price_features", version=1, primary_key=["zone", "origin", "ts"], event_time="origin")
    fg.insert(feats)
    rng = np.random.default_rng(7)
    width = 24 + 7  # price_lag_7d by hour, weekday dummies
    members, coefs = [], []
    for day in range(1, 8):  # one member per horizon day, so every forecast row is covered
        members.append(LinearMember(file=f"linear-d{day}-w0056.npy", window_days=56, horizon_day=day,
                                    x_center=list(rng.normal(60, 5, 24)), x_scale=list(rng.uniform(5, 15, 24)),
                                    y_center=list(rng.normal(60, 5, 24)), y_scale=list(rng.uniform(5, 15, 24))))
        coefs.append(LinearCoefficients(rng.normal(0, 0.05, (width, 24)), rng.normal(0, 0.1, 24)))
    part = LinearPart(sources=["price_lag_7d"], members=members, weight=1.0, solver="lear")
    spec = ModelSpec(kind="linear", features=[], linear=part, residual_quantiles={"p10": -4.0, "p90": 4.0})
    folder = save_artifact(tmp_path / "artifact-lear", spec, [], coefs)
    lineage = {"zones": ["SE3"], "feature_groups": [{"name": "price_features", "version": 1, "commit_id": 1}]}
    project.get_model_registry().python.create_model("price_lear", metrics={"mae": 3.0},
                                                     lineage=lineage).save(folder)
    newest = feats[feats["origin"] == feats["origin"].max()].reset_index(drop=True)
    expected = load_spotcast_model(folder).predict(newest).assign(ts=newest["ts"])
    connection.release(store_path)
    p = subprocess.run([sys.executable, "-c", LEAR_PROBE, "--store", str(store_path), "predict", "--zone", "SE3",
                        "--outputs", str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "with price_lear v1: wrote 168 forecast rows" in p.stdout + p.stderr
    stored = project.get_feature_store().get_feature_group("forecasts", 3).read()
    got = stored.merge(expected, on="ts", suffixes=("", "_expected"))
    assert len(got) == 168 and got["p50"].notna().all()
    np.testing.assert_allclose(got[["p10", "p50", "p90"]].to_numpy(),
                               got[["p10_expected", "p50_expected", "p90_expected"]].to_numpy(), rtol=1e-12)


DNN_PROBE = """
import sys
sys.modules["sklearn"] = None  # importing scikit-learn fails in this process: DNN members need NumPy alone
import importlib.metadata as md
ep = next(e for e in md.entry_points(group="console_scripts") if e.name == "spotcast-serve")
sys.argv = ["spotcast-serve", *sys.argv[1:]]
try:
    ep.load()()
except SystemExit as exc:
    sys.exit(exc.code)
"""


def test_predict_with_dnn_members_needs_no_scikit_learn(data, project, store_path, tmp_path):
    """Issue 14: a default-kind model (XGBoost trees) with DNN members on horizon day 1, stored as
    ``.npy`` arrays (format version 4): `spotcast-serve predict`, in a process where importing
    scikit-learn fails, stores what the storage package's Predictor computes, and day 1 is the
    blend (not the trees alone). A damaged layer file first: a clear error and nothing written."""
    import subprocess
    import sys
    from dataclasses import replace
    from pathlib import Path

    import numpy as np
    import xgboost as xgb

    from spotcast_storage.boosted import (
        DnnMember,
        DnnNets,
        DnnNetwork,
        DnnPart,
        Member,
        ModelSpec,
        Predictor,
        load_spotcast_model,
        save_artifact,
    )
    from spotcast_storage.local import connection

    from .conftest import FIRST_DAY, TZ, hourly_prices, price_features

    feats = price_features(hourly_prices("SE3", FIRST_DAY, 30), ["2024-03-20", "2024-03-21"])
    local_ts, local_origin = feats["ts"].dt.tz_convert(TZ), feats["origin"].dt.tz_convert(TZ)
    feats["horizon_day"] = (local_ts.dt.normalize() - local_origin.dt.normalize()).dt.days.astype("int64")
    feats["weekday"] = local_ts.dt.weekday.astype("int64")
    project.get_feature_store().get_or_create_feature_group(
        "price_features", version=1, primary_key=["zone", "origin", "ts"], event_time="origin").insert(feats)
    cols = ["price_lag_7d", "hour"]
    y = feats["price_lag_7d"].to_numpy() + np.random.default_rng(1).normal(0, 3, len(feats))
    booster = xgb.train({"objective": "reg:quantileerror", "quantile_alpha": [0.1, 0.5, 0.9], "max_depth": 3,
                         "nthread": 1, "seed": 0}, xgb.DMatrix(feats[cols].to_numpy("float32"), label=y,
                                                               feature_names=cols), num_boost_round=20)
    rng = np.random.default_rng(7)
    width = 24 + 7  # price_lag_7d by hour, weekday dummies
    layers = [(width, 6), (6, 3), (3, 24)]
    net = DnnNetwork(tuple(rng.normal(0, 0.3, s) for s in layers), tuple(rng.normal(0, 0.1, s[1]) for s in layers))
    nets = DnnNets(rng.normal(60, 5, 24), rng.uniform(5, 15, 24), rng.normal(60, 5, 24), rng.uniform(5, 15, 24),
                   (net,))
    member = DnnMember(scaler="dnn-d1-w0056-scaler.npy", nets=[[f"dnn-d1-w0056-s0-l{i}.npy" for i in range(3)]],
                       seeds=[0], window_days=56, horizon_day=1)
    part = DnnPart(sources=["price_lag_7d"], members=[member], weight=0.5)
    spec = ModelSpec(kind="xgboost", features=cols, members=[Member(file="member-00.ubj")], dnn=part)
    folder = save_artifact(tmp_path / "artifact-dnn", spec, [booster], dnn_nets=[nets])
    lineage = {"zones": ["SE3"], "feature_groups": [{"name": "price_features", "version": 1, "commit_id": 1}]}
    project.get_model_registry().python.create_model("price_dnn", metrics={"mae": 3.0}, lineage=lineage).save(folder)
    newest = feats[feats["origin"] == feats["origin"].max()].reset_index(drop=True)
    loaded = load_spotcast_model(folder)
    expected = loaded.predict(newest).assign(ts=newest["ts"])
    trees = Predictor(replace(spec, dnn=None), [booster]).predict(newest)
    day1 = (newest["horizon_day"] == 1).to_numpy()
    assert (expected["p50"].to_numpy()[day1] != trees["p50"].to_numpy()[day1]).all()
    np.testing.assert_allclose(expected["p50"].to_numpy()[~day1], trees["p50"].to_numpy()[~day1])
    registered = project.get_model_registry().get_model("price_dnn").download()
    layer = Path(registered) / "dnn-d1-w0056-s0-l1.npy"
    good = layer.read_bytes()
    events = project.get_event_log().latest_event_id()
    connection.release(store_path)
    args = [sys.executable, "-c", DNN_PROBE, "--store", str(store_path), "predict", "--zone", "SE3", "--outputs",
            str(tmp_path / "out")]
    layer.write_bytes(b"")  # an empty (damaged) layer file
    bad = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and "is not a plain NumPy array" in bad.stdout + bad.stderr, bad.stdout + bad.stderr
    assert "refit the model" in bad.stdout + bad.stderr and "Traceback" not in bad.stdout + bad.stderr
    assert project.get_event_log().latest_event_id() == events  # nothing written
    connection.release(store_path)
    layer.write_bytes(good)
    p = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "with price_dnn v1: wrote 168 forecast rows" in p.stdout + p.stderr
    stored = project.get_feature_store().get_feature_group("forecasts", 3).read()
    got = stored.merge(expected, on="ts", suffixes=("", "_expected"))
    assert len(got) == 168 and got["p50"].notna().all()
    np.testing.assert_allclose(got[["p10", "p50", "p90"]].to_numpy(),
                               got[["p10_expected", "p50_expected", "p90_expected"]].to_numpy(), rtol=1e-12)
