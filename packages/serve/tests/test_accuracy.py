"""Accuracy: forecasts joined with actual hourly prices, checked against pandas arithmetic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from spotcast_serve import accuracy as acc
from spotcast_serve import service
from spotcast_storage.errors import NotFoundError

TZ = "Europe/Stockholm"


def _forecast_all_origins(project, data):
    """Forecast each of the fixture's three origins (as three daily runs would have)."""
    fs = project.get_feature_store()
    feats = fs.get_feature_group("price_features", 1).read()
    ref = service.resolve_model(project, "SE3")
    pred = service.load_predictor(ref)
    for _origin, rows in feats[feats["zone"] == "SE3"].groupby("origin"):
        service.forecast_origin(project, "SE3", rows.sort_values("ts", ignore_index=True), pred, ref)


def _expected(project) -> pd.DataFrame:
    f = project.get_feature_store().get_feature_group("forecasts", 3).read()
    a = project.get_feature_store().get_feature_group("prices_hourly", 1).read()
    m = f.merge(a, on=["zone", "ts"])
    lag = a.assign(ts=a["ts"] + pd.Timedelta(hours=168)).rename(columns={"price_eur_mwh": "naive"})
    m = m.merge(lag, on=["zone", "ts"], how="left")
    m["h"] = (m["ts"].dt.tz_convert(TZ).dt.normalize().dt.tz_localize(None)
              - m["origin"].dt.tz_convert(TZ).dt.normalize().dt.tz_localize(None)).dt.days
    m["ae"] = (m["p50"] - m["price_eur_mwh"]).abs()
    m["nae"] = (m["naive"] - m["price_eur_mwh"]).abs()
    m["in_band"] = (m["price_eur_mwh"] >= m["p10"]) & (m["price_eur_mwh"] <= m["p90"])
    return m


def test_accuracy_numbers_match_pandas(ready, project, data):
    _forecast_all_origins(project, data)
    # Actuals known only up to 2024-03-26 local: later forecast hours are not scored yet.
    cut = pd.Timestamp("2024-03-26", tz=TZ).tz_convert("UTC")
    fg = project.get_feature_store().get_feature_group("prices_hourly", 1)
    keep = fg.read()
    fg.insert(keep[keep["ts"] < cut], overwrite=True)
    report = service.accuracy(project, "SE3", days=30)
    m = _expected(project)
    m = m[m["zone"] == "SE3"]
    assert report.overall["hours"].iloc[0] == len(m) and m["ts"].max() < cut
    exp = m.groupby("h").agg(mae=("ae", "mean"), naive=("nae", "mean"), cov=("in_band", "mean"), n=("ae", "size"))
    got = report.by_horizon.set_index("horizon_day")
    assert got.index.tolist() == exp.index.tolist()
    np.testing.assert_allclose(got["mae"], exp["mae"])
    np.testing.assert_allclose(got["naive_mae"], exp["naive"])
    np.testing.assert_allclose(got["coverage_p10_p90"], exp["cov"])
    np.testing.assert_allclose(got["rmse"], m.groupby("h")["ae"].apply(lambda s: np.sqrt((s**2).mean())))
    assert got["hours"].tolist() == exp["n"].tolist()
    # the band's price and its quality beside coverage: mean width, mean pinball loss of p10/p50/p90
    np.testing.assert_allclose(got["width_p10_p90"], (m["p90"] - m["p10"]).groupby(m["h"]).mean())
    y = m["price_eur_mwh"]
    loss = sum(np.maximum(q * (y - m[c]), (q - 1) * (y - m[c])) for q, c in ((0.1, "p10"), (0.5, "p50"), (0.9, "p90"))) / 3
    np.testing.assert_allclose(got["pinball"], loss.groupby(m["h"]).mean())
    assert report.overall["width_p10_p90"].iloc[0] == pytest.approx((m["p90"] - m["p10"]).mean())
    # Over time: one row per origin day.
    by_o = report.by_origin.set_index("origin_date")
    assert by_o.index.tolist() == ["2024-03-20", "2024-03-21", "2024-03-22"]
    m["od"] = m["origin"].dt.tz_convert(TZ).dt.date.astype(str)
    np.testing.assert_allclose(by_o["mae"], m.groupby("od")["ae"].mean())
    # Predicted vs actual: each hour once, from its shortest horizon.
    assert report.pairs["ts"].is_unique and len(report.pairs) == m["ts"].nunique()
    first = m.sort_values(["ts", "h"]).drop_duplicates("ts")
    np.testing.assert_allclose(report.pairs["p50"], first["p50"])


def test_days_window_counts_back_from_newest_scored_origin(ready, project, data):
    _forecast_all_origins(project, data)
    report = service.accuracy(project, "SE3", days=2)
    assert report.by_origin["origin_date"].tolist() == ["2024-03-21", "2024-03-22"]


def test_sql_view_gives_the_same_rows_and_in_memory_path_agrees(ready, project, data):
    _forecast_all_origins(project, data)
    assert service.ensure_accuracy_view(project)
    view = project.sql("SELECT horizon_day, avg(abs_error) AS mae FROM forecast_accuracy "
                       "WHERE zone = 'SE3' GROUP BY 1 ORDER BY 1")
    report = service.accuracy(project, "SE3", days=30)
    np.testing.assert_allclose(view["mae"], report.by_horizon["mae"])
    # The backend-neutral path (frames + the same SQL in memory) gives identical numbers.
    fs = project.get_feature_store()
    frames = acc.run_on_frames(fs.get_feature_group("forecasts", 3).read(),
                               fs.get_feature_group("prices_hourly", 1).read(), "SE3", 30)
    pd.testing.assert_frame_equal(frames.by_horizon, report.by_horizon, check_dtype=False)
    # Creating it again with the same definition is not a change.
    before = project.sql("SELECT sql FROM duckdb_views() WHERE view_name = 'forecast_accuracy'")
    assert service.ensure_accuracy_view(project)
    assert project.sql("SELECT sql FROM duckdb_views() WHERE view_name = 'forecast_accuracy'").equals(before)


def test_accuracy_chart_written(ready, project, data, tmp_path):
    _forecast_all_origins(project, data)
    path = service.accuracy_chart(service.accuracy(project, "SE3", 30), tmp_path / "o")
    assert path.name == "accuracy_SE3_2024-03-22.png"
    with Image.open(path) as img:
        assert img.size[1] > img.size[0] * 0.8  # three stacked panels


def test_no_actuals_yet_is_an_empty_report_not_an_error(data, project):
    data.write_features()
    data.naive_model()
    service.predict(project, "SE3", outputs=None)
    report = service.accuracy(project, "SE3", 30)
    assert report.empty and report.to_dict()["overall"] is None


def test_accuracy_errors(ready, project):
    with pytest.raises(NotFoundError, match="no forecasts stored for zone SE3"):
        service.accuracy(project, "SE3", 30)
    with pytest.raises(NotFoundError, match="unknown zone 'XX1'"):
        service.accuracy(project, "XX1", 30)


def test_by_week_matches_pandas_per_week_and_horizon(history, project):
    """Issue 17: accuracy over time, horizon by horizon. Weeks are the origins' local weeks
    (Monday first), counted back in whole weeks from the newest scored origin's week."""
    report = service.accuracy(project, "SE3", days=30, weeks=3)
    m = _expected(project)
    m = m[m["zone"] == "SE3"].copy()
    od = m["origin"].dt.tz_convert(TZ).dt.tz_localize(None).dt.normalize()
    m["week"] = (od - pd.to_timedelta(od.dt.weekday, unit="D")).dt.date.astype(str)
    m = m[m["week"] >= "2024-03-11"]  # three weeks back from the week of 2024-03-25
    exp = m.groupby(["week", "h"]).agg(mae=("ae", "mean"), cov=("in_band", "mean"), n=("ae", "size"),
                                       origins=("origin", "nunique"))
    got = report.by_week.set_index(["week_start", "horizon_day"])
    assert got.index.tolist() == exp.index.tolist()
    assert sorted(set(report.by_week["week_start"])) == ["2024-03-11", "2024-03-18", "2024-03-25"]
    np.testing.assert_allclose(got["mae"], exp["mae"])
    np.testing.assert_allclose(got["coverage_p10_p90"], exp["cov"])
    assert got["hours"].tolist() == exp["n"].tolist() and got["origins"].tolist() == exp["origins"].tolist()
    # The 23-hour DST day (2024-03-31) is one delivery day, at the horizon its origins say.
    assert report.by_week.loc[report.by_week["week_start"] == "2024-03-25", "hours"].sum() == \
        m.loc[m["week"] == "2024-03-25"].shape[0]
    # The default window reaches back far enough for all four weeks; days do not narrow it.
    assert sorted(set(service.accuracy(project, "SE3", days=1).by_week["week_start"])) == \
        ["2024-03-04", "2024-03-11", "2024-03-18", "2024-03-25"]


def test_rounded_like_the_rest_of_the_api(history, project):
    d = service.accuracy(project, "SE3", 30, 8).to_dict(pairs=True)
    prices = [r[c] for part in ("by_horizon", "by_week", "pairs") for r in d[part]
              for c in ("mae", "p50", "actual") if r.get(c) is not None]
    ratios = [r["coverage_p10_p90"] for part in ("by_horizon", "by_week") for r in d[part]]
    assert prices and all(round(v, 2) == v for v in prices) and any(round(v, 1) != v for v in prices)
    assert all(round(v, 4) == v for v in ratios) and d["reason"] is None and d["unit"] == "EUR/MWh"


def test_one_origin_against_the_actuals(history, project):
    """Per origin: each scored hour's p10/p50/p90 beside the actual price, and the origin's MAE
    and coverage from the same rows."""
    one = service.accuracy_of_origin(project, "SE3", "2024-03-20")
    m = _expected(project)
    origin = pd.Timestamp("2024-03-20 10:00", tz=TZ).tz_convert("UTC")
    m = m[(m["zone"] == "SE3") & (m["origin"] == origin)].sort_values("ts")
    assert one.origin == origin and len(one.hours) == len(m) == 168
    np.testing.assert_allclose(one.hours["actual"], m["price_eur_mwh"])
    np.testing.assert_allclose(one.hours["p50"], m["p50"])
    d = one.to_dict()
    assert d["origin_date"] == "2024-03-20" and d["hours"] == 168 and d["reason"] is None
    assert d["mae"] == round(m["ae"].mean(), 2) and d["coverage_p10_p90"] == round(m["in_band"].mean(), 4)
    assert [r["horizon_day"] for r in d["forecast"]][::24] == list(range(1, 8))
    # No origin: the newest one that has actual prices.
    assert service.accuracy_of_origin(project, "SE3").origin == pd.Timestamp("2024-03-27 10:00", tz=TZ)
    with pytest.raises(NotFoundError, match="no forecast for zone SE3 from origin 2024-01-01"):
        service.accuracy_of_origin(project, "SE3", "2024-01-01")


def test_empty_report_says_why_and_what_to_do(data, project, store_path):
    """Issue 17: right after the first run there are no actuals for the forecast hours; the
    report is empty with a reason that names the first forecast day and the two ways forward."""
    data.write_features()
    data.write_actuals(data.actuals(days=20))  # through 2024-03-20; the forecast starts 2024-03-21
    data.naive_model()
    service.predict(project, "SE3", outputs=None)
    report = service.accuracy(project, "SE3", 30)
    assert report.empty and report.by_week.empty
    assert report.reason.startswith("no published forecast of SE3 has an actual price yet: the first forecast "
                                    "hour is 2024-03-21 00:00 (Europe/Stockholm) and actual prices are stored "
                                    "up to 2024-03-20 23:00. Wait until the prices of 2024-03-21 are published")
    assert f"`spotcast --store {store_path} run --zone SE3 --now <YYYY-MM-DD>T14:00Z`" in report.reason
    d = report.to_dict()
    assert d["overall"] is None and d["reason"] == report.reason and d["by_week"] == []
    newest = service.accuracy_of_origin(project, "SE3")
    assert newest.hours.empty and newest.to_dict()["reason"] == report.reason
    given = service.accuracy_of_origin(project, "SE3", "2024-03-20").to_dict()
    assert given["forecast"] == [] and "its first delivery day is 2024-03-21" in given["reason"]


def test_replay_hint_names_the_synthetic_source(data, project):
    """A demo store's prices are synthetic: the replay the hint names must use that source
    (a real one would need the network and mix real prices into the demo)."""
    data.write_features()
    data.write_prices(data.actuals(days=20).assign(zone="SE3"))
    fg = project.get_feature_store().get_feature_group("prices", 1)
    fg.insert(fg.read().assign(source="synthetic"), overwrite=True)
    data.naive_model()
    service.predict(project, "SE3", outputs=None)
    assert "run --zone SE3 --source synthetic --now <YYYY-MM-DD>T14:00Z" in service.accuracy(project, "SE3").reason


def test_week_and_origin_queries_agree_on_frames_and_in_the_store(history, project):
    """The backend-neutral path (frames + the same SQL in memory) gives the store's numbers for
    the new queries too, so a Hopsworks project sees the same accuracy over time."""
    fs = project.get_feature_store()
    f, a = fs.get_feature_group("forecasts", 3).read(), fs.get_feature_group("prices_hourly", 1).read()
    store = service.accuracy(project, "SE4", 30, 3)
    frames = acc.run_on_frames(f, a, "SE4", 30, 3)
    pd.testing.assert_frame_equal(frames.by_week, store.by_week, check_dtype=False)
    origin = pd.Timestamp("2024-03-12 10:00", tz=TZ)
    one = acc.origin_on_frames(f, a, "SE4", origin)
    cols = ["ts", "horizon_day", "p10", "p50", "p90", "actual", "error", "in_band", "origin_mae", "origin_coverage"]
    pd.testing.assert_frame_equal(one.hours[cols], service.accuracy_of_origin(project, "SE4", origin).hours[cols],
                                  check_dtype=False)
    assert len(one.hours) == 168 and one.origin == origin


class _NoPathStore:
    """A DuckDB-dialect store whose project has no ``path`` (not part of the Project Protocol):
    the local store behind the Protocol's members only."""

    def __init__(self, project):
        self._p = project
        self.sql_dialect = project.sql_dialect

    def describe(self):
        return "a store without a path: " + self._p.describe()

    def sql(self, query, params=None, timeout=None):
        return self._p.sql(query, params)

    def create_sql_view(self, name, sql):
        self._p.create_sql_view(name, sql)


def test_the_sql_view_is_made_for_a_duckdb_store_whose_project_has_no_path(ready, project, data):
    _forecast_all_origins(project, data)
    store = _NoPathStore(project)
    assert not hasattr(store, "path")
    assert service.ensure_accuracy_view(store)
    assert len(project.sql("SELECT * FROM forecast_accuracy WHERE zone = 'SE3'"))
    assert service.ensure_accuracy_view(store)  # checked once per store: the second call is the cache
