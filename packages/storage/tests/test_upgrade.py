"""Contract upgrades: a new version of a contract copies the previous version's rows, transformed,
on its first get_or_create (one commit, on every backend), and readers of a store that was not
migrated yet see the old rows transformed."""

from __future__ import annotations

from typing import Any

import pandas as pd

from spotcast_storage.contracts import Column, Contract
from spotcast_storage.contracts.base import Upgrade
from spotcast_storage.contracts.forecasts import FORECASTS, FORECASTS_V1

OLD = Contract("upgrade_probe", 1, ("zone", "ts"), "ts", (
    Column("zone", "string", "zone", nullable=False), Column("ts", "timestamp", "hour", nullable=False),
    Column("price", "double", "EUR/MWh")), "old")


def _to_v2(df: pd.DataFrame) -> pd.DataFrame:
    df["price_kwh"] = df["price"] / 1000
    return df


NEW = Contract("upgrade_probe", 2, ("zone", "ts"), "ts", (*OLD.columns, Column("price_kwh", "double", "EUR/kWh")),
               "new", upgrade=Upgrade(1, _to_v2))


def old_rows() -> pd.DataFrame:
    return pd.DataFrame({"zone": "SE3", "ts": pd.date_range("2024-01-01", periods=24, freq="h", tz="UTC"),
                         "price": [float(i) for i in range(24)]})


def check_upgrade(project: Any) -> None:
    """The same checks on every backend (the Hopsworks one runs them against the client's classes)."""
    fs = project.get_feature_store()
    OLD.get_or_create(fs).insert(old_rows())
    # A reader before the migration: the old rows, as rows of the new version.
    group, to_rows = NEW.source(fs)
    assert group.version == 1
    seen = to_rows(group.read())
    assert list(seen.columns) == NEW.column_names and seen["price_kwh"].max() == 0.023
    events = len(project.get_event_log().read())
    fg = NEW.get_or_create(fs)
    assert len(fg.commit_details()) == 1  # the copy is one commit
    got = fg.read().sort_values("ts", ignore_index=True)
    assert len(got) == 24 and list(got.columns) == NEW.column_names
    assert got["price_kwh"].tolist() == [i / 1000 for i in range(24)]
    assert len(project.get_event_log().read()) == events + 1
    # Again: nothing more is copied, no commit, no event; the old version is left as it was.
    NEW.get_or_create(fs)
    assert len(fg.commit_details()) == 1 and len(project.get_event_log().read()) == events + 1
    assert len(OLD.get(fs).read()) == 24
    assert NEW.source(fs)[0].version == 2


def test_a_new_contract_version_copies_the_old_rows_once(local_project):
    check_upgrade(local_project)


def test_an_interrupted_copy_is_done_on_the_next_call(local_project):
    """A copy killed before its commit left the new version without data: the next call copies."""
    fs = local_project.get_feature_store()
    OLD.get_or_create(fs).insert(old_rows())
    fs.get_or_create_feature_group(name=NEW.name, version=2, primary_key=list(NEW.primary_key), event_time="ts",
                                   features=NEW.features())  # registered, never written
    assert len(NEW.get_or_create(fs).read()) == 24


def test_nothing_to_copy_on_a_fresh_store(local_project):
    fs = local_project.get_feature_store()
    assert NEW.source(fs) is None
    fg = NEW.get_or_create(fs)
    assert fg.commit_details() == {}


def test_forecasts_v1_rows_become_vintages_made_at_created_at(local_project):
    fs = local_project.get_feature_store()
    ts = pd.date_range("2024-03-20T23:00Z", periods=3, freq="h")
    v1 = pd.DataFrame({"zone": "SE3", "origin": pd.Timestamp("2024-03-20T09:00Z"), "ts": ts, "p10": 1.0,
                       "p50": [2.0, 3.0, 4.0], "p90": 5.0, "model": "m", "model_version": 1,
                       "created_at": pd.Timestamp("2024-03-20T14:00Z")})
    FORECASTS_V1.get_or_create(fs).insert(v1)
    fg = FORECASTS.get_or_create(fs)
    got = fg.read().sort_values("ts", ignore_index=True)
    assert (got["made_at"] == pd.Timestamp("2024-03-20T14:00Z")).all()
    assert got["fallback_reason"].isna().all() and got["p50"].tolist() == [2.0, 3.0, 4.0]
    # The `forecasts` view follows the newest version.
    assert local_project.sql("select count(*) as n from forecasts where made_at is not null")["n"].item() == 3
