"""Issue 13's serve side: a forecast whose inputs failed the data-quality gate is never published
silently. The weekly naive is stored instead, flagged with the failed check, and every output says so."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from spotcast_serve import service
from spotcast_serve.api import create_app, dashboard_payload
from spotcast_serve.dashboard import render
from spotcast_storage import get_storage
from spotcast_storage.contracts.quality import DATA_QUALITY

TZ = "Europe/Stockholm"
MADE = pd.Timestamp("2024-03-22T10:30Z")


def flags(days: dict[str, dict[str, tuple[bool, str]]], zone: str = "SE3") -> pd.DataFrame:
    """data_quality rows as ingest writes them: every check for each day, passed unless given."""
    rows = []
    for day, failed in days.items():
        for check in ("completeness", "flatliner", "limits", "finite"):
            passed, detail = failed.get(check, (True, "ok"))
            rows.append({"zone": zone, "day": pd.Timestamp(day, tz=TZ).tz_convert("UTC"), "check_name": check,
                         "local_date": day, "passed": passed, "value": 0.0 if passed else 10.0, "detail": detail})
    return DATA_QUALITY.conform(pd.DataFrame(rows))


def write_flags(project, frame: pd.DataFrame) -> None:
    DATA_QUALITY.get_or_create(project.get_feature_store()).insert(frame)


FLAT = {"flatliner": (False, "longest run of one price: 10 h (flagged from 8 h)")}
GAP = {"completeness": (False, "22 of 24 periods of 60 min; missing 02:00, 03:00")}


def test_a_flatliner_on_the_latest_day_publishes_the_weekly_naive_flagged(ready, project, tmp_path):
    write_flags(project, flags({"2024-03-21": {}, "2024-03-22": FLAT}))
    r = service.predict(project, "SE3", outputs=tmp_path / "o", now=MADE)
    reason = "data_quality: SE3 2024-03-22 flatliner: longest run of one price: 10 h (flagged from 8 h)"
    assert r.written and r.fallback_reason == reason
    stored = project.get_feature_store().get_feature_group("forecasts", 3).read()
    assert (stored["fallback_reason"] == reason).all() and (stored["model"] == "naive-weekly").all()
    assert stored["p10"].isna().all() and stored["p90"].isna().all()
    feats = project.get_feature_store().get_feature_group("price_features", 1).read()
    m = stored.merge(feats, on=["zone", "origin", "ts"])
    assert (m["p50"] == m["price_lag_7d"]).all() and len(m) == 168
    assert "INSTEAD OF THE MODEL" in r.summary() and reason in r.summary()
    # The file and the published read carry the reason; the rerun writes nothing.
    csv = pd.read_csv(next(p for p in r.files if p.suffix == ".csv"))
    assert (csv["fallback_reason"] == reason).all()
    assert service.read_forecast(project, "SE3")["fallback_reason"].eq(reason).all()
    assert not service.predict(project, "SE3", outputs=None, now=MADE + pd.Timedelta(hours=1)).written


def test_an_incomplete_day_and_several_failures_are_all_named(ready, project):
    write_flags(project, flags({"2024-03-20": GAP, "2024-03-22": FLAT}))
    r = service.predict(project, "SE3", outputs=None, now=MADE)
    assert r.fallback_reason == ("data_quality: SE3 2024-03-20 completeness: 22 of 24 periods of 60 min; missing "
                                 "02:00, 03:00; SE3 2024-03-22 flatliner: longest run of one price: 10 h (flagged from 8 h)")


def test_failures_outside_the_inputs_or_of_another_zone_leave_the_model_in_charge(ready, project):
    write_flags(project, flags({"2024-03-10": FLAT, "2024-03-23": GAP}))  # 13 days back; the first target day
    write_flags(project, flags({"2024-03-22": FLAT}, zone="SE4"))
    r = service.predict(project, "SE3", outputs=None, now=MADE)
    assert r.fallback_reason is None and r.model == "price_naive"
    assert service.predict(project, "SE4", outputs=None, now=MADE).fallback_reason is not None


def test_when_the_data_is_fixed_the_models_forecast_is_a_new_vintage(ready, project):
    """The published naive stays published (it is what was shown before the auction)."""
    write_flags(project, flags({"2024-03-22": FLAT}))
    service.predict(project, "SE3", outputs=None, now=MADE)
    write_flags(project, flags({"2024-03-22": {}}))  # re-ingested: the day passes now
    r = service.predict(project, "SE3", outputs=None, now=MADE + pd.Timedelta(minutes=20))
    assert r.written and r.fallback_reason is None and r.model == "price_naive"
    pub = service.read_forecast(project, "SE3")
    assert pub["fallback_reason"].notna().all() and "the weekly naive: data_quality" in r.summary()


def test_the_cli_api_and_dashboard_say_so(ready, project, store_path, cli):
    write_flags(project, flags({"2024-03-22": FLAT}))
    out = cli(["--store", str(store_path), "predict", "--zone", "SE3", "--no-files", "--now", "2024-03-22T10:30Z"])
    assert out.exit_code == 0, out.output
    assert "WARNING SE3: the inputs failed the data-quality gate" in out.output
    assert "SE3 2024-03-22 flatliner" in out.output
    shown = cli(["--store", str(store_path), "forecast", "--zone", "SE3", "--daily"])
    assert "the weekly naive, published in place of the model's forecast: data_quality: SE3" in shown.output
    listed = json.loads(cli(["--store", str(store_path), "forecast", "--zone", "SE3", "--vintages", "--format", "json"]).stdout)
    assert [(v["vintage"], v["model"], v["published"]) for v in listed] == [(1, "naive-weekly", True)]
    assert listed[0]["fallback_reason"].startswith("data_quality: SE3 2024-03-22 flatliner")
    with TestClient(create_app(project=get_storage(mode="local", path=store_path))) as c:
        body = c.get("/forecast", params={"zone": "SE3"}).json()
    assert body["fallback_reason"].startswith("data_quality: SE3 2024-03-22 flatliner") and body["model"] == "naive-weekly"
    data = dashboard_payload(project)
    assert data["zones"][0]["forecast"]["fallback_reason"] == body["fallback_reason"]
    assert json.dumps(body["fallback_reason"])[1:-1] in render(data)  # drawn by the page (see the browser test)


@pytest.mark.parametrize("days", [1, 7])
def test_no_flags_at_all_is_not_a_failure(ready, project, days):
    """A store whose prices were not checked (no data_quality group) forecasts with the model."""
    assert service.predict(project, "SE3", outputs=None, days=days, now=MADE).fallback_reason is None
