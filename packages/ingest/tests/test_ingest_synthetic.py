"""Backfill and update end to end on the offline source: writes, idempotence, resume, bad input."""

import pandas as pd
import pytest

from spotcast_ingest.ingest import backfill, update
from spotcast_storage.errors import ValidationError

NOW = pd.Timestamp("2025-10-20 12:00", tz="UTC")  # 14:00 CEST: prices for Oct 21 are out


def test_backfill_writes_all_three_groups_in_contract_shape(project, stored):
    report = backfill(project, "synthetic", ["SE3", "SE4"], "2025-09-29", "2025-10-02", now=NOW)
    prices = stored("prices")
    assert set(prices["zone"]) == {"SE3", "SE4"}
    per_zone_day = prices.groupby(["zone", prices["ts"].dt.tz_convert("Europe/Stockholm").dt.date]).size()
    assert list(per_zone_day.loc["SE3"]) == [24, 24, 96, 96]
    assert str(prices["ts"].dt.tz) == "UTC" and str(prices["known_at"].dt.tz) == "UTC"
    assert (prices["known_at"] < prices["ts"]).all()
    assert set(stored("weather")["kind"]) == {"observed", "forecast"}
    assert set(stored("exogenous")["series"]) == {"load_forecast", "wind_forecast", "solar_forecast"}
    # one commit per zone, batch and group (synthetic batches are calendar years)
    assert report.groups["prices"].commits == 2 and report.batches == 2
    assert report.groups["prices"].rows_inserted == len(prices)
    assert report.requests_sent == 0


def test_same_backfill_twice_changes_nothing_and_overlaps_are_fine(project, stored):
    backfill(project, "synthetic", ["SE3"], "2025-01-01", "2025-01-10", now=NOW)
    before = {g: stored(g) for g in ("prices", "weather", "exogenous")}
    again = backfill(project, "synthetic", ["SE3"], "2025-01-01", "2025-01-10", now=NOW)
    assert all(t.rows_inserted == 0 and t.rows_updated == 0 for t in again.groups.values())
    assert all(t.commits == 0 and t.unchanged_batches == 1 for t in again.groups.values())  # idle is idle
    for g, df in before.items():
        pd.testing.assert_frame_equal(stored(g), df)
    overlap = backfill(project, "synthetic", ["SE3"], "2025-01-05", "2025-01-15", now=NOW)
    assert overlap.groups["prices"].rows_updated == 0
    assert overlap.groups["prices"].rows_inserted == 5 * 24


def test_update_on_empty_store_backfills_the_history_window_then_resumes(project, stored):
    first = update(project, ["SE3"], ["synthetic"], now=NOW, history_days=10)
    prices = stored("prices")
    days = prices["ts"].dt.tz_convert("Europe/Stockholm").dt.date
    assert days.min() == pd.Timestamp("2025-10-10").date()
    assert days.max() == pd.Timestamp("2025-10-21").date()  # tomorrow: published at 13:00 CEST
    assert first.groups["prices"].rows_inserted == len(prices)
    # a day later, update fetches only what is new
    later = update(project, ["SE3"], ["synthetic"], now=NOW + pd.Timedelta(days=1), history_days=10)
    assert later.groups["prices"].rows_inserted == 96
    assert later.groups["prices"].rows_updated == 0
    obs = stored("weather").query("kind == 'observed'")
    # observations continue without a hole where the previous run stopped
    gaps = obs["ts"].diff().dropna().unique()
    assert list(gaps) == [pd.Timedelta(hours=1)]
    assert obs["ts"].max() == (NOW + pd.Timedelta(days=1)).floor("h") - pd.Timedelta(hours=1)


def test_update_before_13_cet_stops_at_today(project, stored):
    update(project, ["SE3"], ["synthetic"], now=pd.Timestamp("2025-10-20 10:30", tz="UTC"), history_days=2)
    assert stored("prices")["ts"].dt.tz_convert("Europe/Stockholm").dt.date.max() == pd.Timestamp("2025-10-20").date()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"zones": ["SE9"]}, "unknown zone 'SE9'; known zones: SE1"),
    ({"zones": ["BE"]}, "does not serve zone 'BE'"),
    ({"zones": ["SE3", "se_3"]}, r"zone\(s\) \['SE3'\] given more than once"),
    ({"source": "nosuch"}, "unknown source 'nosuch'.*synthetic"),
    ({"start": "2025-01-10", "end": "2025-01-01"}, "end 2025-01-01 is before start 2025-01-10"),
    ({"start": "2025-11-01", "end": None}, "start 2025-11-01 is in the future"),
    ({"start": "2025-10-01", "end": "2025-10-25"}, "end 2025-10-25 is after the newest day"),
    ({"start": "2025-02-30"}, "start '2025-02-30' is not a date"),
    ({"zones": []}, "no zone given"),
    ({"zones": ["SE3", "SE3"]}, "more than once"),
    ({"options": {"seed": "x"}}, "seed must be an integer"),
])
def test_bad_input_is_refused_before_anything_is_written(project, stored, kwargs, message):
    args = {"source": "synthetic", "zones": ["SE3"], "start": "2025-01-01", "end": "2025-01-02", **kwargs}
    with pytest.raises(ValidationError, match=message):
        backfill(project, args.pop("source"), args.pop("zones"), args.pop("start"), args.pop("end"),
                 now=NOW, **args)
    assert stored() == []


def test_update_takes_the_zone_tables_default_sources(project, stored, monkeypatch):
    monkeypatch.delenv("ENTSOE_API_KEY", raising=False)
    with pytest.raises(ValidationError, match="source entsoe needs a Transparency Platform token"):
        update(project, ["NO1"], now=NOW)  # NO1's default price source is entsoe
    with pytest.raises(ValidationError, match="unknown zone 'NO9'"):
        update(project, ["NO9"], now=NOW)
    assert stored() == []


def _csv_prices(path, first="2025-01-01", days=3):
    stamps = pd.date_range(first, periods=24 * days, freq="h", tz="UTC")
    pd.DataFrame({"ts": stamps, "price_eur_mwh": 40.0}).to_csv(path, index=False)
    return path


def test_synthetic_and_real_rows_are_never_mixed_in_one_zone(project, stored, tmp_path):
    """Synthetic rows written over real ones (or the reverse) would go unnoticed downstream."""
    f = _csv_prices(tmp_path / "se3.csv")
    backfill(project, "csv", ["SE3"], None, None, now=NOW, options={"path": str(f)})
    before = stored("prices")
    commits = len(project.get_feature_store().get_feature_group("prices", 1).commit_details())
    with pytest.raises(ValidationError, match=r"prices for SE3 in this store come from csv \(real data\); "
                                              r"source synthetic would mix synthetic rows"):
        backfill(project, "synthetic", ["SE3"], "2025-01-01", "2025-01-03", now=NOW)
    with pytest.raises(ValidationError, match="Use a separate store for synthetic data"):
        update(project, ["SE3"], ["synthetic"], now=NOW)
    pd.testing.assert_frame_equal(stored("prices"), before)
    assert len(project.get_feature_store().get_feature_group("prices", 1).commit_details()) == commits
    # other zones, and more real data for the same zone, are fine
    backfill(project, "synthetic", ["SE4"], "2025-01-01", "2025-01-03", now=NOW)
    backfill(project, "csv", ["SE3"], None, None, now=NOW, options={"path": str(_csv_prices(tmp_path / "b.csv", days=4))})
    # and the reverse: real data into a synthetic zone
    with pytest.raises(ValidationError, match=r"come from synthetic \(synthetic data\); source csv would mix real rows"):
        backfill(project, "csv", ["SE4"], None, None, now=NOW, options={"path": str(f)})
