"""Issue item 6: no leakage. For random origins, changing every input value that became known
after the origin leaves that origin's rows identical; changing one value known before changes them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spotcast_features import build as b
from spotcast_features.inputs import assemble, hourly_prices
from spotcast_features.transform import (
    Settings,
    collect_transformations,
    compute_rows,
    output_contract,
)
from spotcast_storage.contracts.features import WEATHER_VARIABLES
from spotcast_storage.contracts.market import EXOGENOUS, PRICES, WEATHER

ZONE = "SE3"
RNG = np.random.default_rng(20240501)
ORIGIN_DATES = [pd.Timestamp(d) for d in sorted(RNG.choice(pd.date_range("2024-03-05", "2024-04-25"), size=6, replace=False))]


def _rows(date, prices, weather, exogenous):
    trs = collect_transformations()
    batch = assemble(ZONE, pd.DatetimeIndex([date]), Settings(), hourly_prices(prices), weather, exogenous)
    return compute_rows(batch, trs, output_contract(trs)).reset_index(drop=True)


def _origin(date):
    return pd.Timestamp(date).tz_localize("Europe/Stockholm").replace(hour=10).tz_convert("UTC")


def _after(inputs, o):
    """Every input value that became known after origin ``o``, changed."""
    p, w, e = inputs["prices"].copy(), inputs["weather"].copy(), inputs["exogenous"].copy()
    p.loc[p["known_at"] > o, "price_eur_mwh"] += 1000.0
    late = ((w["kind"] == "forecast") & (w["issued_at"] > o)) | ((w["kind"] == "observed") & (w["ts"] >= o))
    w.loc[late, list(WEATHER_VARIABLES)] += 1000.0
    e.loc[e["issued_at"] > o, "value"] += 1000.0
    return p, w, e


@pytest.mark.parametrize("date", ORIGIN_DATES, ids=lambda d: f"{d:%Y-%m-%d}")
def test_values_known_after_the_origin_do_not_change_its_rows(inputs_60d, date):
    o = _origin(date)
    before = _rows(date, inputs_60d["prices"], inputs_60d["weather"], inputs_60d["exogenous"])
    assert (before["origin"] == o).all() and len(before) >= 167
    after = _rows(date, *_after(inputs_60d, o))
    pd.testing.assert_frame_equal(before, after)


def _known_before(inputs, o, source):
    """One input value known before ``o`` that the origin's rows use, changed."""
    p, w, e = inputs["prices"].copy(), inputs["weather"].copy(), inputs["exogenous"].copy()
    z = lambda df: df["zone"] == ZONE  # noqa: E731
    if source == "price":  # the origin day's 05:00 price (published the day before)
        sel = z(p) & (p["ts"] == o - pd.Timedelta(hours=5))
        assert (p.loc[sel, "known_at"] <= o).all()
        p.loc[sel, "price_eur_mwh"] += 1.0
    elif source == "forecast":  # the newest forecast issued by the origin, for the first target
        fc = w[z(w) & (w["kind"] == "forecast") & (w["issued_at"] <= o) & (w["ts"] == o + pd.Timedelta(hours=14))]
        w.loc[fc["issued_at"].idxmax(), "temperature_2m"] += 1.0
    elif source == "observation":  # the last observation before the origin (no forecasts yet then)
        sel = z(w) & (w["kind"] == "observed") & (w["ts"] == o - pd.Timedelta(hours=1))
        w.loc[sel, "temperature_2m"] += 1.0
    else:  # exogenous: the newest load forecast issued by the origin for the first target
        ex = e[z(e) & (e["series"] == "load_forecast") & (e["issued_at"] <= o) & (e["ts"] == o + pd.Timedelta(hours=14))]
        e.loc[ex["issued_at"].idxmax(), "value"] += 1.0
    return p, w, e


@pytest.mark.parametrize(("source", "date"), [
    ("price", "2024-04-10"), ("forecast", "2024-04-10"), ("observation", "2024-03-10"), ("exogenous", "2024-04-10"),
])
def test_one_value_known_before_the_origin_changes_its_rows(inputs_60d, source, date):
    o = _origin(date)
    before = _rows(date, inputs_60d["prices"], inputs_60d["weather"], inputs_60d["exogenous"])
    after = _rows(date, *_known_before(inputs_60d, o, source))
    assert not before.equals(after)
    changed = [c for c in before.columns if not before[c].equals(after[c])]
    expected = {"price": "price_lag_1d", "forecast": "wx_temperature_2m", "observation": "wx_temperature_2m",
                "exogenous": "exo_load_forecast"}[source]
    assert expected in changed, changed


def test_no_leakage_through_the_store_and_incremental_builds(project, inputs_60d):
    """The same check end to end: upsert the late values into the store, build incrementally."""
    fs = project.get_feature_store()
    for contract, df in ((PRICES, inputs_60d["prices"]), (WEATHER, inputs_60d["weather"]),
                         (EXOGENOUS, inputs_60d["exogenous"])):
        contract.get_or_create(fs).insert(df)
    b.build(project)
    date = ORIGIN_DATES[2]
    o = _origin(date)
    before = b.show(project, ZONE, f"{date:%Y-%m-%d}")
    p, w, e = _after(inputs_60d, o)
    PRICES.get(fs).insert(p)
    WEATHER.get(fs).insert(w)
    EXOGENOUS.get(fs).insert(e)
    s = b.build(project)
    assert s.updated > 0  # later origins did change
    pd.testing.assert_frame_equal(before, b.show(project, ZONE, f"{date:%Y-%m-%d}"))

    p2, _, _ = _known_before({"prices": p, "weather": w, "exogenous": e}, o, "price")
    PRICES.get(fs).insert(p2)
    b.build(project)
    assert not before.equals(b.show(project, ZONE, f"{date:%Y-%m-%d}"))
