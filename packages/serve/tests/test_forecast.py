"""Pure transformations: horizons on local dates, quantile order, daily means, sameness."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spotcast_serve import forecast as fc
from spotcast_storage.errors import SchemaError, ValidationError

TZ = "Europe/Stockholm"


def _rows(origin_day: str, days: int = 7) -> pd.DataFrame:
    d = pd.Timestamp(origin_day, tz=TZ)
    origin = (d + pd.Timedelta(hours=10)).tz_convert("UTC")
    ts = pd.date_range((d + pd.DateOffset(days=1)).tz_convert("UTC"),
                       (d + pd.DateOffset(days=1 + days)).tz_convert("UTC"), freq="h", inclusive="left")
    return pd.DataFrame({"zone": "SE3", "origin": origin, "ts": ts})


def test_horizon_days_count_local_dates_across_dst():
    rows = _rows("2024-03-28")  # D+3 is 2024-03-31, a 23-hour day in Stockholm
    h = fc.horizon_days(rows["origin"], rows["ts"], TZ)
    counts = h.value_counts().sort_index()
    assert counts.index.tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert counts.loc[3] == 23 and counts.drop(3).eq(24).all()


def test_daily_means_have_25_hours_on_autumn_dst_day():
    rows = _rows("2024-10-24")  # 2024-10-27 has 25 hours
    pred = pd.DataFrame({"p10": 1.0, "p50": np.arange(len(rows), dtype=float), "p90": 1e6}, index=rows.index)
    out = fc.build_forecasts(rows, pred, model="m", model_version=1, made_at=pd.Timestamp("2024-10-24", tz="UTC"))
    daily = fc.daily_means(out, TZ)
    assert daily.set_index("date").loc["2024-10-27", "hours"] == 25
    # Mean of the p50 values that fall on that local day, computed independently.
    local_days = out["ts"].dt.tz_convert(TZ).dt.date.astype(str)
    expected = out.loc[local_days == "2024-10-27", "p50"].mean()
    assert daily.set_index("date").loc["2024-10-27", "p50"] == pytest.approx(expected)


def test_limit_horizon_keeps_first_days_and_rejects_zero():
    rows = _rows("2024-05-01")
    kept = fc.limit_horizon(rows, 2, TZ)
    assert len(kept) == 48
    assert fc.horizon_days(kept["origin"], kept["ts"], TZ).max() == 2
    with pytest.raises(ValidationError, match="at least 1"):
        fc.limit_horizon(rows, 0, TZ)


def test_crossing_quantiles_are_sorted_per_row():
    pred = pd.DataFrame({"p10": [5.0, 1.0, np.nan], "p50": [3.0, 2.0, 7.0], "p90": [4.0, 3.0, 6.0]})
    out = fc.sort_quantiles(pred)
    assert out.iloc[:2].to_numpy().tolist() == [[3.0, 4.0, 5.0], [1.0, 2.0, 3.0]]
    # A row with a missing quantile keeps its median where it is.
    assert np.isnan(out.iloc[2, 0]) and out.iloc[2, 1:].tolist() == [7.0, 6.0]


def test_missing_quantile_column_is_an_error():
    with pytest.raises(ValidationError, match=r"\['p90'\]"):
        fc.sort_quantiles(pd.DataFrame({"p10": [1.0], "p50": [2.0]}))


def test_hours_without_a_median_are_left_out_and_none_at_all_is_an_error():
    rows = _rows("2024-05-01", days=1)
    pred = pd.DataFrame({"p10": 1.0, "p50": 2.0, "p90": 3.0}, index=rows.index)
    pred.loc[[3, 7], "p50"] = np.nan
    out = fc.build_forecasts(rows, pred, model="m", model_version=1, made_at=pd.Timestamp.now(tz="UTC"))
    assert len(out) == 22 and not out["ts"].isin(rows["ts"].iloc[[3, 7]]).any()
    pred["p50"] = np.nan
    with pytest.raises(ValidationError, match="no finite median"):
        fc.build_forecasts(rows, pred, model="m", model_version=1, made_at=pd.Timestamp.now(tz="UTC"))


def test_build_forecasts_conforms_to_contract_and_checks_lengths():
    rows = _rows("2024-05-01", days=1)
    pred = pd.DataFrame({"p10": 1.0, "p50": 2.0, "p90": 3.0}, index=rows.index)
    out = fc.build_forecasts(rows, pred, model="m", model_version=3, made_at=pd.Timestamp("2024-05-01T09:00Z"))
    assert list(out.columns) == ["zone", "origin", "ts", "resolution_minutes", "made_at", "p10", "p50", "p90", "model", "model_version",
                                 "fallback_reason", "created_at"]
    assert out["fallback_reason"].isna().all() and (out["made_at"] == pd.Timestamp("2024-05-01T09:00Z")).all()
    assert str(out["ts"].dt.tz) == "UTC" and out["model_version"].eq(3).all()
    with pytest.raises(ValidationError, match="23 predictions for 24"):
        fc.build_forecasts(rows, pred.iloc[:-1], model="m", model_version=1, made_at=pd.Timestamp.now(tz="UTC"))
    bad = rows.copy()
    bad.loc[0, "zone"] = None
    with pytest.raises(SchemaError, match="zone"):
        fc.build_forecasts(bad, pred, model="m", model_version=1, made_at=pd.Timestamp.now(tz="UTC"))


def test_same_forecast_ignores_when_made_but_not_values_version_or_fallback():
    rows = _rows("2024-05-01", days=1)
    pred = pd.DataFrame({"p10": 1.0, "p50": 2.0, "p90": 3.0}, index=rows.index)
    a = fc.build_forecasts(rows, pred, model="m", model_version=1, made_at=pd.Timestamp("2024-05-01T09:00Z"))
    b = fc.build_forecasts(rows, pred, model="m", model_version=1, made_at=pd.Timestamp("2024-05-02T09:00Z"))
    assert fc.same_forecast(a, b.iloc[::-1])
    c = b.copy()
    c.loc[5, "p50"] += 0.01
    assert not fc.same_forecast(a, c)
    d = b.copy()
    d["model_version"] = 2
    assert not fc.same_forecast(a, d)
    assert not fc.same_forecast(a, b.iloc[:-1])
    e = b.copy()
    e["fallback_reason"] = "data_quality: SE3 2024-04-30 flatliner: 10 h"
    assert not fc.same_forecast(a, e)


def test_naive_forecast_is_the_weekly_lag_flagged_without_an_interval():
    rows = _rows("2024-05-01", days=1).assign(price_lag_7d=np.arange(24.0))
    rows.loc[4, "price_lag_7d"] = np.nan
    out = fc.naive_forecast(rows, reason="data_quality: SE3 2024-05-01 flatliner: 10 h",
                            made_at=pd.Timestamp("2024-05-01T14:00Z"))
    assert len(out) == 23 and out["p50"].tolist() == [float(i) for i in range(24) if i != 4]
    assert out["p10"].isna().all() and out["p90"].isna().all()
    assert (out["model"] == "naive-weekly").all() and (out["model_version"] == 0).all()
    assert (out["fallback_reason"] == "data_quality: SE3 2024-05-01 flatliner: 10 h").all()
    with pytest.raises(ValidationError, match="no naive forecast"):
        fc.naive_forecast(rows.drop(columns="price_lag_7d"), reason="x", made_at=pd.Timestamp("2024-05-01T14:00Z"))


def test_forecast_table_shows_the_published_actuals_before_the_first_target_hour():
    """Made at 16:00 after the auction, the origin's day is published: its hours are rows of
    their own (horizon day 0, no forecast), before the forecast hours."""
    rows = _rows("2024-09-21", days=2).assign(price_lag_7d=50.0)
    vint = fc.naive_forecast(rows, reason="x", made_at=pd.Timestamp("2024-09-20T14:00Z"))
    day = pd.date_range(pd.Timestamp("2024-09-21", tz=TZ).tz_convert("UTC"), periods=24, freq="h")
    actuals = pd.DataFrame({"ts": day, "price_eur_mwh": np.arange(24.0)})
    t = fc.forecast_table(vint, TZ, actuals)
    assert len(t) == 24 + 48 and list(t.columns) == fc.TABLE_COLUMNS
    lead = t[t["horizon_day"] == 0]
    assert lead["actual"].tolist() == list(np.arange(24.0)) and lead["p50"].isna().all()
    assert t["ts_local"].iloc[0] == "2024-09-21T00:00:00+02:00"
    assert t.loc[t["horizon_day"] > 0, "actual"].isna().all() and (t.loc[t["horizon_day"] > 0, "p50"] == 50.0).all()


def test_zone_timezone_comes_from_the_zone_table_and_never_falls_back_to_utc():
    from spotcast_storage.zones import UnknownZoneError

    assert fc.zone_timezone("SE3") == TZ
    assert fc.zone_timezone("BE") == "Europe/Brussels" and fc.zone_timezone("de_lu") == "Europe/Berlin"
    with pytest.raises(UnknownZoneError, match="unknown zone 'XX9'"):
        fc.zone_timezone("XX9")
