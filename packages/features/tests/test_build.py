"""Builds against a real DuckDB store: incremental updates equal a full rebuild."""

from __future__ import annotations

import pandas as pd
import pytest

from spotcast_features import build as b
from spotcast_features import synthetic
from spotcast_storage import get_storage
from spotcast_storage.contracts import PRICE_FEATURES, PRICES_HOURLY
from spotcast_storage.contracts.market import EXOGENOUS, PRICES, WEATHER
from spotcast_storage.errors import NotFoundError, ValidationError

ZONES = ["SE3", "SE4"]


def _insert(project, prices=None, weather=None, exogenous=None):
    fs = project.get_feature_store()
    for contract, df in ((PRICES, prices), (WEATHER, weather), (EXOGENOUS, exogenous)):
        if df is not None and not df.empty:
            contract.get_or_create(fs).insert(df)


def _table(project, contract, key):
    fg = project.get_feature_store().get_feature_group(contract.name, contract.version)
    return fg.read().sort_values(key, ignore_index=True)


def _local_day(ts):
    return ts.dt.tz_convert("Europe/Stockholm").dt.tz_localize(None).dt.normalize()


def _assert_same_tables(a, b_):
    for contract, key in ((PRICE_FEATURES, ["zone", "origin", "ts"]), (PRICES_HOURLY, ["zone", "ts"])):
        pd.testing.assert_frame_equal(_table(a, contract, key), _table(b_, contract, key))


@pytest.mark.slow
def test_incremental_updates_equal_a_full_rebuild(tmp_path):
    start, days = "2024-03-01", 45
    prices = synthetic.prices(ZONES, start, days)
    weather = synthetic.weather(ZONES, start, days, forecasts_from="2024-03-25")
    exo = synthetic.exogenous(ZONES, start, days)
    pday, wday, eday = _local_day(prices["ts"]), _local_day(weather["issued_at"]), _local_day(exo["issued_at"])
    cut = pd.Timestamp("2024-04-10")

    inc = get_storage(mode="local", path=tmp_path / "inc.duckdb")
    _insert(inc, prices[pday < cut], weather[wday < cut], exo[eday < cut])
    first = b.build(inc)
    assert first.origins > 0 and first.acked_to is not None
    # day by day, as the daily pipeline would: prices of the next day, that day's forecasts ...
    for day in pd.date_range(cut, "2024-04-14"):
        _insert(inc, prices[pday == day], weather[wday == day], exo[eday == day])
        s = b.build(inc)
        # only origins whose windows reach the new rows are recomputed: not the history
        assert 0 < s.origins <= 2 * 12, s.line()
    # ... a corrected old price, and a zone-wide correction of one weather value
    fix = prices[(pday == pd.Timestamp("2024-03-20")) & (prices["zone"] == "SE3")].head(3).copy()
    fix["price_eur_mwh"] += 40.0
    prices = pd.concat([prices[~prices.set_index(["zone", "ts"]).index.isin(fix.set_index(["zone", "ts"]).index)], fix])
    _insert(inc, prices=fix)
    wfix = weather[(weather["kind"] == "observed") & (wday == pd.Timestamp("2024-03-21"))].head(2).copy()
    wfix["temperature_2m"] -= 20.0
    weather = pd.concat([weather.drop(wfix.index), wfix])
    _insert(inc, weather=wfix)
    s = b.build(inc)
    assert s.updated > 0 and s.inserted == 0

    full = get_storage(mode="local", path=tmp_path / "full.duckdb")
    _insert(full, prices, weather, exo)
    b.rebuild(full)
    _assert_same_tables(inc, full)

    # nothing pending: a build does nothing; a rebuild rewrites nothing
    assert b.build(inc).rows == 0
    again = b.rebuild(inc)
    assert (again.inserted, again.updated, again.deleted) == (0, 0, 0)


def test_targets_that_move_replace_the_old_rows(project, tmp_path):
    """With a 14:00 origin, D+1 prices published at 13:00 but ingested late move the first target
    from D+1 to D+2; the D+1 rows of that origin must go, as in a rebuild."""
    prices = synthetic.prices(["SE3"], "2024-05-01", 12)
    day = _local_day(prices["ts"])
    _insert(project, prices=prices[day <= pd.Timestamp("2024-05-10")])
    b.build(project, origin_hour=14)
    o = pd.Timestamp("2024-05-10T12:00Z")
    before = b.show(project, "SE3", "2024-05-10")
    assert before["ts"].min() == pd.Timestamp("2024-05-10T22:00Z")
    _insert(project, prices=prices[day == pd.Timestamp("2024-05-11")])
    s = b.build(project)
    after = b.show(project, "SE3", "2024-05-10")
    assert after["ts"].min() == pd.Timestamp("2024-05-11T22:00Z") and len(after) == 168
    assert s.deleted >= 24
    assert (after["origin"] == o).all()

    other = get_storage(mode="local", path=tmp_path / "other.duckdb")
    _insert(other, prices=prices[day <= pd.Timestamp("2024-05-11")])
    b.rebuild(other, origin_hour=14)
    _assert_same_tables(project, other)


def test_deleted_prices_remove_their_origins_and_hours(project, tmp_path):
    prices = synthetic.prices(["SE3"], "2024-05-01", 20)
    _insert(project, prices=prices)
    b.build(project)
    keep = prices[_local_day(prices["ts"]) < pd.Timestamp("2024-05-15")]
    PRICES.get_or_create(project.get_feature_store()).insert(keep, overwrite=True)
    b.build(project)
    feats = _table(project, PRICE_FEATURES, ["zone", "origin", "ts"])
    assert _local_day(feats["origin"]).max() == pd.Timestamp("2024-05-14")
    assert _table(project, PRICES_HOURLY, ["zone", "ts"])["ts"].max() == keep["ts"].max()

    other = get_storage(mode="local", path=tmp_path / "other.duckdb")
    _insert(other, prices=keep)
    b.rebuild(other)
    _assert_same_tables(project, other)


def test_build_for_one_zone_moves_the_cursor_only_past_that_zones_commits(project):
    fs = project.get_feature_store()
    se3 = synthetic.prices(["SE3"], "2024-05-01", 10)
    se4 = synthetic.prices(["SE4"], "2024-05-01", 10)
    PRICES.get_or_create(fs).insert(se3)
    PRICES.get_or_create(fs).insert(se4)
    log = project.get_event_log()
    s = b.build(project, zones=["se3"])
    assert s.zones == ["SE3"]
    pending = log.pending(b.CONSUMER, names=b.INPUT_NAMES)
    assert len(pending) == 1 and pending[0].payload["keys"]["zone"] == ["SE4"]
    assert set(_table(project, PRICE_FEATURES, ["zone"])["zone"]) == {"SE3"}
    s = b.build(project)
    assert s.zones == ["SE4"] and not log.pending(b.CONSUMER, names=b.INPUT_NAMES)


def test_unknown_zone_fails_before_writing_anything(project):
    _insert(project, prices=synthetic.prices(["SE3"], "2024-05-01", 5))
    with pytest.raises(ValidationError, match="XX1"):
        b.build(project, zones=["XX1"])
    with pytest.raises(NotFoundError):
        project.get_feature_store().get_feature_group("price_features", 1)
    assert project.get_event_log().cursor(b.CONSUMER) == 0


def test_settings_are_fixed_per_version(project):
    _insert(project, prices=synthetic.prices(["SE3"], "2024-05-01", 10))
    b.build(project, horizon_days=3)
    rows = b.show(project, "SE3", "2024-05-05")
    assert rows["horizon_day"].max() == 3 and len(rows) == 72
    n = len(_table(project, PRICE_FEATURES, ["zone", "origin", "ts"]))
    with pytest.raises(ValidationError, match="--version 2"):
        b.rebuild(project, horizon_days=7)
    assert len(_table(project, PRICE_FEATURES, ["zone", "origin", "ts"])) == n
    s = b.rebuild(project, version=2, horizon_days=7, origin_hour=9)
    assert s.version == 2
    v2 = b.show(project, "SE3", "2024-05-05", version=2)
    assert len(v2) == 168 and v2["origin"].iloc[0] == pd.Timestamp("2024-05-05T07:00Z")


def test_show_explains_a_missing_origin(project):
    _insert(project, prices=synthetic.prices(["SE3"], "2024-05-01", 10))
    b.build(project)
    with pytest.raises(NotFoundError, match="nearby origins"):
        b.show(project, "SE3", "2024-05-13")
    with pytest.raises(ValidationError, match="offset"):
        b.show(project, "SE3", "2024-05-05T10:00")
    rows = b.show(project, "SE3", "2024-05-05T10:00+02:00")
    assert len(rows) == 168


def test_weather_and_exogenous_groups_are_optional(project):
    _insert(project, prices=synthetic.prices(["SE3"], "2024-05-01", 10))
    b.build(project)
    rows = b.show(project, "SE3", "2024-05-05")
    assert rows.filter(like="wx_temperature").isna().all().all()
    assert (rows["wx_is_observed"] == 0).all() and rows["exo_load_forecast"].isna().all()


def test_commit_events_become_changes_only_for_input_groups_that_changed():
    import datetime as dt

    from spotcast_storage.events import Event

    def ev(i, name, version=1, changed=True, keys=None):
        payload = {"changed": changed, "min_event_time": "2024-05-01T00:00:00+00:00",
                   "max_event_time": "2024-05-02T23:00:00+00:00", "keys": keys or {}}
        return Event(i, "commit", name, version, i, dt.datetime(2024, 5, 3, tzinfo=dt.UTC), payload)

    events = [ev(1, "prices", keys={"zone": ["SE3"]}), ev(2, "prices", version=2), ev(3, "weather", changed=False),
              ev(4, "forecasts"), ev(5, "weather", keys={"zone": ["SE4"]}), ev(6, "exogenous")]
    changes = b.changes_from_events(events)
    assert [(c.source, c.zones) for c in changes] == [("prices", ("SE3",)), ("weather", ("SE4",)), ("exogenous", None)]
    assert changes[0].t_min == pd.Timestamp("2024-05-01T00:00Z")
    # only SE3 processed: the cursor may pass events 1-4, not the SE4 commit
    assert b.ackable(events, ["SE3"]) == 4
    assert b.ackable(events, None) == 6
    assert b.ackable(events[:5], ["SE3", "SE4"]) == 5


def test_progress_names_the_origin_days_each_step_computed(project):
    """The progress line names the origin days a step computed (from the day before the first
    price, whose origin the price can reach, to the last), not the chunk's open-ended scope: a
    rebuild used to report 1990-01-01..2100-01-01."""
    _insert(project, prices=synthetic.prices(ZONES, "2024-05-01", 10))
    labels = []
    b.build(project, progress=lambda done, total, label: labels.append(label))
    b.rebuild(project, zones=["SE3"], progress=lambda done, total, label: labels.append(label))
    assert labels == ["SE3, SE4 2024-04-30..2024-05-10", "SE3 2024-04-30..2024-05-10"]
