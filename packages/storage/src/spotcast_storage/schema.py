"""Feature types and the checks a frame passes before anything is written.

Types follow Hopsworks' offline types (bigint, double, boolean, string, timestamp, date).
Timestamps must be timezone-aware: spotcast stores UTC, and a naive timestamp is the
most common way to be off by an hour.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from spotcast_storage.errors import SchemaError, ValidationError
from spotcast_storage.query import Feature

DUCKDB_TYPES = {
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "string": "VARCHAR",
    "timestamp": "TIMESTAMPTZ",
    "date": "DATE",
}
ARROW_TYPES = {
    "bigint": pa.int64(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    "string": pa.string(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
}
_ALIASES = {"int": "bigint", "integer": "bigint", "long": "bigint", "float": "double",
            "bool": "boolean", "str": "string", "varchar": "string", "timestamptz": "timestamp"}


def normalise_type(t: str) -> str:
    t2 = _ALIASES.get(t.lower(), t.lower())
    if t2 not in DUCKDB_TYPES:
        raise ValidationError(f"unknown feature type {t!r}; use one of {', '.join(DUCKDB_TYPES)}")
    return t2


def _arrow_kind(t: pa.DataType) -> str:
    if pa.types.is_dictionary(t):
        return _arrow_kind(t.value_type)
    if pa.types.is_null(t):
        return "null"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_integer(t):
        return "bigint"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "double"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if pa.types.is_timestamp(t):
        return "timestamp" if t.tz else "naive-timestamp"
    if pa.types.is_date(t):
        return "date"
    return str(t)


def _column_to_arrow(name: str, s: pd.Series) -> pa.Array:
    values: Any = s
    typ = None
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        # UTC wall times as datetime64 plus an explicit Arrow type: pyarrow's own conversion of a
        # zone-aware column goes through Series.values, deprecated in pandas 3.1
        values = s.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
        typ = pa.timestamp(s.dtype.unit, tz="UTC")
    try:
        arr = pa.array(values, type=typ, from_pandas=True)
    except OverflowError:
        raise SchemaError(f"column {name!r} holds an integer too large to store (beyond 64 bits); "
                          "fix the value or store the column as double") from None
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
        sample = s.dropna().map(type).value_counts().index[:3].tolist()
        raise SchemaError(
            f"column {name!r} cannot be stored: its values mix types {[t.__name__ for t in sample]} ({exc}). "
            "Give the column a single type (numbers, strings, booleans or timezone-aware timestamps)."
        ) from None
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr


def infer_features(df: pd.DataFrame, primary_key: Sequence[str], descriptions: dict[str, str] | None = None) -> list[Feature]:
    """Derive the schema of a new feature-group version from its first frame."""
    feats = []
    for name in df.columns:
        _check_column_name(name)
        kind = _arrow_kind(_column_to_arrow(name, df[name]).type)
        if kind == "naive-timestamp":
            raise SchemaError(_naive_msg(name))
        if kind == "null":
            raise SchemaError(
                f"column {name!r} holds only nulls, so its type cannot be inferred; "
                "declare the feature group with features=[Feature(name, type), ...] or give values"
            )
        if kind not in DUCKDB_TYPES:
            raise SchemaError(f"column {name!r} has type {kind}, which a feature group cannot store")
        feats.append(Feature(name=name, type=kind, primary=name in primary_key,
                             description=(descriptions or {}).get(name, "")))
    return feats


def _check_column_name(name: Any) -> None:
    import re

    if not isinstance(name, str) or not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SchemaError(
            f"column name {name!r} is not valid: use lowercase letters, digits and underscores "
            "(Hopsworks lowercases names; spotcast asks for them up front)"
        )


def _naive_msg(name: str) -> str:
    return (
        f"column {name!r} holds timezone-naive timestamps; spotcast stores UTC. "
        f"Localise it first, e.g. df[{name!r}] = df[{name!r}].dt.tz_localize('Europe/Stockholm')"
        ".dt.tz_convert('UTC') (or tz_localize('UTC') if it already is UTC)"
    )


def naive_timestamp_columns(df: pd.DataFrame) -> list[str]:
    """Columns holding timezone-naive timestamps (datetime64 without a zone, or naive datetime objects)."""
    out = []
    for c in df.columns:
        s = df[c]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            continue
        if pd.api.types.is_datetime64_dtype(s.dtype):
            out.append(c)
        elif s.dtype == object and len(s) and pd.api.types.infer_dtype(s, skipna=True) == "datetime":
            first = s.dropna().iloc[0] if s.notna().any() else None
            if first is not None and getattr(first, "tzinfo", None) is None:
                out.append(c)
    return out


def _key_of_rows(df: pd.DataFrame, primary_key: Sequence[str], mask: np.ndarray, n: int = 3) -> str:
    """The first rows under ``mask`` named by their primary key (how a user finds them)."""
    rows = df.loc[mask, [k for k in primary_key if k in df.columns]].head(n)
    shown = "; ".join(", ".join(f"{k}={_show(v)}" for k, v in r.items()) for r in rows.to_dict("records"))
    more = int(mask.sum()) - len(rows)
    return shown + (f" (+{more} more)" if more > 0 else "")


def _show(v: Any) -> str:
    return v.isoformat() if isinstance(v, pd.Timestamp) else str(v)


def check_unique_keys(df: pd.DataFrame, primary_key: Sequence[str], label: str) -> None:
    """Raise when a primary key repeats inside one insert (an upsert could not say which row
    wins), naming an example key with times in ISO format and how often it appears.

    A pandas ``duplicated`` rather than an Arrow ``group_by``: that one imports Arrow's Acero
    engine, a cost every command that writes (``spotcast-serve predict``) paid for one check."""
    pk = list(primary_key)
    dup = df.duplicated(subset=pk, keep=False)
    if dup.any():
        first = df.loc[dup, pk].iloc[0]
        n = int((df[pk] == first.values).all(axis=1).sum())
        example = {k: (v.isoformat() if isinstance(v, pd.Timestamp) else v) for k, v in first.items()}
        raise ValidationError(
            f"{label}: primary key {pk} repeats inside the frame, e.g. {example} "
            f"appears {n} times; drop duplicates (df.drop_duplicates(subset=...)) before inserting"
        )


def to_arrow(
    df: pd.DataFrame,
    features: Sequence[Feature],
    primary_key: Sequence[str],
    fg_label: str,
) -> pa.Table:
    """Check ``df`` against the registered schema and return it as an Arrow table in
    exactly the registered types and column order. Raises before anything is written."""
    if not isinstance(df, pd.DataFrame):
        raise ValidationError(f"insert() takes a pandas DataFrame, got {type(df).__name__}")
    expected = [f.name for f in features]
    have = list(df.columns)
    dupes = sorted({c for c in have if have.count(c) > 1})
    if dupes:
        raise SchemaError(f"{fg_label}: the frame has duplicate column names {dupes}")
    missing_keys = [k for k in primary_key if k not in have]
    if missing_keys:
        raise SchemaError(f"{fg_label}: primary key column(s) {missing_keys} missing from the frame")
    missing = [c for c in expected if c not in have]
    extra = [c for c in have if c not in expected]
    if missing or extra:
        parts = []
        if extra:
            parts.append(f"adds column(s) {extra}")
        if missing:
            parts.append(f"drops column(s) {missing}")
        raise SchemaError(
            f"{fg_label}: the frame {' and '.join(parts)} compared with the registered schema. "
            "A schema change is a new version: create the group with version+1 and backfill it."
        )
    arrays = []
    n = len(df)
    for f in features:
        arr = _column_to_arrow(f.name, df[f.name])
        if pa.types.is_floating(arr.type) and n:
            vals = arr.to_numpy(zero_copy_only=False)
            bad = np.isinf(vals)
            if bad.any():
                raise ValidationError(
                    f"{fg_label}: column {f.name!r} holds non-finite values ({', '.join(sorted({str(v) for v in vals[bad]}))}) "
                    f"in {int(bad.sum())} row(s): {_key_of_rows(df, primary_key, bad)}. Nothing was written; "
                    "fix or drop those rows (a missing value is a null, not an infinity)"
                )
        arrays.append(_cast(arr, f, fg_label, n))
        if f.primary and arr.null_count:
            raise ValidationError(
                f"{fg_label}: primary key column {f.name!r} has {arr.null_count} null value(s); "
                "every row needs a full key"
            )
    return pa.Table.from_arrays(arrays, names=expected)


def _cast(arr: pa.Array, f: Feature, fg_label: str, n: int) -> pa.Array:
    target = f.type
    kind = _arrow_kind(arr.type)
    want = ARROW_TYPES[target]
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if kind == "null" or arr.null_count == len(arr):
        return pa.nulls(len(arr), type=want)
    ok = {
        "bigint": {"bigint"},
        "double": {"bigint", "double"},
        "boolean": {"boolean"},
        "string": {"string"},
        "timestamp": {"timestamp"},
        "date": {"date", "timestamp"},
    }[target]
    if kind == "naive-timestamp":
        raise SchemaError(f"{fg_label}: " + _naive_msg(f.name))
    if kind == "double" and target == "bigint":
        vals = arr.to_numpy(zero_copy_only=False)
        finite = vals[~np.isnan(vals)]
        if np.any(finite != np.round(finite)):
            bad = finite[finite != np.round(finite)][0]
            raise SchemaError(
                f"{fg_label}: column {f.name!r} is registered as bigint but holds {bad!r}, which "
                "is not a whole number; round it or store it in a new version as double"
            )
        # float64 cannot hold 2**63 - 1 exactly: anything at or beyond +-2**63 would wrap
        out_of_range = np.abs(finite) >= 2.0**63
        if np.any(out_of_range):
            raise SchemaError(
                f"{fg_label}: column {f.name!r} is registered as bigint but holds {finite[out_of_range][0]!r}, "
                "outside the 64-bit integer range (about +-9.2e18); fix the value or store it in a new "
                "version as double"
            )
        return pc.cast(arr, want)
    if kind not in ok:
        example = next((v for v in arr.to_pylist() if v is not None), None)
        raise SchemaError(
            f"{fg_label}: column {f.name!r} is registered as {target} but the frame gives "
            f"{kind} (e.g. {example!r}); convert it, or register a new version with the new type"
        )
    try:
        return pc.cast(arr, want)
    except pa.ArrowInvalid as exc:
        raise SchemaError(f"{fg_label}: column {f.name!r} cannot be stored as {target}: {exc}") from None
