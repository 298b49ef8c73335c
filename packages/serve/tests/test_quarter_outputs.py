"""Quarter-hour forecasts in files and the API (issue 15) for a zone whose prices clear in
15 minutes; hourly zones keep their hourly products and are told so when they ask for quarters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from spotcast_serve import service
from spotcast_serve.api import create_app
from spotcast_storage import get_storage, quarters

from .conftest import QUARTERS_FROM

MADE = pd.Timestamp("2024-03-22T10:30Z")
STEM = "forecast_SE3_2024-03-23_2024-03-29_made_2024-03-22T1130CET"


def test_predict_writes_a_15_minute_csv_beside_the_hourly_files(quarter_store, project, tmp_path):
    out = tmp_path / "outputs"
    r = service.predict(project, "SE3", outputs=out, now=MADE)
    assert sorted(p.name for p in r.files) == [f"{STEM}.csv", f"{STEM}.png", f"{STEM}_15min.csv", f"{STEM}_15min.png"]
    hourly = pd.read_csv(out / f"{STEM}.csv", float_precision="round_trip")
    q = pd.read_csv(out / f"{STEM}_15min.csv", float_precision="round_trip")
    fc_hours, fc_q = hourly[hourly["p50"].notna()], q[q["p50"].notna()]
    assert (fc_q["resolution_minutes"] == 15).all() and (hourly["resolution_minutes"] == 60).all()
    assert len(fc_q) == 4 * len(fc_hours) == 4 * 168
    steps = pd.to_datetime(fc_q["ts"], utc=True).diff().dropna()
    assert (steps == pd.Timedelta(minutes=15)).all()
    hour_of = pd.to_datetime(fc_q["ts"], utc=True).dt.floor("h")
    means = fc_q.groupby(hour_of.to_numpy())["p50"].mean().to_numpy()
    np.testing.assert_allclose(means, fc_hours["p50"].to_numpy(), atol=1e-9)  # nothing averaged away, nothing repeated
    assert fc_q["p50"].nunique() > len(fc_hours)
    from spotcast_serve.charts import forecast_figure
    from spotcast_serve.forecast import daily_means

    fig = forecast_figure(q.assign(ts=pd.to_datetime(q["ts"], utc=True)), daily_means(fc_hours, "Europe/Stockholm"),
                          "Europe/Stockholm", "t")
    median = next(line for line in fig.axes[0].lines if line.get_label() == "median (p50)")
    assert len(median.get_xdata()) == 4 * 168 + 1  # a step per quarter-hour, the last one closed
    assert "15-minute periods" in fig.axes[0].get_xlabel()


def test_an_hourly_zone_gets_no_15_minute_file(quarter_store, project, tmp_path):
    r = service.predict(project, "SE4", outputs=tmp_path / "o", now=MADE)
    assert not [p for p in r.files if p.name.endswith("_15min.csv")]


def test_api_serves_the_forecast_at_15_minutes_and_refuses_it_for_an_hourly_zone(quarter_store, project, store_path):
    service.predict(project, "SE3", outputs=None, now=MADE)
    service.predict(project, "SE4", outputs=None, now=MADE)
    with TestClient(create_app(project=get_storage(mode="local", path=store_path))) as client:
        hourly = client.get("/forecast", params={"zone": "SE3"}).json()
        r = client.get("/forecast", params={"zone": "SE3", "resolution": "15min"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["resolution"] == "15min" and body["resolution_minutes"] == 15
        rows = [x for x in body["forecast"] if x["p50"] is not None]
        assert len(rows) == 4 * len([x for x in hourly["forecast"] if x["p50"] is not None])
        assert {x["resolution_minutes"] for x in rows} == {15}
        assert rows[1]["ts"] == (pd.Timestamp(rows[0]["ts"]) + pd.Timedelta(minutes=15)).isoformat()
        assert body["daily"] == hourly["daily"]  # the day means are the hourly forecast's
        csv = client.get("/forecast", params={"zone": "SE3", "resolution": "15min", "format": "csv"})
        assert csv.status_code == 200 and "_15min.csv" in csv.headers["content-disposition"]
        assert ",15," in csv.text.splitlines()[1] or ",15," in csv.text
        no = client.get("/forecast", params={"zone": "SE4", "resolution": "15min"})
        assert no.status_code in (400, 422) and "hourly only" in no.text and "resolution=60min" in no.text
        bad = client.get("/forecast", params={"zone": "SE3", "resolution": "30min"})
        assert bad.status_code == 422


def test_the_store_has_a_forecasts_15min_view(quarter_store, project):
    service.predict(project, "SE3", outputs=None, now=MADE)
    service.predict(project, "SE4", outputs=None, now=MADE)
    v = project.sql(f"select zone, count(*) as n, min(resolution_minutes) as r from {quarters.VIEW_NAME} group by zone")
    assert v.to_dict("records") == [{"zone": "SE3", "n": 4 * 168, "r": 15}]


def test_accuracy_scores_the_quarter_hours_beside_the_hourly_forecast_repeated(quarter_store, project, store_path):
    """Tracking at 15 minutes: each quarter's error, and beside it the error of the hourly
    forecast read at 15 minutes (its hour's value in all four quarters)."""
    for day in ("2024-03-20", "2024-03-21", "2024-03-22"):
        service.predict(project, "SE3", outputs=None, now=pd.Timestamp(f"{day}T10:30Z"))
    service.predict(project, "SE4", outputs=None, now=MADE)
    r = service.accuracy(project, "SE3", days=30)
    q = r.by_horizon_15min
    assert q is not None and not q.empty and (q["quarters"] > 0).all()
    # recompute D+1 from the files' own numbers: quarter forecasts vs the stored 15-minute prices
    prices = service.read_quarter_prices(project, "SE3", QUARTERS_FROM, pd.Timestamp("2024-04-01T00:00Z"))
    rows = []
    for o in service.origins(project, "SE3"):
        pub = service.read_forecast(project, "SE3", o)
        qr = quarters.to_quarters(pub, QUARTERS_FROM).merge(prices[["ts", "price_eur_mwh"]], on="ts")
        hd = ((qr["ts"].dt.tz_convert("Europe/Stockholm").dt.normalize()
               - pd.Timestamp(o).tz_convert("Europe/Stockholm").normalize()).dt.days)
        hourly = qr["ts"].dt.floor("h").map(pub.set_index(pd.to_datetime(pub["ts"], utc=True))["p50"])
        rows.append(qr.assign(horizon_day=hd.to_numpy(), err=(qr["p50"] - qr["price_eur_mwh"]).abs(),
                              hourly_err=(hourly - qr["price_eur_mwh"]).abs()))
    mine = pd.concat(rows).groupby("horizon_day").agg(mae=("err", "mean"), n=("err", "size"),
                                                      hourly_mae=("hourly_err", "mean"))
    d1 = q.set_index("horizon_day").loc[1]
    assert d1["quarters"] == mine.loc[1, "n"] and d1["mae"] == pytest.approx(mine.loc[1, "mae"])
    assert d1["hourly_mae"] == pytest.approx(mine.loc[1, "hourly_mae"]) and d1["hourly_mae"] != d1["mae"]
    assert service.accuracy(project, "SE4", days=30).by_horizon_15min is None
    with TestClient(create_app(project=get_storage(mode="local", path=store_path))) as client:
        body = client.get("/accuracy", params={"zone": "SE3"}).json()
        assert body["by_horizon_15min"][0]["horizon_day"] == 1
        assert body["by_horizon_15min"][0]["mae"] == pytest.approx(round(d1["mae"], 2))
        assert client.get("/accuracy", params={"zone": "SE4"}).json()["by_horizon_15min"] is None


def test_cli_accuracy_by_15min(quarter_store, project, store_path):
    from typer.testing import CliRunner

    from spotcast_serve.cli import app

    for day in ("2024-03-21", "2024-03-22"):
        service.predict(project, "SE3", outputs=None, now=pd.Timestamp(f"{day}T10:30Z"))
        service.predict(project, "SE4", outputs=None, now=pd.Timestamp(f"{day}T10:30Z"))
    project.close()
    r = CliRunner().invoke(app, ["--store", str(store_path), "accuracy", "--zone", "SE3", "--zone", "SE4",
                                 "--by", "15min", "--no-chart", "--format", "csv"])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0].startswith("zone,horizon_day,quarters,origins,mae,hourly_mae")
    assert "SE4: no quarter-hour prices stored" in r.stderr


def test_dashboard_payload_carries_the_15_minute_forecast_of_a_quarter_zone(quarter_store, project):
    from spotcast_serve.api import dashboard_payload

    service.predict(project, "SE3", outputs=None, now=MADE)
    service.predict(project, "SE4", outputs=None, now=MADE)
    zones = {z["zone"]: z for z in dashboard_payload(project)["zones"]}
    se3 = [r for r in zones["SE3"]["forecast_15min"] if r["p50"] is not None]
    assert len(se3) == 4 * 168 and {r["resolution_minutes"] for r in se3} == {15}
    assert zones["SE3"]["actuals_15min"] and zones["SE4"]["forecast_15min"] is None
