"""Values between DuckDB and Python: query results as pandas frames, stored times as UTC
timestamps, bookkeeping payloads as JSON. Shared by every module of the local backend (and by
the in-process joins of the Hopsworks backend), so a value reads back the same wherever it is
read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from spotcast_storage.errors import SpotcastError

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


def utc_now() -> pd.Timestamp:
    """The current time as stored: UTC, microseconds (DuckDB's resolution)."""
    return pd.Timestamp.now(tz="UTC").floor("us")


def as_utc(v: Any) -> pd.Timestamp | None:
    """A stored time (naive values are UTC) as a UTC timestamp; None for a missing one."""
    if v is None or v is pd.NaT:
        return None
    t = pd.Timestamp(v)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def stored_utc(v: Any, what: str) -> pd.Timestamp:
    """:func:`as_utc` for a time spotcast always writes (a commit's or an event's): a missing one
    is refused with an error naming it, not passed on as None to fail later as an AttributeError."""
    t = as_utc(v)
    if t is None:
        raise SpotcastError(f"{what} has no time in the store, though spotcast always writes one; the "
                            "store's bookkeeping tables were changed outside spotcast; restore the store "
                            "file from a backup")
    return t


def jsonable(v: Any) -> Any:
    """``json.dumps(default=...)`` for timestamps and numpy scalars in payloads."""
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if hasattr(v, "item"):
        return v.item()
    return v


def where_equal(**filters: Any) -> tuple[str, list[Any]]:
    """`` WHERE a = ? AND b = ?`` and its parameters for the filters that are not None (``""``
    when none is): the bookkeeping reads that list all rows or those of one name (and version)."""
    used = {k: v for k, v in filters.items() if v is not None}
    if not used:
        return "", []
    return " WHERE " + " AND ".join(f"{k} = ?" for k in used), list(used.values())
