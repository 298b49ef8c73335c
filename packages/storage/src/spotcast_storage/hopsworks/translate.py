"""Translate spotcast's :class:`~spotcast_storage.query.Query` into the Hopsworks client's query.

Same meaning on both backends: a join whose right-hand group has an event time outside the
join keys is point-in-time correct (Hopsworks builds its PIT query when both groups have an
event time), output columns are the left selection then each join's non-key columns with
its prefix, and a name clash is an error rather than Hopsworks' silent generated prefix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from spotcast_storage.errors import UnsupportedError, ValidationError
from spotcast_storage.query import Filter, Join, Logic, Query, filter_leaves, is_point_in_time

ClientFG = Any
Resolve = Callable[[Any], ClientFG]


def needs_known_at(query: Query) -> bool:
    """True when a point-in-time join must also respect a right group's known-at column,
    which Hopsworks' own PIT join cannot express."""
    return any(is_point_in_time(query, j) and j.query.fg.known_at for j in query.joins)


def has_subsecond_filter(query: Query) -> bool:
    """True when a filter compares with a time that has a fraction of a second, which the client
    would cut off (it sends timestamp filter values as ``%Y-%m-%d %H:%M:%S``)."""
    leaves = filter_leaves(query.filters) + [x for j in query.joins for x in filter_leaves(j.query.filters)]
    for f in leaves:
        for v in f.value if isinstance(f.value, list) else [f.value]:
            if isinstance(v, pd.Timestamp) and v != v.floor("s"):
                return True
    return False


def _right_columns(j: Join) -> list[str]:
    return [c for c in j.query.columns if c not in j.right_on or j.join_type == "cross"]


def output_types(query: Query) -> dict[str, str]:
    """Output column name -> feature type, in output order; raises on a name clash."""
    out = {c: query.fg.get_feature(c).type for c in query.columns}
    for j in query.joins:
        rfg = j.query.fg
        for c in _right_columns(j):
            name = f"{j.prefix}{c}" if j.prefix else c
            if name in out:
                raise ValidationError(
                    f"column {c!r} of {rfg.name} clashes with a column already in the query; "
                    f"pass prefix='{rfg.name}_' to join() or select() fewer columns"
                )
            out[name] = rfg.get_feature(c).type
    return out


def _client_value(v: Any) -> Any:
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, list):
        return [_client_value(x) for x in v]
    return v


def to_client_filter(f: Filter | Logic, groups: list[tuple[Any, ClientFG]]) -> Any:
    """``groups``: (spotcast group, client group) pairs the filter may refer to."""
    if isinstance(f, Logic):
        left, right = to_client_filter(f.left, groups), to_client_filter(f.right, groups)
        return (left & right) if f.op == "AND" else (left | right)
    owner = None
    for fg, cfg in groups:
        if f.fg_name is not None and (f.fg_name, f.fg_version) != (fg.name, fg.version):
            continue
        if f.feature in fg.feature_names:
            owner = cfg
            break
    if owner is None:
        raise ValidationError(f"filter on {f.feature!r}: no feature group in the query has that column")
    feat = owner.get_feature(f.feature)
    if f.value is None:
        raise UnsupportedError(
            f"filter {f.feature} {f.op} None: the Hopsworks query API has no IS NULL test; "
            "read the rows and filter them with pandas (df[df.col.isna()])"
        )
    v = _client_value(f.value)
    ops = {
        "==": lambda: feat == v, "!=": lambda: feat != v, "<": lambda: feat < v,
        "<=": lambda: feat <= v, ">": lambda: feat > v, ">=": lambda: feat >= v,
        "in": lambda: feat.isin(list(v)), "like": lambda: feat.like(v),
    }
    if f.op not in ops:
        raise ValidationError(f"unknown filter operator {f.op!r}")
    return ops[f.op]()


def to_client_query(query: Query, resolve: Resolve) -> Any:
    """The client's query for ``query`` (without time travel, which the caller applies)."""
    output_types(query)  # clash check before anything is sent
    cfg = resolve(query.fg)
    groups: list[tuple[Any, ClientFG]] = [(query.fg, cfg)]
    cq = cfg.select(list(query.columns))
    for j in query.joins:
        rfg = j.query.fg
        if j.query.joins:
            raise UnsupportedError("a joined sub-query cannot have joins of its own; join them all on the left query")
        if is_point_in_time(query, j) and rfg.known_at:
            raise UnsupportedError(
                f"{rfg.name} declares a known-at column ({rfg.known_at!r}), and Hopsworks' point-in-time "
                "join compares event times only, so a feature view over this join could use values that "
                "were not yet known. Read the join with query.read() (exact: computed in-process) or "
                f"fs.point_in_time_join(..., known_at={rfg.known_at!r})."
            )
        rcfg = resolve(rfg)
        groups.append((rfg, rcfg))
        sub = rcfg.select(_right_columns(j) or list(j.right_on))
        if j.query.filters is not None:
            sub = sub.filter(to_client_filter(j.query.filters, [(rfg, rcfg)]))
        keys: dict[str, Any] = {}
        if j.join_type != "cross":
            if list(j.left_on) == list(j.right_on):
                keys["on"] = list(j.left_on)
            else:
                keys["left_on"], keys["right_on"] = list(j.left_on), list(j.right_on)
        cq = cq.join(sub, join_type=j.join_type, prefix=j.prefix, **keys)
    if query.filters is not None:
        cq = cq.filter(to_client_filter(query.filters, groups))
    return cq


def finish(df: pd.DataFrame, types: dict[str, str]) -> pd.DataFrame:
    """The frame as the local backend returns it: output columns in order, timestamps as
    ``datetime64[us, UTC]`` (the client may hand back naive or nanosecond ones)."""
    missing = [c for c in types if c not in df.columns]
    if missing:
        raise ValidationError(
            f"Hopsworks returned columns {list(df.columns)}, without {missing}; "
            "the query's output could not be matched to spotcast's column names"
        )
    out = df[list(types)].copy()
    for c, t in types.items():
        if t == "timestamp":
            out[c] = pd.to_datetime(out[c], utc=True).astype("datetime64[us, UTC]")
    return out.reset_index(drop=True)
