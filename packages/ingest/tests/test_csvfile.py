"""The csv source: epftoolbox layout, generic CSV/Parquet, DST on a naive local clock."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from spotcast_ingest.errors import ParseError
from spotcast_ingest.ingest import backfill
from spotcast_storage.errors import ValidationError

NOW = pd.Timestamp("2026-01-01", tz="UTC")


def epf_file(path, first="2016-03-26", days=3, header="Date, Prices, Generation forecast, System load forecast"):
    """24 rows every day on the local clock, as the epftoolbox datasets are."""
    stamps = pd.date_range(first, periods=24 * days, freq="h")
    rows = [f"{t:%Y-%m-%d %H:%M:%S},{30 + i % 24:.2f},{60000 + i:.1f},{58000 + i:.1f}" for i, t in enumerate(stamps)]
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def test_epftoolbox_layout_with_the_spring_change(project, stored, tmp_path):
    f = epf_file(tmp_path / "BE.csv")  # 2016-03-27 is the spring change in Brussels
    report = backfill(project, "csv", ["BE"], None, None, now=NOW, options={"path": str(f), "tz": "Europe/Brussels"})
    p = stored("prices")
    day = p["ts"].dt.tz_convert("Europe/Brussels").dt.date
    assert p.groupby(day).size().tolist() == [24, 23, 24]  # the filled-in 02:00 is dropped
    assert not p["ts"].duplicated().any() and set(p["resolution_minutes"]) == {60}
    assert p["ts"].iloc[0] == pd.Timestamp("2016-03-25 23:00", tz="UTC")
    assert p["price_eur_mwh"].iloc[0] == 30.0
    x = stored("exogenous")
    assert set(x["series"]) == {"generation_forecast", "system_load_forecast"}
    assert len(x) == 2 * 71
    # exogenous columns are day-ahead forecasts: known 10:00 CET the day before
    first = x[x.ts == p["ts"].iloc[0]]
    assert (first["issued_at"] == pd.Timestamp("2016-03-25 09:00", tz="UTC")).all()
    assert report.groups["prices"].commits == 1  # one batch per calendar year


def test_epftoolbox_autumn_day_keeps_24_hours_and_leaves_the_second_2am_missing(project, stored, tmp_path):
    f = epf_file(tmp_path / "x.csv", first="2016-10-30", days=1, header="Date, Price, Exogenous 1, Exogenous 2")
    backfill(project, "csv", ["BE"], "2016-10-30", "2016-10-30", now=NOW,
             options={"path": str(f), "tz": "Europe/Brussels"})
    p = stored("prices")
    assert len(p) == 24
    steps = p["ts"].diff().dropna().value_counts()
    assert steps[pd.Timedelta(hours=1)] == 22 and steps[pd.Timedelta(hours=2)] == 1
    assert set(stored("exogenous")["series"]) == {"exogenous_1", "exogenous_2"}


def test_generic_parquet_with_utc_times_and_quarter_hours(project, stored, tmp_path):
    ts = pd.date_range("2025-10-25 22:00", periods=100, freq="15min", tz="UTC")  # local 2025-10-26: 25 h
    pd.DataFrame({"ts": ts, "price": np.linspace(10, 60, 100)}).to_parquet(tmp_path / "p.parquet")
    backfill(project, "csv", ["SE3"], "2025-10-26", "2025-10-26", now=NOW,
             options={"path": str(tmp_path / "p.parquet")})
    p = stored("prices")
    assert len(p) == 100 and set(p["resolution_minutes"]) == {15}
    assert stored("exogenous").empty


def test_offsets_in_the_file_are_respected(project, stored, tmp_path):
    f = tmp_path / "o.csv"
    f.write_text("time_start,price_eur_mwh\n2024-03-31T00:00:00+01:00,10\n2024-03-31T01:00:00+01:00,11\n"
                 "2024-03-31T03:00:00+02:00,12\n")
    backfill(project, "csv", ["SE3"], None, None, now=NOW, options={"path": str(f)})
    assert stored("prices")["ts"].tolist() == [pd.Timestamp(f"2024-03-30 {h}:00", tz="UTC") for h in (23,)] + [
        pd.Timestamp("2024-03-31 00:00", tz="UTC"), pd.Timestamp("2024-03-31 01:00", tz="UTC")]


def padded_quarter_file(path, days, autumn_twice=False):
    """96 quarter-hour rows every local day (a naive clock), as exports that pad each day to 96
    slots write them; ``autumn_twice``: the autumn day's 02:00-02:45 listed twice (a true clock)."""
    rows = []
    for day in days:
        for q in range(96):
            t = pd.Timestamp(day) + pd.Timedelta(minutes=15 * q)
            rows.append(f"{t:%Y-%m-%d %H:%M},{50 + q * 0.25:.2f}")
            if autumn_twice and day == "2025-10-26" and q == 11:  # after 02:45: the second pass
                rows += [f"{pd.Timestamp(day) + pd.Timedelta(minutes=15 * k):%Y-%m-%d %H:%M},{90 + k - 8:.2f}"
                         for k in range(8, 12)]
    path.write_text("Date,Price\n" + "\n".join(rows) + "\n")
    return path


def local_day_sizes(p, tz="Europe/Stockholm"):
    return p.groupby(p["ts"].dt.tz_convert(tz).dt.date).size().tolist()


def test_padded_quarter_hours_on_the_spring_day_drop_the_hour_that_does_not_exist(project, stored, tmp_path):
    f = padded_quarter_file(tmp_path / "q.csv", ["2026-03-28", "2026-03-29", "2026-03-30"])
    report = backfill(project, "csv", ["SE4"], "2026-03-28", "2026-03-30", now=NOW + pd.Timedelta(days=200),
                      options={"path": str(f)})
    p = stored("prices")
    assert local_day_sizes(p) == [96, 92, 96] and set(p["resolution_minutes"]) == {15}
    assert any("left out 4 row(s) at a local time that does not exist" in n for n in report.notes)
    assert not p["ts"].duplicated().any()


def test_padded_quarter_hours_on_the_autumn_day_are_refused_before_writing(project, stored, tmp_path):
    f = padded_quarter_file(tmp_path / "q.csv", ["2025-10-25", "2025-10-26", "2025-10-27"])
    with pytest.raises(ParseError, match=r"on 2025-10-26 the local times 02:00\.\.02:45 happen twice in "
                                         r"Europe/Stockholm .*pads every day to 96 slots.*Nothing was written.*UTC"):
        backfill(project, "csv", ["SE4"], "2025-10-25", "2025-10-27", now=NOW, options={"path": str(f)})
    assert stored() == []


def test_quarter_hours_on_a_true_local_clock_keep_the_autumn_days_100(project, stored, tmp_path):
    f = padded_quarter_file(tmp_path / "q.csv", ["2025-10-25", "2025-10-26", "2025-10-27"], autumn_twice=True)
    backfill(project, "csv", ["SE4"], "2025-10-25", "2025-10-27", now=NOW, options={"path": str(f)})
    p = stored("prices").sort_values("ts")
    assert local_day_sizes(p) == [96, 100, 96]
    second = p[p["ts"] == pd.Timestamp("2025-10-26 01:00", tz="UTC")]  # 02:00 CET, the second pass
    assert second["price_eur_mwh"].tolist() == [90.0]


@pytest.mark.parametrize(("content", "options", "error", "message"), [
    (None, {}, ValidationError, "does not exist"),
    ("Date,Price\n2024-01-01 00:00,abc\n", {}, ValidationError, r"\['Price'\] are not numeric"),
    ("Date,Price\n2024-01-01 00:00,1\n", {"price_column": "Cost"}, ValidationError, "no price column 'Cost'"),
    ("Date,Price\n2024-01-01 00:00,1\n2024-01-01 00:00,2\n2024-01-01 01:00,2\n", {}, ParseError, "appears twice"),
    ("Date,Price\n2024-01-01 00:00,1\n", {"colour": "red"}, ValidationError, "unknown"),
])
def test_bad_files_are_refused_before_writing(project, stored, tmp_path, content, options, error, message):
    f = tmp_path / "bad.csv"
    if content is not None:
        f.write_text(content)
    with pytest.raises(error, match=message):
        backfill(project, "csv", ["SE3"], None, None, now=NOW, options={"path": str(f), **options})
    assert stored() == []


def test_csv_needs_a_file_and_a_zone_of_the_table(project, stored, tmp_path):
    with pytest.raises(ValidationError, match="--file"):
        backfill(project, "csv", ["SE3"], None, None, now=NOW)
    f = epf_file(tmp_path / "BE.csv")
    with pytest.raises(ValidationError, match=r"unknown zone 'PJM'; known zones: .*BE"):
        backfill(project, "csv", ["PJM"], None, None, now=NOW, options={"path": str(f)})
    assert stored() == []


def test_a_zone_of_the_table_reads_the_file_on_its_own_clock(project, stored, tmp_path):
    f = epf_file(tmp_path / "BE.csv")  # no tz option: Brussels time from the zone table
    backfill(project, "csv", ["be"], None, None, now=NOW, options={"path": str(f)})
    p = stored("prices")
    assert set(p["zone"]) == {"BE"} and p["ts"].iloc[0] == pd.Timestamp("2016-03-25 23:00", tz="UTC")
    assert p.groupby(p["ts"].dt.tz_convert("Europe/Brussels").dt.date).size().tolist() == [24, 23, 24]


def test_the_files_range_bounds_the_backfill(project, stored, tmp_path):
    f = epf_file(tmp_path / "BE.csv")
    with pytest.raises(ValidationError, match=r"after the newest day csv can have.*2016-03-28.*the file ends there"):
        backfill(project, "csv", ["BE"], "2016-03-26", "2016-04-30", now=NOW,
                 options={"path": str(f), "tz": "Europe/Brussels"})
    backfill(project, "csv", ["BE"], "2016-03-27", None, now=NOW, options={"path": str(f), "tz": "Europe/Brussels"})
    assert stored("prices")["ts"].dt.tz_convert("Europe/Brussels").dt.date.min() == dt.date(2016, 3, 27)
