"""Recalibration between retrains: the serving model's cheap members (LEAR) refitted on new
labelled origins, the trees and DNN members kept, registered as the version that serves."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spotcast_storage import promotion
from spotcast_storage.modelformat import METADATA_FILE, load_predictor
from spotcast_storage.pipeline import RunContext
from spotcast_storage.runoptions import RunOptions
from spotcast_train import policy, service
from spotcast_train.linear import LinearSettings

from .conftest import FAST
from .test_policy import _forecasts, _now

LEAR = LinearSettings(windows_days=(21, 56), solver="lear")


@pytest.fixture
def lear() -> dict:
    return {"settings": FAST.with_(linear=LEAR)}


def _meta(model) -> dict:
    return json.loads((Path(model.download()) / METADATA_FILE).read_text())


def _files(model, names) -> dict[str, bytes]:
    return {n: (Path(model.download()) / n).read_bytes() for n in names}


def test_recalibration_refits_lear_keeps_the_trees_and_serves(fresh_store, lear):
    s = fresh_store
    r = service.fit(s.project, "SE3", options=lear, now=s.origin(85))
    assert r.decision["decision"] == "promoted"
    mr = s.project.get_model_registry()
    v1 = mr.get_model(r.name, 1)

    got = service.recalibrate(s.project, "SE3", now=_now(s))
    assert got.recalibrated and (got.name, got.version, got.parts) == (r.name, 2, ["linear"])
    assert got.message.startswith("SE3: price_xgboost_se3 v2 recalibrated from v1 (linear refitted on origins to ")
    assert got.message.endswith("; v2 serves")
    st = promotion.serving_status(s.project, "SE3")
    assert (st.serving, st.state) == (promotion.ModelKey(r.name, 2), "promoted")

    v2 = mr.get_model(r.name, 2)
    m1, m2 = _meta(v1), _meta(v2)
    trees = [m["file"] for m in m1["members"]]
    assert _files(v1, trees) == _files(v2, trees)  # the trees are the gated fit's, byte for byte
    assert m1["residual_table"] == m2["residual_table"]  # and so is their band
    ends1 = {m["file"]: m["trained_until"] for m in m1["linear"]["members"]}
    ends2 = {m["file"]: m["trained_until"] for m in m2["linear"]["members"]}
    assert ends1.keys() == ends2.keys() and all(ends2[f] > ends1[f] for f in ends1)  # LEAR saw the new days
    # the record is the gated fit's evidence, and the model keeps its recipe, gate run and age
    rec = promotion.record_of(v2)
    assert rec["decision"] == "recalibrated" and rec["scores"] == promotion.record_of(v1)["scores"]
    assert rec["recalibration"]["root"] == {"name": r.name, "version": 1}
    assert v2.extra["recipe"] == v1.extra["recipe"] and promotion.gate_run_of(v2) == promotion.gate_run_of(v1)
    assert policy.trained_until(v2) == policy.trained_until(v1)
    assert pd.Timestamp(v2.extra["training_window"]["recalibrated_until"]) > policy.trained_until(v1)
    # it predicts: the trees' forecast unchanged, the blend moved by the new LEAR members
    rows = s.project.get_feature_store().get_feature_group("price_features", 1).read()
    rows = rows[rows["origin"] == rows["origin"].max()]
    p1, p2 = load_predictor(v1.download()), load_predictor(v2.download())
    np.testing.assert_allclose(p1.tree_point(rows), p2.tree_point(rows))
    assert not np.allclose(p1.predict(rows)["p50"], p2.predict(rows)["p50"])

    # nothing new: nothing written
    again = service.recalibrate(s.project, "SE3", now=_now(s))
    assert not again.recalibrated and "v2 is up to date (no origin labelled after" in again.message
    assert len(mr.get_models(r.name)) == 2


def test_a_recalibration_does_not_reset_the_retrain_clock_or_the_track_record(fresh_store, lear):
    s = fresh_store
    r = service.fit(s.project, "SE3", options=lear, now=s.origin(85))
    end = pd.Timestamp(r.training_window["end"])
    assert service.recalibrate(s.project, "SE3", now=end + pd.Timedelta(days=3)).version == 2
    assert service.recalibrate(s.project, "SE3", now=_now(s)).version == 3  # recalibrated again, root v1
    v3 = s.project.get_model_registry().get_model(r.name, 3)
    assert promotion.record_of(v3)["recalibration"] == {
        "root": {"name": r.name, "version": 1}, "from": {"name": r.name, "version": 2},
        "until": promotion.record_of(v3)["recalibration"]["until"], "parts": ["linear"]}
    old = policy.decide(s.project, "SE3", end + pd.Timedelta(days=9))
    assert old.retrain and f"{r.name} v1 is 9 days old (> 7)" in old.reason
    # bad forecasts of the gated fit's versions count together (v1..v3 are one model's record)
    _forecasts(s, r.name, offset=80.0, days=10)  # model_version 1
    assert policy.same_fit(s.project, promotion.ModelKey(r.name, 3)) == {1, 2, 3}
    bad = policy.decide(s.project, "SE3", _now(s), max_age_days=10_000)
    assert bad.retrain and "price_xgboost_se3 v3 tracked MAE" in bad.reason and "worse than naive-weekly" in bad.reason


def test_nothing_is_recalibrated_where_no_promoted_model_with_cheap_members_serves(fresh_store, fast, lear):
    s = fresh_store
    none = service.recalibrate(s.project, "SE3", now=_now(s))
    assert not none.recalibrated and none.message == "SE3: no promoted model to recalibrate: nothing serves yet"
    bad = {"settings": lear["settings"].with_(num_boost_round=1, eta=0.01)}
    r = service.fit(s.project, "SE3", options=bad, now=s.origin(85))
    assert r.fallback is not None  # the weekly naive serves
    got = service.recalibrate(s.project, "SE3", now=_now(s))
    assert not got.recalibrated and "price_naive_weekly_se3 v1 serves (fallback)" in got.message
    trees = service.fit(s.project, "SE3", options=fast, now=s.origin(86))  # trees alone: nothing cheap to refit
    assert trees.decision["decision"] == "promoted"
    got = service.recalibrate(s.project, "SE3", now=_now(s))
    assert not got.recalibrated and "nothing to recalibrate" in got.message
    assert len(s.project.get_model_registry().get_models(r.name)) == 2


def test_the_run_handler_recalibrates_the_models_it_keeps_unless_told_not_to(fresh_store, lear):
    s = fresh_store
    events = s.project.get_event_log().pending("train", names=policy.INPUT_NAMES)
    r = service.fit(s.project, "SE3", options=lear, now=s.origin(85))
    off = RunContext(project=s.project, zones=["SE3"], now=s.origin(87),
                     options=RunOptions(train_model_options=lear, recalibrate=False))
    said = policy.handle_events(events, off)
    assert "SE3: kept (" in said and "newest gate decision: challenger price_xgboost_se3 v1 promoted" in said
    assert len(s.project.get_model_registry().get_models(r.name)) == 1
    on = RunContext(project=s.project, zones=["SE3"], now=s.origin(87), options=RunOptions(train_model_options=lear))
    said = policy.handle_events(events, on)
    assert "SE3: kept (" in said and "; price_xgboost_se3 v2 recalibrated from v1 (linear refitted on origins to" in said
    again = policy.handle_events(events, on)  # a second delivery: up to date, nothing written
    assert "newest gate decision: price_xgboost_se3 v2 recalibrated from v1" in again
    assert len(s.project.get_model_registry().get_models(r.name)) == 2
