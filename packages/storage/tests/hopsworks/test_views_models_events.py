"""Feature views, the model registry and the event log on Hopsworks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("hopsworks", reason="the hopsworks extra is not installed (uv sync --extra hopsworks)")

from spotcast_storage import NotFoundError, SchemaError, ValidationError, get_storage
from spotcast_storage.events import COMMIT, MODEL
from spotcast_storage.pipeline import EventHandler, RunContext

from .test_feature_groups import hourly, prices


def test_feature_view_is_created_in_hopsworks_and_reads_like_local(hw, cluster):
    fg = prices(hw)
    fg.insert(hourly("SE3", "2024-01-01", 100))
    fs = hw.get_feature_store()
    fv = fs.get_or_create_feature_view("view", version=1, query=fg.select_all(), labels=["price"])
    kw = cluster.fs.get_or_create_feature_view.call_args.kwargs
    assert (kw["name"], kw["version"], kw["labels"]) == ("view", 1, ["price"])
    assert kw["query"].spotcast_table.name == "prices"
    batch = fv.get_batch_data(start_time="2024-01-02", end_time="2024-01-03")
    assert len(batch) == 24 and "price" not in batch.columns
    assert batch.ts.is_monotonic_increasing and str(batch.ts.dtype) == "datetime64[us, UTC]"
    call = cluster.views[("view", 1)].get_batch_data.call_args.kwargs
    assert (call["primary_key"], call["event_time"], call["dataframe_type"]) == (True, True, "pandas")


def test_train_test_split_is_time_ordered_although_hopsworks_returns_any_order(hw, cluster):
    fg = prices(hw)
    fg.insert(hourly("SE3", "2024-01-01", 100))
    fv = hw.get_feature_store().get_or_create_feature_view("view", version=1, query=fg.select_all(), labels=["price"])
    X_train, X_test, y_train, _ = fv.train_test_split(test_size=0.2)
    assert len(X_train) == 80 and len(X_test) == 20
    assert X_train.ts.max() < X_test.ts.min()
    assert y_train.price.tolist() == list(map(float, range(80)))
    X_tr, X_te, _, _ = fv.train_test_split(test_start="2024-01-04T00:00Z")
    assert X_tr.ts.max() < pd.Timestamp("2024-01-04T00:00Z") <= X_te.ts.min()
    X, y = fv.training_data(start_time="2024-01-02", end_time="2024-01-03")
    assert len(X) == len(y) == 24 and X.ts.is_monotonic_increasing
    with pytest.raises(ValidationError, match="test_size"):
        fv.train_test_split(test_size=1.5)


def test_feature_view_comes_back_in_a_new_process_and_rules_hold(hw, cluster):
    fg = prices(hw)
    fg.insert(hourly("SE3", "2024-01-01", 10))
    fs = hw.get_feature_store()
    fs.get_or_create_feature_view("view", version=1, query=fg.select(["zone", "ts", "price"]), labels=["price"])
    fs2 = get_storage(mode="hopsworks").get_feature_store()
    again = fs2.get_feature_view("view")
    assert again.labels == ["price"] and again.query.columns == ("zone", "ts", "price")
    assert len(again.get_batch_data()) == 10
    assert fs2.get_feature_views() == [("view", 1)]
    with pytest.raises(SchemaError, match="version 2"):
        fs2.get_or_create_feature_view("view", version=1, query=fg.select_all(), labels=["price"])
    with pytest.raises(ValidationError, match="label"):
        fs.get_or_create_feature_view("other", version=1, query=fg.select_all(), labels=["nope"])
    with pytest.raises(NotFoundError):
        fs.get_feature_view("absent")


def test_model_registry_versions_lineage_best_and_download(hw, cluster, tmp_path):
    mr = hw.get_model_registry()
    art = tmp_path / "model"
    art.mkdir()
    (art / "model.json").write_text('{"trees": 1}')
    lineage = {"feature_groups": [{"name": "price_features", "version": 1, "commit_id": 1704067200000}]}
    m1 = mr.python.create_model("m", metrics={"mae": 5.0}, description="first", lineage=lineage)
    m1.save(str(art))
    cluster.mr.python.create_model.assert_called_with(name="m", metrics={"mae": 5.0}, description="first")
    cluster.models["m"][0].save.assert_called_once_with(str(art))
    m2 = mr.python.create_model("m", metrics={"mae": 4.0}, description="second")
    m2.save(art / "model.json")
    assert (m1.version, m2.version) == (1, 2)
    fresh = get_storage(mode="hopsworks").get_model_registry()
    assert fresh.get_model("m").version == 2
    assert fresh.get_model("m", version=1).lineage == lineage
    assert fresh.get_model("m", version=1).training_metrics == {"mae": 5.0}  # numbers, not the API's strings
    assert fresh.get_best_model("m", "mae", "min").version == 2
    assert fresh.get_best_model("m", "mae", "max").version == 1
    cluster.mr.get_best_model.assert_called_with(name="m", metric="mae", direction="max")
    assert [m.version for m in fresh.get_models("m")] == [1, 2]
    assert (Path(fresh.get_model("m", 1).download()) / "model.json").read_text() == '{"trees": 1}'
    with pytest.raises(NotFoundError):
        fresh.get_model("absent")
    with pytest.raises(ValidationError, match="metric"):
        mr.python.create_model("m", metrics={"mae": "bad"})
    with pytest.raises(ValidationError, match="direction"):
        mr.get_best_model("m", "mae", "lowest")
    with pytest.raises(NotFoundError, match="do not exist"):
        mr.python.create_model("m").save(tmp_path / "missing")


def test_model_with_a_feature_view_passes_it_to_the_client(hw, cluster, tmp_path):
    fg = prices(hw)
    fg.insert(hourly("SE3", "2024-01-01", 10))
    fv = hw.get_feature_store().get_or_create_feature_view("view", version=1, query=fg.select_all(), labels=["price"])
    (tmp_path / "a.txt").write_text("x")
    m = hw.get_model_registry().python.create_model("m", metrics={"mae": 1.0}, feature_view=fv,
                                                    training_dataset_version=3)
    m.save(tmp_path / "a.txt")
    kw = cluster.mr.python.create_model.call_args.kwargs
    assert kw["feature_view"] is cluster.views[("view", 1)] and kw["training_dataset_version"] == 3
    assert hw.get_model_registry().get_model("m").extra["feature_view"] == {"name": "view", "version": 1}


def test_a_models_input_example_is_kept_as_the_local_backend_keeps_it(hw, cluster, tmp_path):
    (tmp_path / "a.txt").write_text("x")
    example = pd.DataFrame({"zone": ["SE3", "SE4"], "price": [1.5, 2.5]})
    m = hw.get_model_registry().python.create_model("m", metrics={"mae": 1.0}, input_example=example)
    local = get_storage(path=tmp_path / "s.duckdb", mode="local").get_model_registry()
    assert m.extra == local.python.create_model("m", input_example=example).extra == {
        "input_example": [{"zone": "SE3", "price": 1.5}]}
    m.save(tmp_path / "a.txt")
    assert cluster.mr.python.create_model.call_args.kwargs["input_example"] is example  # the client gets the frame
    assert hw.get_model_registry().get_model("m").extra == {"input_example": [{"zone": "SE3", "price": 1.5}]}


def test_event_log_cursors_are_durable_and_monotonic(hw, cluster, tmp_path):
    fg = prices(hw)
    log = hw.get_event_log()
    start = log.latest_event_id()
    fg.insert(hourly("SE3", "2024-01-01", 24))
    fg.insert(hourly("SE3", "2024-01-02", 24))
    pending = log.read(after=start)
    assert [e.kind for e in pending] == [COMMIT, COMMIT]
    log.ack("c", pending[0].event_id)
    fresh = get_storage(mode="hopsworks").get_event_log()  # the cursor lives on the cluster
    assert fresh.cursor("c") == pending[0].event_id
    assert [e.event_id for e in fresh.pending("c", names=["prices"])] == [pending[1].event_id]
    fresh.ack("c", pending[1].event_id)
    writes = cluster.table("spotcast_cursors").mock.insert.call_count
    fresh.ack("c", pending[0].event_id)  # never moves back, and writes nothing
    assert cluster.table("spotcast_cursors").mock.insert.call_count == writes
    assert fresh.cursor("c") == pending[1].event_id and fresh.pending("c", names=["prices"]) == []
    assert set(fresh.cursors()) == {"c"}
    (tmp_path / "a.txt").write_text("x")
    hw.get_model_registry().python.create_model("m", metrics={"mae": 1.0}).save(tmp_path / "a.txt")
    ev = fresh.pending("c", kinds=[MODEL])
    assert [(e.kind, e.name, e.version, e.commit_id) for e in ev] == [(MODEL, "m", 1, None)]
    assert log.read(after=start, limit=1) == pending[:1]


def test_spotcast_run_delivery_works_unchanged_against_hopsworks(hw):
    """The runner's own `deliver` (what `spotcast run` does after its steps), on this backend."""
    from spotcast_storage.runner import deliver

    fg = prices(hw)
    seen: list[list[int]] = []

    def handle(evs, ctx):
        seen.append([e.commit_id for e in evs])
        return f"{len(evs)} events"

    handler = EventHandler(consumer="features", handle=handle, names=("prices",))
    ctx = RunContext(project=hw, zones=["SE3"], log=lambda msg: None)
    c1 = fg.insert(hourly("SE3", "2024-01-01", 24))
    c2 = fg.insert(hourly("SE3", "2024-01-02", 24))
    fg.insert(hourly("SE3", "2024-01-02", 24))  # no change: acknowledged, not delivered
    report = deliver(ctx, handlers=[handler])
    assert seen == [[c1.commit_id, c2.commit_id]] and report.deliveries == [("features", 2, "2 events")]
    again = get_storage(mode="hopsworks")  # a restarted runner resumes from the cursor on the cluster
    assert deliver(RunContext(project=again, zones=["SE3"], log=lambda m: None), handlers=[handler]).deliveries == []
    assert again.get_event_log().cursor("features") == again.get_event_log().latest_event_id()


def test_store_cli_and_status_in_mode_hopsworks(cluster, tmp_path):
    import json

    from typer.testing import CliRunner

    from spotcast_storage import cli

    project = get_storage(mode="hopsworks")
    prices(project).insert(hourly("SE3", "2024-01-01", 24))
    (tmp_path / "a.txt").write_text("x")
    project.get_model_registry().python.create_model("m", metrics={"mae": 1.0}).save(tmp_path / "a.txt")
    cli_runner = CliRunner()
    ls = cli_runner.invoke(cli.app, ["--mode", "hopsworks", "ls", "--format", "json"])
    assert ls.exit_code == 0, ls.output
    rows = json.loads(ls.stdout)
    assert [(r["name"], r["version"], r["rows"]) for r in rows] == [("prices", 1, 24)]
    models = cli_runner.invoke(cli.app, ["--mode", "production", "models", "--format", "json"])
    assert models.exit_code == 0 and json.loads(models.stdout)[0]["version"] == 1
    sql = cli_runner.invoke(cli.app, ["--mode", "hopsworks", "sql", "select 1"])
    assert sql.exit_code == 1 and "error:" in sql.output


def test_after_commit_hook_is_called_with_the_event(hw):
    from spotcast_storage.hookspecs import hookimpl
    from spotcast_storage.plugins import get_plugin_manager

    got = []

    class Listener:
        @hookimpl
        def spotcast_after_commit(self, event, project):
            got.append((event.kind, event.name, project.mode))

    pm = get_plugin_manager()
    plugin = Listener()
    pm.register(plugin, name="test-listener")
    try:
        prices(hw).insert(hourly("SE3", "2024-01-01", 2))
    finally:
        pm.unregister(plugin)
    assert got == [(COMMIT, "prices", "hopsworks")]


def test_promotion_decisions_are_kept_in_the_registry_metadata(hw, cluster, tmp_path):
    """The gate's records live in spotcast's registry metadata (extra): serving_status reads the
    same story on Hopsworks as on the local store, also from a fresh login."""
    from .promotion_cases import check_the_story

    art = tmp_path / "artifact"
    art.mkdir()
    (art / "spotcast-model.json").write_text("{}")
    check_the_story(hw, art, lambda: get_storage(mode="hopsworks"))
