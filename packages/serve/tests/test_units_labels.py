"""Units (pure conversion at the source's daily EUR/SEK rate) and labels (delivery days, time made)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spotcast_serve import labels, units
from spotcast_storage.errors import ValidationError

TZ = "Europe/Stockholm"


def day_prices(day: str, rate: float, eur_mwh: np.ndarray) -> pd.DataFrame:
    """One day as elprisetjustnu answers it: EUR/kWh and SEK/kWh, each rounded to 5 decimals."""
    ts = pd.date_range(pd.Timestamp(day, tz=TZ).tz_convert("UTC"), periods=len(eur_mwh), freq="h")
    eur = np.round(eur_mwh / 1000, 5)
    return pd.DataFrame({"ts": ts, "price_eur_mwh": eur * 1000, "price_sek_kwh": np.round(eur * rate, 5)})


def test_parse_unit_and_a_clear_error():
    assert units.parse_unit(None).code == "eur_mwh" and units.parse_unit(" ORE_kwh ").label == "öre/kWh"
    with pytest.raises(ValidationError, match=r"unknown unit 'kr'; use one of eur_mwh, sek_kwh, ore_kwh"):
        units.parse_unit("kr")


def test_conversion_factors():
    v = np.array([100.0, -5.0])
    assert units.convert(v, units.UNITS["eur_mwh"]).tolist() == [100.0, -5.0]
    assert units.convert(v, units.UNITS["sek_kwh"], 11.5) == pytest.approx([1.15, -0.0575])
    assert units.convert(v, units.UNITS["ore_kwh"], 11.5) == pytest.approx([115.0, -5.75])
    with pytest.raises(ValidationError, match="needs a EUR/SEK rate"):
        units.convert(v, units.UNITS["sek_kwh"])


def test_daily_rate_is_recovered_from_rounded_prices_even_on_a_day_near_zero():
    rng = np.random.default_rng(3)
    days = pd.concat([day_prices("2024-09-20", 11.384226, rng.uniform(20, 120, 24)),
                      day_prices("2024-09-21", 11.40125, rng.uniform(-2, 2, 24)),  # cheap, negative hours
                      day_prices("2024-03-31", 11.7, rng.uniform(40, 60, 23))])  # a 23-hour day
    r = units.daily_rates(days, TZ).set_index("date")["rate"]
    assert r.index.tolist() == ["2024-03-31", "2024-09-20", "2024-09-21"]
    assert r["2024-09-20"] == pytest.approx(11.384226, abs=2e-4)
    assert r["2024-09-21"] == pytest.approx(11.40125, abs=0.05)
    assert r["2024-03-31"] == pytest.approx(11.7, abs=2e-4)
    no_sek = days.assign(price_sek_kwh=np.nan)
    assert units.daily_rates(no_sek, TZ).empty


def test_future_days_take_the_newest_known_rate_and_an_unknown_one_is_an_error():
    rates = pd.DataFrame({"date": ["2024-09-20", "2024-09-21"], "rate": [11.38, 11.40]})
    got = units.rates_for_days(rates, ["2024-09-21", "2024-09-22", "2024-10-05"], "SE3")
    assert got["rate_date"].tolist() == ["2024-09-21"] * 3 and got["rate"].tolist() == [11.40] * 3
    with pytest.raises(units.UnknownRateError, match=r"no EUR/SEK rate is known for SE3 2024-10-06 \(the newest is "
                       r"of 2024-09-21"):
        units.rates_for_days(rates, ["2024-10-06"], "SE3")
    with pytest.raises(units.UnknownRateError, match=r"DK1 2024-09-19 .*the store has none for this zone"):
        units.rates_for_days(rates.iloc[0:0], ["2024-09-19"], "DK1")
    assert units.describe_rates(got) == "EUR/SEK 11.4000 (rate of 2024-09-21) for 2024-09-21..10-05"


def test_convert_table_uses_each_delivery_days_rate():
    ts = pd.Series(pd.to_datetime(["2024-09-21T21:00Z", "2024-09-21T22:00Z"]))  # 23:00 and 00:00 local
    table = pd.DataFrame({"ts": ts, "actual": [10.0, np.nan], "p10": [np.nan, 1.0], "p50": [np.nan, 20.0],
                          "p90": [np.nan, 30.0]})
    rates = pd.DataFrame({"date": ["2024-09-21", "2024-09-22"], "rate": [11.0, 12.0],
                          "rate_date": ["2024-09-21", "2024-09-21"]})
    out = units.convert_table(table, units.UNITS["ore_kwh"], rates, TZ)
    assert out["actual"].iloc[0] == pytest.approx(11.0) and out["p50"].iloc[1] == pytest.approx(24.0)
    assert out["rate_eur_sek"].tolist() == [11.0, 12.0] and set(out["unit"]) == {"öre/kWh"}
    assert units.convert_table(table, units.UNITS["eur_mwh"], None, TZ)["p50"].iloc[1] == 20.0


def test_labels_name_delivery_days_and_local_time_made():
    ts = pd.Series(pd.date_range(pd.Timestamp("2024-09-22", tz=TZ), periods=168, freq="h").tz_convert("UTC"))
    made = pd.Timestamp("2024-09-20T14:00Z")
    assert labels.title("SE3", ts, made, TZ) == "SE3 2024-09-22..28, made 2024-09-20 16:00 CEST"
    assert labels.file_stem("SE3", ts, made, TZ) == "forecast_SE3_2024-09-22_2024-09-28_made_2024-09-20T1600CEST"
    assert labels.file_stem("SE3", ts, made, TZ, "ore_kwh").endswith("T1600CEST_ore_kwh")
    assert labels.day_range("2024-09-28", "2024-10-04") == "2024-09-28..10-04"
    assert labels.day_range("2024-12-29", "2025-01-04") == "2024-12-29..2025-01-04"
    assert labels.day_range("2024-12-29", "2024-12-29") == "2024-12-29"
    # The two 02:30 of the autumn change are told apart.
    a, b = pd.Timestamp("2024-10-27T00:30Z"), pd.Timestamp("2024-10-27T01:30Z")
    assert labels.made_label(a, TZ) == "2024-10-27 02:30 CEST" and labels.made_label(b, TZ) == "2024-10-27 02:30 CET"
    # Names of one zone sort by first delivery day, then by time made.
    names = [labels.file_stem("SE3", ts + pd.Timedelta(days=d), made + pd.Timedelta(days=d, hours=h), TZ)
             for d in (0, 1) for h in (0, 3)]
    assert sorted(names) == names
