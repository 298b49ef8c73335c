"""Decision records registered by hand, read back by serving_status (shared by the local and the
Hopsworks tests; no Hopsworks import here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spotcast_storage.promotion import (
    ModelKey,
    is_recalibration,
    make_record,
    recalibration_record,
    root_of,
    serving_status,
)

LINEAGE = {"zones": ["SE3"], "feature_groups": [{"name": "price_features", "version": 1, "commit_id": 1}]}
SCORES = {"challenger": 14.2, "serving": 13.1, "naive-daily": 13.6, "naive-weekly": 15.0}


def _record(decision: str, serves: ModelKey | None = None, role: str = "challenger",
            scores: dict[str, float] | None = None, before: ModelKey | None = None) -> dict[str, Any]:
    return make_record(zone="SE3", decision=decision, scores=scores or SCORES, origins=28,
                       first_origin="2024-03-01T09:00:00+00:00", last_origin="2024-03-28T09:00:00+00:00",
                       rows=4000, refit_days=7, decided_at="2024-03-29T09:00:00+00:00", serves=serves,
                       role=role, serving_before=before, challenger="price_xgboost_se3")


def register(project: Any, art: Path, name: str, model_type: str, record: dict[str, Any] | None) -> ModelKey:
    extra = {"model_type": model_type} | ({"promotion": record} if record else {})
    m = project.get_model_registry().python.create_model(
        name, metrics={"mae": 1.0}, lineage={**LINEAGE, "model_type": model_type}, **extra).save(str(art))
    return ModelKey(m.name, int(m.version))


def check_the_story(project: Any, art: Path, reopen: Any) -> None:
    """ungated legacy model -> fallback to the weekly naive -> promoted -> rejected -> the serving
    model recalibrated (twice: each names the gated fit as its root)."""
    assert serving_status(project, "SE3").state == "none"
    legacy = register(project, art, "price_xgboost_se3", "xgboost", None)
    st = serving_status(project, "se3")
    assert (st.serving, st.state) == (legacy, "ungated") and "without a gate decision" in st.message

    fb = _record("fallback", role="fallback", scores={**SCORES, "serving": None}, before=legacy)
    naive = register(project, art, "price_naive_weekly_se3", "naive-weekly", fb)
    register(project, art, "price_xgboost_se3", "xgboost", _record("fallback", naive, before=legacy))
    st = serving_status(reopen(), "SE3")
    assert (st.serving, st.state) == (naive, "fallback")
    assert st.message == ("SE3: challenger price_xgboost_se3 v2 rejected: rolling MAE 14.20 over 28 origins vs "
                          "serving v1 13.10, naive-daily 13.60, naive-weekly 15.00; no model beats both naive "
                          "baselines, so the weekly naive price_naive_weekly_se3 v1 serves")
    assert st.fallback_reason.startswith("promotion: no model beats the naive baselines")

    good = {**SCORES, "challenger": 12.0, "serving": 15.0}
    v3 = register(project, art, "price_xgboost_se3", "xgboost", _record("promoted", None, scores=good, before=naive))
    v4 = register(project, art, "price_xgboost_se3", "xgboost",
                  _record("rejected", v3, scores={**SCORES, "serving": 12.0}, before=v3))
    st = serving_status(reopen(), "SE3")
    assert (st.serving, st.state, st.fallback_reason) == (v3, "promoted", None)
    assert st.message == ("SE3: challenger price_xgboost_se3 v4 rejected: rolling MAE 14.20 over 28 origins vs "
                          "serving v3 12.00, naive-daily 13.60, naive-weekly 15.00; v3 keeps serving")
    assert st.decision["model"] == v4.to_dict() and st.decision["decision"] == "rejected"

    promoted = _record("promoted", None, scores=good, before=naive)
    rc = recalibration_record(promoted, root=v3, parent=v3, until="2024-03-29T09:00:00+00:00", parts=["linear"],
                              decided_at="2024-03-30T09:00:00+00:00")
    v5 = register(project, art, "price_xgboost_se3", "xgboost", rc)
    st = serving_status(reopen(), "SE3")
    assert (st.serving, st.state, st.fallback_reason) == (v5, "promoted", None)
    assert st.message == ("SE3: price_xgboost_se3 v5 recalibrated from v3 (linear refitted on origins to 2024-03-29; the rest kept "
                          "from v3, promoted on rolling MAE 12.00 over 28 origins vs naive-daily 13.60, "
                          "naive-weekly 15.00); v5 serves")
    rc2 = recalibration_record(promoted, root=v3, parent=v5, until="2024-03-30T09:00:00+00:00", parts=["linear"],
                               decided_at="2024-03-31T09:00:00+00:00")
    v6 = register(project, art, "price_xgboost_se3", "xgboost", rc2)
    models = {int(m.version): m for m in reopen().get_model_registry().get_models("price_xgboost_se3")}
    assert serving_status(reopen(), "SE3").serving == v6
    assert [root_of(models[v]) for v in (3, 5, 6)] == [v3, v3, v3] and root_of(models[4]) == v4
    assert [is_recalibration(models[v]) for v in (3, 4, 5, 6)] == [False, False, True, True]
    assert serving_status(reopen(), "SE4").state == "none"
