"""Transformations are plugins: built-ins come through the same hook as a third-party one."""

from __future__ import annotations

import inspect
from pathlib import Path

import pandas as pd
import pytest

from spotcast_features import build as b
from spotcast_features import hookspecs, synthetic
from spotcast_features.plugin import DEFAULT_PLUGINS, plugin_manager
from spotcast_features.transform import Transformation
from spotcast_storage.contracts.base import Column
from spotcast_storage.contracts.features import get_or_create_training_view
from spotcast_storage.contracts.market import PRICES
from spotcast_storage.errors import NotFoundError, SchemaError, ValidationError
from spotcast_storage.hookspecs import hookimpl
from spotcast_storage.pipeline import RunContext


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


class BrokenPlugin:
    @hookimpl
    def register_features(self, register):
        register(Transformation("broken", (Column("x_declared", "double", "declared"),),
                                lambda batch: batch.frame(x_other=1.0)))


class ClashPlugin:
    @hookimpl
    def register_features(self, register):
        register(Transformation("clash", (Column("hour", "bigint", "again"),), lambda batch: batch.frame(hour=1)))


@pytest.fixture
def with_plugin():
    pm = plugin_manager()
    registered = []

    def add(obj):
        pm.register(obj, name=f"test-{type(obj).__name__}")
        registered.append(obj)

    try:
        yield add
    finally:
        for obj in registered:
            pm.unregister(obj)


def _prices(project, days=10):
    PRICES.get_or_create(project.get_feature_store()).insert(synthetic.prices(["SE3"], "2024-05-01", days))


def test_built_ins_are_registered_as_plugins():
    t = b.list_transformations()
    assert t["name"].tolist() == ["calendar", "price_history", "weather", "exogenous"]
    assert t["plugin"].tolist() == list(DEFAULT_PLUGINS)
    assert "price_lag_7d" in t.set_index("name").loc["price_history", "columns"]


def test_a_plugin_that_adds_a_column_writes_a_new_version(project, with_plugin):
    _prices(project)
    with_plugin(SpreadPlugin())
    assert "spread" in b.list_transformations()["name"].tolist()
    with pytest.raises(SchemaError, match="rebuild --version 2"):
        b.build(project)
    with pytest.raises(NotFoundError):
        project.get_feature_store().get_feature_group("price_features", 1)
    s = b.rebuild(project, version=2)
    assert s.version == 2 and s.rows > 0
    rows = b.show(project, "SE3", "2024-05-05", version=2)
    last_day = synthetic.prices(["SE3"], "2024-05-01", 10)
    d5 = last_day[last_day["ts"].dt.tz_convert("Europe/Stockholm").dt.day == 5]["price_eur_mwh"]
    assert rows["price_spread"].iloc[0] == pytest.approx(d5.max() - d5.min())
    # later builds find v2 by its columns; the training view over v2 is version 2
    _prices(project, days=11)
    assert b.build(project).version == 2
    fv = get_or_create_training_view(project.get_feature_store(), features_version=2)
    assert fv.version == 2 and "price_spread" in fv.get_batch_data().columns


def test_a_plugin_returning_other_columns_than_declared_is_rejected(project, with_plugin):
    _prices(project)
    with_plugin(BrokenPlugin())
    with pytest.raises(SchemaError, match="'broken' returned columns"):
        b.rebuild(project, version=2)
    with pytest.raises(NotFoundError):
        project.get_feature_store().get_feature_group("price_features", 2)


def test_two_plugins_may_not_own_one_column(with_plugin):
    with_plugin(ClashPlugin())
    with pytest.raises(ValidationError, match="'hour' is produced by both"):
        b.list_transformations()


def test_register_rejects_what_is_not_a_transformation(with_plugin):
    class Wrong:
        @hookimpl
        def register_features(self, register):
            register({"name": "x"})

    with_plugin(Wrong())
    with pytest.raises(ValidationError, match="Transformation"):
        b.list_transformations()


def test_the_event_handler_is_registered_for_spotcast_run_and_builds(project):
    from spotcast_features import plugin

    pm = plugin_manager()
    # registered with the one plugin manager (calling every stage's hook here would test them too)
    assert plugin in [i.plugin for i in pm.hook.register_event_handlers.get_hookimpls()]
    found = []
    plugin.register_event_handlers(register=found.append)
    (h,) = found
    assert h.names == ("prices", "weather", "exogenous") and h.order == 20 and h.kinds == ("commit",)
    _prices(project)
    log = project.get_event_log()
    events = log.pending("features", kinds=h.kinds, names=h.names)
    ctx = RunContext(project=project, zones=["SE4"])  # zones do not narrow: the runner acks all
    line = h.handle(events, ctx)
    assert "SE3" in line and "origins" in line
    assert len(b.show(project, "SE3", "2024-05-05")) == 168
    assert h.handle([], ctx) is None
    again = h.handle(events, ctx)  # after a crash the runner delivers the same events again
    assert "0 new, 0 changed, 0 removed" in again


def test_every_hook_is_documented_and_tested():
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    here = Path(__file__).read_text()
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction):
        if hasattr(fn, "spotcast_spec"):
            assert f"`{name}`" in readme, f"hook {name} is not documented in the README"
            assert f"def {name}" in here, f"hook {name} has no test plugin"
