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
    f = project.get_feature_store().get_feature_group("forecasts", 2).read()
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
    frames = acc.run_on_frames(fs.get_feature_group("forecasts", 2).read(),
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
