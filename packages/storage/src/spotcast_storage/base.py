"""What every backend's objects have in common.

The concrete classes live in :mod:`spotcast_storage.local` (DuckDB) and
:mod:`spotcast_storage.hopsworks`; stage code only uses the methods named here.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from spotcast_storage.errors import NotFoundError, SchemaError, ValidationError
from spotcast_storage.events import Event
from spotcast_storage.query import Feature, Query


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


class FeatureGroupBase(abc.ABC):
    """A versioned table of features with a primary key and an event time."""

    name: str
    version: int
    primary_key: list[str]
    event_time: str | None
    known_at: str | None
    description: str

    @property
    @abc.abstractmethod
    def features(self) -> list[Feature]: ...

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
        from spotcast_storage.errors import SchemaError

        feats = schema_mod.infer_features(df, self.primary_key)
        types = {f.name: f.type for f in feats}
        for k, what in [*((k, "primary key") for k in self.primary_key),
                        *([(self.event_time, "event time")] if self.event_time else []),
                        *([(self.known_at, "known-at")] if self.known_at else [])]:
            if k not in types:
                raise SchemaError(f"feature group {self.name} v{self.version}: {what} column {k!r} is missing from the frame")
        for k, what in [(self.event_time, "event time"), (self.known_at, "known-at")]:
            if k and types[k] not in ("timestamp", "date"):
                raise SchemaError(f"feature group {self.name} v{self.version}: {what} column {k!r} must hold "
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

    @abc.abstractmethod
    def insert(self, df: pd.DataFrame, overwrite: bool = False, **kwargs: Any) -> Commit: ...

    @abc.abstractmethod
    def read(self, start_time: Any = None, end_time: Any = None, **kwargs: Any) -> pd.DataFrame: ...

    @abc.abstractmethod
    def commit_details(self, wallclock_time: Any = None, limit: int | None = None) -> dict[int, dict[str, Any]]: ...

    @abc.abstractmethod
    def _backend_read_query(self, query: Query, **kwargs: Any) -> pd.DataFrame: ...

    def _backend_query_string(self, query: Query) -> str:
        return repr(query.to_dict())

    def __repr__(self) -> str:
        return f"<FeatureGroup {self.name} v{self.version} key={self.primary_key} event_time={self.event_time}>"


class FeatureViewBase(abc.ABC):
    name: str
    version: int
    query: Query
    labels: list[str]
    description: str

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

        from spotcast_storage.query import to_utc_timestamp

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


def match_existing(name: str, version: int | None, primary_key: Sequence[str] | None, event_time: str | None,
                   existing: list[Any], known_at: str | None = None,
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


__all__ = ["Commit", "Event", "FeatureGroupBase", "FeatureViewBase", "check_name", "check_version"]
