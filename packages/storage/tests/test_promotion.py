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


def test_a_model_key_is_only_for_a_registered_model(local_project, tmp_path):
    from spotcast_storage.promotion import ModelKey

    art = tmp_path / "artifact"
    art.mkdir()
    (art / "spotcast-model.json").write_text("{}")
    unsaved = local_project.get_model_registry().python.create_model("price_naive_weekly_se3")
    with pytest.raises(ValidationError, match=r"model price_naive_weekly_se3 is not registered yet .*model\.save"):
        ModelKey.of(unsaved)
    assert ModelKey.of(unsaved.save(art)) == ModelKey("price_naive_weekly_se3", 1)
