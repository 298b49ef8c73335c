"""The local backend implements the storage Protocols (the Hopsworks one: tests/hopsworks)."""

from __future__ import annotations

import pandas as pd

from spotcast_storage import protocols as P


def objects(project):
    fs = project.get_feature_store()
    fg = fs.get_or_create_feature_group("t", version=1, primary_key=["k"], event_time="ts")
    fg.insert(pd.DataFrame({"k": [1], "ts": [pd.Timestamp("2024-01-01", tz="UTC")], "v": [1.0]}))
    fv = fs.get_or_create_feature_view("v", version=1, query=fg.select_all())
    mr = project.get_model_registry()
    return {P.Project: project, P.FeatureStore: fs, P.FeatureGroup: fg, P.FeatureView: fv, P.ModelRegistry: mr}


def check_every_protocol(project, tmp_path) -> None:
    """Every Protocol member on the backend's objects, with the Protocol's parameters."""
    found = objects(project)
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "x.txt").write_text("x")
    found[P.ModelFactory] = found[P.ModelRegistry].python
    found[P.Model] = found[P.ModelFactory].create_model("m", metrics={"mae": 1.0}).save(tmp_path / "m")
    assert set(found) == set(P.PROTOCOLS)
    for proto, obj in found.items():
        assert P.conformance(obj, proto) == [], proto.__name__
        assert isinstance(obj, proto)


def test_the_local_backend_implements_every_protocol(project, tmp_path):
    check_every_protocol(project, tmp_path)


def test_conformance_names_what_is_missing():
    class Half:
        mode = "x"

        def describe(self):
            return ""

        def sql(self, query):
            return None

    problems = P.conformance(Half(), P.Project)
    assert "Half lacks get_feature_store" in problems and "Half.sql does not take 'params'" in problems
