"""A stand-in Hopsworks cluster built from ``create_autospec`` of the client's real classes.

Every client object the backend touches (Project, FeatureStore, FeatureGroup, Query,
FeatureView, ModelRegistry, the ``mr.python`` module, Model, ``hopsworks.login``) is an
autospec, so a misspelled method or argument raises TypeError/AttributeError as it would
against a cluster. Their side effects keep rows in memory (upsert, overwrite, commits with
millisecond ids, filters evaluated from the client's own Filter/Logic objects), so the
tests also check behaviour, not only calls.
"""

from __future__ import annotations

import itertools
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest.mock import create_autospec

import hsml.model
import hsml.model_registry
import hsml.python.signature
import pandas as pd
from hopsworks_common import project as hw_project
from hsfs import feature_group, feature_store, feature_view
from hsfs.constructor import filter as hw_filter
from hsfs.constructor import query as hw_query

import hopsworks

_clock = itertools.count(1_704_067_200_000, 1000)  # commit ids: ms, one second apart


@dataclass
class Table:
    name: str
    version: int
    primary_key: list[str]
    event_time: str | None
    features: list[Any]
    description: str = ""
    rows: pd.DataFrame | None = None
    commits: dict[int, dict[str, Any]] = field(default_factory=dict)
    id: int | None = None
    mock: Any = None
    inserted_frames: list[pd.DataFrame] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.features]

    def frame(self) -> pd.DataFrame:
        if self.rows is None:
            return pd.DataFrame({c: [] for c in self.columns})
        return self.rows.copy()


def _value(feature: Any, v: Any, condition: str) -> Any:
    if condition == "IN" and isinstance(v, str):
        v = json.loads(v)  # the client sends IN lists JSON-encoded
    if feature.type == "timestamp":
        if isinstance(v, list):
            return [pd.Timestamp(x, tz="UTC") for x in v]
        return pd.Timestamp(v, tz="UTC")
    return v


def evaluate(f: Any, df: pd.DataFrame) -> pd.Series:
    """Apply the client's Filter/Logic objects to a frame, as the Query Service would."""
    if isinstance(f, hw_filter.Logic):
        left = evaluate(f.get_left_filter_or_logic(), df)
        if f.type == "SINGLE":
            return left
        right = evaluate(f.get_right_filter_or_logic(), df)
        return (left & right) if f.type == "AND" else (left | right)
    col = df[f.feature.name]
    v = _value(f.feature, f.value, f.condition)
    if f.feature.type == "timestamp":
        col = pd.to_datetime(col, utc=True)
    ops = {"EQUALS": lambda: col == v, "NOT_EQUALS": lambda: col != v, "LESS_THAN": lambda: col < v,
           "LESS_THAN_OR_EQUAL": lambda: col <= v, "GREATER_THAN": lambda: col > v,
           "GREATER_THAN_OR_EQUAL": lambda: col >= v, "IN": lambda: col.isin(v if isinstance(v, list) else [v]),
           "LIKE": lambda: col.astype(str).str.match(str(v).replace("%", ".*"))}
    return ops[f.condition]().fillna(False).reset_index(drop=True)


class Cluster:
    """The in-memory state behind the autospecs, plus the autospecs themselves."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.tables: dict[tuple[str, int], Table] = {}
        self.views: dict[tuple[str, int], Any] = {}
        self.models: dict[str, list[Any]] = {}
        self.queries: list[Any] = []  # every client Query built, for assertions
        self.fs = create_autospec(feature_store.FeatureStore, instance=True)
        self.fs.name = "spotcast_featurestore"
        self.fs.get_or_create_feature_group.side_effect = self._get_or_create_fg
        self.fs.get_feature_groups.side_effect = self._get_fgs
        self.fs.get_or_create_feature_view.side_effect = self._get_or_create_fv
        self.fs.get_feature_view.side_effect = lambda name, version=None: self.views.get((name, version or 1))
        self.mr = create_autospec(hsml.model_registry.ModelRegistry, instance=True)
        self.mr.python = create_autospec(hsml.python.signature)
        self.mr.python.create_model.side_effect = self._create_model
        self.mr.get_models.side_effect = lambda name: list(self.models.get(name, []))
        self.mr.get_model.side_effect = self._get_model
        self.mr.get_best_model.side_effect = self._best_model
        self.project = create_autospec(hw_project.Project, instance=True)
        self.project.name = "spotcast_prod"
        self.project.get_feature_store.return_value = self.fs
        self.project.get_model_registry.return_value = self.mr
        self.login = create_autospec(hopsworks.login, return_value=self.project)
        self.logout = create_autospec(hopsworks.logout)

    def table(self, name: str, version: int = 1) -> Table:
        return self.tables[(name, version)]

    # -- feature groups -------------------------------------------------------------------
    def _get_or_create_fg(self, name, version, description="", online_enabled=False, time_travel_format=None,
                          partition_key=None, primary_key=None, foreign_key=None, embedding_index=None,
                          hudi_precombine_key=None, features=None, statistics_config=None,
                          expectation_suite=None, event_time=None, **kw):
        key = (name, version)
        if key not in self.tables:
            t = Table(name, version, list(primary_key or []), event_time, list(features or []), description or "")
            t.mock = self._fg_mock(t)
            self.tables[key] = t
        return self.tables[key].mock

    def _get_fgs(self, name=None):
        return [t.mock for (n, _), t in sorted(self.tables.items()) if t.id is not None and name in (None, n)]

    def _fg_mock(self, t: Table) -> Any:
        fg = create_autospec(feature_group.FeatureGroup, instance=True)
        fg.name, fg.version, fg.primary_key, fg.event_time = t.name, t.version, t.primary_key, t.event_time
        fg.features, fg.description, fg.id = t.features, t.description, None

        def get_feature(name):
            return next((f for f in t.features if f.name == name), None)

        def insert(features, overwrite=False, operation="upsert", storage=None, write_options=None, **kw):
            df = features.copy()
            t.inserted_frames.append(df)
            old = None if overwrite else t.rows
            pk = t.primary_key
            if old is None or not len(old):
                ins, upd, merged = len(df), 0, df
            else:
                hit = (old.merge(df[pk].drop_duplicates(), on=pk, how="left", indicator=True)["_merge"] == "both").to_numpy()
                upd = int(hit.sum())
                ins = len(df) - upd
                merged = pd.concat([old[~hit], df], ignore_index=True)
            deleted = len(t.rows) if overwrite and t.rows is not None else 0
            t.rows = merged.reset_index(drop=True)
            cid = next(_clock)
            t.commits[cid] = {"committedOn": pd.Timestamp(cid, unit="ms").strftime("%Y%m%d%H%M%S%f")[:-3],
                              "rowsInserted": ins, "rowsUpdated": upd, "rowsDeleted": deleted}
            if t.id is None:
                t.id = fg.id = len(self.tables) + 100
            return (None, None)

        def commit_details(wallclock_time=None, limit=None):
            ids = sorted(t.commits, reverse=True)[: limit or None]
            return {i: t.commits[i] for i in ids}

        fg.get_feature.side_effect = get_feature
        fg.insert.side_effect = insert
        fg.commit_details.side_effect = commit_details
        fg.select_all.side_effect = lambda *a, **k: self._query(t, t.columns)
        fg.select.side_effect = lambda features: self._query(t, [getattr(f, "name", f) for f in features])
        return fg

    def _query(self, t: Table, cols: list[str]) -> Any:
        q = create_autospec(hw_query.Query, instance=True)
        state: dict[str, Any] = {"filters": [], "joins": [], "limit": None, "as_of": None}

        def filter_(f):
            state["filters"].append(f)
            return q

        def join(sub_query, on=None, left_on=None, right_on=None, join_type="left", prefix=None):
            state["joins"].append((sub_query, on, left_on, right_on, join_type, prefix))
            return q

        def limit(n):
            state["limit"] = n
            return q

        def as_of(wallclock_time=None, exclude_until=None):
            state["as_of"] = wallclock_time
            return q

        def read(online=False, dataframe_type="default", read_options=None, start_time=None, end_time=None):
            return self._read(t, cols, state)

        q.filter.side_effect = filter_
        q.join.side_effect = join
        q.limit.side_effect = limit
        q.as_of.side_effect = as_of
        q.read.side_effect = read
        q.to_string.return_value = f"SELECT ... FROM {t.name}_{t.version}"
        q.spotcast_table, q.spotcast_cols, q.spotcast_state = t, cols, state
        self.queries.append(q)
        return q

    def _read(self, t: Table, cols: list[str], state: dict[str, Any]) -> pd.DataFrame:
        base = t.frame().reset_index(drop=True)
        out = base[cols].copy()
        raw = base.copy()  # unprefixed columns of every joined group, which filters refer to
        for sub, on, left_on, right_on, how, prefix in state["joins"]:
            rt, rcols = sub.spotcast_table, sub.spotcast_cols
            lk, rk = (on, on) if on else (left_on, right_on)
            right = rt.frame().reset_index(drop=True)
            for f in sub.spotcast_state["filters"]:
                right = right[evaluate(f, right).to_numpy()]
            extra = [rt.event_time] if rt.event_time and rt.event_time not in rk else []
            keep = right[[*rk, *extra, *[c for c in rcols if c not in rk]]]
            if t.event_time and rt.event_time and rt.event_time not in rk:  # Hopsworks' PIT join
                left = base[[*lk, t.event_time]].assign(_row=range(len(base)))
                left["_lt"] = pd.to_datetime(left[t.event_time], utc=True)
                left = left.sort_values("_lt")
                r = keep.rename(columns={rt.event_time: "_rt", **dict(zip(rk, lk, strict=True))})
                r["_rt"] = pd.to_datetime(r["_rt"], utc=True)
                r = r.sort_values("_rt").drop(columns=[c for c in r.columns if c == t.event_time])
                j = pd.merge_asof(left, r, left_on="_lt", right_on="_rt", by=list(lk), direction="backward")
                j = j.sort_values("_row").reset_index(drop=True)
            else:
                r = keep.rename(columns=dict(zip(rk, lk, strict=True)))
                j = base[list(lk)].merge(r, on=list(lk), how=how)
            for c in rcols:
                if c not in rk:
                    out[f"{prefix or ''}{c}"] = j[c].to_numpy()
                    if c not in raw.columns:
                        raw[c] = j[c].to_numpy()
        for f in state["filters"]:
            mask = evaluate(f, raw).to_numpy()
            out, raw = out[mask].reset_index(drop=True), raw[mask].reset_index(drop=True)
        if state["limit"] is not None:
            out = out.head(state["limit"])
        # The Query Service may hand timestamps back naive at nanoseconds: the backend must fix that.
        for f in t.features:
            if f.type == "timestamp" and f.name in out.columns:
                out[f.name] = pd.to_datetime(out[f.name], utc=True).dt.tz_localize(None).astype("datetime64[ns]")
        return out.reset_index(drop=True)

    # -- feature views ----------------------------------------------------------------------
    def _get_or_create_fv(self, name, query, version, description="", labels=None, **kw):
        fv = create_autospec(feature_view.FeatureView, instance=True)
        fv.name, fv.version, fv.labels, fv.query = name, version, list(labels or []), query

        def window(start_time, end_time):
            df = query.read(dataframe_type="pandas")
            t = query.spotcast_table
            ts = pd.to_datetime(df[t.event_time], utc=True)
            keep = pd.Series(True, index=df.index)
            if start_time is not None:
                keep &= ts >= pd.Timestamp(start_time)
            if end_time is not None:
                keep &= ts < pd.Timestamp(end_time)
            return df[keep.to_numpy()]

        def get_batch_data(start_time=None, end_time=None, read_options=None, spine=None, primary_key=None,
                           event_time=None, inference_helper_columns=False, dataframe_type="default", **k):
            return window(start_time, end_time).drop(columns=fv.labels)

        def training_data(start_time=None, end_time=None, description="", extra_filter=None,
                          statistics_config=None, read_options=None, spine=None, primary_key=False,
                          event_time=False, training_helper_columns=False, dataframe_type="default", **k):
            df = window(start_time, end_time).sample(frac=1.0, random_state=1)  # order is not promised
            return df.drop(columns=fv.labels), df[fv.labels]

        fv.get_batch_data.side_effect = get_batch_data
        fv.training_data.side_effect = training_data
        self.views[(name, version)] = fv
        return fv

    # -- models ---------------------------------------------------------------------------------
    def _create_model(self, name, version=None, metrics=None, description=None, input_example=None,
                      model_schema=None, feature_view=None, training_dataset_version=None, tags=None):
        m = create_autospec(hsml.model.Model, instance=True)
        m.name, m.version, m.description = name, None, description
        m.training_metrics = {k: str(v) for k, v in (metrics or {}).items()}  # the REST API returns strings
        m.created = None

        def save(model_path, await_registration=480, keep_original_files=False, upload_configuration=None):
            versions = self.models.setdefault(name, [])
            m.version = len(versions) + 1
            m.created = 1_704_067_200_000 + m.version
            dest = self.tmp / "registry" / name / str(m.version)
            src = Path(model_path)
            if src.is_dir():
                shutil.copytree(src, dest)
            else:
                dest.mkdir(parents=True)
                shutil.copy2(src, dest / src.name)
            m.spotcast_dir = dest
            versions.append(m)
            return m

        def download(local_path=None):
            return str(m.spotcast_dir)

        m.save.side_effect = save
        m.download.side_effect = download
        return m

    def _get_model(self, name, version=None):
        found = [m for m in self.models.get(name, []) if m.version == (version or 1)]
        return found[0] if found else None

    def _best_model(self, name, metric, direction):
        ms = [m for m in self.models.get(name, []) if metric in m.training_metrics]
        if not ms:
            return None

        def key(m):
            return float(m.training_metrics[metric])

        return max(ms, key=key) if direction == "max" else min(ms, key=key)
