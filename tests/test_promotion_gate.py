"""The promotion gate across stages: train decides, serve publishes what the decision says, and
`spotcast status` says it in words."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from spotcast_serve.api import forecast_payload
from spotcast_storage.contracts.features import PRICE_FEATURES
from spotcast_storage.local import connection
from spotcast_storage.promotion import serving_status
from spotcast_train import service as train
from spotcast_train.xgbmodel import XGBSettings

GOOD = {"settings": XGBSettings(windows_days=(21, 10_000), num_boost_round=25, eta=0.2, max_depth=4, max_bin=32)}
BAD = {"settings": GOOD["settings"].with_(num_boost_round=1, eta=0.01)}  # about the last day's mean: loses
START, DAYS = "2024-01-01", 90


def _now() -> pd.Timestamp:
    return pd.Timestamp(START, tz="UTC") + pd.Timedelta(days=DAYS - 1, hours=9)


def _predict(project):
    from spotcast_serve import service as serve

    return serve.predict(project, "SE3", outputs=None, now=_now())


def _status(store_path) -> str:
    from spotcast_storage.umbrella import app

    r = CliRunner().invoke(app, ["--store", str(store_path), "status"])
    connection.release(store_path)
    assert r.exit_code == 0, r.output
    return r.stdout


def test_a_rejected_challenger_is_registered_and_the_promoted_version_keeps_serving(project, store_path):
    won = train.fit(project, "SE3", options=GOOD, now=_now())
    assert won.decision["decision"] == "promoted"
    first = _predict(project)
    assert (first.model, first.model_version, first.written) == ("price_xgboost_se3", 1, True)
    assert first.forecast["fallback_reason"].isna().all()  # a promoted model's rows carry no reason

    lost = train.fit(project, "SE3", options=BAD, now=_now())
    assert (lost.version, lost.decision["decision"]) == (2, "rejected")
    again = _predict(project)
    assert (again.model, again.model_version) == ("price_xgboost_se3", 1)  # not the newer v2
    assert not again.written  # the same forecast as before: nothing rewritten
    text = _status(store_path)
    assert "SE3: challenger price_xgboost_se3 v2 rejected: rolling MAE" in text and "v1 keeps serving" in text


def test_with_nothing_better_the_weekly_naive_serves_and_status_says_so(project, store_path):
    lost = train.fit(project, "SE3", options=BAD, now=_now())
    assert lost.decision["decision"] == "fallback"
    r = _predict(project)
    assert (r.model, r.model_version) == ("price_naive_weekly_se3", 1)
    rows = project.get_feature_store().get_feature_group(PRICE_FEATURES.name, 1).read()
    rows = rows[(rows["origin"] == r.origin) & rows["ts"].isin(r.forecast["ts"])].sort_values("ts")
    assert r.forecast.sort_values("ts")["p50"].to_numpy() == pytest.approx(rows["price_lag_7d"].to_numpy())
    st = serving_status(project, "SE3")
    assert st.state == "fallback" and st.fallback_reason.startswith("promotion: no model beats the naive baselines")
    assert set(r.forecast["fallback_reason"]) == {st.fallback_reason}  # the rows say why the naive is published
    payload = forecast_payload(project, "SE3", None)
    assert payload["fallback_reason"] == st.fallback_reason and payload["serving"] == st.message
    text = _status(store_path)
    assert "price_naive_weekly_se3 v1" in text and "fallback" in text
    assert "no model beats both naive baselines, so the weekly naive price_naive_weekly_se3 v1 serves" in text


def test_a_recalibrated_model_serves_in_place_of_the_one_it_recalibrates(project, store_path):
    """`spotcast-train recalibrate` refits the serving ensemble's LEAR members on the newest days;
    serve then forecasts with that version, and `spotcast status` says why it serves."""
    from spotcast_train.cli import app as train_app
    from spotcast_train.linear import LinearSettings

    lear = {"settings": GOOD["settings"].with_(linear=LinearSettings(windows_days=(21, 56), solver="lear"))}
    won = train.fit(project, "SE3", options=lear, now=_now() - pd.Timedelta(days=3))
    assert won.decision["decision"] == "promoted"
    connection.release(store_path)
    cli = CliRunner()
    r = cli.invoke(train_app, ["--store", str(store_path), "recalibrate", "--zone", "SE3", "--now", str(_now())])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("SE3: price_xgboost_se3 v2 recalibrated from v1 (linear refitted on origins to ")
    again = cli.invoke(train_app, ["--store", str(store_path), "recalibrate", "--zone", "SE3", "--now", str(_now()),
                                   "--format", "json"])
    assert again.exit_code == 0 and '"recalibrated": false' in again.stdout and "up to date" in again.stdout
    connection.release(store_path)
    out = _predict(project)
    assert (out.model, out.model_version) == ("price_xgboost_se3", 2)
    assert out.forecast["fallback_reason"].isna().all() and out.forecast["p10"].notna().all()
    assert "SE3: price_xgboost_se3 v2 recalibrated from v1" in _status(store_path)
