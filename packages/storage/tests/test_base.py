"""What does not depend on where the data lives is written once, in spotcast_storage.base: both
backends inherit it, and a new backend gets it by writing only the abstract methods."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from spotcast_storage import base
from spotcast_storage.errors import NotFoundError, SchemaError, ValidationError
from spotcast_storage.hopsworks.events import HopsworksEventLog
from spotcast_storage.hopsworks.project import HopsworksProject
from spotcast_storage.hopsworks.registry import HopsworksModel, HopsworksModelRegistry
from spotcast_storage.hopsworks.store import (
    HopsworksFeatureGroup,
    HopsworksFeatureStore,
    HopsworksFeatureView,
)
from spotcast_storage.local.events import LocalEventLog
from spotcast_storage.local.project import LocalProject
from spotcast_storage.local.registry import LocalModel, LocalModelRegistry
from spotcast_storage.local.store import LocalFeatureGroup, LocalFeatureStore, LocalFeatureView
from spotcast_storage.query import Feature

SHARED = [
    (LocalProject, HopsworksProject, ["_notify"]),
    (LocalEventLog, HopsworksEventLog, ["pending"]),
    (LocalFeatureStore, HopsworksFeatureStore,
     ["get_feature_group", "get_or_create_feature_group", "create_feature_group", "get_or_create_feature_view",
      "create_feature_view", "point_in_time_join"]),
    (LocalFeatureGroup, HopsworksFeatureGroup,
     ["features", "read", "_time_filter", "_insert_frame", "_require_data", "_require_query_data",
      "_label", "select", "as_of"]),
    (LocalFeatureView, HopsworksFeatureView, ["__repr__", "training_data", "train_test_split", "event_time"]),
    (LocalModel, HopsworksModel, ["metrics", "__repr__", "to_dict"]),
]


@pytest.mark.parametrize(("local", "hopsworks", "names"), SHARED, ids=lambda x: getattr(x, "__name__", None))
def test_the_backends_inherit_one_implementation(local, hopsworks, names):
    for name in names:
        defined_local = next(k for k in local.__mro__ if name in vars(k))
        defined_hw = next(k for k in hopsworks.__mro__ if name in vars(k))
        assert defined_local is defined_hw, f"{name}: {defined_local.__name__} vs {defined_hw.__name__}"
        assert defined_local.__module__ == "spotcast_storage.base", name


def test_both_registries_create_models_through_the_one_factory(tmp_path):
    local = LocalModelRegistry(LocalProject(tmp_path / "s.duckdb"))
    hopsworks = HopsworksModelRegistry(project=None, client_mr=None)
    for mr, model in [(local, LocalModel), (hopsworks, HopsworksModel)]:
        assert type(mr.python) is base.ModelFactory and mr.sklearn is mr.python
        m = mr.python.create_model("m", metrics={"mae": 1.0}, input_example=pd.DataFrame({"x": [2.0]}))
        assert type(m) is model and m.extra == {"input_example": [{"x": 2.0}]}


# -- a third backend, in memory, that writes only the abstract methods -------------------------
class MemProject:
    def describe(self) -> str:
        return "memory store"


class MemGroup(base.FeatureGroupBase):
    def insert(self, df: pd.DataFrame, overwrite: bool = False, operation: str = "upsert",
               naive_timestamps: str | None = None, **kwargs: Any) -> base.Commit:
        df = self._insert_frame(df, operation, naive_timestamps)
        self.rows = df
        self._persisted = True
        return base.Commit(1, pd.Timestamp.now(tz="UTC"), len(df), 0, 0)

    def commit_details(self, wallclock_time: Any = None, limit: int | None = None) -> dict[int, dict[str, Any]]:
        return {}

    def _backend_read_query(self, query: Any, limit: int | None = None, **kwargs: Any) -> pd.DataFrame:
        self._require_query_data(query)
        self.last_query = query
        return self.rows


class MemStore(base.FeatureStoreBase):
    def __init__(self) -> None:
        self.project = MemProject()
        self.groups: list[MemGroup] = []

    def get_feature_groups(self, name: str | None = None) -> list[MemGroup]:
        return [g for g in self.groups if name is None or g.name == name]

    def _new_group(self, name, version, primary_key, event_time, known_at, description, features, time_travel,
                   options) -> MemGroup:
        g = MemGroup(self, name, version, primary_key, event_time, known_at, description, features, options,
                     persisted=False)
        self.groups.append(g)
        return g

    def get_feature_view(self, name, version=None):
        raise NotFoundError(f"feature view {name} does not exist")

    def _new_view(self, name, version, query, labels, description):
        raise AssertionError("not reached in these tests")

    def get_feature_views(self) -> list[tuple[str, int]]:
        return []


def test_a_new_backend_gets_lookups_version_checks_and_their_messages_from_the_base():
    fs = MemStore()
    fg = fs.get_or_create_feature_group("prices", primary_key=["zone", "ts"], event_time="ts")
    assert (fg.version, fg.primary_key) == (1, ["zone", "ts"])
    assert fs.get_or_create_feature_group("prices") is fg
    with pytest.raises(SchemaError, match=r"a different key is a new version \(v2\)"):
        fs.get_or_create_feature_group("prices", version=1, primary_key=["zone"])
    with pytest.raises(NotFoundError, match="weather does not exist in memory store; existing groups: prices"):
        fs.get_feature_group("weather")
    with pytest.raises(ValidationError, match="name 'Prices' is not valid"):
        fs.get_or_create_feature_group("Prices", primary_key=["k"])


def test_a_new_backend_gets_checked_inserts_and_time_ranged_reads_from_the_base():
    fs = MemStore()
    fg = fs.get_or_create_feature_group("prices", primary_key=["zone", "ts"], event_time="ts",
                                        features=[Feature("zone", "string"), Feature("ts", "timestamp")])
    with pytest.raises(NotFoundError, match="prices v1 has no data yet"):
        fg.read()
    with pytest.raises(ValidationError, match="operation must be 'upsert' or 'insert'"):
        fg.insert(pd.DataFrame({"zone": ["SE3"]}), operation="merge")
    with pytest.raises(ValidationError, match="takes a pandas DataFrame, got list"):
        fg.insert([1, 2])  # type: ignore[arg-type]
    fg.insert(pd.DataFrame({"zone": ["SE3"], "ts": [pd.Timestamp("2024-01-01", tz="UTC")]}))
    fg.read(start_time="2024-01-01", end_time="2024-01-02")
    f = fg.last_query.filters
    assert (f.op, f.left.feature, f.left.op, f.right.op) == ("AND", "ts", ">=", "<")
    assert (f.left.value, f.right.value) == (pd.Timestamp("2024-01-01", tz="UTC"), pd.Timestamp("2024-01-02", tz="UTC"))
    other = fs.get_or_create_feature_group("flags", primary_key=["zone"], features=[Feature("zone", "string")])
    other.insert(pd.DataFrame({"zone": ["SE3"]}))
    with pytest.raises(ValidationError, match="flags v1 has no event time"):
        other.read(start_time="2024-01-01")


def test_a_backend_that_leaves_out_a_storage_method_cannot_be_created():
    half = type("Half", (base.FeatureStoreBase,), {k: v for k, v in vars(MemStore).items() if k != "_new_view"})
    with pytest.raises(TypeError, match="_new_view"):
        half()


def test_one_model_factory_checks_metrics_and_keeps_the_view_and_input_example_for_any_backend():
    class MemModel(base.ModelBase):
        def save(self, model_path):
            return self

        def download(self, local_path=None):
            return ""

        @property
        def model_files_path(self):
            return None

    class MemRegistry(base.ModelRegistryBase):
        _model_class = MemModel

        def get_model(self, name, version=None):
            raise NotFoundError(name)

        def get_models(self, name=None):
            return []

    mr = MemRegistry(MemProject())
    assert mr.sklearn is mr.python and mr.torch is mr.python
    fv = type("FV", (), {"name": "view", "version": 2})()
    m = mr.python.create_model("m", metrics={"mae": 1.5}, feature_view=fv, training_dataset_version=3,
                               input_example=pd.DataFrame({"x": [1.0, 2.0]}))
    assert isinstance(m, MemModel) and m.version is None and m._feature_view is fv
    assert m.extra == {"feature_view": {"name": "view", "version": 2}, "training_dataset_version": 3,
                       "input_example": [{"x": 1.0}]}
    assert m.to_dict()["metrics"] == {"mae": 1.5} and repr(m) == "<Model m vNone>"
    with pytest.raises(ValidationError, match="metric 'mae' must be a number"):
        mr.python.create_model("m", metrics={"mae": "low"})
    with pytest.raises(ValidationError, match="direction must be 'max' or 'min'"):
        mr.get_best_model("m", "mae", "lowest")
    assert mr.get_best_model("m", "mae", "min") is None
