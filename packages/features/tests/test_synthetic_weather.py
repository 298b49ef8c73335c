"""The synthetic weather the README tour writes (issue 17, item 9): forecasts within the
physical range of each variable and temperatures of the season whatever the start date."""

from __future__ import annotations

import pandas as pd
import pytest

from spotcast_features import synthetic

# Stockholm's monthly mean temperatures, °C (1991-2020 normals, rounded)
NORMALS = {1: -3, 2: -3, 3: 0, 4: 5, 5: 11, 6: 15, 7: 17, 8: 16, 9: 12, 10: 7, 11: 2, 12: -1}


@pytest.fixture(scope="module")
def year() -> dict[str, pd.DataFrame]:
    return {"weather": synthetic.weather(["SE3"], "2024-01-01", 366),
            "archived": synthetic.archived_weather(["SE3"], "2024-01-01", 366, live_issued_at="2024-12-20T06:00Z")}


@pytest.mark.parametrize("which", ["weather", "archived"])
def test_no_negative_rain_sunshine_or_wind_and_cloud_in_range(year, which):
    w = year[which]
    assert (w["kind"] == "forecast").any()
    for col in ("precipitation", "shortwave_radiation", "wind_speed_10m", "wind_speed_100m"):
        assert (w[col] >= 0).all(), f"{which}: negative {col}: {w[col].min()}"
    assert w["cloud_cover"].between(0, 100).all()
    night = w[w["ts"].dt.hour == 0]  # 01:00/02:00 in Stockholm: dark all year
    assert (night["shortwave_radiation"] == 0).all()


@pytest.mark.parametrize("which", ["weather", "archived"])
def test_monthly_mean_temperatures_are_seasonal(year, which):
    w = year[which]
    for kind, rows in w.groupby("kind"):
        month = rows["ts"].dt.tz_convert("Europe/Stockholm").dt.month
        means = rows.groupby(month)["temperature_2m"].mean()
        off = {m: round(means[m] - NORMALS[m], 1) for m in NORMALS if abs(means[m] - NORMALS[m]) > 2.5}
        assert not off, f"{which} {kind}: months off Stockholm's normals by more than 2.5 °C: {off}"


def test_a_start_in_may_is_may_not_january():
    w = synthetic.weather(["SE3"], "2024-05-01", 31)
    assert w["temperature_2m"].mean() == pytest.approx(NORMALS[5], abs=2.5)
