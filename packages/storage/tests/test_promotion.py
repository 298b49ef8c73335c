"""serving_status() over decision records stored in the local registry (the Hopsworks twin is in
hopsworks/test_views_models_events.py), and the checks on a record."""

from __future__ import annotations

import pytest

from spotcast_storage import ValidationError, get_storage

from .hopsworks.promotion_cases import _record, check_the_story


def test_serving_status_follows_the_newest_decision_and_survives_reopening(local_project, store_path, tmp_path):
    art = tmp_path / "artifact"
    art.mkdir()
    (art / "spotcast-model.json").write_text("{}")
    check_the_story(local_project, art, lambda: get_storage(mode="local", path=store_path))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"decision": "maybe"}, "not one of promoted, rejected, fallback"),
    ({"decision": "rejected"}, "must name the model that keeps serving"),
    ({"decision": "promoted", "scores": {"challenger": float("nan"), "naive-daily": 1, "naive-weekly": 1}},
     "challenger score must be a finite number"),
])
def test_a_record_that_cannot_be_read_back_is_refused(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        _record(**kwargs)


def test_only_a_promoted_model_is_recalibrated_and_only_by_its_own_record():
    from spotcast_storage.promotion import ModelKey, recalibration_record

    v1, v2 = ModelKey("price_xgboost_se3", 1), ModelKey("price_xgboost_se3", 2)
    with pytest.raises(ValidationError, match="copies the record of the gated model it recalibrates"):
        _record("recalibrated")
    rejected = _record("rejected", v1)
    with pytest.raises(ValidationError, match="only a promoted model is recalibrated; price_xgboost_se3 v2 was 'rejected'"):
        recalibration_record(rejected, root=v2, parent=v2, until="2024-03-29", parts=["linear"], decided_at="2024-03-29")
    with pytest.raises(ValidationError, match="refits at least one part"):
        recalibration_record(_record("promoted"), root=v1, parent=v1, until="2024-03-29", parts=[],
                             decided_at="2024-03-29")


def test_a_model_key_is_only_for_a_registered_model(local_project, tmp_path):
    from spotcast_storage.promotion import ModelKey

    art = tmp_path / "artifact"
    art.mkdir()
    (art / "spotcast-model.json").write_text("{}")
    unsaved = local_project.get_model_registry().python.create_model("price_naive_weekly_se3")
    with pytest.raises(ValidationError, match=r"model price_naive_weekly_se3 is not registered yet .*model\.save"):
        ModelKey.of(unsaved)
    assert ModelKey.of(unsaved.save(art)) == ModelKey("price_naive_weekly_se3", 1)
