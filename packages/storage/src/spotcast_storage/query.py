"""Backend-neutral query model: features, filters, joins.

Mirrors the Hopsworks query API (``fg.select([...]).join(other.select_all()).filter(fg.ts >= t)``)
as plain data, so the local backend compiles it to DuckDB SQL, the Hopsworks backend
translates it to the client's own query, and a feature view can store it as JSON.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from spotcast_storage.errors import ValidationError

if TYPE_CHECKING:
    from spotcast_storage.base import FeatureGroupBase

JOIN_TYPES = ("inner", "left", "right", "full", "cross", "left_semi_join")
_OPS = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">=", "in": "IN", "like": "LIKE"}


@dataclass(frozen=True)
class Feature:
    """One column of a feature group; comparisons build :class:`Filter` objects."""

    name: str
    type: str
    primary: bool = False
    description: str = ""
    fg_name: str | None = None
    fg_version: int | None = None

    def _f(self, op: str, value: Any) -> Filter:
        return Filter(self.name, op, _literal(value), self.fg_name, self.fg_version)

    def __eq__(self, other: object) -> Filter:  # type: ignore[override]
        return self._f("==", other)

    def __ne__(self, other: object) -> Filter:  # type: ignore[override]
        return self._f("!=", other)

    def __lt__(self, other: Any) -> Filter:
        return self._f("<", other)

    def __le__(self, other: Any) -> Filter:
        return self._f("<=", other)

    def __gt__(self, other: Any) -> Filter:
        return self._f(">", other)

    def __ge__(self, other: Any) -> Filter:
        return self._f(">=", other)

    def isin(self, values: Iterable[Any]) -> Filter:
        return self._f("in", [_literal(v) for v in values])

    def like(self, pattern: str) -> Filter:
        return self._f("like", pattern)

    __hash__ = object.__hash__

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "primary": self.primary,
                "description": self.description}


def _literal(value: Any) -> Any:
    """Normalise a filter value: timestamps become tz-aware UTC ``pd.Timestamp``."""
    if isinstance(value, Feature):
        raise ValidationError("comparing two features is not supported; compare with a value")
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return to_utc_timestamp(value)
    if isinstance(value, dt.date):
        return to_utc_timestamp(pd.Timestamp(value))
    return value


def to_utc_timestamp(value: Any, *, name: str = "time") -> pd.Timestamp:
    """Parse a time given as string, date or datetime; naive values are taken as UTC."""
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"cannot parse {name} {value!r}: use ISO 8601, e.g. 2024-05-01T00:00Z") from exc
    if ts is pd.NaT:
        raise ValidationError(f"{name} is missing (NaT)")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def parse_instant(text: str, name: str = "--now") -> pd.Timestamp:
    """An ISO 8601 time given by a person (``2025-03-12T14:00Z``; naive means UTC) as a UTC
    timestamp. An impossible date (2024-02-30) is a usage error naming ``name``, not a traceback:
    :meth:`datetime.datetime.fromisoformat` checks the calendar."""
    from spotcast_storage.errors import UsageError

    raw = str(text).strip()
    try:
        parsed = dt.datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw)
    except ValueError as exc:
        raise UsageError(f"{name} {text!r} is not a valid time ({exc}); use ISO 8601, e.g. "
                         "2025-03-12T14:00Z") from None
    t = pd.Timestamp(parsed)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


@dataclass(frozen=True)
class Filter:
    feature: str
    op: str
    value: Any
    fg_name: str | None = None
    fg_version: int | None = None

    def __and__(self, other: Filter | Logic) -> Logic:
        return Logic("AND", self, other)

    def __or__(self, other: Filter | Logic) -> Logic:
        return Logic("OR", self, other)

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "op": self.op, "value": _encode(self.value),
                "fg_name": self.fg_name, "fg_version": self.fg_version}


@dataclass(frozen=True)
class Logic:
    op: str  # AND | OR
    left: Filter | Logic
    right: Filter | Logic

    def __and__(self, other: Filter | Logic) -> Logic:
        return Logic("AND", self, other)

    def __or__(self, other: Filter | Logic) -> Logic:
        return Logic("OR", self, other)

    def to_dict(self) -> dict[str, Any]:
        return {"logic": self.op, "left": self.left.to_dict(), "right": self.right.to_dict()}


def _encode(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return {"timestamp": value.isoformat()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "timestamp" in value:
        return pd.Timestamp(value["timestamp"])
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def filter_from_dict(d: dict[str, Any]) -> Filter | Logic:
    if "logic" in d:
        return Logic(d["logic"], filter_from_dict(d["left"]), filter_from_dict(d["right"]))
    return Filter(d["feature"], d["op"], _decode(d["value"]), d.get("fg_name"), d.get("fg_version"))


def filter_leaves(f: Filter | Logic | None) -> list[Filter]:
    """The comparisons of a filter tree, left to right (what a backend checks or pushes down)."""
    if f is None:
        return []
    if isinstance(f, Logic):
        return filter_leaves(f.left) + filter_leaves(f.right)
    return [f]


def is_point_in_time(query: Query, j: Join) -> bool:
    """Whether ``j`` is a point-in-time join (see :class:`Query`): both groups have an event
    time, the right one's is not a join key, and the join keeps the left rows (left or inner).
    One rule, so that both backends join alike."""
    rfg = j.query.fg
    return bool(query.fg.event_time and rfg.event_time and rfg.event_time not in j.right_on
                and j.join_type in ("left", "inner"))


@dataclass(frozen=True)
class Join:
    query: Query
    left_on: tuple[str, ...]
    right_on: tuple[str, ...]
    join_type: str
    prefix: str | None


@dataclass(frozen=True)
class Query:
    """A selection over one feature group, optionally joined with others and filtered.

    A join whose right-hand feature group has an event time that is not among the join
    keys is a point-in-time join (as in Hopsworks): each left row gets the newest right
    row whose event time (and known-at time, when the group declares one) is not after
    the left row's event time.
    """

    fg: FeatureGroupBase
    columns: tuple[str, ...]
    joins: tuple[Join, ...] = ()
    filters: Filter | Logic | None = None
    as_of_commit: int | None = None
    as_of_time: pd.Timestamp | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    # -- building -------------------------------------------------------------------
    def join(
        self,
        sub_query: Query,
        on: Sequence[str] | None = None,
        left_on: Sequence[str] | None = None,
        right_on: Sequence[str] | None = None,
        join_type: str = "left",
        prefix: str | None = None,
    ) -> Query:
        if not isinstance(sub_query, Query):
            raise ValidationError("join() takes a query, e.g. other_fg.select_all()")
        if join_type not in JOIN_TYPES:
            raise ValidationError(f"join_type {join_type!r} is not one of {', '.join(JOIN_TYPES)}")
        if on and (left_on or right_on):
            raise ValidationError("give either on=[...] or left_on=[...] and right_on=[...], not both")
        if on:
            lk = rk = tuple(on)
        elif left_on or right_on:
            lk, rk = tuple(left_on or ()), tuple(right_on or ())
            if len(lk) != len(rk) or not lk:
                raise ValidationError("left_on and right_on must name the same number of columns")
        else:
            # Hopsworks' default: the sub-query's primary key columns present on the left.
            left_cols = set(self.fg.feature_names)
            lk = rk = tuple(k for k in sub_query.fg.primary_key if k in left_cols)
            if not lk and join_type != "cross":
                raise ValidationError(
                    f"no join keys: {sub_query.fg.name}'s primary key "
                    f"{list(sub_query.fg.primary_key)} is not in {self.fg.name}; pass on=[...]"
                )
        for k in lk:
            if k not in self.fg.feature_names and not any(
                k in (j.query.columns) for j in self.joins
            ):
                raise ValidationError(f"join key {k!r} is not a column of {self.fg.name}")
        for k in rk:
            if k not in sub_query.fg.feature_names:
                raise ValidationError(f"join key {k!r} is not a column of {sub_query.fg.name}")
        return replace(self, joins=(*self.joins, Join(sub_query, lk, rk, join_type, prefix)))

    def filter(self, f: Filter | Logic) -> Query:
        if not isinstance(f, (Filter, Logic)):
            raise ValidationError("filter() takes a condition such as fg.zone == 'SE3' or fg.ts >= t")
        return replace(self, filters=f if self.filters is None else Logic("AND", self.filters, f))

    def as_of(self, wallclock_time: Any = None, *, commit_id: int | None = None) -> Query:
        """Read the data as it was at a commit id or a point in time."""
        if commit_id is None and isinstance(wallclock_time, (int,)) and not isinstance(wallclock_time, bool):
            commit_id = int(wallclock_time)
            wallclock_time = None
        t = None if wallclock_time is None else to_utc_timestamp(wallclock_time, name="as_of time")
        return replace(self, as_of_commit=commit_id, as_of_time=t)

    # -- running --------------------------------------------------------------------
    def read(self, **kwargs: Any) -> pd.DataFrame:
        return self.fg._backend_read_query(self, **kwargs)

    def show(self, n: int = 10) -> pd.DataFrame:
        return self.fg._backend_read_query(self, limit=n)

    def to_string(self) -> str:
        return self.fg._backend_query_string(self)

    # -- introspection ----------------------------------------------------------------
    @property
    def output_columns(self) -> list[str]:
        cols = list(self.columns)
        for j in self.joins:
            for c in j.query.columns:
                if c in j.right_on and j.join_type != "cross":
                    continue
                cols.append(f"{j.prefix}{c}" if j.prefix else c)
        return cols

    def to_dict(self) -> dict[str, Any]:
        return {
            "fg": {"name": self.fg.name, "version": self.fg.version},
            "columns": list(self.columns),
            "joins": [
                {"query": j.query.to_dict(), "left_on": list(j.left_on), "right_on": list(j.right_on),
                 "join_type": j.join_type, "prefix": j.prefix}
                for j in self.joins
            ],
            "filters": None if self.filters is None else self.filters.to_dict(),
        }


def query_from_dict(d: dict[str, Any], get_fg: Any) -> Query:
    """Rebuild a stored query; ``get_fg(name, version)`` returns the feature group."""
    fg = get_fg(d["fg"]["name"], d["fg"]["version"])
    joins = tuple(
        Join(query_from_dict(j["query"], get_fg), tuple(j["left_on"]), tuple(j["right_on"]),
             j["join_type"], j.get("prefix"))
        for j in d.get("joins", [])
    )
    filters = None if d.get("filters") is None else filter_from_dict(d["filters"])
    return Query(fg=fg, columns=tuple(d["columns"]), joins=joins, filters=filters)


def sql_op(op: str) -> str:
    try:
        return _OPS[op]
    except KeyError:
        raise ValidationError(f"unknown filter operator {op!r}") from None
