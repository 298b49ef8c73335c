"""Feature store, feature groups and feature views of the Hopsworks backend.

Each object wraps the client's own (``hsfs``) object and offers the local backend's
methods with the local backend's meaning; where Hopsworks differs, the docstring says how.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from spotcast_storage import schema as schema_mod
from spotcast_storage.base import (
    Commit,
    FeatureGroupBase,
    FeatureStoreBase,
    FeatureViewBase,
)
from spotcast_storage.errors import NotFoundError, UnsupportedError, ValidationError
from spotcast_storage.events import COMMIT, CommitPayload
from spotcast_storage.hopsworks import diff, translate
from spotcast_storage.hopsworks.bookkeeping import RESERVED, WRITE_OPTIONS, client_features
from spotcast_storage.hopsworks.secrets import guard
from spotcast_storage.query import Feature, Query, query_from_dict, to_utc_timestamp

FG_KIND, FV_KIND = "feature_group", "feature_view"


def _feature_type(t: str | None) -> str:
    """spotcast's name for a client type; other types (arrays, decimals… in groups spotcast did
    not create) are kept as Hopsworks names them, so listing such groups works."""
    try:
        return schema_mod.normalise_type(t or "string")
    except ValidationError:
        return str(t).lower()


def _ms_to_iso(ms: int) -> str:
    return pd.Timestamp(int(ms), unit="ms", tz="UTC").isoformat()


class HopsworksFeatureStore(FeatureStoreBase):
    def __init__(self, project: Any, client_fs: Any) -> None:
        self.project = project
        self.client = client_fs
        self.name = str(getattr(client_fs, "name", project.name))
        self._meta: dict[tuple[str, int], dict[str, Any]] = {}

    def __repr__(self) -> str:
        return f"<HopsworksFeatureStore {self.name}>"

    # -- feature groups --------------------------------------------------------------------
    def _meta_for(self, name: str) -> dict[int, dict[str, Any]]:
        rows = {v: info for _, v, info in self.project.books.registry_rows(FG_KIND, name)}
        for v, info in rows.items():
            self._meta[(name, v)] = info
        return rows

    def _wrap(self, cfg: Any, info: dict[str, Any] | None = None) -> HopsworksFeatureGroup:
        info = info or {}
        features = [Feature(f.name, _feature_type(f.type), bool(f.primary), f.description or "")
                    for f in (cfg.features or [])]
        return HopsworksFeatureGroup(
            self, cfg, cfg.name, int(cfg.version), list(cfg.primary_key or []), cfg.event_time,
            info.get("known_at"), cfg.description or "", features, dict(info.get("options", {})),
            persisted=getattr(cfg, "id", None) is not None,
        )

    def _client_versions(self, name: str) -> list[Any]:
        with guard(f"list versions of feature group {name}"):
            try:
                found = self.client.get_feature_groups(name=name)
            except Exception as exc:
                if getattr(getattr(exc, "response", None), "status_code", None) == 404:
                    return []
                raise
        return sorted(found or [], key=lambda g: int(g.version))

    def get_feature_groups(self, name: str | None = None) -> list[HopsworksFeatureGroup]:
        """Every group version (all names when ``name`` is None), without spotcast's own."""
        if name is None:
            with guard("list feature groups"):
                found = self.client.get_feature_groups() or []
            found = sorted((g for g in found if g.name not in RESERVED), key=lambda g: (g.name, int(g.version)))
            metas = {(n, v): i for n, v, i in self.project.books.registry_rows(FG_KIND)}
            return [self._wrap(g, metas.get((g.name, int(g.version)))) for g in found]
        by_version = self._meta_for(name)
        return [self._wrap(g, by_version.get(int(g.version))) for g in self._client_versions(name)]

    def _check_group_name(self, name: str) -> None:
        super()._check_group_name(name)
        if name in RESERVED:
            raise ValidationError(f"feature group name {name!r} is reserved for spotcast's own records")

    def _new_group(self, name: str, version: int, primary_key: list[str], event_time: str | None,
                   known_at: str | None, description: str, features: list[Feature], time_travel: bool,
                   options: dict[str, Any]) -> HopsworksFeatureGroup:
        """A group version that Hopsworks creates on its first insert."""
        return HopsworksFeatureGroup(self, None, name, version, primary_key, event_time, known_at, description,
                                     features, {**options, "time_travel": time_travel}, persisted=False)

    # -- feature views -------------------------------------------------------------------------
    def _new_view(self, name: str, version: int, query: Query, labels: list[str],
                  description: str) -> HopsworksFeatureView:
        for g in [query.fg, *(j.query.fg for j in query.joins)]:
            g._require_data()
        cq = translate.to_client_query(query, lambda g: g.client_fg)
        with guard(f"create feature view {name} v{version}"):
            cfv = self.client.get_or_create_feature_view(name=name, query=cq, version=version,
                                                         description=description, labels=labels)
        self.project.books.register(FV_KIND, name, version, {"query": query.to_dict(), "labels": labels,
                                                              "description": description})
        return HopsworksFeatureView(self, cfv, name, version, query, labels, description)

    def get_feature_view(self, name: str, version: int | None = None) -> HopsworksFeatureView:
        rows = [r for r in self.project.books.registry_rows(FV_KIND, name) if version is None or r[1] == version]
        if not rows:
            raise NotFoundError(f"feature view {name}{'' if version is None else f' v{version}'} does not exist")
        _, v, info = rows[-1]
        query = query_from_dict(info["query"], lambda nm, ver: self.get_feature_group(nm, ver))
        with guard(f"open feature view {name} v{v}"):
            cfv = self.client.get_feature_view(name=name, version=v)
        if cfv is None:
            raise NotFoundError(f"feature view {name} v{v} is registered by spotcast but missing in Hopsworks")
        return HopsworksFeatureView(self, cfv, name, v, query, list(info.get("labels", [])), info.get("description", ""))

    def get_feature_views(self) -> list[tuple[str, int]]:
        return [(n, v) for n, v, _ in self.project.books.registry_rows(FV_KIND)]


class HopsworksFeatureGroup(FeatureGroupBase):
    _fs: HopsworksFeatureStore

    def __init__(self, fs: HopsworksFeatureStore, client_fg: Any, name: str, version: int,
                 primary_key: list[str], event_time: str | None, known_at: str | None, description: str,
                 features: list[Feature], options: dict[str, Any], persisted: bool) -> None:
        super().__init__(fs, name, version, primary_key, event_time, known_at, description, features, options,
                         persisted)
        self._client_fg = client_fg

    @property
    def client_fg(self) -> Any:
        """The client's FeatureGroup (created, not yet saved, on first use)."""
        if self._client_fg is None:
            with guard(f"prepare {self._label()}"):
                self._client_fg = self._fs.client.get_or_create_feature_group(
                    name=self.name, version=self.version, description=self.description,
                    online_enabled=False, primary_key=self.primary_key, event_time=self.event_time,
                    features=client_features(self._features),
                )
        return self._client_fg

    # -- writes ------------------------------------------------------------------------------
    def insert(self, df: pd.DataFrame, overwrite: bool = False, operation: str = "upsert",
               write_options: dict[str, Any] | None = None, naive_timestamps: str | None = None,
               **kwargs: Any) -> Commit:
        """Upsert ``df`` on the primary key (or replace every row with ``overwrite=True``).

        Checked like the local backend before anything is sent. Only rows that are new or
        differ from the stored ones are written, waiting for materialisation, so the commit's
        counts mean what they mean locally. An identical re-insert writes nothing and appends no
        event (no materialisation job at all); its Commit carries the group's newest commit id
        and no event id. The event of a real change is appended right after the data commit."""
        df = self._insert_frame(df, operation, naive_timestamps)
        if not self._persisted:
            # Another process may have created this version since we looked.
            other = next((g for g in self._fs.get_feature_groups(self.name) if g.version == self.version), None)
            if other is not None:
                self._client_fg, self._features, self._persisted = other._client_fg, other._features, True
                self.known_at = other.known_at or self.known_at
        if not self._features:
            self._register_schema_from(df)
        label = self._label()
        batch = diff.to_frame(schema_mod.to_arrow(df, self._features, self.primary_key, label))
        schema_mod.check_unique_keys(batch, self.primary_key, label)
        if self._persisted:
            self._repair_lost_event()
        existing = self._existing_for(batch, overwrite)
        changes = diff.diff_rows(batch, existing, self.primary_key, overwrite=overwrite)
        payload = diff.commit_payload(changes, self._features, self.event_time, overwrite, self.known_at)
        if not self._persisted:
            self._project.books.register(FG_KIND, self.name, self.version,
                                         {"known_at": self.known_at, "options": self.options})
        if changes.changed:
            opts = {**(write_options or {}), **WRITE_OPTIONS}
            with guard(f"insert into {label}"):
                if overwrite:
                    self.client_fg.insert(batch, overwrite=True, operation=operation, write_options=opts)
                else:
                    self.client_fg.insert(changes.rows, operation=operation, write_options=opts)
            self._persisted = True
        latest = self._latest_commit()
        commit_id = latest[0] if latest else 0
        committed_on = latest[1] if latest else pd.Timestamp.now(tz="UTC").floor("us")
        if not changes.changed:  # idle is idle: no event for a write that changed nothing
            return Commit(commit_id, committed_on, 0, 0, 0, None)
        event = self._project._append_event(COMMIT, self.name, self.version, commit_id, payload)
        self._project._notify(event)
        return Commit(commit_id, committed_on, changes.inserted, changes.updated, len(changes.deleted), event.event_id)

    def _existing_for(self, batch: pd.DataFrame, overwrite: bool) -> pd.DataFrame:
        """The stored rows the batch could touch: all of them for an overwrite, else those in
        the batch's event-time range (when the time is part of the key) and key values."""
        cols = [f.name for f in self._features]
        if not self._persisted:
            return batch.iloc[0:0]
        q = self.select_all()
        if not overwrite and len(batch):
            et = self.event_time
            if et and et in self.primary_key:
                # Whole seconds: the client sends timestamp filters without their fraction.
                lo, hi = batch[et].min().floor("s"), batch[et].max().floor("s") + pd.Timedelta(seconds=1)
                q = q.filter(self.get_feature(et) >= lo).filter(self.get_feature(et) < hi)
            for f in self._features:
                if f.primary and f.type == "string":
                    vals = batch[f.name].unique().tolist()
                    if len(vals) <= diff.KEY_SUMMARY_LIMIT:
                        q = q.filter(self.get_feature(f.name).isin(vals))
        elif not overwrite:
            return self._empty()
        stored = self._backend_read_query(q)
        return diff.conform(stored[cols], self._features, self.primary_key, self._label())

    def _empty(self) -> pd.DataFrame:
        return diff.to_frame(schema_mod.to_arrow(pd.DataFrame({f.name: [] for f in self._features}),
                                                 self._features, self.primary_key, self._label()))

    def _latest_commit(self) -> tuple[int, pd.Timestamp] | None:
        details = self.commit_details(limit=1)
        if not details:
            return None
        cid = max(details)
        return cid, pd.Timestamp(details[cid]["committedOn"])

    def _repair_lost_event(self) -> None:
        """Append the event of the newest commit if a writer died before appending it. Its
        payload has the cluster's row counts and no ``keys`` (consumers then assume every key
        may have changed)."""
        details = self.commit_details(limit=1)
        if not details:
            return
        cid = max(details)
        if self._project.get_event_log().for_commit(self.name, self.version, cid):
            return
        d = details[cid]
        payload = CommitPayload(changed=True, operation="unknown", rows_inserted=d["rowsInserted"],
                                rows_updated=d["rowsUpdated"], rows_deleted=d["rowsDeleted"], repaired=True).to_dict()
        event = self._project._append_event(COMMIT, self.name, self.version, cid, payload)
        self._project._notify(event)

    # -- reads -----------------------------------------------------------------------------
    def _backend_read_query(self, query: Query, limit: int | None = None, **kwargs: Any) -> pd.DataFrame:
        self._require_query_data(query)
        types = translate.output_types(query)
        if ((translate.needs_known_at(query) or translate.has_subsecond_filter(query))
                and query.as_of_commit is None and query.as_of_time is None):
            return translate.finish(self._join_in_process(query, limit), types)
        cq = translate.to_client_query(query, lambda g: g.client_fg)
        if query.as_of_commit is not None or query.as_of_time is not None:
            cq = self._as_of(cq, query)
        if limit is not None:
            cq = cq.limit(int(limit))
        with guard(f"read {self._label()}"):
            df = cq.read(dataframe_type="pandas")
        return translate.finish(df, types)

    def _join_in_process(self, query: Query, limit: int | None) -> pd.DataFrame:
        """A query the client cannot run exactly (a join that needs known-at, or a filter on a
        time with a fraction of a second): read each group whole through the client, then run
        the local backend's compiled query on them in an in-memory DuckDB, so the result is
        exactly the local one."""
        from spotcast_storage import framesql
        from spotcast_storage.local.sql import compile_query, q, table_name

        groups = {(g.name, g.version): g for g in [query.fg, *(j.query.fg for j in query.joins)]}
        # A scratch database: the compiled query names main.<group>_v<version>, and those
        # tables must be this query's own, gone when it is done.
        with framesql.session(scratch=True) as con:
            for g in groups.values():
                frame = g._backend_read_query(g.select_all())
                con.register("_spotcast_in", frame)
                con.execute(f"CREATE TABLE main.{q(table_name(g.name, g.version))} AS SELECT * FROM _spotcast_in")
                con.unregister("_spotcast_in")
            compiled = compile_query(query, limit=limit)
            return con.execute(compiled.sql, compiled.params).df()

    def _as_of(self, cq: Any, query: Query) -> Any:
        if not self._project.time_travel:
            raise UnsupportedError(
                f"cannot read {self._label()} as of a commit or time: the Hopsworks Python client reads "
                "only the newest snapshot (time travel needs the Spark engine, e.g. a Hopsworks job with "
                "HOPSWORKS_ENGINE=spark); in mode local every commit can be read back"
            )
        # Hopsworks commit ids are commit times in milliseconds, which as_of() accepts.
        when = query.as_of_commit if query.as_of_commit is not None else query.as_of_time.to_pydatetime()  # type: ignore[union-attr]
        with guard(f"time-travel {self._label()}"):
            return cq.as_of(wallclock_time=when)

    def _backend_query_string(self, query: Query) -> str:
        with guard("render the query"):
            return str(translate.to_client_query(query, lambda g: g.client_fg).to_string())

    def commit_details(self, wallclock_time: Any = None, limit: int | None = None) -> dict[int, dict[str, Any]]:
        """``{commit_id: {committedOn, rowsInserted, rowsUpdated, rowsDeleted}}`` from Hopsworks,
        newest first; ``committedOn`` as ISO 8601 UTC like the local backend (Hopsworks gives
        ``%Y%m%d%H%M%S%f``). The counts are the cluster's own."""
        if not self._persisted:
            return {}
        when = None if wallclock_time is None else to_utc_timestamp(wallclock_time, name="wallclock_time").to_pydatetime()
        with guard(f"read the commits of {self._label()}"):
            raw = self.client_fg.commit_details(wallclock_time=when, limit=limit) or {}
        out = {}
        for cid in sorted((int(c) for c in raw), reverse=True):
            d = raw[cid] if cid in raw else raw[str(cid)]
            out[cid] = {"committedOn": _ms_to_iso(cid), "rowsInserted": int(d.get("rowsInserted") or 0),
                        "rowsUpdated": int(d.get("rowsUpdated") or 0), "rowsDeleted": int(d.get("rowsDeleted") or 0)}
        return out

    def count(self) -> int:
        if not self._persisted:
            return 0
        return len(self._backend_read_query(self.select(self.primary_key)))


class HopsworksFeatureView(FeatureViewBase):
    """A Hopsworks feature view over the translated query; reads return spotcast's columns
    (keys and event time included), sorted by event time, and splits are time-ordered."""

    def __init__(self, fs: HopsworksFeatureStore, client_fv: Any, name: str, version: int, query: Query,
                 labels: list[str], description: str) -> None:
        super().__init__(fs, name, version, query, labels, description)
        self.client = client_fv

    def _window(self, df: pd.DataFrame, start_time: Any, end_time: Any) -> pd.DataFrame:
        et = self.event_time
        if et and start_time is not None:
            df = df[df[et] >= to_utc_timestamp(start_time, name="start_time")]
        if et and end_time is not None:
            df = df[df[et] < to_utc_timestamp(end_time, name="end_time")]
        if et:
            df = df.sort_values(et, kind="stable")
        return df.reset_index(drop=True)

    @staticmethod
    def _time_arg(t: Any, name: str) -> Any:
        return None if t is None else to_utc_timestamp(t, name=name).to_pydatetime()

    def get_batch_data(self, start_time: Any = None, end_time: Any = None, **kw: Any) -> pd.DataFrame:
        """Feature rows (no labels) with event time in ``[start_time, end_time)``."""
        types = {c: t for c, t in translate.output_types(self.query).items() if c not in self.labels}
        with guard(f"read batch data of feature view {self.name} v{self.version}"):
            df = self.client.get_batch_data(start_time=self._time_arg(start_time, "start_time"),
                                            end_time=self._time_arg(end_time, "end_time"),
                                            primary_key=True, event_time=True, dataframe_type="pandas")
        return self._window(translate.finish(df, types), start_time, end_time)

    def _frame(self, start_time: Any, end_time: Any) -> pd.DataFrame:
        types = translate.output_types(self.query)
        with guard(f"read training data of feature view {self.name} v{self.version}"):
            X, y = self.client.training_data(start_time=self._time_arg(start_time, "start_time"),
                                             end_time=self._time_arg(end_time, "end_time"),
                                             primary_key=True, event_time=True, dataframe_type="pandas")
        both = pd.concat([X.reset_index(drop=True), y.reset_index(drop=True)], axis=1) if y is not None else X
        return self._window(translate.finish(both, types), start_time, end_time)

