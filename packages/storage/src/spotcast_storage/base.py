"""What every backend's objects have in common, written once.

The concrete classes live in :mod:`spotcast_storage.local` (DuckDB) and
:mod:`spotcast_storage.hopsworks`; stage code only uses the methods named here (typed as
:mod:`spotcast_storage.protocols`). A base class holds what does not depend on where the data
lives: argument checks, error messages, version resolution, time filters, the model object;
a backend supplies the reads and writes (the abstract methods), so both backends answer the
same call the same way and a new backend writes only its storage.
"""

from __future__ import annotations

import abc
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import pandas as pd

from spotcast_storage.errors import NotFoundError, SchemaError, ValidationError
from spotcast_storage.events import Event
from spotcast_storage.query import Feature, Query, to_utc_timestamp

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Commit:
    """The result of one write: Hopsworks' commit id and row counts."""

    commit_id: int
    committed_on: pd.Timestamp
    rows_inserted: int
    rows_updated: int
    rows_deleted: int
    event_id: int | None = None

    @property
    def changed(self) -> bool:
        return bool(self.rows_inserted or self.rows_updated or self.rows_deleted)


class ProjectBase(abc.ABC):
    """The entry point of a backend (Hopsworks: ``hopsworks.login()`` returns a Project)."""

    mode: str
    sql_dialect: str | None
    """The SQL dialect :meth:`sql` and :meth:`create_sql_view` accept; None: no SQL at all."""

    @abc.abstractmethod
    def describe(self) -> str:
        """Where the store is, in words for messages (``local store /path``)."""

    @abc.abstractmethod
    def get_feature_store(self, name: str | None = None) -> FeatureStoreBase: ...

    @abc.abstractmethod
    def get_model_registry(self) -> ModelRegistryBase: ...

    @abc.abstractmethod
    def get_event_log(self) -> EventLogBase: ...

    @abc.abstractmethod
    def sql(self, query: str, params: Sequence[Any] | None = None, timeout: float | None = None) -> pd.DataFrame:
        """One read-only statement in :attr:`sql_dialect` (raise UnsupportedError without one)."""

    @abc.abstractmethod
    def create_sql_view(self, name: str, sql: str) -> None: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    def _notify(self, event: Event) -> None:
        """Hand a committed event to the ``spotcast_after_commit`` listeners."""
        from spotcast_storage.plugins import get_plugin_manager

        try:
            get_plugin_manager().hook.spotcast_after_commit(event=event, project=self)
        except Exception:  # the data is committed; a listener failing must not hide that
            log.exception("a spotcast_after_commit hook failed for event %s", event.event_id)


class EventLogBase(abc.ABC):
    """The outbox of committed writes and the durable cursors of its consumers."""

    @abc.abstractmethod
    def read(self, after: int = 0, limit: int | None = None, kinds: Sequence[str] | None = None,
             names: Sequence[str] | None = None) -> list[Event]: ...

    @abc.abstractmethod
    def cursor(self, consumer: str) -> int: ...

    @abc.abstractmethod
    def cursors(self) -> dict[str, tuple[int, pd.Timestamp | None]]:
        """Every consumer's cursor and when it last moved."""

    @abc.abstractmethod
    def ack(self, consumer: str, event_id: int) -> None:
        """Move the consumer's cursor forward (never back) past ``event_id``."""

    @abc.abstractmethod
    def latest_event_id(self) -> int: ...

    def pending(self, consumer: str, kinds: Sequence[str] | None = None, names: Sequence[str] | None = None,
                limit: int | None = None) -> list[Event]:
        """The events after the consumer's cursor, oldest first."""
        return self.read(after=self.cursor(consumer), limit=limit, kinds=kinds, names=names)


class FeatureStoreBase(abc.ABC):
    """Feature groups and feature views, found and created by name and version."""

    project: Any

    @abc.abstractmethod
    def get_feature_groups(self, name: str | None = None) -> Sequence[FeatureGroupBase]:
        """Every group version (all names when ``name`` is None), oldest version first."""

    @abc.abstractmethod
    def _new_group(self, name: str, version: int, primary_key: list[str], event_time: str | None,
                   known_at: str | None, description: str, features: list[Feature], time_travel: bool,
                   options: dict[str, Any]) -> FeatureGroupBase:
        """A group version that is not stored yet (registered on its first insert)."""

    @abc.abstractmethod
    def get_feature_view(self, name: str, version: int | None = None) -> FeatureViewBase: ...

    @abc.abstractmethod
    def _new_view(self, name: str, version: int, query: Query, labels: list[str],
                  description: str) -> FeatureViewBase:
        """Store a new, checked view version and return it."""

    @abc.abstractmethod
    def get_feature_views(self) -> list[tuple[str, int]]:
        """``(name, version)`` of every view."""

    def _check_group_name(self, name: str) -> None:
        """Refuse a name the backend keeps for itself (beyond :func:`check_name`)."""
        check_name(name)

    def get_feature_group(self, name: str, version: int | None = None) -> FeatureGroupBase:
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
    ) -> FeatureGroupBase:
        """The group version, or a new one that is registered on its first insert."""
        self._check_group_name(name)
        version, fg = match_existing(name, version, primary_key, event_time, self.get_feature_groups(name),
                                     known_at=known_at, features=features)
        if fg is not None:
            return fg
        pk, feats = declared_schema(name, version, primary_key, event_time, known_at, features)
        return self._new_group(name, version, pk, event_time, known_at, description, feats, time_travel,
                               dict(options))

    create_feature_group = get_or_create_feature_group

    def get_or_create_feature_view(self, name: str, version: int | None = None, query: Query | None = None,
                                   labels: Sequence[str] | None = None, description: str = "",
                                   **options: Any) -> FeatureViewBase:
        """The view version (its query must be the one given), or a new one over ``query``."""
        check_name(name, "feature view")
        try:
            return check_same_query(self.get_feature_view(name, version), query)
        except NotFoundError:
            pass
        version, labels = check_new_view(name, version, query, labels)  # refuses a missing query
        return self._new_view(name, version, cast(Query, query), labels, description)

    create_feature_view = get_or_create_feature_view

    def point_in_time_join(self, labels: pd.DataFrame, features: pd.DataFrame, on: Sequence[str],
                           label_time: str, feature_time: str, known_at: str | None = None,
                           prefix: str | None = None) -> pd.DataFrame:
        """See :func:`spotcast_storage.local.sql.point_in_time_join`: a pure frame operation, run
        in-process with DuckDB whatever the backend."""
        from spotcast_storage.local.sql import point_in_time_join

        return point_in_time_join(labels, features, on, label_time, feature_time, known_at, prefix)


class FeatureGroupBase(abc.ABC):
    """A versioned table of features with a primary key and an event time."""

    name: str
    version: int
    primary_key: list[str]
    event_time: str | None
    known_at: str | None
    description: str

    def __init__(self, fs: Any, name: str, version: int, primary_key: list[str], event_time: str | None,
                 known_at: str | None, description: str, features: list[Feature], options: dict[str, Any],
                 persisted: bool) -> None:
        self._fs = fs
        self._project = fs.project
        self.name, self.version = name, version
        self.primary_key, self.event_time, self.known_at = primary_key, event_time, known_at
        self.description = description
        self._features = [Feature(f.name, f.type, f.primary, f.description, name, version) for f in features]
        self.options = options
        self._persisted = persisted

    @property
    def features(self) -> list[Feature]:
        return self._features

    def _label(self) -> str:
        return f"feature group {self.name} v{self.version}"

    def _require_data(self) -> None:
        if not self._persisted:
            raise NotFoundError(f"{self._label()} has no data yet; insert into it first")

    def _require_query_data(self, query: Query) -> None:
        """A query reads stored groups only: this one and every group it joins."""
        self._require_data()
        for j in query.joins:
            j.query.fg._require_data()

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    def get_feature(self, name: str) -> Feature:
        for f in self.features:
            if f.name == name:
                return f
        raise NotFoundError(
            f"feature group {self.name} v{self.version} has no feature {name!r}; "
            f"it has {', '.join(self.feature_names) or 'no features yet'}"
        )

    def __getitem__(self, name: str) -> Feature:
        return self.get_feature(name)

    def __getattr__(self, name: str) -> Feature:
        # Only reached for attributes that are not set: lets users write fg.zone == "SE3".
        if name.startswith("_") or name in {"name", "version", "primary_key", "event_time",
                                             "known_at", "description"}:
            raise AttributeError(name)
        try:
            return self.get_feature(name)
        except NotFoundError as exc:
            raise AttributeError(str(exc)) from None

    # -- queries -------------------------------------------------------------------
    def select_all(self, include_primary_key: bool = True, include_event_time: bool = True) -> Query:
        cols = [
            c for c in self.feature_names
            if (include_primary_key or c not in self.primary_key)
            and (include_event_time or c != self.event_time)
        ]
        return Query(fg=self, columns=tuple(cols))

    def select(self, features: Sequence[str | Feature]) -> Query:
        names = [f.name if isinstance(f, Feature) else f for f in features]
        for n in names:
            self.get_feature(n)
        return Query(fg=self, columns=tuple(names))

    def select_except(self, features: Sequence[str | Feature] = ()) -> Query:
        drop = {f.name if isinstance(f, Feature) else f for f in features}
        for n in drop:
            self.get_feature(n)
        return Query(fg=self, columns=tuple(c for c in self.feature_names if c not in drop))

    def filter(self, f: Any) -> Query:
        return self.select_all().filter(f)

    def as_of(self, wallclock_time: Any = None, *, commit_id: int | None = None) -> Query:
        return self.select_all().as_of(wallclock_time, commit_id=commit_id)

    # -- data ----------------------------------------------------------------------
    def _register_schema_from(self, df: pd.DataFrame) -> None:
        """Take the schema of a new version from its first frame (as Hopsworks does)."""
        from spotcast_storage import schema as schema_mod

        feats = schema_mod.infer_features(df, self.primary_key)
        types = {f.name: f.type for f in feats}
        for k, what in [*((k, "primary key") for k in self.primary_key),
                        *([(self.event_time, "event time")] if self.event_time else []),
                        *([(self.known_at, "known-at")] if self.known_at else [])]:
            if k not in types:
                raise SchemaError(f"feature group {self.name} v{self.version}: {what} column {k!r} is missing from the frame")
        for t, what in [(self.event_time, "event time"), (self.known_at, "known-at")]:
            if t and types[t] not in ("timestamp", "date"):
                raise SchemaError(f"feature group {self.name} v{self.version}: {what} column {t!r} must hold "
                                  "timezone-aware timestamps")
        self._features = [Feature(f.name, f.type, f.primary, f.description, self.name, self.version) for f in feats]

    def _naive_policy(self, given: str | None) -> str:
        """``"utc"``: naive timestamps are stored as UTC with a warning, as the Hopsworks client
        takes them (code written against Hopsworks runs unchanged); ``"error"``: refused. The
        groups of spotcast's own contracts are strict, so a stage's frames must be zone-aware."""
        if given is not None:
            if given not in ("utc", "error"):
                raise ValidationError(f"naive_timestamps must be 'utc' or 'error', got {given!r}")
            return given
        from spotcast_storage.contracts import ALL

        contract = ALL.get(self.name)
        return "error" if contract is not None and contract.version == self.version else "utc"

    def _accept_naive(self, df: pd.DataFrame, naive_timestamps: str | None) -> pd.DataFrame:
        """The frame with timezone-naive timestamp columns taken as UTC (see :meth:`_naive_policy`)."""
        from spotcast_storage import schema as schema_mod

        if not isinstance(df, pd.DataFrame):
            return df
        cols = schema_mod.naive_timestamp_columns(df)
        if not cols or self._naive_policy(naive_timestamps) == "error":
            return df
        import warnings

        from spotcast_storage.errors import NaiveTimestampWarning

        df = df.copy()
        for c in cols:
            df[c] = pd.to_datetime(df[c]).dt.tz_localize("UTC")
            warnings.warn(NaiveTimestampWarning(
                f"feature group {self.name} v{self.version}: column {c!r} holds timezone-naive timestamps; "
                f"they were stored as UTC, as the Hopsworks client does. If they are local times, localise "
                f"them first, e.g. df[{c!r}] = df[{c!r}].dt.tz_localize('Europe/Stockholm').dt.tz_convert('UTC'); "
                f"if they are UTC, df[{c!r}] = df[{c!r}].dt.tz_localize('UTC') silences this warning"),
                stacklevel=4)
        return df

    def _insert_frame(self, df: Any, operation: str, naive_timestamps: str | None) -> pd.DataFrame:
        """The checks every insert makes before it looks at the store: the operation, the
        frame's type, and its naive timestamps (see :meth:`_naive_policy`)."""
        if operation not in ("upsert", "insert"):
            raise ValidationError(f"operation must be 'upsert' or 'insert', got {operation!r}")
        if not isinstance(df, pd.DataFrame):
            raise ValidationError(f"insert() takes a pandas DataFrame, got {type(df).__name__}")
        return self._accept_naive(df, naive_timestamps)

    @abc.abstractmethod
    def insert(self, df: pd.DataFrame, overwrite: bool = False, **kwargs: Any) -> Commit: ...

    # -- reads -----------------------------------------------------------------------------
    def _time_filter(self, query: Query, start_time: Any, end_time: Any) -> Query:
        """``query`` limited to event times in ``[start_time, end_time)``."""
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
        """All rows (event time in ``[start_time, end_time)`` when given); the filter goes to the
        backend with the query (into SQL locally, to the Query Service on Hopsworks)."""
        return self._backend_read_query(self._time_filter(self.select_all(), start_time, end_time), limit=limit)

    @abc.abstractmethod
    def commit_details(self, wallclock_time: Any = None, limit: int | None = None) -> dict[int, dict[str, Any]]: ...

    @abc.abstractmethod
    def _backend_read_query(self, query: Query, **kwargs: Any) -> pd.DataFrame: ...

    def _backend_query_string(self, query: Query) -> str:
        return repr(query.to_dict())

    def __repr__(self) -> str:
        return f"<FeatureGroup {self.name} v{self.version} key={self.primary_key} event_time={self.event_time}>"


class FeatureViewBase(abc.ABC):
    """A query over feature groups with label columns, read for training and inference."""

    name: str
    version: int
    query: Query
    labels: list[str]
    description: str

    def __init__(self, fs: Any, name: str, version: int, query: Query, labels: list[str],
                 description: str) -> None:
        self._fs = fs
        self.name, self.version, self.query, self.labels, self.description = name, version, query, labels, description

    def __repr__(self) -> str:
        return f"<FeatureView {self.name} v{self.version} labels={self.labels}>"

    @property
    def event_time(self) -> str | None:
        return self.query.fg.event_time

    @abc.abstractmethod
    def _frame(self, start_time: Any, end_time: Any) -> pd.DataFrame:
        """Features and labels with event time in ``[start_time, end_time)``, oldest first."""

    def get_batch_data(self, start_time: Any = None, end_time: Any = None, **kw: Any) -> pd.DataFrame:
        """Feature rows (no labels) with event time in ``[start_time, end_time)``."""
        return self._frame(start_time, end_time).drop(columns=self.labels)

    def training_data(self, start_time: Any = None, end_time: Any = None, **kw: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
        df = self._frame(start_time, end_time)
        return df.drop(columns=self.labels), df[self.labels]

    def train_test_split(self, test_size: float | None = None, train_start: Any = None, train_end: Any = None,
                         test_start: Any = None, test_end: Any = None, **kw: Any) -> tuple[pd.DataFrame, ...]:
        """Time-ordered split on the event time: the test rows are the latest ones.

        Unlike Hopsworks' random split for ``test_size``, every training row is older than
        every test row, because a forecaster evaluated on shuffled time is evaluated on its past.
        """
        import math

        et = self.event_time
        if not et:
            raise ValidationError(f"feature view {self.name} has no event time to split on")
        if test_size is None and test_start is None:
            raise ValidationError("give test_size (a fraction, e.g. 0.2) or test_start")
        if test_start is None and not 0 < float(test_size) < 1:  # type: ignore[arg-type]
            raise ValidationError(f"test_size must be between 0 and 1, got {test_size}")
        df = self._frame(train_start, test_end)
        if test_start is not None:
            cut = to_utc_timestamp(test_start, name="test_start")
        else:
            times = df[et].drop_duplicates().sort_values(ignore_index=True)
            if len(times) < 2:
                raise ValidationError(f"feature view {self.name} has too few distinct {et} values to split")
            idx = min(len(times) - 1, max(1, math.floor(len(times) * (1 - float(test_size)))))  # type: ignore[arg-type]
            cut = times.iloc[idx]
        end = to_utc_timestamp(train_end, name="train_end") if train_end is not None else cut
        train = df[df[et] < min(end, cut)]
        test = df[df[et] >= cut]
        return (train.drop(columns=self.labels), test.drop(columns=self.labels),
                train[self.labels], test[self.labels])


class ModelBase(abc.ABC):
    """A model version: metrics, lineage and extra fields beside its artifact files."""

    def __init__(self, registry: Any, name: str, metrics: dict[str, Any], description: str,
                 lineage: dict[str, Any], extra: dict[str, Any]) -> None:
        self._registry = registry
        self.name = name
        self.training_metrics = metrics
        self.description = description
        self.lineage = lineage
        self.extra = extra
        self.version: int | None = None
        self.created: pd.Timestamp | None = None
        # what create_model was given, for a backend whose own registry takes them on save
        self._feature_view: Any = None
        self._input_example: Any = None
        self._model_schema: Any = None

    @property
    def metrics(self) -> dict[str, Any]:
        return self.training_metrics

    def __repr__(self) -> str:
        return f"<Model {self.name} v{self.version}>"

    @abc.abstractmethod
    def save(self, model_path: str | os.PathLike[str]) -> ModelBase:
        """Store the artifact file or folder as a new version, record its lineage and append a
        ``model`` event."""

    @abc.abstractmethod
    def download(self, local_path: str | os.PathLike[str] | None = None) -> str: ...

    @property
    @abc.abstractmethod
    def model_files_path(self) -> str | None: ...

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version,
                "created": None if self.created is None else self.created.isoformat(),
                "description": self.description, "metrics": self.training_metrics,
                "lineage": self.lineage, "artifact_path": self.model_files_path}


class ModelFactory:
    """``registry.python.create_model(...)`` as in the Hopsworks client (also reached as
    ``.sklearn``, ``.tensorflow`` and ``.torch``: spotcast stores every kind the same way)."""

    def __init__(self, registry: ModelRegistryBase) -> None:
        self._registry = registry

    def create_model(self, name: str, metrics: dict[str, Any] | None = None, description: str = "",
                     input_example: Any = None, model_schema: Any = None, feature_view: Any = None,
                     training_dataset_version: int | None = None, lineage: dict[str, Any] | None = None,
                     **extra: Any) -> ModelBase:
        """An unsaved model; :meth:`ModelBase.save` registers it as the next version."""
        metrics, extra = model_fields(name, metrics, feature_view, training_dataset_version, input_example, extra)
        m = self._registry._model_class(self._registry, name, metrics, description, dict(lineage or {}), extra)
        m._feature_view, m._input_example, m._model_schema = feature_view, input_example, model_schema
        return m


class ModelRegistryBase(abc.ABC):
    """Model versions by name, with metrics and lineage."""

    _model_class: type[ModelBase]
    """The backend's model class (what :class:`ModelFactory` creates)."""

    def __init__(self, project: Any) -> None:
        self.project = project
        self.python = ModelFactory(self)
        self.sklearn = self.tensorflow = self.torch = self.python

    @abc.abstractmethod
    def get_model(self, name: str, version: int | None = None) -> ModelBase: ...

    @abc.abstractmethod
    def get_models(self, name: str | None = None) -> Sequence[ModelBase]: ...

    def get_best_model(self, name: str, metric: str, direction: str) -> ModelBase | None:
        """The version with the highest (``"max"``) or lowest (``"min"``) training metric; the
        newest among equals; None when no version has the metric."""
        check_direction(direction)
        models = [m for m in self.get_models(name) if isinstance(m.training_metrics.get(metric), (int, float))]
        if not models:
            return None
        sign = 1 if direction == "max" else -1
        return max(models, key=lambda m: (sign * m.training_metrics[metric], m.version or 0))


def check_direction(direction: str) -> str:
    if direction not in ("max", "min"):
        raise ValidationError(f"direction must be 'max' or 'min', got {direction!r}")
    return direction


def match_existing(name: str, version: int | None, primary_key: Sequence[str] | None, event_time: str | None,
                   existing: Sequence[Any], known_at: str | None = None,
                   features: Sequence[Feature] | None = None) -> tuple[int, Any]:
    """Resolve ``version`` (newest existing, else 1) and return ``(version, group or None)``.

    A key, event time, known-at column or declared feature list (names and types) that differs
    from the registered version is an error pointing to a new version: returning the stored
    version instead would let a caller write into a schema it did not ask for."""
    from spotcast_storage import schema as schema_mod

    if version is None:
        version = existing[-1].version if existing else 1
    check_version(version)
    for fg in existing:
        if fg.version != version:
            continue
        new = f"v{existing[-1].version + 1}"
        if primary_key is not None and list(primary_key) != fg.primary_key:
            raise SchemaError(
                f"feature group {name} v{version} exists with primary key {fg.primary_key}, "
                f"not {list(primary_key)}; a different key is a new version ({new})"
            )
        if event_time is not None and event_time != fg.event_time:
            raise SchemaError(
                f"feature group {name} v{version} exists with event time {fg.event_time!r}, "
                f"not {event_time!r}; a different event time is a new version ({new})"
            )
        if known_at is not None and known_at != fg.known_at:
            raise SchemaError(
                f"feature group {name} v{version} exists with known-at column {fg.known_at!r}, "
                f"not {known_at!r}; a different known-at column is a new version ({new})"
            )
        have = {f.name: f.type for f in fg.features}
        if features and have:
            wanted = {f.name: schema_mod.normalise_type(f.type) for f in features}
            if wanted != have:
                parts = [f"{c} is {have[c]}, not {wanted[c]}" for c in wanted if c in have and have[c] != wanted[c]]
                if extra := [c for c in wanted if c not in have]:
                    parts.append(f"it has no column(s) {extra}")
                if missing := [c for c in have if c not in wanted]:
                    parts.append(f"it also has column(s) {missing}")
                raise SchemaError(
                    f"feature group {name} v{version} exists with other features than declared "
                    f"({'; '.join(parts)}); a schema change is a new version ({new}) and a backfill"
                )
        return version, fg
    return version, None


def declared_schema(name: str, version: int, primary_key: Sequence[str] | None, event_time: str | None,
                    known_at: str | None, features: Sequence[Feature] | None) -> tuple[list[str], list[Feature]]:
    """The key and (when declared up front) the features of a new group version, checked."""
    from spotcast_storage import schema as schema_mod

    if not primary_key:
        raise ValidationError(f"feature group {name} v{version} needs a primary_key, e.g. ['zone', 'ts']")
    pk = list(primary_key)
    feats: list[Feature] = []
    if features:
        feats = [Feature(f.name, schema_mod.normalise_type(f.type), f.name in pk, f.description) for f in features]
        names = [f.name for f in feats]
        for k in [*pk, *([event_time] if event_time else []), *([known_at] if known_at else [])]:
            if k not in names:
                raise SchemaError(f"feature group {name} v{version}: column {k!r} is not among its features")
    return pk, feats


def check_same_query(fv: Any, query: Query | None) -> Any:
    if query is not None and fv.query.to_dict() != query.to_dict():
        raise SchemaError(
            f"feature view {fv.name} v{fv.version} exists with a different query; "
            f"create version {fv.version + 1} for the new one"
        )
    return fv


def check_new_view(name: str, version: int | None, query: Query | None, labels: Sequence[str] | None) -> tuple[int, list[str]]:
    if query is None:
        raise ValidationError(f"feature view {name} does not exist; pass query=... to create it")
    version = check_version(version or 1)
    labels = list(labels or [])
    missing = [c for c in labels if c not in query.output_columns]
    if missing:
        raise ValidationError(f"label column(s) {missing} are not in the view's query {query.output_columns}")
    return version, labels


def model_fields(name: str, metrics: dict[str, Any] | None, feature_view: Any, training_dataset_version: int | None,
                 input_example: Any, extra: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Checked metrics and the extra fields every backend keeps beside a model version."""
    import json

    check_name(name, "model")
    metrics = dict(metrics or {})
    for k, v in metrics.items():
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise ValidationError(f"metric {k!r} must be a number, got {v!r}")
    extra = dict(extra)
    if feature_view is not None:
        extra["feature_view"] = {"name": feature_view.name, "version": feature_view.version}
    if training_dataset_version is not None:
        extra["training_dataset_version"] = training_dataset_version
    if input_example is not None:
        x = input_example
        extra["input_example"] = (json.loads(x.head(1).to_json(orient="records", date_format="iso"))
                                  if isinstance(x, pd.DataFrame) else json.loads(json.dumps(x, default=str)))
    return metrics, extra


def check_name(name: str, what: str = "feature group") -> str:
    import re

    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", name):
        raise ValidationError(
            f"{what} name {name!r} is not valid: use lowercase letters, digits and underscores, "
            "starting with a letter (Hopsworks requires the same)"
        )
    if re.search(r"_v\d+$", name):
        raise ValidationError(
            f"{what} name {name!r} ends in _v<number>, which spotcast reserves for table "
            "names of versions; choose another name"
        )
    return name


def check_version(version: Any) -> int:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValidationError(f"version must be a positive integer, got {version!r}")
    return version


__all__ = ["Commit", "Event", "EventLogBase", "FeatureGroupBase", "FeatureStoreBase", "FeatureViewBase",
           "ModelBase", "ModelFactory", "ModelRegistryBase", "ProjectBase", "check_name", "check_version"]
