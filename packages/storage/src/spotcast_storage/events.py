"""Events: one per committed write, appended in the same transaction as the data."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

COMMIT = "commit"
MODEL = "model"


@dataclass(frozen=True)
class Event:
    """A committed write that downstream stages may react to.

    ``kind`` is ``commit`` (a feature-group commit; ``name``/``version`` name the group and
    ``commit_id`` the commit) or ``model`` (a registered model version). ``payload`` holds
    what changed: row counts, ``changed`` (False when a write changed nothing), the event-time
    range of changed rows and, per low-cardinality key column, the key values touched.
    """

    event_id: int
    kind: str
    name: str
    version: int
    commit_id: int | None
    created_at: dt.datetime
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.payload.get("changed", True))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["created_at"] = self.created_at.isoformat()
        return d


def _iso(t: Any) -> str | None:
    if t is None:
        return None
    import pandas as pd

    ts = pd.Timestamp(t)
    if pd.isna(ts):
        return None
    return (ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")).isoformat()


@dataclass(frozen=True)
class CommitPayload:
    """What a feature-group commit's event says changed, built here for every backend so the
    payloads cannot drift apart (they had: only the local one carried ``min/max_known_at``).

    ``keys`` lists, per low-cardinality string key column, the values touched (``[]``: too many to
    list, assume every one); None on a repaired event that cannot know them. ``min/max_known_at``
    (groups with a ``known_at`` column) bound when the changed rows became known, so a consumer can
    tell a late-published row from an old one."""

    changed: bool
    operation: str
    rows_inserted: int
    rows_updated: int
    rows_deleted: int
    rows_in_batch: int | None = None
    min_event_time: Any = None
    max_event_time: Any = None
    keys: dict[str, list[Any]] | None = None
    min_known_at: Any = None
    max_known_at: Any = None
    repaired: bool = False

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "changed": bool(self.changed), "operation": self.operation,
            "rows_inserted": int(self.rows_inserted), "rows_updated": int(self.rows_updated),
            "rows_deleted": int(self.rows_deleted),
            "rows_in_batch": None if self.rows_in_batch is None else int(self.rows_in_batch),
            "min_event_time": _iso(self.min_event_time), "max_event_time": _iso(self.max_event_time),
            "min_known_at": _iso(self.min_known_at), "max_known_at": _iso(self.max_known_at),
        }
        if self.keys is not None:
            d["keys"] = {k: list(v) for k, v in self.keys.items()}
        if self.repaired:
            d["repaired"] = True
        return d
