"""A feature plugin's column reaches a model (issue 16): the plugin's column goes into a new
price_features version, train takes the newest version by default and records it in the model's
lineage with the columns it used, and serve feeds the model rows of that version."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from spotcast_features.plugin import plugin_manager
from spotcast_features.transform import Transformation
from spotcast_storage import get_storage
from spotcast_storage.contracts.base import Column
from spotcast_storage.hookspecs import hookimpl
from spotcast_storage.local import connection
from test_pipeline import run_cli
from test_zones import epftoolbox_file


def _spread(batch):
    p = batch.prices
    last = p[p["local_date"] == p.groupby("origin")["local_date"].transform("max")]
    spread = last.groupby("origin")["price_eur_mwh"].agg(lambda s: s.max() - s.min())
    return batch.frame(price_spread=spread.reindex(pd.DatetimeIndex(batch.targets["origin"])).to_numpy())


class SpreadPlugin:
    @hookimpl
    def register_features(self, register):
        register(Transformation("spread", (Column("price_spread", "double", "max - min of the last known day"),),
                                _spread, description="test plugin"))


@pytest.fixture
def spread():
    pm = plugin_manager()
    plugin = SpreadPlugin()
    pm.register(plugin, name="test-spread")
    try:
        yield plugin
    finally:
        pm.unregister(plugin)


@pytest.mark.slow  # the promotion gate fits 28 origins' worth of models
def test_a_feature_plugins_column_is_in_a_trained_and_served_model(spread, store_path, tmp_path, fast_train):
    days = 60
    first = (pd.Timestamp.now() - pd.Timedelta(days=days)).normalize()
    last = first + pd.Timedelta(days=days - 1)
    f = epftoolbox_file(tmp_path / "BE.csv", first, days)
    assert run_cli(store_path, "ingest", "backfill", "--source", "csv", "--zone", "BE", "--file", str(f)).exit_code == 0
    r = run_cli(store_path, "features", "rebuild", "--version", "2", "--no-progress")
    assert r.exit_code == 0, r.output
    r = run_cli(store_path, "train", "fit", "--zone", "BE", "--refit", "28d", "--no-progress", "--format", "json",
                "--no-linear")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output[r.output.index("{"):])
    project = get_storage(mode="local", path=store_path)
    m = project.get_model_registry().get_model(out["name"], out["version"])
    assert m.lineage["features"]["version"] == 2 and "price_spread" in m.lineage["features"]["columns"]
    assert {"name": "price_features", "version": 2} in [{k: g[k] for k in ("name", "version")}
                                                        for g in m.lineage["feature_groups"]]
    connection.release(store_path)

    now = pd.Timestamp(last, tz="Europe/Brussels") + pd.Timedelta(hours=11)
    r = run_cli(store_path, "serve", "predict", "--zone", "BE", "--no-files", "--now", now.isoformat())
    assert r.exit_code == 0, r.output
    project = get_storage(mode="local", path=store_path)
    fc = project.get_feature_store().get_feature_group("forecasts").read()
    v2 = project.get_feature_store().get_feature_group("price_features", 2).read()
    connection.release(store_path)
    assert (fc["model"] == out["name"]).all() and fc["origin"].max() == v2["origin"].max()

    # an explicit version that does not exist is refused with what to do
    r = run_cli(store_path, "train", "fit", "--zone", "BE", "--features-version", "3", "--no-progress")
    assert r.exit_code == 1 and "no price_features v3" in r.output and "rebuild --version 3" in r.output
