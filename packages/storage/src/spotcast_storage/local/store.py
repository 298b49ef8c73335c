"""Feature store, feature groups and feature views of the local backend.

A group version is a DuckDB table (see :mod:`spotcast_storage.local.bookkeeping`); an insert
is one transaction that writes the changed rows, their history, the commit record and its event.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from spotcast_storage import schema as schema_mod
from spotcast_storage.base import (
    Commit,
    FeatureGroupBase,
    FeatureStoreBase,
    FeatureViewBase,
)
from spotcast_storage.errors import NotFoundError
from spotcast_storage.events import COMMIT, CommitPayload, Event
from spotcast_storage.local import connection
from spotcast_storage.local.convert import (
    as_utc,
    jsonable,
    run_query,
    stored_utc,
    utc_now,
    where_equal,
)
from spotcast_storage.local.sql import (
    compile_query,
    history_name,
    q,
    table_name,
)
from spotcast_storage.query import Feature, Query, query_from_dict, to_utc_timestamp

if TYPE_CHECKING:
    from spotcast_storage.local.project import LocalProject

KEY_SUMMARY_LIMIT = 100


class LocalFeatureStore(FeatureStoreBase):
    def __init__(self, project: LocalProject) -> None:
        self.project = project
        self.name = project.name

    def __repr__(self) -> str:
        return f"<LocalFeatureStore {self.project.path}>"

    # -- feature groups --------------------------------------------------------------------
    def _fg_from_row(self, row: tuple) -> LocalFeatureGroup:
        name, version, pk, et, ka, desc, feats, tt, opts = row
        features = [Feature(**f) for f in json.loads(feats)] if feats else []
        return LocalFeatureGroup(self, name, int(version), list(pk), et, ka, desc or "", features,
                                 bool(tt), json.loads(opts) if opts else {}, persisted=True)

    def get_feature_groups(self, name: str | None = None) -> list[LocalFeatureGroup]:
        """Every registered group version (all names when ``name`` is None)."""
        sql = ("SELECT name, version, primary_key, event_time, known_at, description, features, "
               "time_travel, options FROM _spotcast.feature_groups")
        where, params = where_equal(name=name)
        return [self._fg_from_row(r) for r in self.project.fetch(sql + where + " ORDER BY name, version", params)]

    def _new_group(self, name: str, version: int, primary_key: list[str], event_time: str | None,
                   known_at: str | None, description: str, features: list[Feature], time_travel: bool,
                   options: dict[str, Any]) -> LocalFeatureGroup:
        return LocalFeatureGroup(self, name, version, primary_key, event_time, known_at, description, features,
                                 time_travel, options, persisted=False)

    # -- feature views -------------------------------------------------------------------------
    def _new_view(self, name: str, version: int, query: Query, labels: list[str],
                  description: str) -> LocalFeatureView:
        for j in query.joins:
            if not j.query.fg._persisted:
                raise NotFoundError(f"feature group {j.query.fg.name} has no data yet; insert into it first")
        with self.project.write() as con:
            con.execute(
                "INSERT INTO _spotcast.feature_views VALUES (?, ?, ?, ?, ?, ?)",
                [name, version, json.dumps(query.to_dict(), default=jsonable), labels, description, utc_now()],
            )
        return LocalFeatureView(self, name, version, query, labels, description)

    def get_feature_view(self, name: str, version: int | None = None) -> LocalFeatureView:
        sql = "SELECT name, version, query, labels, description FROM _spotcast.feature_views WHERE name = ?"
        params: list[Any] = [name]
        if version is not None:
            sql += " AND version = ?"
            params.append(version)
        rows = self.project.fetch(sql + " ORDER BY version DESC LIMIT 1", params)
        if not rows:
            raise NotFoundError(f"feature view {name}{'' if version is None else f' v{version}'} does not exist")
        n, v, qd, labels, desc = rows[0]
        query = query_from_dict(json.loads(qd), lambda nm, ver: self.get_feature_group(nm, ver))
        return LocalFeatureView(self, n, int(v), query, list(labels or []), desc or "")

    def get_feature_views(self) -> list[tuple[str, int]]:
        return [(n, int(v)) for n, v in self.project.fetch(
            "SELECT name, version FROM _spotcast.feature_views ORDER BY name, version")]


class LocalFeatureGroup(FeatureGroupBase):
    _fs: LocalFeatureStore
    _project: LocalProject

    def __init__(self, fs: LocalFeatureStore, name: str, version: int, primary_key: list[str],
                 event_time: str | None, known_at: str | None, description: str,
                 features: list[Feature], time_travel: bool, options: dict[str, Any], persisted: bool) -> None:
        super().__init__(fs, name, version, primary_key, event_time, known_at, description, features, options,
                         persisted)
        self.time_travel = time_travel

    @property
    def table(self) -> str:
        return table_name(self.name, self.version)

    # -- writes ------------------------------------------------------------------------------
    def save(self, features: pd.DataFrame | Sequence[Feature]) -> None:
        """Register the schema (and create the table) without inserting rows."""
        if isinstance(features, pd.DataFrame):
            self._register_schema_from(features)
        else:
            self._features = [Feature(f.name, schema_mod.normalise_type(f.type), f.name in self.primary_key,
                                      f.description, self.name, self.version) for f in features]
        with self._project.write() as con, connection.transaction(con, self._project.path):
            self._persist(con)

    def _persist(self, con: duckdb.DuckDBPyConnection) -> None:
        """Register the group and create its tables inside the caller's transaction."""
        exists = connection.one_row(con, "SELECT count(*) FROM _spotcast.feature_groups WHERE name = ? AND version = ?",
                                    [self.name, self.version])[0]
        if exists:
            row = connection.one_row(con, "SELECT features FROM _spotcast.feature_groups WHERE name = ? AND version = ?",
                                     [self.name, self.version])
            self._features = [Feature(**f, fg_name=self.name, fg_version=self.version) for f in json.loads(row[0])]
            self._persisted = True
            return
        cols = ", ".join(f"{q(f.name)} {schema_mod.DUCKDB_TYPES[f.type]}" for f in self._features)
        con.execute(f"CREATE TABLE main.{q(self.table)} ({cols})")
        if self.time_travel:
            con.execute(f"CREATE TABLE _spotcast.{q(history_name(self.name, self.version))} "
                        f"({cols}, _commit_id BIGINT, _deleted BOOLEAN)")
        con.execute(
            "INSERT INTO _spotcast.feature_groups VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [self.name, self.version, self.primary_key, self.event_time, self.known_at, self.description,
             json.dumps([f.to_dict() for f in self._features]), self.time_travel,
             json.dumps(self.options, default=str), utc_now()],
        )
        newest = connection.one_row(con, "SELECT max(version) FROM _spotcast.feature_groups WHERE name = ?",
                                    [self.name])[0]
        if newest == self.version:
            con.execute(f"CREATE OR REPLACE VIEW main.{q(self.name)} AS SELECT * FROM main.{q(self.table)}")
        self._persisted = True

    def insert(self, df: pd.DataFrame, overwrite: bool = False, operation: str = "upsert",
               write_options: dict[str, Any] | None = None, naive_timestamps: str | None = None,
               **kwargs: Any) -> Commit:
        """Upsert ``df`` on the primary key (or replace every row with ``overwrite=True``)
        as one commit, in one transaction with its commit record and its event.

        Everything is checked before the transaction starts; a rejected frame writes nothing
        (non-finite numbers, values a column's type cannot hold, null or repeated keys...). A
        frame that changes nothing commits nothing and emits no event.

        ``naive_timestamps``: ``"utc"`` stores timezone-naive timestamp columns as UTC with a
        :class:`~spotcast_storage.errors.NaiveTimestampWarning` (what the Hopsworks client does),
        ``"error"`` refuses them; the default is ``"error"`` for spotcast's contract groups and
        ``"utc"`` for every other group.
        """
        df = self._insert_frame(df, operation, naive_timestamps)
        if not self._persisted:
            # The group may have been registered by another process since we looked.
            with contextlib.suppress(NotFoundError):
                other = self._fs.get_feature_group(self.name, self.version)
                self._features, self._persisted = other._features, True
        if not self._features:
            self._register_schema_from(df)
        table = schema_mod.to_arrow(df, self._features, self.primary_key, self._label())
        return self._commit(table, overwrite=overwrite)

    def _commit(self, table: pa.Table, overwrite: bool) -> Commit:
        pk = self.primary_key
        label = self._label()
        if table.num_rows:
            schema_mod.check_unique_keys(table.select(pk).to_pandas(), pk, label)
        bounds = None
        if self.event_time and self.event_time in pk and table.num_rows:
            mm = pc.min_max(table[self.event_time])
            bounds = [mm["min"].as_py(), mm["max"].as_py()]
        was_persisted = self._persisted
        with self._project.write() as con:
            con.register("_spotcast_incoming", table)
            try:
                with connection.transaction(con, self._project.path):
                    commit, event = self._apply(con, overwrite, table.num_rows, bounds)
                    if event is None and was_persisted:
                        raise connection.Discard  # idle is idle: nothing changed, nothing is written
            finally:
                con.unregister("_spotcast_incoming")
                with contextlib.suppress(duckdb.Error):
                    con.execute("DROP TABLE IF EXISTS temp._d; DROP TABLE IF EXISTS temp._del")
        self._persisted = True
        if event is not None:
            self._project._notify(event)
        return commit

    def _apply(self, con: duckdb.DuckDBPyConnection, overwrite: bool, n_batch: int,
               bounds: list[Any] | None) -> tuple[Commit, Event | None]:
        """Write the batch's changes, its commit record and its event; when nothing changed,
        only return the group's newest commit (no commit record, no event: ``None``)."""
        pk = self.primary_key
        cols = [f.name for f in self._features]
        col_list = ", ".join(q(c) for c in cols)
        key_match = " AND ".join(f"b.{q(k)} = t.{q(k)}" for k in pk)
        same = " AND ".join(f"b.{q(c)} IS NOT DISTINCT FROM t.{q(c)}" for c in cols if c not in pk) or "TRUE"
        if not self._persisted:
            self._persist(con)
        target = f"main.{q(self.table)}"
        et = self.event_time
        # Only rows in the batch's event-time range can match when the event time is part of
        # the key, and DuckDB skips row groups outside it: daily appends stay flat as history grows.
        prune = f" WHERE {q(et)} BETWEEN ? AND ?" if bounds and et else ""
        ka = self.known_at
        old_ka = f", t.{q(ka)} AS _old_ka" if ka else ""
        con.execute(
            f"CREATE TEMP TABLE _d AS SELECT b.*, t._rid AS _old{old_ka} FROM _spotcast_incoming b "
            f"LEFT JOIN (SELECT rowid AS _rid, * FROM {target}{prune}) t ON {key_match} "
            f"WHERE t._rid IS NULL OR NOT ({same})", bounds or [])
        string_keys = [f.name for f in self._features if f.primary and f.type == "string" and f.name != et]
        summary = "".join(f", list(DISTINCT {q(k)} ORDER BY {q(k)})[:{KEY_SUMMARY_LIMIT + 1}]" for k in string_keys)
        times = f"min({q(et)}), max({q(et)})" if et else "NULL, NULL"
        # The range of known-at times touched (new and replaced values): consumers that key
        # their work by availability time (forecast origins) recompute only what that reaches.
        known = (f", least(min({q(ka)}), min(_old_ka)), greatest(max({q(ka)}), max(_old_ka))" if ka
                 else ", NULL, NULL")
        deleted = 0
        if overwrite:
            anti = " AND ".join(f"t.{q(k)} = b.{q(k)}" for k in pk)
            con.execute(f"CREATE TEMP TABLE _del AS SELECT rowid AS _old, * FROM {target} t "
                        f"WHERE NOT EXISTS (SELECT 1 FROM _spotcast_incoming b WHERE {anti})")
            d_ka, del_ka = (", _old_ka", f", {q(ka)} AS _old_ka") if ka else ("", "")
            row = connection.one_row(
                con,
                f"SELECT count(*) FILTER (WHERE _old IS NULL AND NOT _gone), count(*) FILTER (WHERE _old IS NOT NULL "
                f"AND NOT _gone), count(*) FILTER (WHERE _gone), {times}{known}{summary} FROM "
                f"(SELECT {col_list}, _old, FALSE AS _gone{d_ka} FROM _d UNION ALL "
                f"SELECT {col_list}, _old, TRUE{del_ka} FROM _del)")
            inserted, updated, deleted = row[0], row[1], row[2]
            tmin, tmax, kmin, kmax, key_lists = row[3], row[4], row[5], row[6], row[7:]
        else:
            row = connection.one_row(
                con, f"SELECT count(*) FILTER (WHERE _old IS NULL), count(*) FILTER (WHERE _old IS NOT NULL), "
                f"{times}{known}{summary} FROM _d")
            inserted, updated, tmin, tmax, kmin, kmax, key_lists = (row[0], row[1], row[2], row[3], row[4],
                                                                    row[5], row[6:])
        if not (inserted or updated or deleted):
            last = con.execute("SELECT commit_id, committed_on FROM _spotcast.commits WHERE name = ? AND version = ? "
                               "ORDER BY commit_id DESC LIMIT 1", [self.name, self.version]).fetchone()
            if last is None:
                return Commit(0, utc_now(), 0, 0, 0, None), None
            return Commit(int(last[0]), as_utc(last[1]), 0, 0, 0, None), None
        if updated or deleted:
            gone = " UNION ALL SELECT _old FROM _del" if deleted else ""
            con.execute(f"DELETE FROM {target} WHERE rowid IN (SELECT _old FROM _d WHERE _old IS NOT NULL{gone})")
        if inserted or updated:
            con.execute(f"INSERT INTO {target} SELECT {col_list} FROM _d")
        commit_id, event_id = (int(x) for x in connection.one_row(
            con, "SELECT nextval('_spotcast.commit_ids'), nextval('_spotcast.event_ids')"))
        if self.time_travel and (inserted or updated or deleted):
            hist = f"_spotcast.{q(history_name(self.name, self.version))}"
            con.execute(f"INSERT INTO {hist} SELECT {col_list}, ?, FALSE FROM _d", [commit_id])
            if deleted:
                keys = ", ".join(q(k) for k in pk)
                con.execute(f"INSERT INTO {hist} ({keys}, _commit_id, _deleted) SELECT {keys}, ?, TRUE FROM _del",
                            [commit_id])
        lo_t, hi_t = as_utc(tmin), as_utc(tmax)
        now = utc_now()
        op = "overwrite" if overwrite else "upsert"
        con.execute(
            "INSERT INTO _spotcast.commits VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [commit_id, self.name, self.version, now, op, inserted, updated, deleted, n_batch, lo_t, hi_t],
        )
        keys_touched = {k: list(v) for k, v in zip(string_keys, key_lists, strict=True)
                        if v is not None and len(v) <= KEY_SUMMARY_LIMIT}
        for k, v in zip(string_keys, key_lists, strict=True):
            if v is None:
                keys_touched[k] = []
        payload = CommitPayload(
            changed=bool(inserted or updated or deleted), operation=op, rows_inserted=int(inserted),
            rows_updated=int(updated), rows_deleted=int(deleted), rows_in_batch=int(n_batch),
            min_event_time=lo_t, max_event_time=hi_t, keys=keys_touched,
            min_known_at=kmin if ka else None, max_known_at=kmax if ka else None).to_dict()
        event = self._project._append_event(con, COMMIT, self.name, self.version, commit_id, now, payload,
                                            event_id=event_id)
        return Commit(commit_id, now, int(inserted), int(updated), int(deleted), event.event_id), event

    # -- reads -----------------------------------------------------------------------------
    def _backend_read_query(self, query: Query, limit: int | None = None, **kwargs: Any) -> pd.DataFrame:
        self._require_query_data(query)
        compiled = compile_query(query, limit=limit)
        with self._project.read() as con:
            return run_query(con, compiled.sql, compiled.params)

    def _backend_query_string(self, query: Query) -> str:
        return compile_query(query).sql

    def commit_at(self, when: pd.Timestamp) -> int | None:
        return self._project.commit_at(when)

    def commit_details(self, wallclock_time: Any = None, limit: int | None = None) -> dict[int, dict[str, Any]]:
        """``{commit_id: {committedOn, rowsInserted, rowsUpdated, rowsDeleted}}``, newest first."""
        if not self._persisted:
            return {}
        sql = ("SELECT commit_id, committed_on, rows_inserted, rows_updated, rows_deleted, operation "
               "FROM _spotcast.commits WHERE name = ? AND version = ?")
        params: list[Any] = [self.name, self.version]
        if wallclock_time is not None:
            sql += " AND committed_on <= ?"
            params.append(to_utc_timestamp(wallclock_time, name="wallclock_time"))
        sql += " ORDER BY commit_id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._project.read() as con:
            rows = con.execute(sql, params).fetchall()
        return {
            int(c): {"committedOn": stored_utc(t, f"commit {c} of feature group {self.name} v{self.version}").isoformat(), "rowsInserted": int(i), "rowsUpdated": int(u),
                     "rowsDeleted": int(d), "operation": op}
            for c, t, i, u, d, op in rows
        }

    def count(self) -> int:
        if not self._persisted:
            return 0
        with self._project.read() as con:
            return int(connection.one_row(con, f"SELECT count(*) FROM main.{q(self.table)}")[0])


class LocalFeatureView(FeatureViewBase):
    def _frame(self, start_time: Any, end_time: Any) -> pd.DataFrame:
        fg: LocalFeatureGroup = self.query.fg  # type: ignore[assignment]
        df = fg._time_filter(self.query, start_time, end_time).read()
        if self.event_time and self.event_time in df.columns:
            df = df.sort_values(self.event_time, kind="stable", ignore_index=True)
        return df
