"""The open model layer (issue 14): a model built on another library (scikit-learn), added by a
plugin with no edit to spotcast-storage, trains through `spotcast-train fit --model ridge`,
registers, and is served by `spotcast-serve predict` and the API."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from spotcast_storage.errors import ValidationError
from spotcast_storage.local import connection
from spotcast_storage.modelformat import load_predictor, model_formats, write_envelope
from spotcast_storage.plugins import get_plugin_manager

from . import ridge_plugin

NOW = (pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(days=89, hours=9)).isoformat()


@pytest.fixture
def ridge():
    pm = get_plugin_manager()
    pm.register(ridge_plugin, name="test-ridge")
    try:
        yield ridge_plugin
    finally:
        pm.unregister(name="test-ridge")


def test_builtin_kinds_register_through_the_same_hook():
    pm = get_plugin_manager()
    builtin = pm.get_plugin("spotcast_storage.model_kinds")
    assert "register_model_formats" in {h.name for h in pm.get_hookcallers(builtin)}
    assert {"xgboost", "linear", "naive"} <= set(model_formats())
    pm.unregister(name="spotcast_storage.model_kinds")  # without the built-in plugin, no kind is known
    try:
        assert not {"xgboost", "linear", "naive"} & set(model_formats())
    finally:
        pm.register(builtin, name="spotcast_storage.model_kinds")


def test_a_scikit_learn_model_plugin_trains_registers_and_is_served(ridge, project, store_path, tmp_path):
    from spotcast_serve.cli import app as serve_app
    from spotcast_train.cli import app as train_app

    project.close()
    connection.release(store_path)
    r = CliRunner().invoke(train_app, ["--store", str(store_path), "fit", "--zone", "SE3", "--model", "ridge",
                                       "--now", NOW, "--format", "json", "--no-progress"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    out = json.loads(r.output[r.output.index("{"):])
    assert out["name"] == "price_ridge_se3" and out["version"] == 1
    assert out["decision"]["decision"] == "promoted", out["status"]
    model = load_predictor(out["artifact"])
    assert isinstance(model, ridge_plugin.RidgePredictor) and type(model.ridge).__module__.startswith("sklearn")
    assert model.lineage["model_type"] == "ridge"
    connection.release(store_path)

    r = CliRunner().invoke(serve_app, ["--store", str(store_path), "predict", "--zone", "SE3", "--now", NOW,
                                       "--outputs", str(tmp_path / "out")], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "price_ridge_se3" in r.output
    connection.release(store_path)

    from fastapi.testclient import TestClient

    from spotcast_serve.api import create_app
    from spotcast_storage import get_storage

    with TestClient(create_app(project=get_storage(mode="local", path=store_path))) as client:
        body = client.get("/forecast", params={"zone": "SE3"}).json()
    assert body["model"].startswith("price_ridge_se3")
    connection.release(store_path)


def test_an_artifact_of_a_kind_no_plugin_reads_says_how_to_fix_it(tmp_path):
    folder = write_envelope(tmp_path / "m", kind="sklearn-ridge", features=["a"], quantiles=[0.1, 0.5, 0.9])
    with pytest.raises(ValidationError, match=r"kind 'sklearn-ridge', which no installed plugin reads.*"
                                              r"spotcast-train fit --zone"):
        load_predictor(folder)
    with pytest.raises(ValidationError, match="quantiles must be increasing"):
        write_envelope(tmp_path / "n", kind="x", features=["a"], quantiles=[0.9, 0.1])
