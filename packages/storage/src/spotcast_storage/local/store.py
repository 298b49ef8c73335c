"""The embedded DuckDB store: feature store, feature views, model registry, event log.

Layout inside the file: each feature-group version is a real table ``main.<name>_v<version>``
and a view ``main.<name>`` points at the newest version, so plain DuckDB SQL works
(``select * from prices``). Bookkeeping (groups, commits, events, cursors, models, views,
row history for time travel) lives in the ``_spotcast`` schema. Model artifacts live in a
folder beside the database file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from spotcast_storage import schema as schema_mod
from spotcast_storage.base import (
    Commit,
    FeatureGroupBase,
    FeatureViewBase,
    check_name,
    check_new_view,
    check_same_query,
    declared_schema,
    match_existing,
    model_fields,
)
from spotcast_storage.errors import (
    NotFoundError,
    ReadOnlyError,
    StoreNotFoundError,
    UsageError,
    ValidationError,
)
from spotcast_storage.events import COMMIT, MODEL, CommitPayload, Event
from spotcast_storage.local import connection
from spotcast_storage.local.sql import (
    compile_query,
    history_name,
    point_in_time_join,
    q,
    table_name,
)
from spotcast_storage.query import Feature, Query, query_from_dict, to_utc_timestamp

log = logging.getLogger(__name__)

SCHEMA_VERSION = "1"
_READ_STATEMENTS = {"SELECT", "EXPLAIN", "PRAGMA"}
KEY_SUMMARY_LIMIT = 100

_BOOKKEEPING = """
CREATE SCHEMA IF NOT EXISTS _spotcast;
CREATE SEQUENCE IF NOT EXISTS _spotcast.commit_ids START 1;
CREATE SEQUENCE IF NOT EXISTS _spotcast.event_ids START 1;
CREATE TABLE IF NOT EXISTS _spotcast.meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS _spotcast.feature_groups (
    name VARCHAR, version INTEGER, primary_key VARCHAR[], event_time VARCHAR, known_at VARCHAR,
    description VARCHAR, features JSON, time_travel BOOLEAN, options JSON, created_at TIMESTAMPTZ,
    PRIMARY KEY (name, version));
CREATE TABLE IF NOT EXISTS _spotcast.commits (
    commit_id BIGINT, name VARCHAR, version INTEGER, committed_on TIMESTAMPTZ,
    operation VARCHAR, rows_inserted BIGINT, rows_updated BIGINT, rows_deleted BIGINT,
    rows_in_batch BIGINT, min_event_time TIMESTAMPTZ, max_event_time TIMESTAMPTZ);
CREATE TABLE IF NOT EXISTS _spotcast.events (
    event_id BIGINT, kind VARCHAR, name VARCHAR, version INTEGER, commit_id BIGINT,
    created_at TIMESTAMPTZ, payload JSON);
CREATE TABLE IF NOT EXISTS _spotcast.cursors (
    consumer VARCHAR PRIMARY KEY, event_id BIGINT, updated_at TIMESTAMPTZ);
CREATE TABLE IF NOT EXISTS _spotcast.models (
    name VARCHAR, version INTEGER, created_at TIMESTAMPTZ, description VARCHAR, metrics JSON,
    lineage JSON, extra JSON, artifact_path VARCHAR, PRIMARY KEY (name, version));
CREATE TABLE IF NOT EXISTS _spotcast.feature_views (
    name VARCHAR, version INTEGER, query JSON, labels VARCHAR[], description VARCHAR,
    created_at TIMESTAMPTZ, PRIMARY KEY (name, version));
"""


try:  # pandas >= 2.3: the same string dtype pandas 3 uses by default ("str"), Arrow-backed
    _STR = pd.StringDtype("pyarrow", na_value=float("nan"))
except TypeError:  # pragma: no cover - older pandas
    _STR = pd.StringDtype("pyarrow")
_TYPES = {pa.string(): _STR, pa.large_string(): _STR}


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """Arrow to pandas without turning every string into a Python object: strings stay
    Arrow-backed (pandas' ``str`` dtype), timestamps stay UTC microseconds."""
    return table.to_pandas(types_mapper=_TYPES.get)


def run_query(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
    return to_pandas(con.sql(sql, params=list(params) if params else None).to_arrow_table())


def _interruptible(con: duckdb.DuckDBPyConnection, work: Any, timeout: float | None) -> Any:
    """Run ``work`` (a query on ``con``) in a helper thread, so that the timeout and Ctrl-C can
    stop it: DuckDB does not return to Python while a query runs, so neither a timer in the
    main thread nor its signal handler would get a chance; ``con.interrupt()`` from here does."""
    import threading

    if timeout is None and threading.current_thread() is not threading.main_thread():
        return work()  # no timeout, and Ctrl-C reaches only the main thread: nothing to watch for
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = work()
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc

    t = threading.Thread(target=run, name="spotcast-sql", daemon=True)
    t.start()
    try:
        t.join(timeout)
        if t.is_alive():
            con.interrupt()
            t.join()
    except KeyboardInterrupt:
        con.interrupt()
        t.join()
        raise
    if "error" in box:
        raise box["error"]
    return box["result"]


def _now() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC").floor("us")


def _ts(v: Any) -> pd.Timestamp | None:
    if v is None or v is pd.NaT:
        return None
    t = pd.Timestamp(v)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _jsonable(v: Any) -> Any:
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if hasattr(v, "item"):
        return v.item()
    return v


class LocalProject:
    """Entry point of the local backend (Hopsworks: ``hopsworks.login()`` returns a Project)."""

    mode = "local"
    sql_dialect = "duckdb"
    """Capabilities a stage may use instead of testing the mode: this store answers DuckDB SQL
    (``sql``, ``create_sql_view``), can be reopened read-only (:meth:`reader`) and says when its
    contents changed (:meth:`change_token`)."""

    def __init__(self, path: str | os.PathLike[str], read_only: bool = False) -> None:
        self.read_only = read_only
        self.path = Path(path).expanduser().resolve()
        self.artifacts_dir = self.path.with_name(self.path.stem + "-artifacts")
        # files the commands write (forecast CSV/PNG, charts, reports): see config.outputs_dir
        self.outputs_dir = self.path.with_name(self.path.stem + "-outputs")
        self._initialised = False
        self.name = self.path.stem

    def __repr__(self) -> str:
        return f"<LocalProject {self.path}>"

    def describe(self) -> str:
        return f"local store {self.path}" + (" (read-only)" if self.read_only else "")

    def reader(self) -> LocalProject:
        """The same store opened read-only (itself when it already is): a reader such as the API
        never takes the store's write lock."""
        return self if self.read_only else LocalProject(self.path, read_only=True)

    def change_token(self) -> tuple[Any, Any]:
        """Changes whenever a write reached the store file or its write-ahead log (for caches)."""
        def stat(p: Path) -> Any:
            try:
                st = p.stat()
            except FileNotFoundError:
                return None
            return (st.st_ino, st.st_size, st.st_mtime_ns)

        return stat(self.path), stat(self.path.with_name(self.path.name + ".wal"))

    # -- connections ---------------------------------------------------------------------
    @contextlib.contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write cursor for one transaction's worth of work."""
        if self.read_only:
            raise ReadOnlyError(
                f"{self.describe()} was opened read-only (get_storage(read_only=True)); "
                "open it without read_only to write"
            )
        with connection.connect(self.path, write=True) as con:
            if not self._initialised:
                with connection.transaction(con, self.path):
                    con.execute(_BOOKKEEPING)
                    con.execute(
                        "INSERT OR IGNORE INTO _spotcast.meta VALUES ('schema_version', ?)", [SCHEMA_VERSION]
                    )
                self._initialised = True
            yield con

    @contextlib.contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with connection.connect(self.path, write=False) as con:
            yield con

    def check_exists(self) -> None:
        """For commands that only read: the store must exist (a missing one is an error, not an
        empty listing), be a file and be a DuckDB database."""
        self._require_file()
        with self.read() as con:  # opening it tells a DuckDB file from any other
            con.execute("SELECT 1")

    def _require_file(self) -> None:
        connection.check_store_path(self.path)
        if not self.path.exists():
            raise StoreNotFoundError(
                f"no spotcast store at {self.path}; point --store (or SPOTCAST_STORE) at an existing store, "
                "or create one with `spotcast run` or `spotcast-ingest backfill ...`")

    def has_bookkeeping(self, con: duckdb.DuckDBPyConnection) -> bool:
        return bool(con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = '_spotcast' AND table_name = 'commits'"
        ).fetchone()[0])

    def close(self) -> None:
        connection.release(self.path)

    # -- Hopsworks-shaped accessors --------------------------------------------------------
    def get_feature_store(self, name: str | None = None) -> LocalFeatureStore:
        return LocalFeatureStore(self)

    def get_model_registry(self) -> LocalModelRegistry:
        return LocalModelRegistry(self)

    def get_event_log(self) -> LocalEventLog:
        return LocalEventLog(self)

    # -- SQL ---------------------------------------------------------------------------------
    def sql(self, query: str, params: Sequence[Any] | None = None, timeout: float | None = None) -> pd.DataFrame:
        """Run one read-only SQL statement and return a DataFrame.

        Statements that would change anything (DML, DDL, COPY, ATTACH, SET, INSTALL…) are
        refused before they run, on top of the connection being read-only. ``timeout`` (seconds)
        interrupts a query that runs longer, so that it lets go of the file: while it runs,
        no writer can open the store."""
        if timeout is not None and not timeout > 0:
            raise UsageError(f"the SQL timeout must be a positive number of seconds, got {timeout}")
        self._require_file()
        with self.read() as con:
            try:
                statements = con.extract_statements(query)
            except duckdb.Error as exc:
                raise ValidationError(f"SQL does not parse: {exc}") from None
            if len(statements) != 1:
                raise ValidationError(f"give exactly one SQL statement (got {len(statements)})")
            kind = statements[0].type.name
            if kind not in _READ_STATEMENTS:
                raise ReadOnlyError(
                    f"refused: {kind} statements change the store or the session, and SQL access is "
                    "read-only. The store is unchanged. Write through the feature-store API or a stage command."
                )
            try:
                return _interruptible(con, lambda: run_query(con, query, params), timeout)
            except duckdb.InterruptException:
                raise ValidationError(
                    f"the query was stopped after {timeout:g} s (the SQL timeout) and let go of the store; "
                    "give it longer with --timeout SECONDS, or narrow it (a filter, a LIMIT)") from None
            except duckdb.Error as exc:
                err = connection.translate_readonly(exc)
                if err is exc:
                    raise ValidationError(f"SQL failed: {exc}") from None
                raise err from None

    def create_sql_view(self, name: str, sql: str) -> None:
        """Create or replace a plain SQL view in the store (e.g. forecast accuracy), so users
        get the same numbers as the CLI with ``select * from <name>``."""
        check_name(name, "view")
        with self.write() as con:
            con.execute(f"CREATE OR REPLACE VIEW main.{q(name)} AS {sql}")

    def commit_at(self, when: Any) -> int | None:
        t = to_utc_timestamp(when, name="as_of time")
        with self.read() as con:
            if not self.has_bookkeeping(con):
                return None
            row = con.execute(
                "SELECT max(commit_id) FROM _spotcast.commits WHERE committed_on <= ?", [t]
            ).fetchone()
        return None if row[0] is None else int(row[0])

    # -- events --------------------------------------------------------------------------
    def _append_event(self, con: duckdb.DuckDBPyConnection, kind: str, name: str, version: int,
                      commit_id: int | None, created_at: pd.Timestamp, payload: dict[str, Any],
                      event_id: int | None = None) -> Event:
        if event_id is None:
            event_id = con.execute("SELECT nextval('_spotcast.event_ids')").fetchone()[0]
        con.execute(
            "INSERT INTO _spotcast.events VALUES (?, ?, ?, ?, ?, ?, ?)",
            [event_id, kind, name, version, commit_id, created_at, json.dumps(payload, default=_jsonable)],
        )
        return Event(int(event_id), kind, name, version, commit_id, created_at.to_pydatetime(), payload)

    def _notify(self, event: Event) -> None:
        from spotcast_storage.plugins import get_plugin_manager

        try:
            get_plugin_manager().hook.spotcast_after_commit(event=event, project=self)
        except Exception:  # the data is committed; a listener failing must not hide that
            log.exception("a spotcast_after_commit hook failed for event %s", event.event_id)


class LocalFeatureStore:
    def __init__(self, project: LocalProject) -> None:
        self.project = project
        self.name = project.name

    def __repr__(self) -> str:
        return f"<LocalFeatureStore {self.project.path}>"

    # -- feature groups --------------------------------------------------------------------
    def _load_fg_rows(self, name: str | None = None) -> list[tuple]:
        if not self.project.path.exists():
            return []
        with self.project.read() as con:
            if not self.project.has_bookkeeping(con):
                return []
            sql = ("SELECT name, version, primary_key, event_time, known_at, description, features, "
                   "time_travel, options FROM _spotcast.feature_groups")
            params: list[Any] = []
            if name is not None:
                sql += " WHERE name = ?"
                params.append(name)
            return con.execute(sql + " ORDER BY name, version", params).fetchall()

    def _fg_from_row(self, row: tuple) -> LocalFeatureGroup:
        name, version, pk, et, ka, desc, feats, tt, opts = row
        features = [Feature(**f) for f in json.loads(feats)] if feats else []
        return LocalFeatureGroup(self, name, int(version), list(pk), et, ka, desc or "", features,
                                 bool(tt), json.loads(opts) if opts else {}, persisted=True)

    def get_feature_groups(self, name: str | None = None) -> list[LocalFeatureGroup]:
        """Every registered group version (all names when ``name`` is None)."""
        return [self._fg_from_row(r) for r in self._load_fg_rows(name)]

    def get_feature_group(self, name: str, version: int | None = None) -> LocalFeatureGroup:
        versions = self.get_feature_groups(name)
        if version is not None:
            versions = [v for v in versions if v.version == version]
        if not versions:
            have = sorted({g.name for g in self.get_feature_groups()})
            what = f"{name} v{version}" if version is not None else name
            raise NotFoundError(
                f"feature group {what} does not exist in {self.project.describe()}"
                + (f"; existing groups: {', '.join(have)}" if have else "; the store is empty")
            )
        return versions[-1]

    def get_or_create_feature_group(
        self,
        name: str,
        version: int | None = None,
        description: str = "",
        primary_key: Sequence[str] | None = None,
        event_time: str | None = None,
        known_at: str | None = None,
        features: Sequence[Feature] | None = None,
        time_travel: bool = True,
        **options: Any,
    ) -> LocalFeatureGroup:
        """Return the group version, or a new one that is registered on its first insert."""
        check_name(name)
        version, fg = match_existing(name, version, primary_key, event_time, self.get_feature_groups(name),
                                     known_at=known_at, features=features)
        if fg is not None:
            return fg
        pk, feats = declared_schema(name, version, primary_key, event_time, known_at, features)
        return LocalFeatureGroup(self, name, version, pk, event_time, known_at, description, feats,
                                 time_travel, dict(options), persisted=False)

    create_feature_group = get_or_create_feature_group

    # -- feature views -------------------------------------------------------------------------
    def get_or_create_feature_view(self, name: str, version: int | None = None, query: Query | None = None,
                                   labels: Sequence[str] | None = None, description: str = "",
                                   **options: Any) -> LocalFeatureView:
        check_name(name, "feature view")
        try:
            return check_same_query(self.get_feature_view(name, version), query)
        except NotFoundError:
            pass
        version, labels = check_new_view(name, version, query, labels)
        for j in query.joins:
            if not j.query.fg._persisted:  # type: ignore[attr-defined]
                raise NotFoundError(f"feature group {j.query.fg.name} has no data yet; insert into it first")
        with self.project.write() as con:
            con.execute(
                "INSERT INTO _spotcast.feature_views VALUES (?, ?, ?, ?, ?, ?)",
                [name, version, json.dumps(query.to_dict(), default=_jsonable), labels, description, _now()],
            )
        return LocalFeatureView(self, name, version, query, labels, description)

    create_feature_view = get_or_create_feature_view

    def get_feature_view(self, name: str, version: int | None = None) -> LocalFeatureView:
        rows: list[tuple] = []
        if self.project.path.exists():
            with self.project.read() as con:
                if self.project.has_bookkeeping(con):
                    sql = "SELECT name, version, query, labels, description FROM _spotcast.feature_views WHERE name = ?"
                    params: list[Any] = [name]
                    if version is not None:
                        sql += " AND version = ?"
                        params.append(version)
                    rows = con.execute(sql + " ORDER BY version DESC LIMIT 1", params).fetchall()
        if not rows:
            raise NotFoundError(f"feature view {name}{'' if version is None else f' v{version}'} does not exist")
        n, v, qd, labels, desc = rows[0]
        query = query_from_dict(json.loads(qd), lambda nm, ver: self.get_feature_group(nm, ver))
        return LocalFeatureView(self, n, int(v), query, list(labels or []), desc or "")

    def get_feature_views(self) -> list[tuple[str, int]]:
        if not self.project.path.exists():
            return []
        with self.project.read() as con:
            if not self.project.has_bookkeeping(con):
                return []
            return [(n, int(v)) for n, v in con.execute(
                "SELECT name, version FROM _spotcast.feature_views ORDER BY name, version").fetchall()]

    # -- point-in-time join on frames ------------------------------------------------------------
    def point_in_time_join(self, labels: pd.DataFrame, features: pd.DataFrame, on: Sequence[str],
                           label_time: str, feature_time: str, known_at: str | None = None,
                           prefix: str | None = None) -> pd.DataFrame:
        """See :func:`spotcast_storage.local.sql.point_in_time_join`."""
        return point_in_time_join(labels, features, on, label_time, feature_time, known_at, prefix)


class LocalFeatureGroup(FeatureGroupBase):
    def __init__(self, fs: LocalFeatureStore, name: str, version: int, primary_key: list[str],
                 event_time: str | None, known_at: str | None, description: str,
                 features: list[Feature], time_travel: bool, options: dict[str, Any], persisted: bool) -> None:
        self._fs = fs
        self._project = fs.project
        self.name = name
        self.version = version
        self.primary_key = primary_key
        self.event_time = event_time
        self.known_at = known_at
        self.description = description
        self._features = [Feature(f.name, f.type, f.primary, f.description, name, version) for f in features]
        self.time_travel = time_travel
        self.options = options
        self._persisted = persisted

    @property
    def features(self) -> list[Feature]:
        return self._features

    @property
    def table(self) -> str:
        return table_name(self.name, self.version)

    def _label(self) -> str:
        return f"feature group {self.name} v{self.version}"

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
        exists = con.execute("SELECT count(*) FROM _spotcast.feature_groups WHERE name = ? AND version = ?",
                             [self.name, self.version]).fetchone()[0]
        if exists:
            row = con.execute("SELECT features FROM _spotcast.feature_groups WHERE name = ? AND version = ?",
                              [self.name, self.version]).fetchone()
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
             json.dumps(self.options, default=str), _now()],
        )
        newest = con.execute("SELECT max(version) FROM _spotcast.feature_groups WHERE name = ?",
                             [self.name]).fetchone()[0]
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
        if operation not in ("upsert", "insert"):
            raise ValidationError(f"operation must be 'upsert' or 'insert', got {operation!r}")
        if not isinstance(df, pd.DataFrame):
            raise ValidationError(f"insert() takes a pandas DataFrame, got {type(df).__name__}")
        df = self._accept_naive(df, naive_timestamps)
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
            counts = table.group_by(pk).aggregate([([], "count_all")])
            if counts.num_rows != table.num_rows:
                dup = counts.filter(pc.greater(counts["count_all"], 1)).slice(0, 1).to_pylist()[0]
                n = dup.pop("count_all")
                raise ValidationError(
                    f"{label}: primary key {pk} repeats inside the frame, e.g. {dup} appears {n} times; "
                    "drop duplicates (df.drop_duplicates(subset=...)) before inserting"
                )
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
        prune = f" WHERE {q(et)} BETWEEN ? AND ?" if bounds else ""
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
            row = con.execute(
                f"SELECT count(*) FILTER (WHERE _old IS NULL AND NOT _gone), count(*) FILTER (WHERE _old IS NOT NULL "
                f"AND NOT _gone), count(*) FILTER (WHERE _gone), {times}{known}{summary} FROM "
                f"(SELECT {col_list}, _old, FALSE AS _gone{d_ka} FROM _d UNION ALL "
                f"SELECT {col_list}, _old, TRUE{del_ka} FROM _del)"
            ).fetchone()
            inserted, updated, deleted = row[0], row[1], row[2]
            tmin, tmax, kmin, kmax, key_lists = row[3], row[4], row[5], row[6], row[7:]
        else:
            row = con.execute(
                f"SELECT count(*) FILTER (WHERE _old IS NULL), count(*) FILTER (WHERE _old IS NOT NULL), "
                f"{times}{known}{summary} FROM _d").fetchone()
            inserted, updated, tmin, tmax, kmin, kmax, key_lists = (row[0], row[1], row[2], row[3], row[4],
                                                                    row[5], row[6:])
        if not (inserted or updated or deleted):
            row = con.execute("SELECT commit_id, committed_on FROM _spotcast.commits WHERE name = ? AND version = ? "
                              "ORDER BY commit_id DESC LIMIT 1", [self.name, self.version]).fetchone()
            if row is None:
                return Commit(0, _now(), 0, 0, 0, None), None
            return Commit(int(row[0]), _ts(row[1]), 0, 0, 0, None), None
        if updated or deleted:
            gone = " UNION ALL SELECT _old FROM _del" if deleted else ""
            con.execute(f"DELETE FROM {target} WHERE rowid IN (SELECT _old FROM _d WHERE _old IS NOT NULL{gone})")
        if inserted or updated:
            con.execute(f"INSERT INTO {target} SELECT {col_list} FROM _d")
        commit_id, event_id = (int(x) for x in con.execute(
            "SELECT nextval('_spotcast.commit_ids'), nextval('_spotcast.event_ids')").fetchone())
        if self.time_travel and (inserted or updated or deleted):
            hist = f"_spotcast.{q(history_name(self.name, self.version))}"
            con.execute(f"INSERT INTO {hist} SELECT {col_list}, ?, FALSE FROM _d", [commit_id])
            if deleted:
                keys = ", ".join(q(k) for k in pk)
                con.execute(f"INSERT INTO {hist} ({keys}, _commit_id, _deleted) SELECT {keys}, ?, TRUE FROM _del",
                            [commit_id])
        lo_t, hi_t = _ts(tmin), _ts(tmax)
        now = _now()
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
    def _time_filter(self, query: Query, start_time: Any, end_time: Any) -> Query:
        if start_time is None and end_time is None:
            return query
        if not self.event_time:
            raise ValidationError(f"{self._label()} has no event time, so it cannot be read by time range")
        col = self.get_feature(self.event_time)
        if start_time is not None:
            query = query.filter(col >= to_utc_timestamp(start_time, name="start_time"))
        if end_time is not None:
            query = query.filter(col < to_utc_timestamp(end_time, name="end_time"))
        return query

    def read(self, start_time: Any = None, end_time: Any = None, limit: int | None = None,
             **kwargs: Any) -> pd.DataFrame:
        """All rows (event time in ``[start_time, end_time)`` when given), filter pushed into SQL."""
        return self._backend_read_query(self._time_filter(self.select_all(), start_time, end_time), limit=limit)

    def _backend_read_query(self, query: Query, limit: int | None = None, **kwargs: Any) -> pd.DataFrame:
        self._require_data()
        for j in query.joins:
            j.query.fg._require_data()  # type: ignore[attr-defined]
        compiled = compile_query(query, limit=limit)
        with self._project.read() as con:
            return run_query(con, compiled.sql, compiled.params)

    def _backend_query_string(self, query: Query) -> str:
        return compile_query(query).sql

    def _require_data(self) -> None:
        if not self._persisted:
            raise NotFoundError(f"{self._label()} has no data yet; insert into it first")

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
            int(c): {"committedOn": _ts(t).isoformat(), "rowsInserted": int(i), "rowsUpdated": int(u),
                     "rowsDeleted": int(d), "operation": op}
            for c, t, i, u, d, op in rows
        }

    def count(self) -> int:
        if not self._persisted:
            return 0
        with self._project.read() as con:
            return int(con.execute(f"SELECT count(*) FROM main.{q(self.table)}").fetchone()[0])


class LocalFeatureView(FeatureViewBase):
    def __init__(self, fs: LocalFeatureStore, name: str, version: int, query: Query, labels: list[str],
                 description: str) -> None:
        self._fs = fs
        self.name, self.version, self.query, self.labels, self.description = name, version, query, labels, description

    def __repr__(self) -> str:
        return f"<FeatureView {self.name} v{self.version} labels={self.labels}>"

    def _frame(self, start_time: Any, end_time: Any) -> pd.DataFrame:
        fg: LocalFeatureGroup = self.query.fg  # type: ignore[assignment]
        df = fg._time_filter(self.query, start_time, end_time).read()
        if self.event_time and self.event_time in df.columns:
            df = df.sort_values(self.event_time, kind="stable", ignore_index=True)
        return df


class LocalModelRegistry:
    """Model versions with metrics and lineage; artifacts copied beside the database."""

    def __init__(self, project: LocalProject) -> None:
        self.project = project
        self.python = _ModelFactory(self)
        self.sklearn = self.python
        self.tensorflow = self.python
        self.torch = self.python

    def __repr__(self) -> str:
        return f"<LocalModelRegistry {self.project.artifacts_dir}>"

    def _rows(self, name: str | None = None, version: int | None = None) -> list[tuple]:
        if not self.project.path.exists():
            return []
        with self.project.read() as con:
            if not self.project.has_bookkeeping(con):
                return []
            sql = ("SELECT name, version, created_at, description, metrics, lineage, extra, artifact_path "
                   "FROM _spotcast.models WHERE TRUE")
            params: list[Any] = []
            if name is not None:
                sql += " AND name = ?"
                params.append(name)
            if version is not None:
                sql += " AND version = ?"
                params.append(version)
            return con.execute(sql + " ORDER BY name, version", params).fetchall()

    def _model(self, row: tuple) -> LocalModel:
        name, version, created, desc, metrics, lineage, extra, path = row
        m = LocalModel(self, name, json.loads(metrics) if metrics else {}, desc or "",
                       json.loads(lineage) if lineage else {}, json.loads(extra) if extra else {})
        m.version, m.created, m._artifact_path = int(version), _ts(created), path
        return m

    def get_model(self, name: str, version: int | None = None) -> LocalModel:
        rows = self._rows(name, version)
        if not rows:
            have = sorted({r[0] for r in self._rows()})
            raise NotFoundError(
                f"model {name}{'' if version is None else f' v{version}'} is not registered"
                + (f"; registered models: {', '.join(have)}" if have else "; no model is registered yet")
            )
        return self._model(rows[-1])

    def get_models(self, name: str | None = None) -> list[LocalModel]:
        return [self._model(r) for r in self._rows(name)]

    def get_best_model(self, name: str, metric: str, direction: str) -> LocalModel | None:
        if direction not in ("max", "min"):
            raise ValidationError(f"direction must be 'max' or 'min', got {direction!r}")
        models = [m for m in self.get_models(name) if isinstance(m.training_metrics.get(metric), (int, float))]
        if not models:
            return None
        sign = 1 if direction == "max" else -1
        return max(models, key=lambda m: (sign * m.training_metrics[metric], m.version))


class _ModelFactory:
    def __init__(self, registry: LocalModelRegistry) -> None:
        self._registry = registry

    def create_model(self, name: str, metrics: dict[str, Any] | None = None, description: str = "",
                     input_example: Any = None, model_schema: Any = None, feature_view: Any = None,
                     training_dataset_version: int | None = None, lineage: dict[str, Any] | None = None,
                     **extra: Any) -> LocalModel:
        metrics, extra = model_fields(name, metrics, feature_view, training_dataset_version, input_example, extra)
        return LocalModel(self._registry, name, metrics, description, dict(lineage or {}), extra)


class LocalModel:
    def __init__(self, registry: LocalModelRegistry, name: str, metrics: dict[str, Any], description: str,
                 lineage: dict[str, Any], extra: dict[str, Any]) -> None:
        self._registry = registry
        self.name = name
        self.training_metrics = metrics
        self.description = description
        self.lineage = lineage
        self.extra = extra
        self.version: int | None = None
        self.created: pd.Timestamp | None = None
        self._artifact_path: str | None = None

    @property
    def metrics(self) -> dict[str, Any]:
        return self.training_metrics

    def __repr__(self) -> str:
        return f"<Model {self.name} v{self.version}>"

    def save(self, model_path: str | os.PathLike[str]) -> LocalModel:
        """Copy the artifact file or folder into the registry and register a new version."""
        src = Path(model_path)
        if not src.exists():
            raise NotFoundError(f"model artifacts {src} do not exist")
        project = self._registry.project
        root = project.artifacts_dir / "models" / self.name
        root.mkdir(parents=True, exist_ok=True)
        staging = root / f".staging-{uuid.uuid4().hex}"
        try:
            if src.is_dir():
                shutil.copytree(src, staging)
            else:
                staging.mkdir()
                shutil.copy2(src, staging / src.name)
            now = _now()
            with project.write() as con, connection.transaction(con, project.path):
                version = int(con.execute("SELECT coalesce(max(version), 0) + 1 FROM _spotcast.models "
                                          "WHERE name = ?", [self.name]).fetchone()[0])
                final = root / str(version)
                if final.exists():  # left by a process killed between rename and commit
                    shutil.rmtree(final)
                staging.rename(final)
                con.execute(
                    "INSERT INTO _spotcast.models VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [self.name, version, now, self.description, json.dumps(self.training_metrics),
                     json.dumps(self.lineage, default=_jsonable), json.dumps(self.extra, default=_jsonable),
                     str(final)],
                )
                event = project._append_event(con, MODEL, self.name, version, None, now,
                                              {"changed": True, "metrics": self.training_metrics})
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        self.version, self.created, self._artifact_path = version, now, str(final)
        project._notify(event)
        return self

    def download(self, local_path: str | os.PathLike[str] | None = None) -> str:
        """Path of the artifact folder (copied to ``local_path`` when given)."""
        if self._artifact_path is None:
            raise NotFoundError(f"model {self.name} has not been saved yet; call save(path) first")
        if local_path is None:
            return self._artifact_path
        dest = Path(local_path)
        shutil.copytree(self._artifact_path, dest, dirs_exist_ok=True)
        return str(dest)

    @property
    def model_files_path(self) -> str | None:
        return self._artifact_path

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version,
                "created": None if self.created is None else self.created.isoformat(),
                "description": self.description, "metrics": self.training_metrics,
                "lineage": self.lineage, "artifact_path": self._artifact_path}


class LocalEventLog:
    """The outbox: events appended with the data, read by consumers after their cursor."""

    def __init__(self, project: LocalProject) -> None:
        self.project = project

    def _ready(self, con: duckdb.DuckDBPyConnection) -> bool:
        return self.project.has_bookkeeping(con)

    def read(self, after: int = 0, limit: int | None = None, kinds: Sequence[str] | None = None,
             names: Sequence[str] | None = None) -> list[Event]:
        if not self.project.path.exists():
            return []
        sql = "SELECT event_id, kind, name, version, commit_id, created_at, payload FROM _spotcast.events WHERE event_id > ?"
        params: list[Any] = [after]
        if kinds:
            sql += f" AND kind IN ({', '.join('?' for _ in kinds)})"
            params.extend(kinds)
        if names:
            sql += f" AND name IN ({', '.join('?' for _ in names)})"
            params.extend(names)
        sql += " ORDER BY event_id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self.project.read() as con:
            if not self._ready(con):
                return []
            rows = con.execute(sql, params).fetchall()
        return [Event(int(e), k, n, int(v), None if c is None else int(c), _ts(t).to_pydatetime(),
                      json.loads(p) if p else {}) for e, k, n, v, c, t, p in rows]

    def cursor(self, consumer: str) -> int:
        return self.cursors().get(consumer, (0, None))[0]

    def cursors(self) -> dict[str, tuple[int, pd.Timestamp | None]]:
        if not self.project.path.exists():
            return {}
        with self.project.read() as con:
            if not self._ready(con):
                return {}
            return {c: (int(e), _ts(t)) for c, e, t in
                    con.execute("SELECT consumer, event_id, updated_at FROM _spotcast.cursors").fetchall()}

    def pending(self, consumer: str, kinds: Sequence[str] | None = None, names: Sequence[str] | None = None,
                limit: int | None = None) -> list[Event]:
        return self.read(after=self.cursor(consumer), limit=limit, kinds=kinds, names=names)

    def ack(self, consumer: str, event_id: int) -> None:
        """Move the consumer's cursor forward (never back) past ``event_id``."""
        with self.project.write() as con:
            con.execute(
                "INSERT INTO _spotcast.cursors VALUES (?, ?, ?) ON CONFLICT (consumer) DO UPDATE SET "
                "event_id = greatest(_spotcast.cursors.event_id, excluded.event_id), updated_at = excluded.updated_at",
                [consumer, int(event_id), _now()],
            )

    def latest_event_id(self) -> int:
        if not self.project.path.exists():
            return 0
        with self.project.read() as con:
            if not self._ready(con):
                return 0
            return int(con.execute("SELECT coalesce(max(event_id), 0) FROM _spotcast.events").fetchone()[0])
