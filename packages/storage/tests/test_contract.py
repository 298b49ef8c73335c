"""The storage contract, written only against the public API and run on every backend."""

from __future__ import annotations

import pandas as pd
import pytest

from spotcast_storage import NotFoundError, SchemaError, ValidationError
from spotcast_storage.events import COMMIT, MODEL


def hourly(zone: str, start: str, hours: int, base: float = 0.0) -> pd.DataFrame:
    ts = pd.date_range(start, periods=hours, freq="h", tz="UTC")
    return pd.DataFrame({"zone": zone, "ts": ts, "price": base + pd.Series(range(hours), dtype="float64"),
                         "volume": pd.Series(range(hours), dtype="int64")})


def make_fg(project, name, **kw):
    fs = project.get_feature_store()
    return fs.get_or_create_feature_group(name=name, version=kw.pop("version", 1), primary_key=kw.pop("primary_key", ["zone", "ts"]),
                                          event_time=kw.pop("event_time", "ts"), description="test", **kw)


def sort(df, by=("zone", "ts")):
    return df.sort_values(list(by), ignore_index=True)


def test_insert_is_an_upsert_with_counts(project, uid):
    fg = make_fg(project, f"prices_{uid}")
    c1 = fg.insert(hourly("SE3", "2024-01-01", 48))
    assert (c1.rows_inserted, c1.rows_updated, c1.rows_deleted) == (48, 0, 0)
    changed = hourly("SE3", "2024-01-02", 48, base=100.0)  # 24 overlap (changed values), 24 new
    c2 = fg.insert(changed)
    assert (c2.rows_inserted, c2.rows_updated, c2.rows_deleted) == (24, 24, 0)
    assert c2.commit_id > c1.commit_id
    out = sort(fg.read())
    assert len(out) == 72
    assert out.loc[out.ts == pd.Timestamp("2024-01-02T00:00Z"), "price"].item() == 100.0
    assert out.loc[out.ts == pd.Timestamp("2024-01-01T00:00Z"), "price"].item() == 0.0


def test_an_identical_reinsert_commits_nothing_and_emits_no_event(project, uid):
    """Idle is idle: an upsert (or overwrite) that changes nothing leaves no commit and no event;
    the Commit it returns names the group's newest commit and has no event id."""
    fg = make_fg(project, f"prices_{uid}")
    df = hourly("SE3", "2024-01-01", 24)
    first = fg.insert(df)
    before = sort(fg.read())
    commits_before = fg.commit_details()
    events_before = project.get_event_log().latest_event_id()
    for overwrite in (False, True):
        c = fg.insert(df, overwrite=overwrite)
        assert (c.rows_inserted, c.rows_updated, c.rows_deleted) == (0, 0, 0)
        assert not c.changed and c.event_id is None
        assert c.commit_id == first.commit_id
    pd.testing.assert_frame_equal(sort(fg.read()), before)
    assert fg.commit_details() == commits_before
    assert project.get_event_log().latest_event_id() == events_before
    ev = [e for e in project.get_event_log().read() if e.name == fg.name]
    assert [e.changed for e in ev] == [True]


def test_overwrite_replaces_all_rows_and_counts_deletions(project, uid):
    fg = make_fg(project, f"prices_{uid}")
    fg.insert(hourly("SE3", "2024-01-01", 48))
    c = fg.insert(hourly("SE3", "2024-01-02", 24, base=5.0), overwrite=True)
    assert (c.rows_inserted, c.rows_updated, c.rows_deleted) == (0, 24, 24)
    out = sort(fg.read())
    assert len(out) == 24 and out.price.iloc[0] == 5.0


def test_several_zones_keep_their_rows_apart(project, uid):
    fg = make_fg(project, f"prices_{uid}")
    fg.insert(pd.concat([hourly("SE3", "2024-01-01", 24), hourly("SE4", "2024-01-01", 24, base=50)]))
    c = fg.insert(hourly("SE4", "2024-01-01", 24, base=60))
    assert (c.rows_inserted, c.rows_updated) == (0, 24)
    out = fg.read()
    assert out[out.zone == "SE3"].price.min() == 0 and out[out.zone == "SE4"].price.min() == 60
    ev = project.get_event_log().read()[-1]
    assert ev.payload["keys"] == {"zone": ["SE4"]}
    assert ev.payload["min_event_time"].startswith("2024-01-01T00:00")


BAD_FRAMES = {
    "missing key column": (lambda df: df.drop(columns=["zone"]), "zone"),
    "null key": (lambda df: df.assign(zone=[None] + ["SE3"] * (len(df) - 1)), "zone"),
    "duplicate keys": (lambda df: pd.concat([df, df.head(1)]), "repeats"),
    "string in a double column": (lambda df: df.assign(price=df.price.astype(str)), "price"),
    "fraction in a bigint column": (lambda df: df.assign(volume=df.volume + 0.5), "volume"),
    "added column": (lambda df: df.assign(extra=1.0), "extra"),
    "dropped column": (lambda df: df.drop(columns=["volume"]), "volume"),
    "naive timestamps when strict": (lambda df: df.assign(ts=df.ts.dt.tz_localize(None)), "ts"),
    "infinite values": (lambda df: df.assign(price=[float("inf"), float("-inf")] + [1.0] * (len(df) - 2)),
                        "non-finite"),
    "1e30 in a bigint column": (lambda df: df.assign(volume=[1e30] + [1.0] * (len(df) - 1)), "64-bit"),
}


@pytest.mark.parametrize("case", list(BAD_FRAMES))
def test_bad_frames_are_rejected_and_nothing_is_written(project, uid, case):
    fg = make_fg(project, f"prices_{uid}")
    good = hourly("SE3", "2024-01-01", 24)
    fg.insert(good)
    before, commits, events = sort(fg.read()), fg.commit_details(), len(project.get_event_log().read())
    mutate, word = BAD_FRAMES[case]
    bad = mutate(hourly("SE3", "2024-01-02", 24, base=7.0))
    with pytest.raises(ValidationError) as err:
        fg.insert(bad, naive_timestamps="error")
    assert word in str(err.value)
    pd.testing.assert_frame_equal(sort(fg.read()), before)
    assert fg.commit_details() == commits
    assert len(project.get_event_log().read()) == events


def test_non_finite_values_are_named_by_their_rows(project, uid):
    fg = make_fg(project, f"prices_{uid}")
    bad = hourly("SE3", "2024-01-01", 24)
    bad.loc[[3, 7], "price"] = [float("inf"), -float("inf")]
    with pytest.raises(ValidationError) as err:
        fg.insert(bad)
    msg = str(err.value)
    assert "2 row(s)" in msg and "ts=2024-01-01T03:00:00+00:00" in msg and "ts=2024-01-01T07:00:00+00:00" in msg
    assert "inf" in msg and "-inf" in msg


def test_a_bigint_beyond_64_bits_is_refused_not_wrapped(project, uid):
    fg = make_fg(project, f"prices_{uid}")
    fg.insert(hourly("SE3", "2024-01-01", 2))
    with pytest.raises(SchemaError, match="64-bit"):
        fg.insert(hourly("SE3", "2024-01-02", 2).assign(volume=[1e30, 2.0]))
    with pytest.raises(SchemaError, match="64 bits"):
        fg.insert(hourly("SE3", "2024-01-02", 2).assign(volume=pd.Series([10**30, 2], dtype=object)))
    assert fg.read().volume.min() >= 0  # nothing wrapped to -9223372036854775808


def test_code_written_for_hopsworks_runs_unchanged_naive_daily_dates(project, uid):
    """The style of the scripts spotcast replaces: a daily frame whose event time ``date`` is
    timezone-naive, written with overwrite=True and read back. The Hopsworks client takes such
    frames (as UTC); so does spotcast, with a warning that names the column and the fix."""
    fs = project.get_feature_store()
    fg = fs.get_or_create_feature_group(name=f"daily_{uid}", version=1, primary_key=["date"], event_time="date",
                                        description="daily mean price")
    df = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=7, freq="D"), "price_mean": range(7)})
    with pytest.warns(UserWarning, match=r"column 'date' holds timezone-naive timestamps.*tz_localize"):
        fg.insert(df, overwrite=True)
    out = fg.read().sort_values("date", ignore_index=True)
    assert list(out.date) == list(pd.date_range("2024-01-01", periods=7, freq="D", tz="UTC"))
    assert list(out.price_mean) == list(range(7))
    with pytest.warns(UserWarning, match="date"):
        fg.insert(df.assign(price_mean=df.price_mean * 2), overwrite=True)
    assert sorted(fg.read().price_mean) == [2 * i for i in range(7)]


def test_spotcast_contract_groups_stay_strict_about_naive_timestamps(project):
    from spotcast_storage.contracts import PRICES

    fg = PRICES.get_or_create(project.get_feature_store())
    ts = pd.date_range("2024-01-01", periods=2, freq="h")
    df = pd.DataFrame({"zone": "SE3", "ts": ts.tz_localize("UTC"), "price_eur_mwh": 1.0, "price_sek_kwh": None,
                       "resolution_minutes": 60, "known_at": ts, "source": "test"})
    with pytest.raises(SchemaError, match=r"known_at.*timezone-naive"):
        fg.insert(df)


def test_get_or_create_with_another_schema_for_an_existing_version_is_an_error(project, uid):
    from spotcast_storage.query import Feature

    fs = project.get_feature_store()
    feats = [Feature("zone", "string"), Feature("ts", "timestamp"), Feature("price", "double"),
             Feature("known", "timestamp")]
    fg = fs.get_or_create_feature_group(name=f"typed_{uid}", version=1, primary_key=["zone", "ts"], event_time="ts",
                                        known_at="known", features=feats)
    ts = pd.date_range("2024-01-01", periods=2, freq="h", tz="UTC")
    fg.insert(pd.DataFrame({"zone": "SE3", "ts": ts, "price": 1.0, "known": ts}))
    same = fs.get_or_create_feature_group(name=f"typed_{uid}", version=1, primary_key=["zone", "ts"],
                                          event_time="ts", known_at="known", features=feats)
    assert same.version == 1 and same.known_at == "known"
    as_bigint = [*feats[:2], Feature("price", "bigint"), feats[3]]
    with pytest.raises(SchemaError, match=r"price is double, not bigint.*new version \(v2\)"):
        fs.get_or_create_feature_group(name=f"typed_{uid}", version=1, primary_key=["zone", "ts"], event_time="ts",
                                       known_at="known", features=as_bigint)
    with pytest.raises(SchemaError, match="known-at column 'known', not 'ts'"):
        fs.get_or_create_feature_group(name=f"typed_{uid}", version=1, primary_key=["zone", "ts"], event_time="ts",
                                       known_at="ts")
    with pytest.raises(SchemaError, match=r"no column\(s\) \['extra'\]"):
        fs.get_or_create_feature_group(name=f"typed_{uid}", version=1, primary_key=["zone", "ts"], event_time="ts",
                                       features=[*feats, Feature("extra", "double")])


def test_schema_changes_point_to_a_new_version(project, uid):
    fg = make_fg(project, f"prices_{uid}")
    fg.insert(hourly("SE3", "2024-01-01", 24))
    with pytest.raises(SchemaError, match="new version"):
        fg.insert(hourly("SE3", "2024-01-02", 24).assign(extra=1.0))
    with pytest.raises(SchemaError, match="primary key"):
        make_fg(project, f"prices_{uid}", primary_key=["ts"])
    v2 = make_fg(project, f"prices_{uid}", version=2)
    v2.insert(hourly("SE3", "2024-01-02", 24).assign(extra=1.0))
    fs = project.get_feature_store()
    assert fs.get_feature_group(f"prices_{uid}").version == 2
    assert fs.get_feature_group(f"prices_{uid}", version=1).count() == 24
    with pytest.raises(NotFoundError, match="does not exist"):
        fs.get_feature_group(f"nothing_{uid}")


def test_timestamps_round_trip_as_utc(project, uid):
    fg = make_fg(project, f"prices_{uid}")
    local = pd.date_range("2024-03-31 00:00", periods=23, freq="h", tz="Europe/Stockholm")  # DST spring day
    df = pd.DataFrame({"zone": "SE3", "ts": local, "price": 1.0, "volume": 1})
    fg.insert(df)
    out = sort(fg.read())
    assert str(out.ts.dt.tz) == "UTC"
    assert out.ts.iloc[0] == pd.Timestamp("2024-03-30T23:00Z")
    assert out.ts.is_unique and len(out) == 23
    micro = pd.DataFrame({"zone": "SE4", "ts": [pd.Timestamp("2024-01-01T00:00:00.123456Z")], "price": 1.0, "volume": 1})
    fg.insert(micro)
    assert fg.read(start_time="2024-01-01", end_time="2024-01-02").ts.iloc[0] == micro.ts.iloc[0]


def test_read_time_range_is_half_open(project, uid):
    fg = make_fg(project, f"prices_{uid}")
    fg.insert(hourly("SE3", "2024-01-01", 48))
    out = fg.read(start_time="2024-01-01T10:00Z", end_time="2024-01-01T12:00Z")
    assert sorted(out.ts.dt.hour) == [10, 11]
    with pytest.raises(ValidationError, match="parse"):
        fg.read(start_time="not a date")


def test_time_travel_by_commit_and_by_time(project, uid):
    fg = make_fg(project, f"prices_{uid}")
    c1 = fg.insert(hourly("SE3", "2024-01-01", 24))
    if project.mode == "hopsworks":
        # The Hopsworks Python client reads only the newest snapshot: the backend must say so.
        from spotcast_storage import UnsupportedError

        with pytest.raises(UnsupportedError, match=r"time travel|as_of"):
            fg.as_of(c1.commit_id).read()
        return
    c2 = fg.insert(hourly("SE3", "2024-01-01", 24, base=10))
    c3 = fg.insert(hourly("SE3", "2024-01-02", 24, base=20), overwrite=True)
    assert sort(fg.as_of(c1.commit_id).read()).price.tolist() == list(map(float, range(24)))
    assert sort(fg.as_of(c2.commit_id).read()).price.iloc[0] == 10
    at3 = sort(fg.as_of(c3.commit_id).read())
    assert len(at3) == 24 and at3.ts.iloc[0] == pd.Timestamp("2024-01-02T00:00Z")
    assert sort(fg.as_of(c2.committed_on).read()).price.iloc[0] == 10
    assert fg.as_of("2000-01-01").read().empty


def test_commit_details_have_hopsworks_shape(project, uid):
    fg = make_fg(project, f"prices_{uid}")
    c1 = fg.insert(hourly("SE3", "2024-01-01", 24))
    c2 = fg.insert(hourly("SE3", "2024-01-01", 30, base=1))
    details = fg.commit_details()
    assert list(details) == [c2.commit_id, c1.commit_id]
    d = details[c2.commit_id]
    assert {"committedOn", "rowsInserted", "rowsUpdated", "rowsDeleted"} <= set(d)
    assert (d["rowsInserted"], d["rowsUpdated"], d["rowsDeleted"]) == (6, 24, 0)
    assert list(fg.commit_details(limit=1)) == [c2.commit_id]


def test_query_select_join_filter(project, uid):
    prices = make_fg(project, f"prices_{uid}")
    prices.insert(pd.concat([hourly("SE3", "2024-01-01", 24), hourly("SE4", "2024-01-01", 24, base=100)]))
    zones = make_fg(project, f"zones_{uid}", primary_key=["zone"], event_time=None)
    zones.insert(pd.DataFrame({"zone": ["SE3", "SE4"], "country": ["SE", "SE"], "area_km2": [1.0, 2.0]}))
    q = (prices.select(["zone", "ts", "price"])
         .join(zones.select(["zone", "country"]), on=["zone"])
         .filter((prices.zone == "SE4") & (prices.price >= 110)))
    out = q.read()
    assert set(out.columns) == {"zone", "ts", "price", "country"}
    assert len(out) == 14 and (out.country == "SE").all() and out.price.min() == 110
    out2 = prices.select_except(["volume"]).filter(prices.zone.isin(["SE3"])).read()
    assert list(out2.columns) == ["zone", "ts", "price"] and len(out2) == 24
    with pytest.raises(ValidationError, match=r"clashes|prefix"):
        prices.select_all().join(make_fg(project, f"prices_{uid}").select_all(), on=["zone", "ts"]).read()


def test_point_in_time_join_takes_newest_known_row(project, uid):
    labels = make_fg(project, f"labels_{uid}", primary_key=["zone", "site", "ts"])
    feats = make_fg(project, f"feats_{uid}", primary_key=["zone", "site", "ts"])
    t = pd.Timestamp("2024-01-01T00:00Z")
    h = pd.Timedelta(hours=1)
    feats.insert(pd.DataFrame({
        "zone": ["SE3", "SE3", "SE3", "SE4"], "site": ["a", "a", "b", "a"],
        "ts": [t, t + 2 * h, t, t + 5 * h], "temp": [1.0, 2.0, 3.0, 4.0]}))
    labels.insert(pd.DataFrame({
        "zone": ["SE3", "SE3", "SE3", "SE3", "SE4"], "site": ["a", "a", "a", "b", "a"],
        "ts": [t + h, t + 2 * h, t + 3 * h, t + 9 * h, t + 1 * h], "y": [1.0, 2.0, 3.0, 4.0, 5.0]}))
    out = sort(labels.select_all().join(feats.select(["temp"]), on=["zone", "site"]).read(), ("zone", "site", "ts"))
    # t+1h -> row at t (1.0); tie at t+2h -> the row stamped t+2h (2.0); t+3h -> 2.0;
    # site b at t+9h -> 3.0 (key kept apart); SE4 at t+1h -> nothing yet (NaN, row kept).
    assert out.temp.tolist()[:4] == [1.0, 2.0, 2.0, 3.0]
    assert pd.isna(out.temp.iloc[4]) and len(out) == 5


def test_point_in_time_join_respects_known_at(project, uid):
    feats = make_fg(project, f"feats_{uid}", primary_key=["zone", "ts"], known_at="known_at")
    labels = make_fg(project, f"labels_{uid}")
    t = pd.Timestamp("2024-01-01T00:00Z")
    h = pd.Timedelta(hours=1)
    # The value stamped t+2h only became known at t+10h (a late correction).
    feats.insert(pd.DataFrame({"zone": "SE3", "ts": [t, t + 2 * h], "known_at": [t, t + 10 * h], "v": [1.0, 2.0]}))
    labels.insert(pd.DataFrame({"zone": "SE3", "ts": [t + 3 * h, t + 11 * h], "y": [0.0, 0.0]}))
    out = sort(labels.select_all().join(feats.select(["v"]), on=["zone"]).read())
    assert out.v.tolist() == [1.0, 2.0]


def test_feature_view_batch_data_and_time_ordered_split(project, uid):
    fg = make_fg(project, f"prices_{uid}")
    fg.insert(hourly("SE3", "2024-01-01", 100))
    fs = project.get_feature_store()
    fv = fs.get_or_create_feature_view(f"view_{uid}", version=1, query=fg.select_all(), labels=["price"])
    batch = fv.get_batch_data(start_time="2024-01-02", end_time="2024-01-03")
    assert len(batch) == 24 and "price" not in batch.columns
    X_train, X_test, y_train, _ = fv.train_test_split(test_size=0.2)
    assert len(X_train) == 80 and len(X_test) == 20
    assert X_train.ts.max() < X_test.ts.min()
    assert y_train.price.tolist() == list(map(float, range(80)))
    X_tr, X_te, _, _ = fv.train_test_split(test_start="2024-01-04T00:00Z")
    assert X_tr.ts.max() < pd.Timestamp("2024-01-04T00:00Z") <= X_te.ts.min()
    again = fs.get_feature_view(f"view_{uid}")
    assert again.labels == ["price"] and len(again.get_batch_data()) == 100
    with pytest.raises(ValidationError, match="label"):
        fs.get_or_create_feature_view(f"other_{uid}", version=1, query=fg.select_all(), labels=["nope"])


def test_model_registry_versions_best_and_download(project, uid, tmp_path):
    mr = project.get_model_registry()
    art = tmp_path / "model"
    art.mkdir()
    (art / "model.json").write_text('{"trees": 1}')
    lineage = {"feature_groups": [{"name": "price_features", "version": 1, "commit_id": 7}]}
    m1 = mr.python.create_model(f"m_{uid}", metrics={"mae": 5.0}, description="first", lineage=lineage)
    m1.save(str(art))
    m2 = mr.python.create_model(f"m_{uid}", metrics={"mae": 4.0}, description="second")
    m2.save(str(art / "model.json"))
    assert (m1.version, m2.version) == (1, 2)
    assert mr.get_model(f"m_{uid}").version == 2
    assert mr.get_model(f"m_{uid}", version=1).lineage == lineage
    assert mr.get_best_model(f"m_{uid}", "mae", "min").version == 2
    assert mr.get_best_model(f"m_{uid}", "mae", "max").version == 1
    assert [m.version for m in mr.get_models(f"m_{uid}")] == [1, 2]
    from pathlib import Path

    assert (Path(mr.get_model(f"m_{uid}", 1).download()) / "model.json").read_text() == '{"trees": 1}'
    with pytest.raises(NotFoundError):
        mr.get_model(f"absent_{uid}")
    with pytest.raises(ValidationError, match="metric"):
        mr.python.create_model(f"m_{uid}", metrics={"mae": "bad"})


def test_event_log_cursors_are_durable_and_monotonic(project, uid, tmp_path):
    fg = make_fg(project, f"prices_{uid}")
    log = project.get_event_log()
    consumer = f"c_{uid}"
    start = log.latest_event_id()
    fg.insert(hourly("SE3", "2024-01-01", 24))
    fg.insert(hourly("SE3", "2024-01-02", 24))
    pending = [e for e in log.read(after=start) if e.name == fg.name]
    assert [e.kind for e in pending] == [COMMIT, COMMIT]
    log.ack(consumer, pending[0].event_id)
    assert log.cursor(consumer) == pending[0].event_id
    assert [e.event_id for e in log.pending(consumer, names=[fg.name])] == [pending[1].event_id]
    log.ack(consumer, pending[1].event_id)
    log.ack(consumer, pending[0].event_id)  # never moves back
    assert log.cursor(consumer) == pending[1].event_id
    assert log.pending(consumer, names=[fg.name]) == []
    art = tmp_path / "a.txt"
    art.write_text("x")
    project.get_model_registry().python.create_model(f"m_{uid}", metrics={"mae": 1.0}).save(str(art))
    ev = log.pending(consumer, kinds=[MODEL])
    assert [(e.kind, e.name, e.version) for e in ev] == [(MODEL, f"m_{uid}", 1)]


def test_filters_may_name_columns_that_are_not_selected(project, uid):
    prices = make_fg(project, f"prices_{uid}")
    prices.insert(pd.concat([hourly("SE3", "2024-01-01", 24), hourly("SE4", "2024-01-01", 24, base=100)]))
    out = prices.select(["ts", "price"]).filter((prices.zone == "SE4") & (prices.volume < 2)).read()
    assert list(out.columns) == ["ts", "price"] and sorted(out.price) == [100.0, 101.0]
    zones = make_fg(project, f"zones_{uid}", primary_key=["zone"], event_time=None)
    zones.insert(pd.DataFrame({"zone": ["SE3", "SE4"], "country": ["SE", "DK"], "area_km2": [1.0, 2.0]}))
    joined = (prices.select(["ts", "price", "zone"]).join(zones.select(["country"]), on=["zone"])
              .filter(zones.area_km2 > 1.5).read())
    assert set(joined.country) == {"DK"} and len(joined) == 24


def test_point_in_time_join_with_differently_named_keys(project, uid):
    feats = make_fg(project, f"feats_{uid}", primary_key=["area", "ts"])
    labels = make_fg(project, f"labels_{uid}")
    t = pd.Timestamp("2024-01-01T00:00Z")
    feats.insert(pd.DataFrame({"area": ["SE3", "SE4"], "ts": [t, t], "v": [1.0, 2.0]}))
    labels.insert(pd.DataFrame({"zone": ["SE3", "SE4", "FI"], "ts": [t, t + pd.Timedelta(hours=1), t], "y": 0.0}))
    v = labels.select_all().join(feats.select(["v"]), left_on=["zone"], right_on=["area"]).read().set_index("zone").v
    assert (v["SE3"], v["SE4"]) == (1.0, 2.0) and pd.isna(v["FI"])
