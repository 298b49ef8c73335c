"""Feature groups on Hopsworks: the client's calls, and the local backend's meaning."""

from __future__ import annotations

import pandas as pd
import pytest

pytest.importorskip("hopsworks", reason="the hopsworks extra is not installed (uv sync --extra hopsworks)")

from spotcast_storage import (
    NotFoundError,
    SchemaError,
    SpotcastError,
    UnsupportedError,
    ValidationError,
)
from spotcast_storage.query import Feature

WAIT = {"wait_for_job": True}


def hourly(zone: str, start: str, hours: int, base: float = 0.0) -> pd.DataFrame:
    ts = pd.date_range(start, periods=hours, freq="h", tz="UTC")
    return pd.DataFrame({"zone": zone, "ts": ts, "price": base + pd.Series(range(hours), dtype="float64"),
                         "volume": pd.Series(range(hours), dtype="int64")})


def prices(hw, name="prices", **kw):
    return hw.get_feature_store().get_or_create_feature_group(
        name=name, version=kw.pop("version", 1), primary_key=kw.pop("primary_key", ["zone", "ts"]),
        event_time=kw.pop("event_time", "ts"), description="test prices", **kw)


def test_first_insert_creates_the_group_with_client_types_and_waits(hw, cluster):
    fg = prices(hw, known_at=None)
    commit = fg.insert(hourly("SE3", "2024-01-01", 48))
    call = next(c for c in cluster.fs.get_or_create_feature_group.call_args_list if c.kwargs["name"] == "prices")
    kw = call.kwargs
    assert (kw["version"], kw["primary_key"], kw["event_time"], kw["online_enabled"]) == (1, ["zone", "ts"], "ts", False)
    assert [(f.name, f.type, f.primary) for f in kw["features"]] == [
        ("zone", "string", True), ("ts", "timestamp", True), ("price", "double", False), ("volume", "bigint", False)]
    t = cluster.table("prices")
    t.mock.insert.assert_called_once()
    assert t.mock.insert.call_args.kwargs["write_options"] == WAIT
    assert (commit.rows_inserted, commit.rows_updated, commit.rows_deleted) == (48, 0, 0)
    assert commit.commit_id == max(t.commits)
    assert commit.committed_on == pd.Timestamp(commit.commit_id, unit="ms", tz="UTC")
    ev = hw.get_event_log().read()
    assert [(e.kind, e.name, e.version, e.commit_id, e.changed) for e in ev] == [("commit", "prices", 1, commit.commit_id, True)]
    assert ev[0].event_id == commit.event_id and ev[0].payload["keys"] == {"zone": ["SE3"]}
    assert ev[0].payload["min_event_time"].startswith("2024-01-01T00:00")
    # The event was written through the client, waiting for materialisation, too.
    assert cluster.table("spotcast_events").mock.insert.call_args.kwargs["write_options"] == WAIT


def test_upsert_sends_only_new_and_changed_rows(hw, cluster):
    fg = prices(hw)
    fg.insert(hourly("SE3", "2024-01-01", 48))
    c2 = fg.insert(hourly("SE3", "2024-01-02", 48, base=100.0))  # 24 changed, 24 new
    sent = cluster.table("prices").inserted_frames[-1]
    assert len(sent) == 48 and sent.ts.min() == pd.Timestamp("2024-01-02T00:00Z")
    assert (c2.rows_inserted, c2.rows_updated, c2.rows_deleted) == (24, 24, 0)
    c3 = fg.insert(pd.concat([hourly("SE3", "2024-01-02", 48, base=100.0).iloc[24:],
                              hourly("SE3", "2024-01-04", 2, base=7.0)]))
    assert len(cluster.table("prices").inserted_frames[-1]) == 2  # the 24 unchanged rows were not sent
    assert (c3.rows_inserted, c3.rows_updated) == (2, 0)
    out = fg.read().sort_values("ts", ignore_index=True)
    assert len(out) == 74 and str(out.ts.dtype) == "datetime64[us, UTC]"
    assert out.loc[out.ts == pd.Timestamp("2024-01-02T00:00Z"), "price"].item() == 100.0
    assert list(out.columns) == ["zone", "ts", "price", "volume"]


def test_identical_reinsert_writes_nothing_and_emits_no_event(hw, cluster):
    """Idle is idle: no materialisation job for the data and none for an event either."""
    fg = prices(hw)
    df = hourly("SE3", "2024-01-01", 24)
    c1 = fg.insert(df)
    events_table = cluster.table("spotcast_events").mock.insert
    event_writes = events_table.call_count
    for overwrite in (False, True):
        c2 = fg.insert(df, overwrite=overwrite)
        assert not c2.changed and c2.commit_id == c1.commit_id and c2.event_id is None
    assert cluster.table("prices").mock.insert.call_count == 1
    assert events_table.call_count == event_writes
    ev = hw.get_event_log().read()
    assert [e.changed for e in ev] == [True] and ev[0].commit_id == c1.commit_id


def test_overwrite_replaces_all_rows_and_counts_deletions(hw, cluster):
    fg = prices(hw)
    fg.insert(hourly("SE3", "2024-01-01", 48))
    c = fg.insert(hourly("SE3", "2024-01-02", 24, base=5.0), overwrite=True)
    assert cluster.table("prices").mock.insert.call_args.kwargs["overwrite"] is True
    assert (c.rows_inserted, c.rows_updated, c.rows_deleted) == (0, 24, 24)
    out = fg.read()
    assert len(out) == 24 and out.price.min() == 5.0
    assert hw.get_event_log().read()[-1].payload["operation"] == "overwrite"


BAD = {
    "null key": (lambda df: df.assign(zone=[None] + ["SE3"] * (len(df) - 1)), "zone"),
    "duplicate keys": (lambda df: pd.concat([df, df.head(1)]), "repeats"),
    "added column": (lambda df: df.assign(extra=1.0), "new version"),
    "string in a double column": (lambda df: df.assign(price=df.price.astype(str)), "price"),
    "naive timestamps": (lambda df: df.assign(ts=df.ts.dt.tz_localize(None)), "ts"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_frames_are_rejected_before_anything_is_sent(hw, cluster, case):
    fg = prices(hw)
    fg.insert(hourly("SE3", "2024-01-01", 24))
    mutate, word = BAD[case]
    with pytest.raises(ValidationError, match=word):
        fg.insert(mutate(hourly("SE3", "2024-01-02", 24)))
    assert cluster.table("prices").mock.insert.call_count == 1
    assert len(hw.get_event_log().read()) == 1


def test_schema_and_version_rules(hw, cluster):
    fg = prices(hw)
    fg.insert(hourly("SE3", "2024-01-01", 24))
    with pytest.raises(SchemaError, match="primary key"):
        prices(hw, primary_key=["ts"])
    with pytest.raises(SchemaError, match="event time"):
        prices(hw, event_time="volume")
    v2 = prices(hw, version=2)
    v2.insert(hourly("SE3", "2024-01-02", 24).assign(extra=1.0))
    fs = hw.get_feature_store()
    assert fs.get_feature_group("prices").version == 2
    assert fs.get_feature_group("prices", version=1).count() == 24
    # the local backend's message (one implementation): it names the groups there are, not spotcast's own
    with pytest.raises(NotFoundError, match=r"nothing does not exist in Hopsworks project .*; existing groups: prices$"):
        fs.get_feature_group("nothing")
    with pytest.raises(ValidationError, match="reserved"):
        fs.get_or_create_feature_group("spotcast_events", version=1, primary_key=["x"])
    assert [g.name for g in fs.get_feature_groups()] == ["prices", "prices"]  # bookkeeping hidden


def test_known_at_and_declared_features_survive_a_new_process(hw, cluster):
    from spotcast_storage import get_storage

    feats = [Feature("zone", "string"), Feature("ts", "timestamp"), Feature("known_at", "timestamp"), Feature("v", "double")]
    fg = hw.get_feature_store().get_or_create_feature_group(
        "obs", version=1, primary_key=["zone", "ts"], event_time="ts", known_at="known_at", features=feats)
    t = pd.Timestamp("2024-01-01T00:00Z")
    fg.insert(pd.DataFrame({"zone": ["SE3"], "ts": [t], "known_at": [t], "v": [1.0]}))
    again = get_storage(mode="hopsworks").get_feature_store().get_feature_group("obs", 1)
    assert again.known_at == "known_at" and again.feature_names == ["zone", "ts", "known_at", "v"]


def test_commit_details_in_hopsworks_shape_newest_first(hw, cluster):
    fg = prices(hw)
    c1 = fg.insert(hourly("SE3", "2024-01-01", 24))
    c2 = fg.insert(hourly("SE3", "2024-01-01", 30, base=1))
    details = fg.commit_details()
    assert list(details) == [c2.commit_id, c1.commit_id]
    d = details[c2.commit_id]
    assert (d["rowsInserted"], d["rowsUpdated"], d["rowsDeleted"]) == (6, 24, 0)
    assert pd.Timestamp(d["committedOn"]) == pd.Timestamp(c2.commit_id, unit="ms", tz="UTC")
    assert list(fg.commit_details(limit=1)) == [c2.commit_id]
    assert cluster.table("prices").mock.commit_details.call_args.kwargs == {"wallclock_time": None, "limit": 1}


def test_time_travel_names_the_client_limitation(hw, cluster):
    fg = prices(hw)
    c1 = fg.insert(hourly("SE3", "2024-01-01", 24))
    with pytest.raises(UnsupportedError, match="Python client") as err:
        fg.as_of(c1.commit_id).read()
    assert "Spark" in str(err.value)
    with pytest.raises(UnsupportedError):
        fg.as_of("2024-01-01").read()


def test_time_travel_is_passed_to_the_client_on_spark(hw, cluster):
    hw.time_travel = True  # what connect() sets when the client runs the Spark engine
    fg = prices(hw)
    c1 = fg.insert(hourly("SE3", "2024-01-01", 24))
    fg.as_of(c1.commit_id).read()
    q = cluster.queries[-1]
    q.as_of.assert_called_once_with(wallclock_time=c1.commit_id)  # commit ids are commit times in ms
    fg.as_of("2024-01-01T05:00Z").read()
    assert cluster.queries[-1].as_of.call_args.kwargs["wallclock_time"] == pd.Timestamp("2024-01-01T05:00Z")


def test_read_range_is_half_open_and_sent_as_client_filters(hw, cluster):
    fg = prices(hw)
    fg.insert(hourly("SE3", "2024-01-01", 48))
    out = fg.read(start_time="2024-01-01T10:00Z", end_time="2024-01-01T12:00Z")
    assert sorted(out.ts.dt.hour) == [10, 11]
    with pytest.raises(ValidationError, match="parse"):
        fg.read(start_time="not a date")


def test_query_translation_select_join_filter(hw, cluster):
    p = prices(hw)
    p.insert(pd.concat([hourly("SE3", "2024-01-01", 24), hourly("SE4", "2024-01-01", 24, base=100)]))
    zones = prices(hw, "zones", primary_key=["zone"], event_time=None)
    zones.insert(pd.DataFrame({"zone": ["SE3", "SE4"], "country": ["SE", "SE"], "area_km2": [1.0, 2.0]}))
    q = (p.select(["zone", "ts", "price"]).join(zones.select(["zone", "country"]), on=["zone"])
         .filter((p.zone == "SE4") & (p.price >= 110)))
    out = q.read()
    assert list(out.columns) == ["zone", "ts", "price", "country"]
    assert len(out) == 14 and (out.country == "SE").all() and out.price.min() == 110
    # What reached the client: the right side selects only its non-key column, joined on zone.
    left = next(q for q in reversed(cluster.queries) if q.spotcast_state["joins"])
    (sub, on, *_), = left.spotcast_state["joins"]
    assert sub.spotcast_cols == ["country"] and on == ["zone"]
    out2 = p.select_except(["volume"]).filter(p.zone.isin(["SE3"])).read()
    assert list(out2.columns) == ["zone", "ts", "price"] and len(out2) == 24


def test_join_arguments_reach_the_client(hw, cluster):
    p = prices(hw)
    p.insert(hourly("SE3", "2024-01-01", 4))
    w = prices(hw, "weather", primary_key=["zone", "ts"])
    w.insert(hourly("SE3", "2024-01-01", 4, base=10).rename(columns={"price": "temp", "volume": "n"}))
    out = p.select_all().join(w.select(["temp"]), on=["zone"], prefix="w_").filter(w.temp > 11).read()
    left = next(q for q in reversed(cluster.queries) if q.spotcast_state["joins"])
    (sub, on, left_on, right_on, how, prefix), = left.spotcast_state["joins"]
    assert (on, left_on, right_on, how, prefix) == (["zone"], None, None, "left", "w_")
    assert sub.spotcast_table.name == "weather" and sub.spotcast_cols == ["temp"]
    flt = left.spotcast_state["filters"][-1]
    assert (flt.feature.name, flt.condition, flt.value) == ("temp", "GREATER_THAN", 11)
    assert list(out.columns) == ["zone", "ts", "price", "volume", "w_temp"]
    assert out.w_temp.tolist() == [12.0, 13.0]  # point in time: each hour gets its own reading


def test_query_errors_are_raised_before_the_client_reads(hw, cluster):
    p = prices(hw)
    p.insert(hourly("SE3", "2024-01-01", 4))
    with pytest.raises(ValidationError, match=r"clashes|prefix"):
        p.select_all().join(prices(hw).select_all(), on=["zone", "ts"]).read()
    with pytest.raises(UnsupportedError, match="IS NULL"):
        p.filter(p.price == None).read()  # noqa: E711


def test_point_in_time_join_with_known_at_is_exact(hw, cluster):
    feats = hw.get_feature_store().get_or_create_feature_group(
        "feats", version=1, primary_key=["zone", "ts"], event_time="ts", known_at="known_at")
    labels = prices(hw, "labels")
    t = pd.Timestamp("2024-01-01T00:00Z")
    h = pd.Timedelta(hours=1)
    # The value stamped t+2h only became known at t+10h (a late correction).
    feats.insert(pd.DataFrame({"zone": "SE3", "ts": [t, t + 2 * h], "known_at": [t, t + 10 * h], "v": [1.0, 2.0]}))
    labels.insert(pd.DataFrame({"zone": "SE3", "ts": [t + 3 * h, t + 11 * h], "price": [0.0, 0.0], "volume": 0}))
    out = labels.select_all().join(feats.select(["v"]), on=["zone"]).read().sort_values("ts", ignore_index=True)
    assert out.v.tolist() == [1.0, 2.0]  # Hopsworks' own PIT join would give 2.0 at t+3h
    assert list(out.columns) == ["zone", "ts", "price", "volume", "v"] and str(out.ts.dtype) == "datetime64[us, UTC]"
    assert not any(q.spotcast_state["joins"] for q in cluster.queries)  # the join did not go to Hopsworks
    with pytest.raises(UnsupportedError, match="known-at"):  # a feature view would be computed by Hopsworks
        hw.get_feature_store().get_or_create_feature_view(
            "v", version=1, query=labels.select_all().join(feats.select(["v"]), on=["zone"]), labels=["price"])


def test_point_in_time_join_on_frames_respects_known_at(hw):
    t = pd.Timestamp("2024-01-01T00:00Z")
    h = pd.Timedelta(hours=1)
    feats = pd.DataFrame({"zone": "SE3", "fts": [t, t + 2 * h], "known_at": [t, t + 10 * h], "v": [1.0, 2.0]})
    labels = pd.DataFrame({"zone": "SE3", "ts": [t + 3 * h, t + 11 * h], "y": [0.0, 0.0]})
    out = hw.get_feature_store().point_in_time_join(labels, feats, on=["zone"], label_time="ts",
                                                    feature_time="fts", known_at="known_at")
    assert out.v.tolist() == [1.0, 2.0]


def test_a_commit_whose_event_was_lost_gets_it_on_the_next_insert(hw, cluster):
    fg = prices(hw)
    fg.insert(hourly("SE3", "2024-01-01", 24))
    events_fg = cluster.table("spotcast_events").mock
    real_insert = events_fg.insert.side_effect
    events_fg.insert.side_effect = RuntimeError("connection reset")
    with pytest.raises(SpotcastError, match="connection reset"):
        fg.insert(hourly("SE3", "2024-01-02", 24))  # data committed, event lost
    lost = max(cluster.table("prices").commits)
    events_fg.insert.side_effect = real_insert
    c3 = fg.insert(hourly("SE3", "2024-01-03", 24))
    ev = hw.get_event_log().read(names=["prices"])
    assert [e.commit_id for e in ev] == [ev[0].commit_id, lost, c3.commit_id]
    assert ev[1].payload["repaired"] is True and ev[1].payload["rows_inserted"] == 24
    assert "keys" not in ev[1].payload  # consumers then treat every key as possibly changed


def test_a_group_created_meanwhile_by_another_process_is_upserted_not_recreated(hw, cluster):
    from spotcast_storage import get_storage

    mine = prices(hw)  # looked before the other process wrote
    other = prices(get_storage(mode="hopsworks"))
    other.insert(hourly("SE3", "2024-01-01", 24))
    c = mine.insert(hourly("SE3", "2024-01-01", 24, base=1.0))
    assert (c.rows_inserted, c.rows_updated) == (0, 24)


def test_groups_spotcast_did_not_create_are_listed_with_their_types(hw, cluster):
    from hsfs.feature import Feature as ClientFeature

    cluster.fs.get_or_create_feature_group(name="embeddings", version=1, primary_key=["id"], features=[
        ClientFeature("id", "bigint", primary=True), ClientFeature("vec", "array<double>")])
    cluster.table("embeddings").id = cluster.table("embeddings").mock.id = 7
    g = hw.get_feature_store().get_feature_group("embeddings", 1)
    assert [(f.name, f.type) for f in g.features] == [("id", "bigint"), ("vec", "array<double>")]


def test_filters_on_fractions_of_a_second_are_exact(hw, cluster):
    fg = prices(hw)
    t = pd.Timestamp("2024-01-01T00:00:00Z")
    ms = pd.Timedelta(milliseconds=1)
    fg.insert(pd.DataFrame({"zone": "SE3", "ts": [t, t + 500 * ms, t + 1500 * ms], "price": [1.0, 2.0, 3.0], "volume": 1}))
    # The client would send "00:00:00" for both bounds and return nothing, or everything.
    assert fg.read(start_time=t + 400 * ms, end_time=t + 600 * ms).price.tolist() == [2.0]
    assert fg.filter(fg.ts == t + 500 * ms).read().price.tolist() == [2.0]
    assert fg.read(start_time="2024-01-01", end_time="2024-01-02").price.tolist() == [1.0, 2.0, 3.0]
