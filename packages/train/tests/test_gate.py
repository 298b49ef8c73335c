"""The promotion gate: the rule, the rolling scores it rests on, and the decisions in the registry."""

from __future__ import annotations

import pandas as pd
import pytest

from spotcast_storage import get_storage
from spotcast_storage.contracts.features import LABEL
from spotcast_storage.modellist import models_table
from spotcast_storage.promotion import GATE_STREAM_MODEL, ModelKey, gate_run_of, serving_status
from spotcast_train import gate, service
from spotcast_train.data import (
    LABEL_KNOWN,
    TIME_COL,
    candidate_features,
    known_at,
    load_training_frame,
)
from spotcast_train.linear import LinearSettings
from spotcast_train.models import FitRequest, get_model_type

from .conftest import FAST

BAD = FAST.with_(num_boost_round=1, eta=0.01)
"""One tiny tree: about the last day's mean price, which loses to both naive forecasts here."""


@pytest.mark.parametrize(("mae", "has_serving", "serving_is_naive", "decision"), [
    ({"challenger": 5, "naive-daily": 8, "naive-weekly": 7}, False, False, "promoted"),
    ({"challenger": 7.5, "naive-daily": 8, "naive-weekly": 7}, False, False, "fallback"),  # loses to weekly
    ({"challenger": 5, "serving": 4, "naive-daily": 8, "naive-weekly": 7}, True, False, "rejected"),
    ({"challenger": 5, "serving": 5, "naive-daily": 8, "naive-weekly": 7}, True, False, "promoted"),  # same recipe
    ({"challenger": 9, "serving": 6, "naive-daily": 8, "naive-weekly": 7}, True, False, "rejected"),
    ({"challenger": 9, "serving": 7.5, "naive-daily": 8, "naive-weekly": 7}, True, False, "fallback"),
    ({"challenger": 9, "serving": 7, "naive-daily": 8, "naive-weekly": 7}, True, True, "fallback"),
    ({"challenger": 6, "serving": 7, "naive-daily": 8, "naive-weekly": 7}, True, True, "promoted"),
    ({"challenger": 9, "serving": None, "naive-daily": 8, "naive-weekly": 7}, True, False, "rejected"),
])
def test_the_rule(mae, has_serving, serving_is_naive, decision):
    assert gate.decide(mae, has_serving=has_serving, serving_is_naive=serving_is_naive).decision == decision


def test_recipes_round_trip_through_json_and_compare():
    opts = {"settings": FAST.with_(linear=LinearSettings(windows_days=(56, 84))), "linear": None}
    r = gate.Recipe.make("xgboost", opts, 730, ["hour", "price_lag_1d"])
    back = gate.Recipe(**{**r.to_dict(), "features": tuple(r.features)}).decoded_options()
    assert back == opts and isinstance(back["settings"].linear.windows_days, tuple)
    assert r.same_as(gate.Recipe.make("xgboost", opts, 730, ["hour", "price_lag_1d"]))
    assert not r.same_as(gate.Recipe.make("xgboost", {"settings": BAD}, 730, ["hour", "price_lag_1d"]))
    with pytest.raises(Exception, match="is not loaded"):
        gate.decode_options({"__dataclass__": "not_a_module:Settings"})


def test_scores_refit_on_schedule_and_compare_every_model_on_the_same_rows(store):
    frame, _ = load_training_frame(store.project, "SE3")
    labelled = known_at(frame, store.origin(99))
    origins = gate.gate_origins(labelled, 28)
    assert origins[-1] == labelled[TIME_COL].max() and len(origins) == 28
    feats = candidate_features(frame.columns)

    def fitter(name, options):
        mt = get_model_type(name)
        return lambda f, o: mt.fit(FitRequest(f, feats, LABEL, TIME_COL, o, options))

    s = gate.score(labelled, origins, {"challenger": fitter("xgboost", {"settings": FAST}),
                                      "naive-daily": fitter("naive-daily", {}), "naive-weekly": fitter("naive-weekly", {})},
                   target=LABEL, refit_days=7, time_col=TIME_COL, known_col=LABEL_KNOWN)
    f = s.forecasts
    assert f.groupby("model")["fitted_at"].nunique().to_dict() == {m: 4 for m in ("challenger", "naive-daily", "naive-weekly")}
    keys = {m: set(zip(g[TIME_COL], g["ts"], strict=True)) for m, g in f.groupby("model")}
    assert keys["challenger"] == keys["naive-daily"] == keys["naive-weekly"]
    assert s.rows == len(keys["challenger"]) and set(f[TIME_COL]) <= set(origins)
    assert (f["fitted_at"] <= f[TIME_COL]).all()  # out of sample: never a model fitted after its origin
    assert s.mae["challenger"] < min(s.mae["naive-daily"], s.mae["naive-weekly"])


def test_fallback_then_promotion_then_a_rejected_challenger(fresh_store):
    """Nothing better than the naive: the weekly naive serves. A model that beats it is promoted. A
    later loser is registered as a rejected challenger and the promoted version keeps serving; the
    decisions survive reopening the store."""
    s, now = fresh_store, fresh_store.origin(99)
    lost = service.fit(s.project, "SE3", options={"settings": BAD}, now=now)
    assert lost.decision["decision"] == "fallback" and lost.version == 1
    assert lost.fallback == ("price_naive_weekly_se3", 1)
    st = serving_status(s.project, "SE3")
    assert (st.serving, st.state) == (ModelKey("price_naive_weekly_se3", 1), "fallback")
    assert "no model beats both naive baselines, so the weekly naive price_naive_weekly_se3 v1 serves" in lost.status
    assert st.fallback_reason.startswith("promotion: no model beats the naive baselines (price_xgboost_se3 rolling MAE")

    again = service.fit(s.project, "SE3", options={"settings": BAD}, now=now)  # the naive keeps serving
    assert again.decision["decision"] == "fallback" and again.decision["serving_recipe"] == "baseline"
    assert again.fallback is None and len(s.project.get_model_registry().get_models("price_naive_weekly_se3")) == 1
    assert serving_status(s.project, "SE3").serving == ModelKey("price_naive_weekly_se3", 1)

    won = service.fit(s.project, "SE3", options={"settings": FAST}, now=now)
    assert won.decision["decision"] == "promoted" and won.decision["serving_recipe"] == "baseline"
    assert serving_status(s.project, "SE3").serving == ModelKey("price_xgboost_se3", 3)
    assert "price_xgboost_se3 v3 serves instead of price_naive_weekly_se3 v1" in won.summary()
    # the gate's rolling forecasts are kept as a backtest run (serve calibrates v3's band on them)
    bt = s.project.get_feature_store().get_feature_group("backtests", 1).read()
    v3 = s.project.get_model_registry().get_model("price_xgboost_se3", 3)
    assert gate_run_of(v3).startswith("gate_price_xgboost_se3_")
    run = bt[bt["run_id"] == gate_run_of(v3)]
    assert set(run["model"]) == {GATE_STREAM_MODEL, "naive-daily", "naive-weekly"}
    assert run["origin"].nunique() == 28 and run["actual"].notna().all()
    ch = run[run["model"] == GATE_STREAM_MODEL]
    assert (ch["p50"] - ch["actual"]).abs().mean() == pytest.approx(won.decision["scores"]["challenger"])

    # a challenger with a short window: the serving recipe is still refitted on its own window
    short = service.fit(s.project, "SE3", options={"settings": FAST}, window="40d", now=now, register=False)
    assert short.decision["scores"]["serving"] == pytest.approx(won.decision["scores"]["challenger"])

    loser = service.fit(s.project, "SE3", options={"settings": BAD}, now=now)
    rec = loser.decision
    assert rec["decision"] == "rejected" and rec["serving_recipe"] == "refit"  # v3's recipe refitted, not reused
    assert rec["scores"]["serving"] == pytest.approx(won.decision["scores"]["challenger"])
    assert rec["scores"]["challenger"] > rec["scores"]["serving"]
    assert loser.status == (
        f"SE3: challenger price_xgboost_se3 v4 rejected: rolling MAE {rec['scores']['challenger']:.2f} over 28 origins "
        f"vs serving v3 {rec['scores']['serving']:.2f}, naive-daily {rec['scores']['naive-daily']:.2f}, "
        f"naive-weekly {rec['scores']['naive-weekly']:.2f}; v3 keeps serving")

    s.project.close()
    reopened = get_storage(mode="local", path=s.project.path)
    st = serving_status(reopened, "SE3")
    assert (st.serving, st.state, st.message) == (ModelKey("price_xgboost_se3", 3), "promoted", loser.status)
    kept = reopened.get_model_registry().get_model("price_xgboost_se3", 4)  # the loser is kept, marked
    assert kept.extra["promotion"]["decision"] == "rejected"
    listing = models_table(reopened, zone="SE3").set_index(["name", "version"])
    assert listing.loc[("price_xgboost_se3", 4), "decision"] == "rejected"
    assert listing.loc[("price_xgboost_se3", 3), "decision"] == "promoted"
    assert listing.loc[("price_naive_weekly_se3", 1), "decision"] == "fallback"
    reopened.close()


def test_a_naive_baseline_is_registered_outside_the_gate(fresh_store):
    r = service.fit(fresh_store.project, "SE3", model="naive-weekly", now=fresh_store.origin(99))
    assert r.decision is None and r.metrics["rmae"] == pytest.approx(1.0)
    assert serving_status(fresh_store.project, "SE3").state == "ungated"


def test_without_registering_the_gate_still_says_what_it_would_decide(fresh_store):
    r = service.fit(fresh_store.project, "SE3", options={"settings": BAD}, register=False, now=fresh_store.origin(99))
    assert r.version is None and "would lose to the naive baselines" in r.status
    assert fresh_store.project.get_model_registry().get_models() == []
    assert pd.Timestamp(r.training_window["gate_start"]) < pd.Timestamp(r.training_window["end"])


def test_a_store_whose_history_ended_long_ago_fits_at_the_wall_clock(fresh_store):
    """The final refit counts its windows back from the newest labelled origin, not from now: the
    real epftoolbox BE.csv ends in 2016, and a 60-day window at the wall clock held no rows."""
    settings = FAST.with_(windows_days=(60,))
    r = service.fit(fresh_store.project, "SE3", options={"settings": settings}, register=False)
    assert r.predictor.spec.members and r.training_window["end"] < "2025"


def test_after_an_upgrade_the_gate_refits_the_serving_model_as_it_was_trained(fresh_store, monkeypatch):
    """A model registered by an earlier release recorded its options unresolved (``{}`` for the
    default, which was then trees + gblinear members). The gate must not take the new default for
    that recipe: it refits the serving model with the legacy settings and compares. Models
    registered now record the settings their options resolve to."""
    from spotcast_train.builtins import xgboost as builtin

    s, now = fresh_store, fresh_store.origin(99)
    legacy = FAST.with_(linear=LinearSettings(windows_days=(21, 56), num_boost_round=10))  # trees + gblinear
    new_default = FAST.with_(linear=LinearSettings(windows_days=(21, 56), solver="lear", weight=0.35))
    monkeypatch.setattr(builtin, "LEGACY_SETTINGS", legacy)
    seen: list[tuple[str | None, bool]] = []
    real_fit = builtin.fit

    def spy(req):
        got = builtin.settings_of(req.options)
        seen.append((got.linear.solver if got.linear else None, got.dnn is not None))
        return real_fit(req)

    monkeypatch.setattr(builtin, "fit", spy)
    # the earlier release: the default was the legacy one and the recipe kept the options as given
    monkeypatch.setattr(builtin, "STAGE_SETTINGS", legacy)
    monkeypatch.setattr(builtin, "recipe_options", lambda options: dict(options))
    old = service.fit(s.project, "SE3", now=now)
    assert old.decision["decision"] == "promoted"
    v1 = s.project.get_model_registry().get_model("price_xgboost_se3", 1)
    assert v1.extra["recipe"]["options"] == {}
    monkeypatch.undo()

    # this release: a new default, recorded resolved; the serving v1 is refitted as trees + gblinear
    monkeypatch.setattr(builtin, "LEGACY_SETTINGS", legacy)
    monkeypatch.setattr(builtin, "STAGE_SETTINGS", new_default)
    monkeypatch.setattr(builtin, "fit", spy)
    seen.clear()
    new = service.fit(s.project, "SE3", now=now)
    assert new.decision["serving_recipe"] == "refit", new.decision  # not "same": v1's recipe is not the new default
    assert ("gblinear", False) in seen and ("lear", False) in seen  # the serving refits, the challenger's
    v2 = s.project.get_model_registry().get_model("price_xgboost_se3", 2)
    assert v2.extra["recipe"]["options"]["settings"]["linear"]["solver"] == "lear"
    # the next retrain of the same default is the same recipe: scored once, not refitted twice
    seen.clear()
    again = service.fit(s.project, "SE3", now=now, register=False)
    assert again.decision["serving_recipe"] == "same" and ("gblinear", False) not in seen
    assert builtin.recorded_options({}) == {"settings": legacy}
    assert builtin.recorded_options({"linear": True})["linear"] == LinearSettings()
    assert builtin.recipe_options({"dnn": None}) == {"settings": new_default.with_(dnn=None)}
