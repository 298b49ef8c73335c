"""A model's lineage as one typed record (issue 16): train writes it, serve, the gate and the
listings read it; the stored layout is the registry's plain JSON, old layouts included."""

from __future__ import annotations

from types import SimpleNamespace

from spotcast_storage.lineage import GroupRef, Lineage

STORED = {  # what train registers (and has registered since lineage had feature_groups)
    "zones": ["SE3"], "feature_view": {"name": "price_training", "version": 1},
    "feature_groups": [{"name": "price_features", "version": 2, "commit_id": 41},
                       {"name": "prices_hourly", "version": 1, "commit_id": 7}],
    "label": "target_price_eur_mwh",
    "features": {"name": "price_features", "version": 2, "columns": ["price_lag_7d", "hour", "plugin_col"]},
    "model_type": "xgboost", "plugin_note": {"any": "thing"},
}


def test_round_trip_keeps_the_stored_layout_and_unknown_keys() -> None:
    lin = Lineage.from_dict(STORED)
    assert lin.zones == ("SE3",) and lin.features_version() == 2 and lin.on_price_features
    assert lin.columns == ("price_lag_7d", "hour", "plugin_col") and lin.model_type == "xgboost"
    assert lin.feature_groups[0] == GroupRef("price_features", 2, 41)
    assert lin.trained_on() == "price_features v2@41, prices_hourly v1@7"
    assert lin.to_dict() == STORED  # a plugin's own entry survives


def test_with_model_records_the_type_and_the_columns() -> None:
    base = Lineage(zones=("SE4",), feature_groups=(GroupRef("price_features", 1, 3),),
                   features=GroupRef("price_features", 1))
    d = base.with_model("naive-weekly", ["price_lag_7d"]).to_dict()
    assert d["features"] == {"name": "price_features", "version": 1, "columns": ["price_lag_7d"]}
    assert d["model_type"] == "naive-weekly" and d["zones"] == ["SE4"]


def test_older_layouts_read_the_same() -> None:
    oldest = Lineage.from_dict({"price_features": {"version": 1, "commit_id": 2}, "zone": "se3"})
    assert oldest.zones == ("SE3",) and oldest.features_version() == 1 and oldest.on_price_features
    assert oldest.trained_on() == "price_features v1@2" and oldest.other == {}
    model = SimpleNamespace(lineage={"feature_groups": [{"name": "price_features", "version": 3}]},
                            extra={"zones": ["SE4"], "model_type": "naive"})
    lin = Lineage.of(model)
    assert lin.zones == ("SE4",) and lin.model_type == "naive" and lin.features_version() == 3
    assert Lineage.of(SimpleNamespace(lineage=None, extra=None)).features_version(default=1) == 1
    assert not Lineage.from_dict({"feature_groups": [{"name": "other", "version": 1}]}).on_price_features
