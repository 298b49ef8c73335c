"""What only the embedded DuckDB store promises: plain-SQL layout, read-only SQL, plugins, config."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from spotcast_storage import (
    BackendUnavailableError,
    NotFoundError,
    ReadOnlyError,
    SpotcastError,
    ValidationError,
    config,
    get_storage,
)
from spotcast_storage.hookspecs import hookimpl
from spotcast_storage.local import connection
from spotcast_storage.plugins import get_plugin_manager, list_plugins


def frame(start="2024-01-01", hours=24, base=0.0, zone="SE3"):
    ts = pd.date_range(start, periods=hours, freq="h", tz="UTC")
    return pd.DataFrame({"zone": zone, "ts": ts, "price": base + pd.Series(range(hours), dtype="float64")})


def test_plain_duckdb_sees_versioned_tables_and_a_view_of_the_newest(local_project, store_path):
    fs = local_project.get_feature_store()
    fs.get_or_create_feature_group("prices", version=1, primary_key=["zone", "ts"], event_time="ts").insert(frame())
    fs.get_or_create_feature_group("prices", version=2, primary_key=["zone", "ts"], event_time="ts").insert(
        frame(hours=5).assign(extra=1.0))
    connection.release(store_path)
    con = duckdb.connect(str(store_path), read_only=True)
    try:
        assert con.execute("select count(*) from prices_v1").fetchone()[0] == 24
        assert con.execute("select count(*) from prices").fetchone()[0] == 5  # the newest version
        assert "extra" in [d[0] for d in con.execute("select * from prices limit 1").description]
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name='_spotcast'").fetchall()}
        assert {"feature_groups", "commits", "events", "cursors", "models"} <= tables
        ts_type = con.execute("select data_type from duckdb_columns() where table_name='prices_v1' and column_name='ts'").fetchone()[0]
        assert ts_type == "TIMESTAMP WITH TIME ZONE"
    finally:
        con.close()


def test_sql_refuses_writes_and_leaves_the_store_unchanged(local_project):
    fg = local_project.get_feature_store().get_or_create_feature_group(
        "prices", version=1, primary_key=["zone", "ts"], event_time="ts")
    fg.insert(frame())
    for stmt in ["delete from prices_v1", "drop table prices_v1", "insert into prices_v1 select * from prices_v1",
                 "update prices_v1 set price = 0", "create table x as select 1", "attach ':memory:' as m",
                 "copy prices_v1 to '/tmp/spotcast_should_not_exist.csv'"]:
        with pytest.raises(ReadOnlyError, match="refused"):
            local_project.sql(stmt)
    assert local_project.sql("select count(*) as n, sum(price) as s from prices").iloc[0].tolist() == [24, 276.0]
    with pytest.raises(ValidationError, match="parse"):
        local_project.sql("selec 1")
    with pytest.raises(ValidationError, match="one SQL statement"):
        local_project.sql("select 1; select 2")


def test_after_commit_hook_sees_every_commit(local_project):
    seen = []

    class Listener:
        @hookimpl
        def spotcast_after_commit(self, event, project):
            seen.append((event.name, event.commit_id, event.changed))

    pm = get_plugin_manager()
    plugin = Listener()
    pm.register(plugin, name="test-listener")
    try:
        fg = local_project.get_feature_store().get_or_create_feature_group(
            "prices", version=1, primary_key=["zone", "ts"], event_time="ts")
        c1 = fg.insert(frame())
        fg.insert(frame())  # changes nothing: no commit, so no event for listeners either
        c3 = fg.insert(frame().assign(price=9.0))
    finally:
        pm.unregister(plugin)
    assert seen == [("prices", c1.commit_id, True), ("prices", c3.commit_id, True)]


def test_backends_are_plugins_and_listed(local_project):
    names = {p.name for p in list_plugins()}
    assert {"spotcast_storage.local.backend", "spotcast_storage.hopsworks_backend"} <= names


def test_mode_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("HOPSWORKS_API_KEY", raising=False)
    assert config.resolve_mode() == "local"
    assert config.resolve_mode("production") == "hopsworks"
    monkeypatch.setenv("HOPSWORKS_API_KEY", "secret-key-123")
    assert config.resolve_mode() == "hopsworks"
    assert config.resolve_mode("local") == "local"
    with pytest.raises(ValidationError, match="unknown mode"):
        config.resolve_mode("cloud")
    monkeypatch.setenv("SPOTCAST_STORE", str(tmp_path / "env.duckdb"))
    assert config.resolve_store_path() == tmp_path / "env.duckdb"


def test_hopsworks_mode_without_the_client_names_the_extra(monkeypatch):
    import importlib.util

    if importlib.util.find_spec("hopsworks") is not None:
        pytest.skip("the hopsworks client is installed here; this checks the message when it is not")
    monkeypatch.setenv("HOPSWORKS_API_KEY", "secret-key-123")
    with pytest.raises(BackendUnavailableError) as err:
        get_storage()
    assert "spotcast-storage[hopsworks]" in str(err.value)
    assert "secret-key-123" not in str(err.value)


def test_names_and_keys_are_checked(local_project):
    fs = local_project.get_feature_store()
    for bad in ["Prices", "1prices", "prices-x", "prices_v2", ""]:
        with pytest.raises(ValidationError):
            fs.get_or_create_feature_group(bad, version=1, primary_key=["zone"])
    with pytest.raises(ValidationError, match="primary_key"):
        fs.get_or_create_feature_group("prices", version=1)
    with pytest.raises(ValidationError, match="version"):
        fs.get_or_create_feature_group("prices", version=0, primary_key=["zone"])


def test_a_repeated_key_names_an_example_in_iso_and_writes_nothing(local_project):
    fg = local_project.get_feature_store().get_or_create_feature_group(
        "prices", version=1, primary_key=["zone", "ts"], event_time="ts")
    fg.insert(frame(hours=3))
    bad = pd.concat([frame(hours=4, base=10), frame(start="2024-01-01 02:00", hours=1, base=10),
                     frame(start="2024-01-01 02:00", hours=1, base=20)], ignore_index=True)
    with pytest.raises(ValidationError, match=r"e\.g\. \{'zone': 'SE3', 'ts': '2024-01-01T02:00:00\+00:00'\} "
                       r"appears 3 times; drop duplicates"):
        fg.insert(bad)
    assert fg.read()["price"].tolist() == [0.0, 1.0, 2.0]
    assert len(fg.commit_details()) == 1


def test_reading_a_missing_store_says_so(tmp_path):
    project = get_storage(mode="local", path=tmp_path / "nothing" / "store.duckdb")
    with pytest.raises(NotFoundError, match="does not exist"):
        project.get_feature_store().get_feature_group("prices")
    assert project.get_feature_store().get_feature_groups() == []
    assert not (tmp_path / "nothing" / "store.duckdb").exists()


def test_declared_features_create_the_table_before_data(local_project):
    from spotcast_storage.contracts import PRICES

    fs = local_project.get_feature_store()
    fg = PRICES.get_or_create(fs)
    df = pd.DataFrame({"zone": ["SE3"], "ts": [pd.Timestamp("2024-01-01T00:00Z")], "price_eur_mwh": [1],
                       "price_sek_kwh": [None], "resolution_minutes": [60],
                       "known_at": [pd.Timestamp("2023-12-31T12:00Z")], "source": ["test"]})
    fg.insert(df)  # int price into double, all-null column: both storable
    out = fg.read()
    assert out.price_eur_mwh.dtype == "float64" and out.price_sek_kwh.isna().all()
    with pytest.raises(ValidationError, match="price_eur_mwh"):
        fg.insert(df.assign(price_eur_mwh="cheap"))


def test_commit_events_carry_the_known_at_range_of_new_and_replaced_values(local_project):
    fg = local_project.get_feature_store().get_or_create_feature_group(
        "prices", version=1, primary_key=["zone", "ts"], event_time="ts", known_at="known_at")
    ts = pd.date_range("2024-01-02", periods=3, freq="h", tz="UTC")
    known = pd.Timestamp("2024-01-01T12:00Z")
    fg.insert(pd.DataFrame({"zone": "SE3", "ts": ts, "known_at": known, "price": 1.0}))
    ev = local_project.get_event_log().read()[-1]
    assert ev.payload["min_known_at"] == ev.payload["max_known_at"] == known.isoformat()
    # A late correction of one value: its old and new known-at times both count.
    later = pd.Timestamp("2024-01-05T08:00Z")
    fg.insert(pd.DataFrame({"zone": "SE3", "ts": ts[:1], "known_at": later, "price": 2.0}))
    ev = local_project.get_event_log().read()[-1]
    assert (ev.payload["min_known_at"], ev.payload["max_known_at"]) == (known.isoformat(), later.isoformat())


def test_bookkeeping_changed_outside_spotcast_is_named_not_a_type_error(local_project, store_path):
    fg = local_project.get_feature_store().get_or_create_feature_group(
        "prices", version=1, primary_key=["zone", "ts"], event_time="ts")
    fg.insert(frame())
    connection.release(store_path)
    con = duckdb.connect(str(store_path))
    try:
        con.execute("UPDATE _spotcast.commits SET committed_on = NULL")
        con.execute("UPDATE _spotcast.events SET created_at = NULL")
    finally:
        con.close()
    with pytest.raises(SpotcastError, match=r"commit \d+ of feature group prices v1 has no time in the store"):
        fg.commit_details()
    with pytest.raises(SpotcastError, match=r"event \d+ has no time in the store.*restore the store file"):
        local_project.get_event_log().read()


def test_a_query_that_must_return_a_row_names_itself_when_it_does_not(store_path):
    with connection.connect(store_path, write=True) as con:
        assert connection.one_row(con, "SELECT count(*) FROM range(?)", [3]) == (3,)
        with pytest.raises(SpotcastError, match=r"no row for a query that always returns one \(SELECT 1 WHERE "
                                                r"false\); the store file is damaged"):
            connection.one_row(con, "SELECT 1\n  WHERE false")


def test_a_read_only_project_refuses_writes(store_path):
    from spotcast_storage.contracts import PRICES

    writer = get_storage(mode="local", path=store_path)
    PRICES.get_or_create(writer.get_feature_store()).save(PRICES.features())
    reader = get_storage(mode="local", path=store_path, read_only=True)
    fg = reader.get_feature_store().get_feature_group("prices")
    with pytest.raises(ReadOnlyError, match="read-only"):
        fg.insert(pd.DataFrame({c: [] for c in PRICES.column_names}))
    assert fg.count() == 0 and "read-only" in reader.describe()


def test_a_registered_backend_is_a_mode(monkeypatch, tmp_path):
    """A backend registered through ``register_backends`` is opened by ``get_storage(mode=...)``,
    ``--mode`` and ``SPOTCAST_MODE``; the built-in names and their synonyms keep working."""
    from spotcast_storage import backends
    from spotcast_storage.local.project import LocalProject

    opened = []

    class ScratchBackend:  # test-only: a DuckDB store of its own, wherever the caller points
        @hookimpl
        def register_backends(self, register):
            def factory(path=None, **options):
                opened.append(options)
                return LocalProject(tmp_path / "scratch.duckdb")

            register("scratch", factory)

    pm = get_plugin_manager()
    plugin = ScratchBackend()
    pm.register(plugin, name="test-scratch-backend")
    try:
        assert "scratch" in backends() and "scratch" in config.modes()
        project = get_storage(mode="Scratch", flavour="x")
        fg = project.get_feature_store().get_or_create_feature_group(
            "prices", version=1, primary_key=["zone", "ts"], event_time="ts")
        fg.insert(frame())
        assert opened == [{"flavour": "x"}] and (tmp_path / "scratch.duckdb").exists()
        monkeypatch.setenv("SPOTCAST_MODE", "scratch")
        assert config.resolve_mode() == "scratch"
        assert config.resolve_mode("production") == "hopsworks" and config.resolve_mode("duckdb") == "local"
        with pytest.raises(ValidationError, match=r"unknown mode 'cloud'.*hopsworks, local, scratch"):
            config.resolve_mode("cloud")
    finally:
        pm.unregister(plugin)
        connection.release(tmp_path / "scratch.duckdb")
    with pytest.raises(ValidationError, match="unknown mode 'scratch'"):
        config.resolve_mode("scratch")


def test_bookkeeping_reads_filter_only_on_what_is_given():
    from spotcast_storage.local.convert import where_equal

    assert where_equal(name=None, version=None) == ("", [])
    assert where_equal(name="prices", version=None) == (" WHERE name = ?", ["prices"])
    assert where_equal(name="m", version=2) == (" WHERE name = ? AND version = ?", ["m", 2])
