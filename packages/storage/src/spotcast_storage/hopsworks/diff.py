"""What an insert changes, worked out before anything is sent to Hopsworks.

Hopsworks counts every upserted row as updated, even when its values are the same, and
writes a new commit for it. spotcast promises more (an identical re-insert changes nothing
and its event says so; row counts are inserted / updated / deleted as a user would count
them), so the backend compares the batch with the rows already stored under the same keys
and sends only the rows that differ. These functions are that comparison: pure pandas.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

from spotcast_storage import schema as schema_mod
from spotcast_storage.events import CommitPayload
from spotcast_storage.query import Feature

KEY_SUMMARY_LIMIT = 100


@dataclass(frozen=True)
class Changes:
    """Rows to write (new or changed), how many of them are new, and the rows removed."""

    rows: pd.DataFrame
    inserted: int
    updated: int
    deleted: pd.DataFrame
    batch_size: int

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated or len(self.deleted))


def to_frame(table: pa.Table) -> pd.DataFrame:
    """A checked Arrow batch as pandas, timestamps kept at microseconds in UTC."""
    return table.to_pandas(coerce_temporal_nanoseconds=False)


def conform(df: pd.DataFrame, features: Sequence[Feature], primary_key: Sequence[str], label: str) -> pd.DataFrame:
    """``df`` (e.g. as the cluster returned it) in the registered types and column order."""
    return to_frame(schema_mod.to_arrow(df[[f.name for f in features]], features, primary_key, label))


def _same(a: pd.Series, b: pd.Series) -> pd.Series:
    """Element-wise equality where two nulls are equal (SQL's IS NOT DISTINCT FROM)."""
    both_null = a.isna().to_numpy() & b.isna().to_numpy()
    eq = (a.to_numpy(dtype=object) == b.to_numpy(dtype=object))
    return pd.Series(both_null | eq, index=a.index)


def diff_rows(batch: pd.DataFrame, existing: pd.DataFrame, primary_key: Sequence[str],
              overwrite: bool = False) -> Changes:
    """Compare ``batch`` with the ``existing`` rows that share its keys (all stored rows when
    ``overwrite``). Both frames hold the same columns in the same registered types."""
    pk = list(primary_key)
    values = [c for c in batch.columns if c not in pk]
    old = existing.rename(columns={c: f"{c}__old" for c in values})
    merged = batch.merge(old, on=pk, how="left", indicator=True, sort=False)
    is_new = (merged["_merge"] == "left_only").to_numpy()
    same = pd.Series(True, index=merged.index)
    for c in values:
        same &= _same(merged[c], merged[f"{c}__old"])
    differs = ~same.to_numpy()
    write = is_new | differs
    rows = batch.loc[write].reset_index(drop=True) if len(batch) else batch
    inserted = int(is_new.sum())
    updated = int((differs & ~is_new).sum())
    if overwrite and len(existing):
        gone = existing.merge(batch[pk], on=pk, how="left", indicator=True)
        deleted = gone.loc[gone["_merge"] == "left_only", list(existing.columns)].reset_index(drop=True)
    else:
        deleted = existing.iloc[0:0]
    return Changes(rows=rows, inserted=inserted, updated=updated, deleted=deleted, batch_size=len(batch))


def commit_payload(changes: Changes, features: Sequence[Feature], event_time: str | None,
                   overwrite: bool, known_at: str | None = None) -> dict[str, Any]:
    """The event payload (:class:`spotcast_storage.events.CommitPayload`, shared with the local backend)."""
    touched = pd.concat([changes.rows, changes.deleted], ignore_index=True) if len(changes.deleted) else changes.rows
    lo = hi = klo = khi = None
    if event_time and len(touched):
        times = pd.to_datetime(touched[event_time], utc=True)
        lo, hi = times.min(), times.max()
    if known_at and known_at in touched.columns and len(changes.rows):
        known = pd.to_datetime(changes.rows[known_at], utc=True)
        klo, khi = known.min(), known.max()
    keys: dict[str, list[Any]] = {}
    for f in features:
        if f.primary and f.type == "string" and f.name != event_time:
            vals = sorted(touched[f.name].dropna().unique().tolist())
            if len(vals) <= KEY_SUMMARY_LIMIT:
                keys[f.name] = vals
    return CommitPayload(
        changed=changes.changed, operation="overwrite" if overwrite else "upsert",
        rows_inserted=changes.inserted, rows_updated=changes.updated, rows_deleted=len(changes.deleted),
        rows_in_batch=changes.batch_size, min_event_time=lo, max_event_time=hi, keys=keys,
        min_known_at=klo, max_known_at=khi).to_dict()
