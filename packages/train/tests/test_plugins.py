"""register_models: built-ins come through the hook; a third-party model plugs in the same way."""

from __future__ import annotations

import sys
import types

import pandas as pd

from spotcast_storage.boosted import ModelSpec, Predictor
from spotcast_storage.hookspecs import hookimpl
from spotcast_train import service
from spotcast_train.models import ModelType, baselines, model_types
from spotcast_train.plugin import DEFAULT_PLUGINS, plugin_manager


def test_builtins_register_through_the_hook():
    pm = plugin_manager()
    for name in DEFAULT_PLUGINS:
        assert pm.get_plugin(name) is sys.modules[name]
    types_ = model_types()
    assert {"xgboost", "naive-daily", "naive-weekly"} <= set(types_)
    assert {b.name for b in baselines()} == {"naive-daily", "naive-weekly"}


def test_train_registers_its_event_handler():
    from spotcast_storage.pipeline import collect_handlers

    plugin_manager()
    h = [h for h in collect_handlers() if h.consumer == "train"]
    assert len(h) == 1 and h[0].names == ("price_features",) and h[0].order == 30


def _constant_model(value: float) -> types.ModuleType:
    """A third-party plugin: a model that always forecasts ``value`` (a naive model with an offset)."""
    mod = types.ModuleType("spotcast_test_constant")

    def fit(req):
        spec = ModelSpec(kind="naive", features=["price_lag_1d"], naive_column="price_lag_1d",
                         residual_quantiles={"p10": -1.0, "p90": 1.0})
        return _Shifted(spec, value)

    @hookimpl
    def register_models(register):
        register(ModelType("constant", "always the same price", fit))

    mod.register_models = register_models
    return mod


class _Shifted(Predictor):
    def __init__(self, spec, value):
        super().__init__(spec)
        self.value = value

    def predict(self, X: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"p10": self.value - 1, "p50": self.value, "p90": self.value + 1}, index=X.index)


def test_a_plugin_model_is_backtested_and_judged_against_the_naive(fresh_store):
    pm = plugin_manager()
    plugin = _constant_model(0.0)
    pm.register(plugin, name="constant-test")
    try:
        assert "constant" in model_types()
        r = service.backtest(fresh_store.project, "SE3", "2024-03-01", "2024-03-04", model="constant", write=False)
        assert set(r.forecasts["model"]) == {"constant", "naive-daily", "naive-weekly"}
        assert "does NOT beat the naive" in r.verdict
        overall = r.table[r.table.horizon_day == 0].set_index("model")
        assert not overall.loc["constant", "beats_naive"]
    finally:
        pm.unregister(name="constant-test")
    assert "constant" not in model_types()
